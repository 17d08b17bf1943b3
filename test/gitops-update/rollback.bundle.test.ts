/**
 * gitops-update's rollback (`rollback-of`) and the closing of an obsolete bump pull request, run
 * as the bundle against real git: the config repository served by `git http-backend` on loopback
 * (real clone, revert and push), the pull request API SIMULATED (see lab.ts). Each test bumps with
 * the action itself, then rolls back, and reads the result from the bare repository.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAction, runtimes, type Runtime } from '../harness/runner.js';
import { git, REPOSITORY, startGitopsLab, TOKEN, type GitopsLab } from './lab.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const OLD = `sha256:${'1'.repeat(64)}`;
const NEW = `sha256:${'abcdef0123456789'.repeat(4)}`;
const NEWER = `sha256:${'9876543210fedcba'.repeat(4)}`;
const KUSTOMIZE = readFileSync(join(GOLDEN, 'kustomize-digest.before.yaml'), 'utf8');
const FILE = 'envs/prod/kustomization.yaml';

let lab: GitopsLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function start(): Promise<GitopsLab> {
  lab = await startGitopsLab({ [FILE]: KUSTOMIZE });
  return lab;
}

function run(l: GitopsLab, inputs: Record<string, string>, runtime?: Runtime) {
  return runAction('gitops-update', {
    runtime,
    inputs: {
      repository: REPOSITORY,
      file: FILE,
      kind: 'kustomize',
      mode: 'commit',
      environment: 'prod',
      token: TOKEN,
      'source-commit': 'c0ffee0000000000000000000000000000000001',
      ...inputs,
    },
    env: l.env,
    timeoutMs: 120_000,
  });
}
const bump = (l: GitopsLab, digest: string, extra: Record<string, string> = {}, runtime?: Runtime) =>
  run(l, { 'image-ref': `ghcr.io/octo-org/api@${digest}`, ...extra }, runtime);
const rollback = (l: GitopsLab, sha: string, extra: Record<string, string> = {}, runtime?: Runtime) =>
  run(l, { 'rollback-of': sha, reason: 'smoke test failed: /healthz 503', ...extra }, runtime);
const pushes = (l: GitopsLab) => l.git.requests.filter((r) => r.path.endsWith('/git-receive-pack') && r.method === 'POST').length;

describe.each(runtimes())('gitops-update rollback on $name', (runtime) => {
  it('commit mode: bump then rollback restores the file byte for byte, in one revert commit', async () => {
    const l = await start();
    const b = await bump(l, NEW, {}, runtime);
    expect(b.outputs.changed).toBe('true');
    const bumpSha = b.outputs['commit-sha'] as string;
    expect(l.show('main', FILE)).not.toBe(KUSTOMIZE);
    const r = await rollback(l, bumpSha, {}, runtime);
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ changed: 'true', 'previous-digest': NEW, 'pull-request-url': '' });
    expect(r.outputs['failure-reason'] ?? '').toBe('');
    expect(r.outputs['commit-sha']).toBe(l.head('main'));
    expect(l.show('main', FILE)).toBe(KUSTOMIZE);
    expect(git(l.bare, ['rev-parse', 'main^']).trim()).toBe(bumpSha);
    const msg = git(l.bare, ['log', '-1', '--format=%an%n%B', 'main']);
    expect(msg).toMatch(
      /^hallmark-gitops\[bot\]\nRevert "gitops\(prod\): api@sha256:abcdef012345"\n\nThis reverts commit [0-9a-f]{40}\.\n/,
    );
    expect(msg).toContain(`This reverts commit ${bumpSha}.`);
    expect(msg).toContain(`Restores: ${OLD}`);
    expect(msg).toContain(`Removes: ${NEW}`);
    expect(msg).toContain('Reason: smoke test failed: /healthz 503');
    expect(r.summary).toContain('| Result | reverted \\(committed\\) |');
    expect(r.summary).toContain(OLD);
    // The run's audit record: the config repository and commit, the digest now pinned, which bump was reverted.
    const trail = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8').trim().split('\n');
    const rec = JSON.parse(trail.at(-1)!) as {
      action: string;
      verdict: string;
      subject: Record<string, string>;
      facts: Record<string, unknown>;
    };
    expect(rec).toMatchObject({ action: 'gitops-update', verdict: 'passed' });
    expect(rec.subject).toEqual({ configRepository: REPOSITORY, configCommit: l.head('main'), digest: OLD, environment: 'prod' });
    expect(rec.facts).toEqual({
      mode: 'commit',
      'file-kind': 'kustomize',
      branch: 'main',
      'rollback-of': bumpSha,
      changed: true,
      'previous-digest': NEW,
    });
    expect(trail.join('\n')).not.toContain(TOKEN);
  });
});

describe('gitops-update rollback', () => {
  it('a later unrelated commit on the branch does not block the revert', async () => {
    const l = await start();
    const b = await bump(l, NEW);
    const other = l.commit('main', { 'envs/prod/replicas.yaml': 'replicas: 5\n' }, 'scale up');
    const r = await rollback(l, b.outputs['commit-sha'] as string);
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('true');
    expect(l.show('main', FILE)).toBe(KUSTOMIZE);
    expect(l.show('main', 'envs/prod/replicas.yaml')).toBe('replicas: 5\n');
    expect(git(l.bare, ['rev-parse', 'main^']).trim()).toBe(other);
  });

  it('a later bump of the same value: revert-conflict, nothing pushed', async () => {
    const l = await start();
    const b1 = await bump(l, NEW);
    await bump(l, NEWER);
    const head = l.head('main');
    const before = pushes(l);
    const r = await rollback(l, b1.outputs['commit-sha'] as string);
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('revert-conflict');
    expect(r.outputs.changed).toBe('false');
    expect(r.outputs['commit-sha']).toBe('');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`the revert of ${b1.outputs['commit-sha']} does not apply cleanly on main (conflict in ${FILE})`);
    expect(pushes(l)).toBe(before);
    expect(l.head('main')).toBe(head);
    expect(l.show('main', FILE)).toBe(KUSTOMIZE.replace(OLD, NEWER));
  });

  it('a bump already reverted: changed=false, no push', async () => {
    const l = await start();
    const b = await bump(l, NEW);
    const sha = b.outputs['commit-sha'] as string;
    expect((await rollback(l, sha)).outputs.changed).toBe('true');
    const head = l.head('main');
    const before = pushes(l);
    const again = await rollback(l, sha);
    expect(again.code).toBe(0);
    expect(again.outputs.changed).toBe('false');
    expect(pushes(l)).toBe(before);
    expect(l.head('main')).toBe(head);
    expect(again.summary).toContain('already reverted');
  });

  it('a push raced by an unrelated commit: retried on a fresh base, the revert still lands once', async () => {
    const l = await start();
    const b = await bump(l, NEW);
    let other = '';
    l.beforeAdvertise.push(() => {
      other = l.commit('main', { 'envs/prod/replicas.yaml': 'replicas: 7\n' }, 'scale up, racing');
    });
    const r = await rollback(l, b.outputs['commit-sha'] as string);
    expect(r.code).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/rejected as non-fast-forward \(attempt 1 of 3\)/);
    expect(git(l.bare, ['rev-parse', 'main^']).trim()).toBe(other);
    expect(l.show('main', FILE)).toBe(KUSTOMIZE);
  });

  it('a commit that is not on the branch, or does not change the file: not-found, nothing pushed', async () => {
    const l = await start();
    const unrelated = l.commit('main', { 'README.md': 'hi\n' }, 'docs');
    const r1 = await rollback(l, unrelated);
    expect(r1.outputs['failure-reason']).toBe('not-found');
    expect(r1.errors[0]).toContain(`commit ${unrelated} does not change ${FILE}`);
    const r2 = await rollback(l, 'f'.repeat(40));
    expect(r2.outputs['failure-reason']).toBe('not-found');
    expect(r2.errors[0]).toContain(`commit ${'f'.repeat(40)} is not on main of ${REPOSITORY}`);
    expect(pushes(l)).toBe(0);
  });

  it('pull-request mode: a "Revert …" pull request from its own branch, updated in place by the next rollback', async () => {
    const l = await start();
    const b1 = await bump(l, NEW);
    const r = await rollback(l, b1.outputs['commit-sha'] as string, { mode: 'pull-request' });
    expect(r.errors).toEqual([]);
    expect(r.outputs.changed).toBe('true');
    expect(l.pulls).toHaveLength(1);
    const pr = l.pulls[0]!;
    expect(pr).toMatchObject({ head: 'hallmark/gitops-revert/prod', base: 'main', state: 'open' });
    expect(pr.title).toBe(`Revert prod to sha256:${'1'.repeat(12)} (reverts ${(b1.outputs['commit-sha'] as string).slice(0, 12)})`);
    expect(pr.body).toContain(`| Restores | \`${OLD}\` |`);
    expect(pr.body).toContain('| Reason | smoke test failed: /healthz 503 |');
    expect(r.outputs['pull-request-url']).toBe(pr.html_url);
    expect(l.show('hallmark/gitops-revert/prod', FILE)).toBe(KUSTOMIZE);
    expect(l.show('main', FILE)).toBe(KUSTOMIZE.replace(OLD, NEW));
    // A second bump lands and is rolled back too: the same pull request now carries that revert.
    const b2 = await bump(l, NEWER);
    const r2 = await rollback(l, b2.outputs['commit-sha'] as string, { mode: 'pull-request', reason: 'Degraded' });
    expect(r2.outputs['pull-request-url']).toBe(pr.html_url);
    expect(l.pulls).toHaveLength(1);
    expect(pr.title).toBe(`Revert prod to sha256:${'abcdef012345'} (reverts ${(b2.outputs['commit-sha'] as string).slice(0, 12)})`);
    expect(l.show('hallmark/gitops-revert/prod', FILE)).toBe(KUSTOMIZE.replace(OLD, NEW));
  });
});

describe('gitops-update: an obsolete bump pull request', () => {
  it('the base already pins the digest: the open bump PR for the environment is commented on and closed, and the summary says which', async () => {
    const l = await start();
    const p = await bump(l, NEW, { mode: 'pull-request' });
    expect(l.pulls).toHaveLength(1);
    // The same digest reaches main another way (a commit-mode run); the PR is now obsolete.
    await bump(l, NEW);
    const r = await bump(l, NEW, { mode: 'pull-request' });
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('false');
    const pr = l.pulls[0]!;
    expect(pr.state).toBe('closed');
    expect(pr.comments).toHaveLength(1);
    expect(pr.comments[0]).toContain(`\`main\` already pins \`${NEW}\``);
    expect(r.summary).toMatch(
      /\n\nClosed the obsolete pull request #1 \(.*https:\/\/github\.com\/octo-org\/deploy-config\/pull\/1.*\): `main` already pins this digest\./,
    );
    expect(p.outputs['pull-request-url']).toBe('https://github.com/octo-org/deploy-config/pull/1');
    // Nothing open: a later run has nothing to close.
    const again = await bump(l, NEW, { mode: 'pull-request' });
    expect(again.summary).not.toContain('Closed the obsolete');
    expect(l.gh.requests.filter((q) => q.path.endsWith('/comments'))).toHaveLength(1);
  });

  it('the API refusing the close: a warning, the step still passes (nothing needed changing), the PR stays open', async () => {
    const l = await start();
    await bump(l, NEW, { mode: 'pull-request' });
    await bump(l, NEW);
    l.refusePulls = { status: 403, count: 1 };
    const r = await bump(l, NEW, { mode: 'pull-request' });
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('false');
    expect(r.warnings.join('\n')).toContain(
      'could not close the obsolete pull request from hallmark/gitops/prod: listing pull requests answered HTTP 403',
    );
    expect(l.pulls[0]!.state).toBe('open');
  });
});

describe('gitops-update rollback inputs', () => {
  it.each([
    [{ 'rollback-of': 'abc123' }, "'rollback-of'"],
    [{ 'rollback-of': 'A'.repeat(40) }, "'rollback-of'"],
    [{ 'rollback-of': 'a'.repeat(40), 'image-ref': `ghcr.io/octo-org/api@${NEW}` }, "'image-ref'"],
    [{ 'rollback-of': 'a'.repeat(40), reason: 'two\nlines' }, "'reason'"],
    [{ 'image-ref': `ghcr.io/octo-org/api@${NEW}`, reason: 'no rollback' }, "'reason'"],
  ])('%o is refused before any request', async (inputs, name) => {
    const l = await start();
    const r = await run(l, inputs);
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(name);
    expect(l.git.requests).toHaveLength(0);
  });
});
