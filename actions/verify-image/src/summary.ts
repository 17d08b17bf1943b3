/**
 * The step summary: the verdict, what was required, what was verified. Every value that came from
 * the image, the registry or cosign goes through the kit's escaping helpers.
 */
import { md } from '@hallmark/kit';
import type { Outcome } from './flow.js';
import { describeRules } from './identity.js';
import type { Config } from './inputs.js';

export function summary(cfg: Config, o: Outcome): string {
  const out: string[] = [];
  out.push(`### verify-image: ${md.code(cfg.imageRef)}`, '');
  out.push(
    o.passed
      ? '✅ verified'
      : `❌ refused (${md.text(o.failureReason ?? 'unknown')})${o.field ? ` at ${md.code(o.field)}` : ''}: ${md.cell(o.problem ?? '', 500)}`,
    '',
  );
  const wf = `${cfg.policy.serverUrl}/${cfg.policy.workflow.owner}/${cfg.policy.workflow.repo}/${cfg.policy.workflow.path}`;
  const rows: string[][] = [
    ['Mode', o.mode === 'key' ? 'public key' : 'keyless (GitHub OIDC, Fulcio certificate, Rekor)'],
    ...(o.mode === 'keyless'
      ? [
          ['Signer workflow', md.code(wf)],
          ['Allowed refs', md.cell(describeRules(cfg.policy.rules))],
          ['Identity pattern', md.code(cfg.policy.identityRegexp)],
          ['Source repository (certificate)', md.code(cfg.policy.sourceRepository)],
        ]
      : [['Key', md.code(o.signer || 'public-key')]]),
    ['Transparency log', cfg.tlog ? 'required' : 'not checked (key mode, tlog: false)'],
    ['Signatures verified', String(o.signatures)],
    [
      'Provenance',
      cfg.requireProvenance
        ? o.provenance
          ? '✅ SLSA v1 verified'
          : o.failureReason === 'provenance-rejected'
            ? '❌ rejected'
            : 'not reached'
        : 'not required',
    ],
  ];
  if (o.provenance) {
    rows.push(
      ['Builder', md.code(o.provenance.builderId)],
      [
        'Source',
        `${md.code(o.provenance.sourceRepository)} at ${md.code(o.provenance.sourceRef)}${o.provenance.sourceCommit ? ` (${md.code(o.provenance.sourceCommit)})` : ''}`,
      ],
    );
  }
  if (cfg.requireRef) rows.push(['Required source ref', md.code(cfg.requireRef)]);
  if (o.cosignVersion) rows.push(['cosign', md.code(o.cosignVersion)]);
  out.push(md.table(['', ''], rows), '');
  return out.join('\n');
}
