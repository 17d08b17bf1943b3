/**
 * gitops-update's bundle against real git: a config repository made here, served by git's own
 * `git http-backend` on loopback (real clone and push over HTTP, token checked by the server), and
 * the pull request API of the loopback GitHub services (SIMULATED, see lab.ts).
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
const SOURCE = 'c0ffee0000000000000000000000000000000001';

let lab: GitopsLab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

async function start(extra: Record<string, string> = {}): Promise<GitopsLab> {
  lab = await startGitopsLab({
    [FILE]: KUSTOMIZE,
    'envs/prod/ambiguous.yaml': readFileSync(join(GOLDEN, 'manifests-ambiguous.yaml'), 'utf8'),
    ...extra,
  });
  return lab;
}

function update(l: GitopsLab, inputs: Record<string, string | undefined> = {}, runtime?: Runtime) {
  return runAction('gitops-update', {
    runtime,
    inputs: {
      repository: REPOSITORY,
      file: FILE,
      kind: 'kustomize',
      'image-ref': `ghcr.io/octo-org/api@${NEW}`,
      mode: 'commit',
      environment: 'prod',
      token: TOKEN,
      'source-commit': SOURCE,
      'scan-verdict': 'passed (0 CRITICAL, 0 HIGH)',
      ...inputs,
    },
    env: l.env,
    timeoutMs: 120_000,
  });
}

/** Everything the runner would show or keep, bar the `::add-mask::` registrations themselves. */
const shown = (r: { everything: string }) =>
  r.everything
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
const pushes = (l: GitopsLab) => l.git.requests.filter((r) => r.path.endsWith('/git-receive-pack') && r.method === 'POST').length;
const expectedFile = (digest: string) => KUSTOMIZE.replace(OLD, digest);

describe.each(runtimes())('gitops-update on $name', (runtime) => {
  it('commit mode: pushes one commit to main changing only the digest', async () => {
    const l = await start();
    const before = l.head('main');
    const r = await update(l, {}, runtime);
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('true');
    expect(r.outputs['previous-digest']).toBe(OLD);
    expect(r.outputs['pull-request-url']).toBe('');
    expect(r.outputs['commit-sha']).toBe(l.head('main'));
    expect(l.show('main', FILE)).toBe(expectedFile(NEW));
    expect(git(l.bare, ['rev-parse', `${l.head('main')}^`]).trim()).toBe(before);
    const msg = git(l.bare, ['log', '-1', '--format=%an <%ae>%n%B', 'main']);
    expect(msg).toContain('hallmark-gitops[bot]');
    expect(msg).toContain(`ghcr.io/octo-org/api@${NEW}`);
    expect(msg).toContain(`Source commit: ${SOURCE}`);
    expect(msg).toContain('Scan verdict: passed (0 CRITICAL, 0 HIGH)');
    expect(msg).toMatch(/Run: \S+\/actions\/runs\/9100200300/);
    expect(git(l.bare, ['diff', '--stat', `${before}`, 'main'])).toMatch(/1 file changed, 1 insertion\(\+\), 1 deletion\(-\)/);
    // Every request carried the token as basic auth (the server refused anything else), none in the URL.
    expect(l.git.requests.length).toBeGreaterThan(0);
    for (const q of l.git.requests) expect(q.url).not.toContain(TOKEN);
    expect(shown(r)).not.toContain(TOKEN);
    expect(l.allObjects()).not.toContain(TOKEN);
    expect(l.allObjects()).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    expect(r.summary).toContain('committed');
  });

  it('pull-request mode: one PR per environment, created then updated in place', async () => {
    const l = await start();
    const main = l.head('main');
    const r1 = await update(l, { mode: 'pull-request' }, runtime);
    expect(r1.errors).toEqual([]);
    expect(r1.outputs.changed).toBe('true');
    expect(l.head('main')).toBe(main);
    expect(l.head('hallmark/gitops/prod')).toBe(r1.outputs['commit-sha']);
    expect(l.show('hallmark/gitops/prod', FILE)).toBe(expectedFile(NEW));
    expect(l.pulls).toHaveLength(1);
    const pr = l.pulls[0]!;
    expect(r1.outputs['pull-request-url']).toBe(pr.html_url);
    expect(pr.base).toBe('main');
    expect(pr.head).toBe('hallmark/gitops/prod');
    expect(pr.title).toBe(`Deploy api@sha256:${NEW.slice(7, 19)} to prod`);
    for (const s of [NEW, OLD, SOURCE, 'passed (0 CRITICAL, 0 HIGH)', '/actions/runs/9100200300']) expect(pr.body).toContain(s);
    expect(r1.summary).toContain('pull request opened');
    expect(r1.summary).toContain(OLD);
    expect(r1.summary).toContain(pr.html_url);

    const r2 = await update(l, { mode: 'pull-request', 'image-ref': `ghcr.io/octo-org/api@${NEWER}` }, runtime);
    expect(r2.errors).toEqual([]);
    expect(r2.outputs.changed).toBe('true');
    expect(l.pulls).toHaveLength(1);
    expect(r2.outputs['pull-request-url']).toBe(pr.html_url);
    expect(l.pulls[0]!.title).toContain(NEWER.slice(7, 19));
    expect(r2.summary).toContain('pull request updated');
    expect(r2.outputs['previous-digest']).toBe(OLD);
    expect(l.show('hallmark/gitops/prod', FILE)).toBe(expectedFile(NEWER));
    // The branch was rebuilt on main: one commit ahead of it, not two.
    expect(git(l.bare, ['rev-list', '--count', `main..hallmark/gitops/prod`]).trim()).toBe('1');
    expect(l.gh.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/pulls'))).toHaveLength(1);
    expect(l.gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1);
  });
});

describe('gitops-update delivery', () => {
  it('no change needed: changed=false, no commit, no push', async () => {
    const l = await start({ [FILE]: expectedFile(NEW) });
    const head = l.head('main');
    const r = await update(l);
    expect(r.code).toBe(0);
    expect(r.outputs.changed).toBe('false');
    expect(r.outputs['commit-sha']).toBe('');
    expect(r.outputs['previous-digest']).toBe(NEW);
    expect(l.head('main')).toBe(head);
    expect(pushes(l)).toBe(0);
  });

  it('pull-request mode re-run with the same digest: no new commit, no push, the one PR kept', async () => {
    const l = await start();
    const r1 = await update(l, { mode: 'pull-request' });
    expect(r1.outputs.changed).toBe('true');
    const branch = l.head('hallmark/gitops/prod');
    const r2 = await update(l, { mode: 'pull-request' });
    expect(r2.errors).toEqual([]);
    expect(r2.outputs.changed).toBe('false');
    expect(r2.outputs['commit-sha']).toBe(branch);
    expect(r2.outputs['pull-request-url']).toBe(r1.outputs['pull-request-url']);
    expect(l.head('hallmark/gitops/prod')).toBe(branch);
    expect(pushes(l)).toBe(1);
    expect(l.pulls).toHaveLength(1);
  });

  it('pull-request mode after main moved: the branch is rebuilt on the new main', async () => {
    const l = await start();
    await update(l, { mode: 'pull-request' });
    const other = l.commit('main', { 'envs/prod/replicas.yaml': 'replicas: 5\n' }, 'scale up');
    const r = await update(l, { mode: 'pull-request' });
    expect(r.outputs.changed).toBe('true');
    expect(git(l.bare, ['rev-parse', 'hallmark/gitops/prod^']).trim()).toBe(other);
    expect(l.pulls).toHaveLength(1);
  });

  it('git answering 503 to the clone twice, and 502 to the push once: retried with backoff, one commit', async () => {
    const l = await start();
    l.failGit = { status: 503, count: 2 };
    l.beforeAdvertise.push(() => {
      l.failGit = { status: 502, count: 1, path: /\/git-receive-pack$/ };
    });
    const r = await update(l);
    expect(r.errors).toEqual([]);
    expect(r.outputs.changed).toBe('true');
    expect(r.warnings.filter((w) => /git clone failed with a network error/.test(w))).toHaveLength(2);
    expect(r.warnings.filter((w) => /git push failed with a network error/.test(w))).toHaveLength(1);
    expect(l.show('main', FILE)).toBe(expectedFile(NEW));
    expect(git(l.bare, ['rev-list', '--count', 'main']).trim()).toBe('2');
  });

  it('git answering 503 to everything: api-refused after 3 tries of the clone', async () => {
    const l = await start();
    l.failGit = { status: 503, count: 100 };
    const r = await update(l);
    expect(r.outputs['failure-reason']).toBe('api-refused');
    expect(l.git.requests).toHaveLength(3);
  });

  it.each(['beforeAdvertise', 'beforePush'] as const)(
    'a concurrent push (%s: non-fast-forward, or a lost race) is retried on a fresh base and keeps the other commit',
    async (when) => {
      const l = await start();
      let other = '';
      l[when].push(() => {
        other = l.commit('main', { 'envs/prod/replicas.yaml': 'replicas: 5\n' }, 'scale up');
      });
      const r = await update(l);
      expect(r.errors).toEqual([]);
      expect(r.outputs.changed).toBe('true');
      expect(pushes(l)).toBe(2);
      expect(r.warnings.join('\n')).toMatch(/non-fast-forward \(attempt 1 of 3\)/);
      expect(git(l.bare, ['rev-parse', 'main^']).trim()).toBe(other);
      expect(l.show('main', 'envs/prod/replicas.yaml')).toBe('replicas: 5\n');
      expect(l.show('main', FILE)).toBe(expectedFile(NEW));
    },
  );

  it('someone pushed the same bump first: the retry finds nothing to change, changed=false', async () => {
    const l = await start();
    let theirs = '';
    l.beforeAdvertise.push(() => {
      theirs = l.commit('main', { [FILE]: expectedFile(NEW) }, 'the same bump, by another run');
    });
    const r = await update(l);
    expect(r.errors).toEqual([]);
    expect(r.outputs.changed).toBe('false');
    expect(r.outputs['commit-sha']).toBe('');
    expect(l.head('main')).toBe(theirs);
    expect(pushes(l)).toBe(1);
  });

  it('still rejected after push-attempts: push-rejected, main keeps the other commit only', async () => {
    const l = await start();
    for (let i = 0; i < 2; i++) l.beforeAdvertise.push(() => void l.commit('main', { [`note-${i}.txt`]: `${i}\n` }, `race ${i}`));
    const r = await update(l, { 'push-attempts': '2' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('push-rejected');
    expect(r.outputs.changed).toBe('false');
    expect(pushes(l)).toBe(2);
    expect(l.show('main', FILE)).toBe(KUSTOMIZE);
  });

  it('ambiguous image: refused, nothing pushed', async () => {
    const l = await start();
    const head = l.head('main');
    const r = await update(l, { file: 'envs/prod/ambiguous.yaml', kind: 'manifests' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('ambiguous-image');
    expect(r.errors[0]).toContain('registry.example.com/legacy/api');
    expect(pushes(l)).toBe(0);
    expect(l.head('main')).toBe(head);
  });

  it('missing file, missing branch: not-found', async () => {
    const l = await start();
    const a = await update(l, { file: 'envs/nope/kustomization.yaml' });
    expect(a.outputs['failure-reason']).toBe('not-found');
    const b = await update(l, { branch: 'release' });
    expect(b.outputs['failure-reason']).toBe('not-found');
    expect(pushes(l)).toBe(0);
  });

  it('a token the server refuses: api-refused, the token in no log', async () => {
    const l = await start();
    const r = await update(l, { token: 'ghs_wrongTokenWrongTokenWrongToken000' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('api-refused');
    expect(shown(r)).not.toContain('ghs_wrongTokenWrongTokenWrongToken000');
  });

  it('a create whose answer was lost (502, then 422 on the retry): the PR made is updated, not duplicated', async () => {
    const l = await start();
    l.loseCreateResponses = 1;
    const r = await update(l, { mode: 'pull-request' });
    expect(r.errors).toEqual([]);
    expect(l.pulls).toHaveLength(1);
    expect(r.outputs['pull-request-url']).toBe(l.pulls[0]!.html_url);
    expect(l.gh.requests.filter((q) => q.method === 'POST' && q.path.endsWith('/pulls'))).toHaveLength(2);
    expect(l.gh.requests.filter((q) => q.method === 'PATCH')).toHaveLength(1);
  });

  it('a runner env asking git to trace HTTP (GIT_TRACE_CURL, GIT_TRACE_REDACT=0): the credentials stay out of the log', async () => {
    const l = await start();
    l.refuseWithHook('protected branch\n');
    const r = await runAction('gitops-update', {
      inputs: {
        repository: REPOSITORY,
        file: FILE,
        kind: 'kustomize',
        'image-ref': `ghcr.io/octo-org/api@${NEW}`,
        mode: 'commit',
        environment: 'prod',
        token: TOKEN,
      },
      env: { ...l.env, GIT_TRACE_CURL: '1', GIT_TRACE: '1', GIT_TRACE_REDACT: '0', GIT_CURL_VERBOSE: '1' },
      timeoutMs: 120_000,
    });
    expect(r.outputs['failure-reason']).toBe('push-rejected');
    expect(shown(r)).toContain('protected branch');
    expect(shown(r)).not.toContain(Buffer.from(`x-access-token:${TOKEN}`).toString('base64'));
    expect(shown(r)).not.toMatch(/authorization: basic/i);
  });

  it('the pulls API refusing: api-refused after the branch was pushed', async () => {
    const l = await start();
    l.refusePulls = { status: 403, count: 5 };
    const r = await update(l, { mode: 'pull-request' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('api-refused');
    expect(l.pulls).toHaveLength(0);
    expect(l.gh.requests.filter((q) => q.path.endsWith('/pulls'))).toHaveLength(1);
  });

  it('a bad input fails before any request', async () => {
    const l = await start();
    const r = await update(l, { 'image-ref': 'ghcr.io/octo-org/api:v1' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain("'image-ref'");
    expect(l.git.requests).toHaveLength(0);
    expect(l.gh.requests).toHaveLength(0);
  });
});
