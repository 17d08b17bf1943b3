/** The step summary: what was described, by which tool, how many packages, top licences, where it went. */
import { md } from '@hallmark/kit';
import { digestRef } from '@hallmark/oci';
import type { Config } from './inputs.js';
import type { Result } from './flow.js';
import { topLicenses } from './sbom.js';

export function summary(cfg: Config, r: Result, scanned: string): string {
  const subject = cfg.image ? digestRef(cfg.image, cfg.image.digest) : scanned;
  const status = r.failure ? `❌ failed: \`${r.failure.reason}\`` : '✅ SBOM generated';
  let out = `### sbom-attach: ${md.text(cfg.service)}\n\n${status}\n\n`;
  const rows: string[][] = [
    ['Subject', md.code(subject)],
    [
      'Generator',
      (() => {
        const g = r.files.find((f) => f.info?.generator)?.info?.generator;
        return g ? `${md.text(g.name)} ${md.code(g.version)}` : md.text(cfg.generator);
      })(),
    ],
    ['Packages', r.packageCount !== undefined ? String(r.packageCount) : '—'],
    [
      'Artifact',
      r.artifact
        ? `${md.code(r.artifact.name)}${r.artifact.id !== undefined ? ` (id ${r.artifact.id})` : ''}, kept ${cfg.retentionDays} day(s)`
        : cfg.upload
          ? '— not uploaded'
          : '— upload: false',
    ],
    [
      'Attached',
      r.attached === 'attest'
        ? `cosign attestation(s) by digest: ${r.attachments.map((a) => md.code(a)).join('<br>')}`
        : r.attached === 'referrer'
          ? `OCI referrer(s)${r.attachVia === 'tag' ? ' (referrers tag fallback)' : ''}: ${r.attachments.map((a) => md.code(a)).join('<br>')}`
          : '— not attached',
    ],
  ];
  out += `${md.table(
    ['', ''],
    rows.map(([k, v]) => [`**${k}**`, v as string]),
  )}\n`;
  if (r.files.some((f) => f.info)) {
    out += `\n${md.table(
      ['Format', 'File', 'Spec', 'Packages', 'Top licences'],
      r.files
        .filter((f) => f.info)
        .map((f) => {
          const top = topLicenses(f.info!.licenses);
          const unknown = f.info!.licenses.unknown ?? 0;
          return [
            md.text(f.format),
            md.code(f.path.split('/').pop()) + (f.bundle ? ' + Sigstore bundle' : ''),
            md.text(f.info!.spec),
            String(f.info!.packages),
            (top.length ? top.map(([l, n]) => `${md.cell(l, 60)} (${n})`).join(', ') : '—') +
              (unknown ? `; ${unknown} without a licence` : ''),
          ];
        }),
    )}\n`;
  }
  if (r.failure) out += `\n**Why:** ${md.text(r.failure.message)}\n`;
  return out;
}
