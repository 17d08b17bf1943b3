import { spawnSync } from 'node:child_process';

/** HEAD's commit and branch of a checkout (zeros and `main` when it is not one). */
export function gitInfo(root: string): { sha: string; branch: string } {
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : '';
  };
  return { sha: git('rev-parse', 'HEAD') || '0'.repeat(40), branch: git('rev-parse', '--abbrev-ref', 'HEAD') || 'main' };
}
