import { md } from '@hallmark/kit';
import type { Outcome } from './flow.js';
import type { Config } from './inputs.js';

export function summary(cfg: Config, o: Outcome): string {
  const status = o.failureReason ? `refused (${o.failureReason})` : o.changed ? (cfg.mode === 'commit' ? 'committed' : o.pullRequestCreated ? 'pull request opened' : 'pull request updated') : 'already up to date';
  const rows = [
    ['Result', md.cell(status)],
    ['Config repository', md.code(`${cfg.repository}@${cfg.branch}`)],
    ['File', md.code(`${cfg.file}`) + ` (${cfg.kind})`],
    ['Image', md.code(cfg.imageRef)],
    ['Previous digest', o.previousDigest ? md.code(o.previousDigest) : '—'],
    ['Commit', o.commitSha ? md.code(o.commitSha) : '—'],
    ['Pull request', o.pullRequestUrl ? md.link(o.pullRequestUrl, o.pullRequestUrl) : '—'],
  ];
  const where = o.locations.length ? `\n\nValues: ${o.locations.map((l) => md.code(l)).join(', ')}` : '';
  const problem = o.problem ? `\n\n${md.text(o.problem)}` : '';
  return `### gitops-update: ${md.text(cfg.environment)}\n\n${md.table(['', ''], rows)}${where}${problem}\n`;
}
