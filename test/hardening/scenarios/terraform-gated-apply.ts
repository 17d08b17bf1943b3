/**
 * terraform-gated-apply under the hardening suites, with the REAL terraform (or OpenTofu as
 * `terraform`; test/terraform-gated-apply/stack.ts: offline `terraform_data` stacks on the local
 * backend, each job a fresh runner home) and the loopback GitHub services (artifact service, REST
 * comments), as its bundle tests drive it. What terraform was asked to do is read from its own
 * TF_LOG_PATH log (`CLI command args`). Canaries: the GitHub token (only in the Authorization
 * header of REST calls), the runtime token (only in the artifact service's Authorization header),
 * the OIDC request token.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fakeJwt, startGitHubServices, type GitHubServices } from '../../harness/github.js';
import { runAction, type ActionResult, type RunnerHome } from '../../harness/runner.js';
import type { RecordedRequest } from '../../harness/server.js';
import { cliCalls, holdLock, job as tfJob, outputsOf, stack as tfStack, tfEnv, type Stack } from '../../terraform-gated-apply/stack.js';
import type { ActionHardening, Outcome, Watched } from './types.js';

let gh: GitHubServices;
let n = 0;

const stack = (): Stack => tfStack();
function job(s: Stack): RunnerHome {
  return tfJob(s, { prefix: 'hallmark-hard-tf-' });
}
function prEvent(home: RunnerHome, number: number): Record<string, string> {
  const event = join(home.root, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({
      action: 'synchronize',
      number,
      pull_request: { number, head: { sha: 'abc', ref: 'f' }, base: { ref: 'main' } },
      repository: { name: 'shop', owner: { login: 'octo-org' } },
    }),
  );
  return { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event };
}

async function tf(
  s: Stack,
  inputs: Record<string, string>,
  o: { home?: RunnerHome; env?: Record<string, string>; gh?: GitHubServices } = {},
): Promise<{ r: ActionResult; requests: RecordedRequest[]; home: RunnerHome }> {
  const svc = o.gh ?? gh;
  const mark = svc.requests.length;
  const home = o.home ?? job(s);
  const r = await runAction('terraform-gated-apply', {
    home,
    inputs: {
      'working-directory': 'infra',
      'github-token': 'ghs_hardeningDefaultToken0001',
      'lock-timeout': '0s',
      'var-files': 'prod.tfvars',
      ...inputs,
    },
    env: { ...svc.env, ...tfEnv(home), ...o.env },
    timeoutMs: 60_000,
  });
  return { r, requests: svc.requests.slice(mark), home };
}
const calls = (home: RunnerHome) => cliCalls(home).map((argv) => ({ tool: 'terraform', argv, cwd: join(home.workspace, 'infra') }));

/** Loopback GitHub services of its own for one run, with `intercept` set: runs side by side. */
async function ownServices<T>(intercept: GitHubServices['intercept'], fn: (svc: GitHubServices) => Promise<T>): Promise<T> {
  const svc = await startGitHubServices();
  svc.intercept = intercept;
  try {
    return await fn(svc);
  } finally {
    await svc.close();
  }
}

const ENV_LABELS = ['env:ACTIONS_RUNTIME_TOKEN', 'env:ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
/** The runtime token must be a JWT the artifact client can read its backend IDs from: the canary rides in a claim. */
const runtimeJwt = (canary: string) =>
  fakeJwt({ scp: 'Actions.GenericRead:0 Actions.Results:run-backend-1:job-backend-1', hardening: canary });
function canaryEnv(c: Record<string, string>): Record<string, string> {
  const e: Record<string, string> = {};
  if (c['env:ACTIONS_RUNTIME_TOKEN']) e.ACTIONS_RUNTIME_TOKEN = runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN']);
  if (c['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN']) e.ACTIONS_ID_TOKEN_REQUEST_TOKEN = c['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  return e;
}
const watch = (requests: RecordedRequest[]): Watched => ({
  name: 'github',
  requests: () => requests,
  allow: [
    // The repository's comments, and `GET /user` on the same API (which account the token is, so only its own comment is updated).
    { label: 'input:github-token', header: 'authorization', path: /^\/(repos\/|user$)/ },
    { label: 'env:ACTIONS_RUNTIME_TOKEN', header: 'authorization', path: /^\/twirp\// },
  ],
});
function outcome(r: ActionResult, requests: RecordedRequest[], c: Record<string, string>, artifact?: string): Outcome {
  const blobs = gh.comments.map((c) => ({ name: `comment ${c.id}`, data: c.body }));
  const bytes = artifact ? gh.artifactBytes(artifact) : undefined;
  if (bytes) blobs.push({ name: `artifact ${artifact}`, data: bytes.toString('latin1') });
  return {
    result: r,
    servers: [watch(requests)],
    blobs,
    values: { 'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
  };
}

const hardening: ActionHardening = {
  action: 'terraform-gated-apply',
  async start() {
    gh = await startGitHubServices();
  },
  async stop() {
    await gh?.close();
  },

  canary: [
    {
      name: 'plan on a pull request: artifact uploaded, PR comment posted',
      labels: ['input:github-token', ...ENV_LABELS],
      expect: { code: 0 },
      async run(c) {
        const s = stack();
        const home = tfJob(s, { prefix: 'hallmark-hard-tf-', backendInConfig: false });
        const env = `canary-${++n}`;
        const { r, requests } = await tf(
          s,
          { mode: 'plan', environment: env, 'github-token': c['input:github-token'] as string, 'backend-config': `path=${s.state}` },
          { home, env: { ...prEvent(home, 70 + n), ...canaryEnv(c) } },
        );
        expect(
          requests.some((q) => q.method === 'POST' && q.path.includes('/issues/') && q.path.endsWith('/comments')),
          r.stdout,
        ).toBe(true);
        return outcome(r, requests, c, `tfplan-${env}`);
      },
    },
    {
      name: 'plan then apply: outputs written, sensitive outputs kept out',
      labels: ['input:github-token', ...ENV_LABELS],
      expect: { code: 0 },
      async run(c) {
        const s = stack();
        const env = `canary-apply-${++n}`;
        const plan = await tf(
          s,
          { mode: 'plan', environment: env, 'github-token': c['input:github-token'] as string },
          { env: canaryEnv(c) },
        );
        expect(plan.r.code, plan.r.stdout).toBe(0);
        const { r, requests } = await tf(
          s,
          {
            mode: 'apply',
            environment: env,
            'plan-sha256': plan.r.outputs['plan-sha256'] as string,
            'github-token': c['input:github-token'] as string,
          },
          { env: canaryEnv(c) },
        );
        expect(r.code, r.stdout).toBe(0);
        // The stack's sensitive output is in the state (terraform output -json, read independently) and nowhere the action writes.
        const secret = outputsOf(s).db_password?.value as string;
        expect(secret).toBe('hunter2-v1-s3cr3t');
        expect(r.outputs.outputs ?? '').not.toContain(secret);
        expect(r.summary).not.toContain(secret);
        expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(secret);
        return outcome(r, [...plan.requests, ...requests], c);
      },
    },
    {
      name: 'apply with a hash nobody approved (plan-changed)',
      labels: ['input:github-token', ...ENV_LABELS],
      expect: { code: 1, reason: 'plan-changed' },
      async run(c) {
        const s = stack();
        const env = `canary-changed-${++n}`;
        const plan = await tf(s, { mode: 'plan', environment: env }, { env: canaryEnv(c) });
        expect(plan.r.code).toBe(0);
        const { r, requests } = await tf(
          s,
          { mode: 'apply', environment: env, 'plan-sha256': 'f'.repeat(64), 'github-token': c['input:github-token'] as string },
          { env: canaryEnv(c) },
        );
        return outcome(r, requests, c);
      },
    },
    {
      name: 'the PR comment is refused (403): a warning, plan still published',
      labels: ['input:github-token', ...ENV_LABELS],
      expect: { code: 0 },
      async run(c) {
        const s = stack();
        const home = job(s);
        gh.intercept = (req, res) => {
          if (!req.path.includes('/issues/') || !req.path.endsWith('/comments')) return false;
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'Resource not accessible by integration' }));
          return true;
        };
        try {
          const { r, requests } = await tf(
            s,
            { mode: 'plan', environment: `canary-403-${++n}`, 'github-token': c['input:github-token'] as string },
            { home, env: { ...prEvent(home, 90 + n), ...canaryEnv(c) } },
          );
          return outcome(r, requests, c);
        } finally {
          gh.intercept = undefined;
        }
      },
    },
  ],

  injection: [
    {
      name: 'payload as the GitHub API error message on the PR comment',
      kind: 'workflow',
      async run(p) {
        const s = stack();
        const home = job(s);
        const intercept: GitHubServices['intercept'] = (req, res) => {
          if (!req.path.includes('/issues/') || !req.path.endsWith('/comments')) return false;
          res.writeHead(422, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: p.payload, errors: [{ message: p.payload }] }));
          return true;
        };
        return ownServices(intercept, async (svc) => ({
          result: (await tf(s, { mode: 'plan', environment: `inj-${++n}` }, { home, env: prEvent(home, 100 + n), gh: svc })).r,
        }));
      },
    },
    {
      name: 'payload as the artifact service error',
      kind: 'workflow',
      async run(p) {
        const intercept: GitHubServices['intercept'] = (req, res) => {
          if (!req.path.includes('CreateArtifact')) return false;
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'invalid_argument', msg: p.payload }));
          return true;
        };
        return ownServices(intercept, async (svc) => ({
          result: (await tf(stack(), { mode: 'plan', environment: `inj-art-${++n}` }, { gh: svc })).r,
        }));
      },
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('upload-failed'),
    },
    {
      name: 'a comment by someone else that starts with our marker is not taken over (PR comments are untrusted)',
      kind: 'workflow',
      async run(p) {
        const s = stack();
        const home = job(s);
        const env = `takeover-${++n}`;
        return ownServices(undefined, async (svc) => {
          const issue = 300 + n;
          // Anyone can comment on a public PR: this one forges the marker before the first plan.
          const forged = svc.addComment(issue, `<!-- hallmark:terraform-gated-apply environment=${env} -->\n${p.payload}`, 'mallory');
          const { r } = await tf(s, { mode: 'plan', environment: env }, { home, env: prEvent(home, issue), gh: svc });
          return {
            result: r,
            blobs: [
              {
                name: 'forged',
                data: JSON.stringify({
                  before: `<!-- hallmark:terraform-gated-apply environment=${env} -->\n${p.payload}`,
                  after: svc.comments.find((c) => c.id === forged.id)?.body,
                  ours: svc.comments.filter((c) => c.issue === issue && c.user.login !== 'mallory').length,
                }),
              },
            ],
          };
        });
      },
      check: (o) => {
        const f = JSON.parse(String(o.blobs?.[0]?.data)) as { before: string; after: string; ours: number };
        expect(o.result.code, o.result.stdout).toBe(0);
        expect(f.after, "mallory's comment was overwritten with the plan (it stays hers: she can edit what reviewers read)").toBe(f.before);
        expect(f.ours, 'the plan comment was posted by the action itself').toBe(1);
      },
    },
    {
      name: 'payload in the environment and artifact-name inputs',
      kind: 'workflow',
      run: async (p) => ({ result: (await tf(stack(), { mode: 'plan', environment: `e${p.tag}`, 'artifact-name': p.payload })).r }),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('invalid-input'),
    },
    {
      name: 'shell payload in backend-config reaches terraform init as one -backend-config argument',
      kind: 'shell',
      async run(p) {
        // The local backend has no `key`: init refuses it, after logging the argv it was given.
        const { r, home } = await tf(stack(), { mode: 'plan', environment: `sh-${++n}`, 'backend-config': `key=${p.payload}` });
        return { result: r, calls: calls(home) };
      },
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        const init = (o.calls ?? []).find((c) => c.argv[0] === 'init');
        expect(init?.argv, o.result.stdout).toContain(`-backend-config=key=${p.payload}`);
      },
    },
    {
      name: 'shell payload as a var-file name reaches terraform plan as one -var-file argument',
      kind: 'shell',
      async run(p) {
        const s = stack();
        const home = job(s);
        const name = p.payload.replace(/\//g, '_');
        writeFileSync(join(home.workspace, 'infra', name), 'release = "v1"\nregion = "eu-west-1"\n');
        const { r } = await tf(s, { mode: 'plan', environment: `sh-${++n}`, 'var-files': name }, { home });
        return { result: r, calls: calls(home), blobs: [{ name: 'var-file', data: name }] };
      },
      check: (o) => {
        const name = String(o.blobs?.[0]?.data);
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        const plan = (o.calls ?? []).find((c) => c.argv[0] === 'plan');
        expect(plan?.argv, o.result.stdout).toContain(`-var-file=${name}`);
      },
    },
  ],

  faults: [
    {
      name: 'artifact service failing (5xx on every call): upload-failed, no plan hash published',
      async run() {
        const s = stack();
        gh.intercept = (req, res) => {
          if (!req.path.startsWith('/twirp/')) return false;
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'unavailable', msg: 'artifact service down' }));
          return true;
        };
        try {
          const { r, requests } = await tf(s, { mode: 'plan', environment: `fault-art-${++n}` });
          expect(r.timedOut).toBe(false);
          expect(r.code).toBe(1);
          expect(r.outputs['failure-reason']).toBe('upload-failed');
          expect(r.outputs['plan-sha256'] ?? '').toBe('');
          // Bounded: the client retries, but not forever.
          expect(requests.filter((q) => q.path.startsWith('/twirp/')).length).toBeLessThanOrEqual(10);
        } finally {
          gh.intercept = undefined;
        }
      },
    },
    {
      name: 'apply when the plan artifact is gone: artifact-missing, terraform apply never runs',
      async run() {
        const { r, home } = await tf(stack(), { mode: 'apply', environment: `fault-missing-${++n}`, 'plan-sha256': 'a'.repeat(64) });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('artifact-missing');
        expect(cliCalls(home)).toEqual([]);
      },
    },
    {
      name: 'PR comment under a secondary rate limit (403 + retry-after): bounded, the plan still publishes',
      async run() {
        const s = stack();
        const home = job(s);
        let hits = 0;
        gh.intercept = (req, res) => {
          if (!req.path.includes('/issues/')) return false;
          hits++;
          res.writeHead(403, { 'content-type': 'application/json', 'retry-after': '1', 'x-ratelimit-remaining': '0' });
          res.end(JSON.stringify({ message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }));
          return true;
        };
        try {
          const { r } = await tf(s, { mode: 'plan', environment: `fault-rl-${++n}` }, { home, env: prEvent(home, 120 + n) });
          expect(r.timedOut).toBe(false);
          expect(r.code, r.stdout).toBe(0);
          expect(r.outputs['plan-sha256']).toMatch(/^[0-9a-f]{64}$/);
          expect(r.warnings.some((w) => /comment/i.test(w))).toBe(true);
          expect(hits).toBeGreaterThan(0);
          expect(hits).toBeLessThanOrEqual(6);
        } finally {
          gh.intercept = undefined;
        }
      },
    },
    {
      name: 'the state is locked by another run (a real terraform apply at its prompt): state-locked, nothing applied',
      async run() {
        const s = stack();
        const env = `fault-lock-${++n}`;
        const p = await tf(s, { mode: 'plan', environment: env });
        expect(p.r.code).toBe(0);
        const holder = await holdLock(s);
        try {
          const { r } = await tf(s, { mode: 'apply', environment: env, 'plan-sha256': p.r.outputs['plan-sha256'] as string });
          expect(r.timedOut).toBe(false);
          expect(r.outputs['failure-reason']).toBe('state-locked');
          expect(r.outputs.applied).toBe('false');
        } finally {
          await holder.release();
        }
      },
    },
  ],
};

export default hardening;
