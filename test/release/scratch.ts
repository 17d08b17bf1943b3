/**
 * A scratch clone of this repository for release tests: `git clone` of the checkout into a temp
 * dir, with the working tree's files on top as one commit (what the next commit of this checkout
 * holds), and a node_modules of its own (a hard-linked copy of this checkout's). The checkout's git state is never touched.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../workflows/checks.js';

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Release Tester',
  GIT_AUTHOR_EMAIL: 'release@example.invalid',
  GIT_COMMITTER_NAME: 'Release Tester',
  GIT_COMMITTER_EMAIL: 'release@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...GIT_ENV, ...env },
    maxBuffer: 64 << 20,
    timeout: 300_000,
  });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

export function git(cwd: string, ...args: string[]): string {
  const r = sh('git', args, cwd);
  if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.out}`);
  return r.stdout.trim();
}

export interface Scratch {
  dir: string;
  repo: string;
  remove(): void;
}

export function scratchClone(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-release-'));
  const repo = join(dir, 'hallmark');
  git(dir, 'clone', '-q', '--no-hardlinks', ROOT, repo);
  // The working tree on top: tracked and untracked-but-not-ignored files, deletions too.
  const listed = sh('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT)
    .stdout.split('\0')
    .filter(Boolean);
  for (const f of listed) {
    const src = join(ROOT, f);
    if (!existsSync(src)) {
      rmSync(join(repo, f), { force: true });
      continue;
    }
    mkdirSync(dirname(join(repo, f)), { recursive: true });
    cpSync(src, join(repo, f));
  }
  git(repo, 'add', '-A');
  if (git(repo, 'status', '--porcelain')) git(repo, 'commit', '-q', '-m', 'the working tree of the checkout');
  // node_modules: a hard-linked copy of this checkout's (real directories, so the bundler sees the
  // same relative module paths as after `npm ci` — chunk names hash them; @hallmark/* stay relative
  // links into the clone's own packages/). Nothing in these tests writes into node_modules.
  const cp = sh('cp', ['-al', join(ROOT, 'node_modules'), join(repo, 'node_modules')], repo);
  if (cp.code !== 0) throw new Error(`cp -al node_modules: ${cp.out}`);
  return { dir, repo, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
