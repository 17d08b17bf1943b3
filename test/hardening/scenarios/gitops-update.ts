/**
 * gitops-update under the hardening suites: real git (clone and push over HTTP through git's own
 * `git http-backend`, test/gitops-update/lab.ts) and the loopback GitHub services with a
 * SIMULATED pulls API. The secret input is `token`: it may reach only the `Authorization` header
 * of the git server and of the API, never a URL, a log line, an output, the summary, a commit or
 * a pull request body.
 */
import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAction, ROOT, type ActionResult } from '../../harness/runner.js';
import { HTTP_BACKEND, REPOSITORY, startGitopsLab, TOKEN, type GitopsLab } from '../../gitops-update/lab.js';
import type { ActionHardening, Outcome, Watched } from './types.js';

const NEW = `sha256:${'abcdef0123456789'.repeat(4)}`;
const FILE = 'envs/prod/kustomization.yaml';
const GOLDEN = join(ROOT, 'test/gitops-update/golden');
const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );
let labs: GitopsLab[] = [];

async function lab(files: Record<string, string> = {}, token = TOKEN): Promise<GitopsLab> {
  const l = await startGitopsLab(
    {
      [FILE]: readFileSync(join(GOLDEN, 'kustomize-digest.before.yaml'), 'utf8'),
      'envs/prod/ambiguous.yaml': readFileSync(join(GOLDEN, 'manifests-ambiguous.yaml'), 'utf8'),
      ...files,
    },
    { token },
  );
  labs.push(l);
  return l;
}

function watched(l: GitopsLab): Watched[] {
  return [
    { name: 'git http-backend', requests: () => l.git.requests, allow: [{ label: 'input:token', header: 'authorization' }] },
    { name: 'GitHub API', requests: () => l.gh.requests, allow: [{ label: 'input:token', header: 'authorization', path: /\/pulls/ }] },
  ];
}

async function update(
  l: GitopsLab,
  inputs: Record<string, string>,
  env: Record<string, string> = {},
): Promise<Outcome & { result: ActionResult }> {
  const r = await runAction('gitops-update', {
    inputs: {
      repository: REPOSITORY,
      file: FILE,
      kind: 'kustomize',
      'image-ref': `ghcr.io/octo-org/api@${NEW}`,
      mode: 'commit',
      environment: 'prod',
      token: TOKEN,
      ...inputs,
    },
    env: { ...l.env, ...env },
    timeoutMs: 120_000,
  });
  return {
    result: r,
    servers: watched(l),
    scan: [l.bare],
    blobs: [
      { name: 'git objects (commits, trees, blobs)', data: l.allObjects() },
      { name: 'pull requests', data: JSON.stringify(l.pulls) },
    ],
  };
}

const hardening: ActionHardening = {
  action: 'gitops-update',
  missing: () => (existsSync(HTTP_BACKEND) ? undefined : `git http-backend is not installed (${HTTP_BACKEND})`),
  async start() {
    labs = [];
  },
  async stop() {
    for (const l of labs) await l.close();
    labs = [];
  },

  canary: [
    {
      name: 'commit mode, pushed: the token only in the Authorization header of the git server',
      labels: ['input:token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const l = await lab({}, c['input:token']);
        const o = await update(l, { token: c['input:token'] as string }, envOf(c));
        expect(o.result.outputs.changed).toBe('true');
        return o;
      },
    },
    {
      name: 'pull-request mode, PR opened: the token only in the Authorization headers',
      labels: ['input:token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const l = await lab({}, c['input:token']);
        const o = await update(l, { token: c['input:token'] as string, mode: 'pull-request' }, envOf(c));
        expect(l.pulls).toHaveLength(1);
        return o;
      },
    },
    {
      name: 'ambiguous image (refused): the token nowhere',
      labels: ['input:token', ...ENV_CANARIES],
      expect: { code: 1, reason: 'ambiguous-image' },
      async run(c) {
        const l = await lab({}, c['input:token']);
        return update(l, { token: c['input:token'] as string, file: 'envs/prod/ambiguous.yaml', kind: 'manifests' }, envOf(c));
      },
    },
    {
      name: 'push refused by a pre-receive hook: git output printed, the token nowhere',
      labels: ['input:token', ...ENV_CANARIES],
      expect: { code: 1, reason: 'push-rejected' },
      async run(c) {
        const l = await lab({}, c['input:token']);
        l.refuseWithHook('protected branch\n');
        return update(l, { token: c['input:token'] as string }, envOf(c));
      },
    },
  ],

  injection: [
    {
      name: 'payloads in a container name of the config file (summary locations) stay inert',
      kind: 'workflow',
      async run(p) {
        const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n    - name: ${JSON.stringify(p.payload)}\n      image: ghcr.io/octo-org/api:v1\n`;
        const l = await lab({ 'pod.yaml': text });
        const o = await update(l, { file: 'pod.yaml', kind: 'manifests' });
        expect(o.result.outputs.changed).toBe('true');
        return o;
      },
    },
    {
      name: "payloads in git's own output (a pre-receive hook's message) are printed inertly",
      kind: 'workflow',
      async run(p) {
        const l = await lab();
        l.refuseWithHook(`${p.payload}\n`);
        const o = await update(l, {});
        expect(o.result.outputs['failure-reason']).toBe('push-rejected');
        return o;
      },
    },
    {
      name: 'payloads in scan-verdict are refused or kept out of the log (commit message and PR body only)',
      kind: 'workflow',
      async run(p) {
        const l = await lab();
        return update(l, { 'scan-verdict': p.payload, mode: 'pull-request' });
      },
    },
    {
      name: 'shell payloads in branch and environment are refused before git runs; in file, a path git is handed after `--` (no such file: not-found, nothing pushed)',
      kind: 'shell',
      async run(p) {
        const l = await lab();
        const rs = [await update(l, { branch: p.payload }), await update(l, { environment: p.payload })];
        for (const o of rs) expect(o.result.outputs['failure-reason']).toBe('invalid-input');
        expect(l.git.requests).toHaveLength(0);
        const f = await update(l, { file: `envs/${p.payload}` });
        expect(['invalid-input', 'not-found']).toContain(f.result.outputs['failure-reason']);
        expect(l.git.requests.filter((q) => q.path.endsWith('/git-receive-pack'))).toHaveLength(0);
        return {
          ...f,
          result: { ...f.result, everything: rs.map((o) => o.result.everything).join('\n') + f.result.everything },
        } as Outcome;
      },
    },
  ],

  faults: [
    {
      name: 'the pulls API answering 503 twice, then fine: retried, one PR',
      async run() {
        const l = await lab();
        l.refusePulls = { status: 503, count: 2 };
        const o = await update(l, { mode: 'pull-request' });
        expect(o.result.errors).toEqual([]);
        expect(l.pulls).toHaveLength(1);
        expect(l.gh.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/pulls'))).toHaveLength(3);
      },
    },
    {
      name: 'the pulls API answering 503 forever: api-refused after a bounded number of tries',
      async run() {
        const l = await lab();
        l.refusePulls = { status: 503, count: 100 };
        const o = await update(l, { mode: 'pull-request' });
        expect(o.result.outputs['failure-reason']).toBe('api-refused');
        const n = l.gh.requests.filter((q) => q.path.endsWith('/pulls')).length;
        expect(n).toBeGreaterThan(1);
        expect(n).toBeLessThanOrEqual(4);
      },
    },
    {
      name: 'a git server that is not listening: api-refused, nothing left behind in RUNNER_TEMP',
      async run() {
        const l = await lab();
        const o = await update(l, {}, { GITHUB_SERVER_URL: 'http://127.0.0.1:1' });
        expect(o.result.outputs['failure-reason']).toBe('api-refused');
        const { readdirSync } = await import('node:fs');
        expect(readdirSync(o.result.home.temp).filter((f) => f.startsWith('gitops-update-'))).toEqual([]);
      },
    },
    {
      name: 'no git on PATH: api-refused naming git',
      async run() {
        const l = await lab();
        const o = await update(l, {}, { PATH: '/nonexistent' });
        expect(o.result.code).toBe(1);
        expect(o.result.errors[0]).toContain('git');
      },
    },
  ],
};

export default hardening;
