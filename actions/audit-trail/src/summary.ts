/** audit-trail's step summary: the trail's SHA-256, who signed it, the parts, and the story. */
import { md } from '@hallmark/kit';
import type { Config } from './inputs.js';
import type { Result } from './flow.js';

export function summary(cfg: Config, r: Result): string {
  const out: string[] = [`### audit-trail: ${md.text(cfg.artifactName)}`, ''];
  out.push(
    md.table(
      ['', ''],
      [
        ['trail', r.trail ? md.code(`${cfg.artifactName}.jsonl`) : '—'],
        ['SHA-256', r.sha256 ? md.code(r.sha256) : '—'],
        ['records', String(r.recordCount)],
        [
          'signed',
          r.signed
            ? `✅ ${cfg.signing}${r.signer ? `: ${md.code(r.signer)}` : ''}`
            : cfg.signing === 'none'
              ? '⚠️ not signed (signing: none)'
              : '❌ no',
        ],
        ['artifact', r.artifact ? md.code(r.artifact.name) : cfg.upload ? '—' : 'not uploaded (upload: false)'],
      ],
    ),
    '',
  );
  if (r.steps.length) {
    out.push('**The story**', '');
    out.push(
      md.table(
        ['', 'stage', 'what the trail records'],
        r.steps.map((s) => [s.verdict === 'passed' ? '✅' : '❌', s.stage, md.text(s.text)]),
      ),
      '',
    );
  }
  if (r.parts.length)
    out.push(
      md.details(
        `${r.parts.length} part(s)`,
        md.table(
          ['part', 'records'],
          r.parts.map((p) => [md.code(p.name), String(p.records)]),
        ),
      ),
      '',
    );
  out.push(
    `Verify offline: download the artifact, then \`npm run audit:verify -- <dir>\` in a hallmark checkout (README, "Audit trail").`,
    '',
  );
  return out.join('\n');
}
