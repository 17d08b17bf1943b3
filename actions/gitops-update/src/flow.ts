/**
 * The step over injected deps: clone the config repository's base branch, edit the one value (or,
 * with `rollback-of`, `git revert` an earlier bump), commit, and deliver — a push to the base
 * branch (commit mode; a non-fast-forward rejection is retried on a fresh base, bounded) or a
 * force-push of `hallmark/gitops/<environment>` (`hallmark/gitops-revert/<environment>` for a
 * revert) and one open pull request for it, created or updated (pull-request mode). Nothing to
 * change → no commit; in pull-request mode an open bump pull request the base has made obsolete
 * is closed with a comment.
 */
import { outputTail } from '@hallmark/kit';
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editFile, type FileEdit } from './edit.js';
import { cloneArgs, fetchArgs, gitEnv, isMissing, isNonFastForward, pushArgs, remoteUrl, type Exec } from './git.js';
import type { Config } from './inputs.js';
import { ApiRefused, closePullRequest, upsertPullRequest, type HttpLike } from './pulls.js';
import { revertMessage, revertPrBody, revertPrTitle, revertSubject, type Revert } from './revert.js';
import { EditError } from './yaml-edit.js';

export type FailureReason = 'not-found' | 'ambiguous-image' | 'push-rejected' | 'api-refused' | 'revert-conflict';

export interface Deps {
  exec: Exec;
  http: HttpLike;
  temp: string;
  serverUrl: string;
  apiUrl: string;
  runUrl: string;
  info(m: string): void;
  warn(m: string): void;
  /** Prints text we did not write (git's own words) inertly. */
  untrusted(text: string): void;
  sleep(ms: number): Promise<void>;
}

/** Tries in all for a git network operation that failed transiently (5xx, 429, reset, refused, timeout). */
export const NET_TRIES = 3;
const TRANSIENT =
  /returned error: (5\d\d|429|408)|Could not resolve host|Failed to connect|Connection (refused|reset|timed out)|Operation timed out|RPC failed|early EOF|unexpected disconnect|remote end hung up unexpectedly/i;

export interface Outcome {
  changed: boolean;
  commitSha: string;
  pullRequestUrl: string;
  pullRequestCreated?: boolean;
  previousDigest: string;
  locations: string[];
  pushAttempts: number;
  /** A rollback: the bump reverted and the digest the revert put back. */
  revert?: Revert;
  /** An open bump pull request closed because the base already pins the digest. */
  closedPullRequest?: { number: number; url: string };
  failureReason?: FailureReason;
  problem?: string;
}

class Refused extends Error {
  constructor(
    message: string,
    readonly reason: FailureReason,
  ) {
    super(message);
  }
}

const short = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** The image a bump pins (a rollback has none). */
function bumpTarget(cfg: Config) {
  if (!cfg.target) throw new Error('internal: a bump without an image');
  return cfg.target;
}

export function commitMessage(cfg: Config, runUrl: string): string {
  const target = bumpTarget(cfg);
  return [
    `gitops(${cfg.environment}): ${target.name}@sha256:${short(target.digest)}`,
    '',
    `Image: ${cfg.imageRef}`,
    `File: ${cfg.file} (${cfg.kind})`,
    cfg.sourceCommit ? `Source commit: ${cfg.sourceCommit}` : '',
    cfg.scanVerdict ? `Scan verdict: ${cfg.scanVerdict}` : '',
    runUrl ? `Run: ${runUrl}` : '',
    '',
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
}

export function prTitle(cfg: Config): string {
  const target = bumpTarget(cfg);
  return `Deploy ${target.name}@sha256:${short(target.digest)} to ${cfg.environment}`;
}

export function prBody(cfg: Config, runUrl: string, previous: string): string {
  const rows = [
    ['Image', `\`${cfg.imageRef}\``],
    ['Digest', `\`${bumpTarget(cfg).digest}\``],
    ['Previous digest', previous ? `\`${previous}\`` : '(none: a tag or no pin)'],
    ['Environment', `\`${cfg.environment}\``],
    ['File', `\`${cfg.file}\` (${cfg.kind})`],
    ['Source commit', cfg.sourceCommit ? `\`${cfg.sourceCommit}\`` : '(unknown)'],
    ['Scan verdict', cfg.scanVerdict ? `\`${cfg.scanVerdict}\`` : '(not given)'],
    ['Run', runUrl || '(unknown)'],
  ];
  return [
    `hallmark gitops-update bumps \`${bumpTarget(cfg).name}\` to a new digest in \`${cfg.environment}\`. Only that value changes.`,
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `This pull request is updated in place by the next run for \`${cfg.environment}\`.`,
  ].join('\n');
}

export async function gitopsUpdate(cfg: Config, deps: Deps): Promise<Outcome> {
  const out: Outcome = { changed: false, commitSha: '', pullRequestUrl: '', previousDigest: '', locations: [], pushAttempts: 0 };
  const root = mkdtempSync(join(deps.temp, 'gitops-update-'));
  const dir = join(root, 'repo');
  const env = gitEnv(deps.serverUrl, cfg.token);
  const git = async (args: string[], opts: { input?: string; cwd?: string } = {}) =>
    deps.exec('git', args, { cwd: opts.cwd ?? dir, env, input: opts.input, timeoutMs: 120_000 });
  /** A git command that talks to the server: retried with backoff when it failed transiently. */
  const gitNet = async (args: string[], opts: { cwd?: string; before?: () => void } = {}) => {
    for (let i = 1; ; i++) {
      opts.before?.();
      const r = await git(args, opts);
      if (r.exitCode === 0 || r.exitCode === 127 || i >= NET_TRIES || !(r.timedOut || TRANSIENT.test(`${r.stdout}\n${r.stderr}`))) return r;
      deps.warn(`git ${args[0]} failed with a network error (try ${i} of ${NET_TRIES}); retrying`);
      await deps.sleep(1000 * 2 ** (i - 1));
    }
  };
  try {
    // A revert needs the branch's history back to the bump: a full clone of that one branch.
    const clone = await gitNet(cloneArgs(remoteUrl(deps.serverUrl, cfg.repository), cfg.branch, dir, cfg.rollbackOf === ''), {
      cwd: root,
      before: () => rmSync(dir, { recursive: true, force: true }),
    });
    if (clone.exitCode !== 0) {
      const text = `${clone.stdout}\n${clone.stderr}`;
      deps.untrusted(outputTail(clone, 8));
      if (clone.exitCode === 127) throw new Refused('git is not installed on this runner (not on PATH)', 'api-refused');
      throw new Refused(
        `could not clone ${cfg.repository} branch ${cfg.branch}${clone.timedOut ? ' (timed out)' : ''}`,
        isMissing(text) ? 'not-found' : 'api-refused',
      );
    }
    const mode = cfg.mode;
    const rollback = cfg.rollbackOf !== '';
    for (let attempt = 1; ; attempt++) {
      if (rollback) {
        const rv = await revertInPlace(git, cfg);
        out.revert = rv;
        out.previousDigest = rv.removedDigest;
        out.locations = [cfg.file];
        if (!rv.changed) {
          deps.info(`${cfg.branch} no longer holds the change of ${cfg.rollbackOf} (already reverted): nothing to commit`);
          return out;
        }
        const r = await git(['commit', '--quiet', '--no-verify', '--file', '-'], { input: revertMessage(cfg, rv, deps.runUrl) });
        if (r.exitCode !== 0) throw new Error(`git commit failed (exit ${r.exitCode})`);
      } else {
        const edit = editInPlace(dir, cfg);
        out.previousDigest = edit.previousDigest;
        out.locations = edit.locations;
        if (!edit.changed) {
          deps.info(`${cfg.file} already pins ${bumpTarget(cfg).digest} on ${cfg.branch}: nothing to commit`);
          if (mode === 'pull-request') out.closedPullRequest = await closeObsolete(cfg, deps);
          return out;
        }
        for (const args of [
          ['add', '--', cfg.file],
          ['commit', '--quiet', '--no-verify', '--file', '-'],
        ]) {
          const r = await git(args, { input: args[0] === 'commit' ? commitMessage(cfg, deps.runUrl) : undefined });
          if (r.exitCode !== 0) throw new Error(`git ${args[0]} failed (exit ${r.exitCode})`);
        }
      }
      const sha = (await git(['rev-parse', 'HEAD'])).stdout.trim();
      if (mode === 'pull-request') {
        const same = await samePendingBranch(git, cfg.prBranch);
        if (same) {
          // A re-run: the environment branch already holds this very change on this base.
          deps.info(`${cfg.prBranch} already holds this change on the current ${cfg.branch}: no new commit`);
          out.commitSha = same;
          break;
        }
      }
      out.pushAttempts = attempt;
      const push = await gitNet(pushArgs(mode === 'commit' ? cfg.branch : cfg.prBranch, mode === 'pull-request'));
      if (push.exitCode === 0) {
        out.changed = true;
        out.commitSha = sha;
        break;
      }
      const text = `${push.stdout}\n${push.stderr}`;
      if (mode === 'commit' && isNonFastForward(text) && attempt < cfg.pushAttempts) {
        deps.warn(
          `push to ${cfg.branch} was rejected as non-fast-forward (attempt ${attempt} of ${cfg.pushAttempts}); retrying on a fresh base`,
        );
        // A revert needs the history back to the bump: fetch all of it, not just the tip.
        const f = await gitNet(rollback ? fullFetchArgs(cfg.branch) : fetchArgs(cfg.branch));
        if (f.exitCode !== 0) throw new Refused(`could not fetch ${cfg.branch} again after a rejected push`, 'push-rejected');
        const reset = await git(['reset', '--quiet', '--hard', 'FETCH_HEAD']);
        if (reset.exitCode !== 0) throw new Error('git reset failed');
        continue;
      }
      deps.untrusted(outputTail(push, 8));
      const why = isNonFastForward(text) ? `rejected as non-fast-forward ${attempt} time(s)` : 'refused by the server';
      throw new Refused(`push to ${mode === 'commit' ? cfg.branch : cfg.prBranch} ${why}`, 'push-rejected');
    }
    if (out.changed)
      deps.info(
        `pushed ${out.commitSha} to ${mode === 'commit' ? cfg.branch : cfg.prBranch} (${out.locations.length} value(s) in ${cfg.file})`,
      );
    if (mode === 'pull-request') {
      const pr = await upsertPullRequest(deps.http, {
        apiUrl: deps.apiUrl,
        repository: cfg.repository,
        token: cfg.token,
        head: cfg.prBranch,
        base: cfg.branch,
        title: out.revert ? revertPrTitle(cfg, out.revert) : prTitle(cfg),
        body: out.revert ? revertPrBody(cfg, out.revert, deps.runUrl) : prBody(cfg, deps.runUrl, out.previousDigest),
      });
      out.pullRequestUrl = pr.url;
      out.pullRequestCreated = pr.created;
    }
    return out;
  } catch (e) {
    if (e instanceof Refused) return { ...out, failureReason: e.reason, problem: e.message };
    if (e instanceof EditError)
      return { ...out, failureReason: e.reason === 'ambiguous-image' ? 'ambiguous-image' : 'not-found', problem: e.message };
    if (e instanceof ApiRefused) return { ...out, failureReason: 'api-refused', problem: e.message };
    if (e && typeof e === 'object' && (e as { name?: string }).name === 'HttpError')
      return { ...out, failureReason: 'api-refused', problem: `the GitHub API did not answer: ${(e as Error).message}` };
    throw e;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * The environment branch's head when it is exactly our commit's change: the same tree on the same
 * parent (the base we just cloned). Read from a shallow fetch of that one branch; '' otherwise
 * (no such branch yet, or anything different).
 */
async function samePendingBranch(git: (args: string[]) => Promise<{ exitCode: number; stdout: string }>, branch: string): Promise<string> {
  const f = await git(fetchArgs(branch));
  if (f.exitCode !== 0) return '';
  // The raw commit objects: `git show --format=%P` would hide the parent of a shallow commit.
  const raw = async (rev: string) => {
    const r = await git(['cat-file', 'commit', rev]);
    if (r.exitCode !== 0) return undefined;
    const head = r.stdout.split('\n\n')[0] ?? '';
    return {
      tree: /^tree ([0-9a-f]+)$/m.exec(head)?.[1] ?? '',
      parents: [...head.matchAll(/^parent ([0-9a-f]+)$/gm)].map((m) => m[1]).join(' '),
    };
  };
  const theirs = (await git(['rev-parse', '--verify', 'FETCH_HEAD^{commit}'])).stdout.trim();
  const [t, o] = [await raw('FETCH_HEAD'), await raw('HEAD')];
  const theirTree = t?.tree;
  const ourTree = o?.tree;
  const theirParents = t?.parents;
  const ourParents = o?.parents;
  return theirs && theirTree && theirTree === ourTree && theirParents === ourParents ? theirs : '';
}

const fullFetchArgs = (branch: string): string[] => ['fetch', '--quiet', '--no-tags', 'origin', `refs/heads/${branch}`];

/** In pull-request mode with nothing to change: the open bump pull request for the environment, if any, is obsolete: closed with a comment saying why. */
async function closeObsolete(cfg: Config, deps: Deps): Promise<{ number: number; url: string } | undefined> {
  const digest = bumpTarget(cfg).digest;
  // Housekeeping: the step's own verdict (nothing to change) stands if the API refuses; a warning says so.
  const closed = await closePullRequest(deps.http, {
    apiUrl: deps.apiUrl,
    repository: cfg.repository,
    token: cfg.token,
    head: cfg.prBranch,
    base: cfg.branch,
    comment: `Closed by hallmark gitops-update: \`${cfg.branch}\` already pins \`${digest}\` in \`${cfg.file}\`, so this pull request is obsolete.${deps.runUrl ? ` Run: ${deps.runUrl}` : ''}`,
  }).catch((e: unknown) => {
    if (e instanceof ApiRefused || (e && typeof e === 'object' && (e as { name?: string }).name === 'HttpError')) {
      deps.warn(`could not close the obsolete pull request from ${cfg.prBranch}: ${(e as Error).message}`);
      return undefined;
    }
    throw e;
  });
  if (closed) deps.info(`closed pull request #${closed.number}: ${cfg.branch} already pins ${digest}`);
  return closed;
}

const DIGEST = /sha256:[0-9a-f]{64}/g;

/**
 * `git revert --no-commit` of the bump on the working tree: the bump must be on the branch, a plain
 * (one-parent) commit that changed `file`. A revert that does not apply cleanly is aborted
 * (`revert-conflict`, nothing committed). The digests the revert removed from and restored to
 * `file` are read from the file before and after.
 */
async function revertInPlace(
  git: (args: string[], opts?: { input?: string }) => Promise<{ exitCode: number; stdout: string; stderr: string }>,
  cfg: Config,
): Promise<Revert & { changed: boolean }> {
  const sha = cfg.rollbackOf;
  const anc = await git(['merge-base', '--is-ancestor', sha, 'HEAD']);
  if (anc.exitCode !== 0) throw new Refused(`commit ${sha} is not on ${cfg.branch} of ${cfg.repository}`, 'not-found');
  const parents = (await git(['rev-list', '--parents', '--max-count=1', sha])).stdout.trim().split(/\s+/).slice(1);
  if (parents.length !== 1)
    throw new Refused(`commit ${sha} is a ${parents.length === 0 ? 'root' : 'merge'} commit, not a bump`, 'not-found');
  const files = (await git(['diff-tree', '--no-commit-id', '--name-only', '-r', '-z', sha])).stdout.split('\0').filter(Boolean);
  if (!files.includes(cfg.file)) throw new Refused(`commit ${sha} does not change ${cfg.file}`, 'not-found');
  const subject = revertSubject((await git(['log', '--max-count=1', '--format=%s', sha])).stdout);
  const before = await git(['show', `HEAD:${cfg.file}`]);
  const r = await git(['revert', '--no-commit', sha]);
  if (r.exitCode !== 0) {
    const conflicted = (await git(['diff', '--name-only', '--diff-filter=U', '-z'])).stdout.split('\0').filter(Boolean);
    await git(['revert', '--abort']);
    const where = conflicted.length ? ` (conflict in ${conflicted.slice(0, 5).join(', ')})` : '';
    throw new Refused(
      `the revert of ${sha} does not apply cleanly on ${cfg.branch}${where}: a later change touched the same lines; nothing was pushed`,
      'revert-conflict',
    );
  }
  const staged = await git(['diff', '--cached', '--quiet']);
  const after = await git(['show', `:${cfg.file}`]);
  const was = new Set(before.exitCode === 0 ? (before.stdout.match(DIGEST) ?? []) : []);
  const now = new Set(after.exitCode === 0 ? (after.stdout.match(DIGEST) ?? []) : []);
  return {
    changed: staged.exitCode !== 0,
    commit: sha,
    subject,
    removedDigest: [...was].find((d) => !now.has(d)) ?? '',
    restoredDigest: [...now].find((d) => !was.has(d)) ?? '',
  };
}

function editInPlace(dir: string, cfg: Config): FileEdit {
  const p = join(dir, cfg.file);
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(p);
  } catch {
    throw new EditError(`${cfg.file} does not exist on ${cfg.branch} of ${cfg.repository}`, 'not-found');
  }
  if (!st.isFile()) throw new EditError(`${cfg.file} is not a regular file (a symlink or directory)`, 'not-found');
  const text = readFileSync(p, 'utf8');
  const edit = editFile(cfg.kind, text, bumpTarget(cfg), cfg.file, cfg.path);
  if (edit.changed) writeFileSync(p, edit.text);
  return edit;
}
