import { md } from '@hallmark/kit';
import type { Outcome } from './flow.js';
import type { Config } from './inputs.js';

export function summary(cfg: Config, o: Outcome): string {
  const delivered = cfg.mode === 'commit' ? 'committed' : o.pullRequestCreated ? 'pull request opened' : 'pull request updated';
  const rollback = cfg.rollbackOf !== '';
  const status = o.failureReason
    ? `refused (${o.failureReason})`
    : o.changed
      ? rollback
        ? `reverted (${delivered})`
        : delivered
      : rollback
        ? 'already reverted'
        : 'already up to date';
  const rows = [
    ['Result', md.cell(status)],
    ['Config repository', md.code(`${cfg.repository}@${cfg.branch}`)],
    ['File', `${md.code(cfg.file)} (${cfg.kind})`],
    ...(rollback
      ? [
          ['Reverts', md.code(cfg.rollbackOf) + (o.revert?.subject ? ` ${md.cell(o.revert.subject)}` : '')],
          ['Restored digest', o.revert?.restoredDigest ? md.code(o.revert.restoredDigest) : '—'],
          ['Reason', cfg.reason ? md.cell(cfg.reason) : '—'],
        ]
      : [['Image', md.code(cfg.imageRef)]]),
    [rollback ? 'Removed digest' : 'Previous digest', o.previousDigest ? md.code(o.previousDigest) : '—'],
    ['Commit', o.commitSha ? md.code(o.commitSha) : '—'],
    ['Pull request', o.pullRequestUrl ? md.link(o.pullRequestUrl, o.pullRequestUrl) : '—'],
  ];
  const where = o.locations.length ? `\n\nValues: ${o.locations.map((l) => md.code(l)).join(', ')}` : '';
  const closed = o.closedPullRequest
    ? `\n\nClosed the obsolete pull request #${o.closedPullRequest.number} (${md.link(o.closedPullRequest.url, o.closedPullRequest.url)}): ${md.code(cfg.branch)} already pins this digest.`
    : '';
  const problem = o.problem ? `\n\n${md.text(o.problem)}` : '';
  return `### gitops-update: ${md.text(cfg.environment)}\n\n${md.table(['', ''], rows)}${where}${closed}${problem}\n`;
}
