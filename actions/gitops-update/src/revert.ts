/**
 * A rollback's words: the revert commit's message and its pull request, saying which bump it
 * reverts, the digest it puts back and why. Pure.
 */
import type { Config } from './inputs.js';

export interface Revert {
  /** The bump commit reverted. */
  commit: string;
  /** Its subject, on one line, control characters and markdown-active characters dropped. */
  subject: string;
  /** The digest the revert removed from the file ('' when none). */
  removedDigest: string;
  /** The digest the revert put back ('' when none: the bump had replaced a tag). */
  restoredDigest: string;
}

/** The bump's subject as we show it: one line, at most 120 characters, nothing a log or Markdown would act on. */
export function revertSubject(raw: string): string {
  const one = raw.split(/\r?\n/)[0] ?? '';
  const clean = one.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029`<>|[\]\\*_~]/g, '').trim();
  return clean.length > 120 ? `${clean.slice(0, 120)}…` : clean;
}

export function revertMessage(cfg: Config, r: Revert, runUrl: string): string {
  return [
    `Revert "${r.subject || r.commit.slice(0, 12)}"`,
    '',
    `This reverts commit ${r.commit}.`,
    '',
    `Environment: ${cfg.environment}`,
    `File: ${cfg.file}`,
    r.restoredDigest ? `Restores: ${r.restoredDigest}` : 'Restores: (no digest: the bump had replaced a tag or nothing)',
    r.removedDigest ? `Removes: ${r.removedDigest}` : '',
    cfg.reason ? `Reason: ${cfg.reason}` : '',
    runUrl ? `Run: ${runUrl}` : '',
    '',
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
}

export function revertPrTitle(cfg: Config, r: Revert): string {
  return `Revert ${cfg.environment} to ${r.restoredDigest ? `sha256:${r.restoredDigest.replace(/^sha256:/, '').slice(0, 12)}` : 'before'} (reverts ${r.commit.slice(0, 12)})`;
}

export function revertPrBody(cfg: Config, r: Revert, runUrl: string): string {
  const code = (s: string) => `\`${s}\``;
  const rows = [
    ['Reverts', `${code(r.commit)}${r.subject ? ` (${r.subject})` : ''}`],
    ['Restores', r.restoredDigest ? code(r.restoredDigest) : '(no digest: the bump had replaced a tag or nothing)'],
    ['Removes', r.removedDigest ? code(r.removedDigest) : '(none)'],
    ['Environment', code(cfg.environment)],
    ['File', `${code(cfg.file)} (${cfg.kind})`],
    ['Reason', cfg.reason ? cfg.reason : '(not given)'],
    ['Run', runUrl || '(unknown)'],
  ];
  return [
    `hallmark gitops-update rolls \`${cfg.environment}\` back by reverting ${code(r.commit.slice(0, 12))}. Only that bump's change is undone.`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `This pull request is updated in place by the next rollback for \`${cfg.environment}\`.`,
  ].join('\n');
}
