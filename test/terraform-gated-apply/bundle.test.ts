/**
 * Tests inside a block run side by side (each has its own Terraform stack, runner homes and
 * artifact names); blocks run one after another.
 *
 * terraform-gated-apply bundle tests: dist/terraform-gated-apply/index.js run as the runner runs it,
 * with the terraform stand-in (test/stand-ins/terraform: real flags, real recorded plans) on PATH,
 * the real @actions/artifact and @actions/github clients against the loopback GitHub services, and
 * the plan job and the apply job as two separate runner homes sharing only the artifact service and
 * the Terraform state (as two jobs of one run do).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { describeFixtures, fixtureFiles, hasFixtures } from '../harness/fixtures.js';
import { ROOT, runAction, runnerHome, runtimes, visibleLog, type ActionResult, type RunnerHome, type Runtime } from '../harness/runner.js';
import { EXPECTED } from './expected.js';

const ACTION = 'terraform-gated-apply';
const STAND_INS = join(ROOT, 'test', 'stand-ins');
// describeFixtures has no .each when the fixtures are absent: the skipped form is built here.
const describeWithFixtures = hasFixtures ? describe : describe.skip;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let gh: GitHubServices;
let lab: string;
beforeAll(async () => {
  gh = await startGitHubServices();
  lab = mkdtempSync(join(tmpdir(), 'hallmark-tf-lab-'));
});
afterAll(async () => {
  await gh?.close();
  rmSync(lab, { recursive: true, force: true });
});

interface Stack {
  state: string;
  log: string;
  lock: string;
  calls(): { cwd: string; argv: string[] }[];
}
let stacks = 0;
/** One Terraform root's shared facts: its state file and the stand-in's call log. */
function stack(): Stack {
  const d = join(lab, `stack-${++stacks}`);
  mkdirSync(d, { recursive: true });
  const log = join(d, 'calls.jsonl');
  writeFileSync(log, '');
  return {
    state: join(d, 'terraform.tfstate'),
    log,
    lock: join(d, 'lock'),
    calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { cwd: string; argv: string[] }),
  };
}

/** A checkout of the Terraform root in a fresh runner home (each job gets its own). */
function job(): RunnerHome {
  const home = runnerHome('hallmark-tf-');
  mkdirSync(join(home.workspace, 'infra'), { recursive: true });
  writeFileSync(join(home.workspace, 'infra', 'main.tf'), 'resource "null_resource" "example" {}\n');
  writeFileSync(join(home.workspace, 'infra', 'prod.tfvars'), 'region = "eu-west-1"\n');
  return home;
}

function tf(s: Stack, inputs: Record<string, string>, opts: { runtime?: Runtime; home?: RunnerHome; fixture?: string; env?: Record<string, string> } = {}): Promise<ActionResult> {
  return runAction(ACTION, {
    runtime: opts.runtime,
    home: opts.home ?? job(),
    inputs: { 'working-directory': 'infra', 'github-token': 'ghs_loopbackTokenForTests123', ...inputs },
    env: {
      ...gh.env,
      PATH: `${STAND_INS}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      TF_STANDIN_STATE: s.state,
      TF_STANDIN_LOG: s.log,
      TF_STANDIN_LOCK: s.lock,
      TF_STANDIN_FIXTURE: opts.fixture ?? 'tf-1.14.2-plan-module-create.json',
      ...opts.env,
    },
    timeoutMs: 45_000,
  });
}


describeWithFixtures.each(runtimes())('plan, approve by hash, apply ($name)', (rt) => {
  it.concurrent('plans with the real flags, uploads one artifact, and applies exactly that plan', async () => {
    const s = stack();
    const env = `prod-${rt.name}`;
    const plan = await tf(s, { mode: 'plan', environment: env, 'var-files': 'prod.tfvars', 'backend-config': 'bucket=tf-state\nkey=shop.tfstate' }, { runtime: rt });
    expect(plan.code, visibleLog(plan)).toBe(0);
    expect(plan.outputs).toMatchObject({ 'has-changes': 'true', add: '1', change: '0', destroy: '0', replace: '0', 'artifact-name': `tfplan-${env}` });
    const digest = plan.outputs['plan-sha256'] as string;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // The hash is of the plan file terraform wrote (read back from where -out put it).
    const planCall = s.calls().find((c) => c.argv[0] === 'plan')!;
    expect(planCall.argv).toEqual(expect.arrayContaining(['-input=false', '-detailed-exitcode', '-var-file=prod.tfvars', '-lock-timeout=300s']));
    const out = planCall.argv.find((a) => a.startsWith('-out='))!.slice(5);
    expect(out.startsWith(plan.home.temp)).toBe(true);
    expect(sha(readFileSync(out))).toBe(digest);
    const init = s.calls().find((c) => c.argv[0] === 'init')!;
    expect(init.argv).toEqual(expect.arrayContaining(['-input=false', '-backend-config=bucket=tf-state', '-backend-config=key=shop.tfstate']));
    expect(init.cwd).toBe(join(plan.home.workspace, 'infra'));
    // The backend-config values are not echoed in the log.
    expect(visibleLog(plan)).not.toContain('shop.tfstate');
    expect(gh.artifacts.get(`tfplan-${env}`)?.finalized).toBe(true);
    // What approvers read: counts, the resource, the hash.
    expect(plan.summary).toContain('**1 to add, 0 to change, 0 to destroy**');
    expect(plan.summary).toContain('`module.s3_bucket.aws_s3_bucket.main`');
    expect(plan.summary).toContain(`\`${digest}\``);

    const before = s.calls().length;
    const apply = await tf(s, { mode: 'apply', environment: env, 'plan-sha256': digest }, { runtime: rt });
    expect(apply.code, visibleLog(apply)).toBe(0);
    expect(apply.outputs.applied).toBe('true');
    expect(apply.outputs['failure-reason']).toBeUndefined();
    const calls = s.calls().slice(before);
    expect(calls.map((c) => c.argv[0])).toEqual(['init', 'apply', 'output']);
    const applied = calls[1]!.argv.at(-1)!;
    expect(applied.startsWith(apply.home.temp)).toBe(true);
    expect(sha(readFileSync(applied))).toBe(digest);
    expect(calls[1]!.argv).not.toContain('-auto-approve');
    expect(JSON.parse(readFileSync(s.state, 'utf8')).serial).toBe(1);
    expect(apply.summary).toContain('✅ matches');
    // The plan's lock file came along in the artifact and is in place for init.
    expect(existsSync(join(apply.home.workspace, 'infra', '.terraform.lock.hcl'))).toBe(true);
  });

  it.concurrent('a tampered artifact is refused with plan-changed and nothing is applied', async () => {
    const s = stack();
    const env = `tamper-${rt.name}`;
    const reviewed = await tf(s, { mode: 'plan', environment: env }, { runtime: rt });
    expect(reviewed.code, visibleLog(reviewed)).toBe(0);
    // Another plan lands in the artifact store under the reviewed name (a re-run, a race, a swap).
    const other = await tf(s, { mode: 'plan', environment: `${env}-other` }, { runtime: rt });
    gh.artifacts.get(`tfplan-${env}`)!.content = gh.artifactBytes(`tfplan-${env}-other`);
    expect(other.outputs['plan-sha256']).not.toBe(reviewed.outputs['plan-sha256']);
    const before = s.calls().length;
    const apply = await tf(s, { mode: 'apply', environment: env, 'plan-sha256': reviewed.outputs['plan-sha256']! }, { runtime: rt });
    expect(apply.code).toBe(1);
    expect(apply.outputs['failure-reason']).toBe('plan-changed');
    expect(apply.outputs.applied).toBe('false');
    expect(apply.errors).toHaveLength(1);
    expect(apply.errors[0]).toContain(other.outputs['plan-sha256']);
    expect(s.calls().slice(before)).toEqual([]);
    expect(existsSync(s.state)).toBe(false);
    expect(apply.summary).toContain('❌ differs');
  });
});

describeWithFixtures.each(runtimes())('gates and terraform refusals ($name)', (rt) => {
  it.concurrent('a plan that destroys (a replacement) fails in plan mode without allow-destroy: no artifact, no hash, report written', async () => {
    const s = stack();
    const env = `destroy-${rt.name}`;
    const r = await tf(s, { mode: 'plan', environment: env }, { runtime: rt, fixture: 'tf-1.15.0-plan-tainted-replace.json' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('destroy-not-allowed');
    expect(r.outputs).toMatchObject({ destroy: '1', replace: '1', add: '1', 'plan-sha256': '', 'artifact-name': '' });
    expect(gh.artifacts.has(`tfplan-${env}`)).toBe(false);
    expect(r.errors).toHaveLength(1);
    expect(r.summary).toContain('Refused: `destroy-not-allowed`');
    expect(r.summary).toContain('`null_resource.example`');
    const ok = await tf(s, { mode: 'plan', environment: env, 'allow-destroy': 'true' }, { runtime: rt, fixture: 'tf-1.15.0-plan-tainted-replace.json' });
    expect(ok.code, visibleLog(ok)).toBe(0);
    expect(gh.artifacts.has(`tfplan-${env}`)).toBe(true);
  });

  it.concurrent("terraform's stale-plan refusal is plan-stale; a held lock is state-locked", async () => {
    const s = stack();
    const env = `stale-${rt.name}`;
    const p = await tf(s, { mode: 'plan', environment: env }, { runtime: rt });
    expect(p.code, visibleLog(p)).toBe(0);
    // Someone applied something else after the review: the state moved on.
    writeFileSync(s.state, JSON.stringify({ version: 4, serial: 7, lineage: 'standin-empty-state', outputs: {} }));
    const stale = await tf(s, { mode: 'apply', environment: env, 'plan-sha256': p.outputs['plan-sha256']! }, { runtime: rt });
    expect(stale.code).toBe(1);
    expect(stale.outputs['failure-reason']).toBe('plan-stale');
    expect(stale.outputs.applied).toBe('false');
    expect(JSON.parse(readFileSync(s.state, 'utf8')).serial).toBe(7);

    const s2 = stack();
    const p2 = await tf(s2, { mode: 'plan', environment: `${env}-lock` }, { runtime: rt });
    writeFileSync(s2.lock, 'runner@other-job');
    const locked = await tf(s2, { mode: 'apply', environment: `${env}-lock`, 'plan-sha256': p2.outputs['plan-sha256']!, 'lock-timeout': '0s' }, { runtime: rt });
    expect(locked.outputs['failure-reason']).toBe('state-locked');
    expect(locked.errors).toHaveLength(1);
    expect(existsSync(s2.state)).toBe(false);
  });
});

describe('PR comment upsert over the loopback REST API', () => {
  it('creates one comment per environment, then updates it in place; other comments are untouched', async () => {
    const s = stack();
    const home = job();
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ action: 'synchronize', number: 41, pull_request: { number: 41, head: { sha: 'abc', ref: 'f' }, base: { ref: 'main' } }, repository: { name: 'shop', owner: { login: 'octo-org' } } }));
    const other = gh.addComment(41, 'LGTM, but see the plan', 'reviewer');
    const prEnv = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event };
    const first = await tf(s, { mode: 'plan', environment: 'production' }, { home, env: prEnv });
    expect(first.code, visibleLog(first)).toBe(0);
    const ours = () => gh.comments.filter((c) => c.issue === 41 && c.body.includes('hallmark:terraform-gated-apply environment=production'));
    expect(ours()).toHaveLength(1);
    const id = ours()[0]!.id;
    expect(ours()[0]!.body).toContain(`\`${first.outputs['plan-sha256']}\``);

    const second = await tf(s, { mode: 'plan', environment: 'production' }, { home, env: prEnv, fixture: 'tofu-show-json-basic-create.json' });
    expect(second.code, visibleLog(second)).toBe(0);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.id).toBe(id);
    expect(ours()[0]!.body).toContain('**3 to add, 0 to change, 0 to destroy**');
    expect(ours()[0]!.body).not.toContain(first.outputs['plan-sha256']);

    const staging = await tf(s, { mode: 'plan', environment: 'staging' }, { home, env: prEnv });
    expect(staging.code).toBe(0);
    expect(gh.comments.filter((c) => c.issue === 41)).toHaveLength(3);
    expect(gh.comments.find((c) => c.id === other.id)!.body).toBe('LGTM, but see the plan');
    const patches = gh.requests.filter((r) => r.method === 'PATCH');
    expect(patches.every((r) => r.path === `/repos/octo-org/shop/issues/comments/${id}`)).toBe(true);
    expect(patches.every((r) => r.headers.authorization === 'token ghs_loopbackTokenForTests123')).toBe(true);
  });

  it('only the token\'s own comment is updated: a planted marker is ignored (GITHUB_TOKEN and a personal token)', async () => {
    const marker = (env: string) => `<!-- hallmark:terraform-gated-apply environment=${env} -->`;
    // GITHUB_TOKEN: someone plants the marker before the bot's first comment.
    const s = stack();
    const home = job();
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 44, pull_request: { number: 44 } }));
    const planted = gh.addComment(44, `${marker('production')}\nplan approved, nothing to see`, 'mallory');
    const prEnv = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event };
    for (const fixture of ['tf-1.14.2-plan-module-create.json', 'tofu-show-json-basic-create.json']) {
      const r = await tf(s, { mode: 'plan', environment: 'production' }, { home, env: prEnv, fixture });
      expect(r.code, visibleLog(r)).toBe(0);
    }
    expect(gh.comments.find((c) => c.id === planted.id)!.body).toBe(`${marker('production')}\nplan approved, nothing to see`);
    const bots = gh.comments.filter((c) => c.issue === 44 && c.user.login === 'github-actions[bot]');
    expect(bots).toHaveLength(1);
    expect(bots[0]!.body).toContain('**3 to add, 0 to change, 0 to destroy**');

    // A personal access token: its user's comment is found again, not the bot's nor mallory's.
    const pat = await startGitHubServices({ restUser: 'release-manager' });
    try {
      pat.addComment(45, `${marker('production')}\nold bot comment`, 'github-actions[bot]');
      const forged = pat.addComment(45, `${marker('production')}\nforged`, 'mallory');
      writeFileSync(event, JSON.stringify({ number: 45, pull_request: { number: 45 } }));
      for (let i = 0; i < 2; i++) {
        const r = await tf(stack(), { mode: 'plan', environment: 'production' }, { home: job(), env: { ...pat.env, ...prEnv } });
        expect(r.code, visibleLog(r)).toBe(0);
      }
      const mine = pat.comments.filter((c) => c.issue === 45 && c.user.login === 'release-manager');
      expect(mine).toHaveLength(1);
      expect(pat.comments.find((c) => c.id === forged.id)!.body).toBe(`${marker('production')}\nforged`);
      expect(pat.comments.filter((c) => c.issue === 45)).toHaveLength(3);
    } finally {
      await pat.close();
    }
  });

  it('a comment the API refuses (fork token, 403) is a warning; the plan is still published', async () => {
    const s = stack();
    const home = job();
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 43, pull_request: { number: 43 } }));
    gh.intercept = (req, res) => {
      if (!req.path.includes('/issues/43/comments')) return false;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Resource not accessible by integration' }));
      return true;
    };
    try {
      const r = await tf(s, { mode: 'plan', environment: 'fork-pr' }, { home, env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } });
      expect(r.code, visibleLog(r)).toBe(0);
      expect(r.outputs['plan-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(r.warnings.some((w) => w.includes('could not post the PR comment') && w.includes('Resource not accessible by integration'))).toBe(true);
      expect(gh.comments.filter((c) => c.issue === 43)).toEqual([]);
    } finally {
      gh.intercept = undefined;
    }
  });

  it('no comment on push or with comment: false, and the REST API is not called', async () => {
    const s = stack();
    const before = gh.requests.filter((r) => r.path.startsWith('/repos/')).length;
    const push = await tf(s, { mode: 'plan', environment: 'nocomment' });
    expect(push.code).toBe(0);
    const home = job();
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 42, pull_request: { number: 42 } }));
    const off = await tf(s, { mode: 'plan', environment: 'nocomment-2', comment: 'false' }, { home, env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } });
    expect(off.code).toBe(0);
    expect(gh.requests.filter((r) => r.path.startsWith('/repos/')).length).toBe(before);
  });
});

describeFixtures('plan-json: every recorded plan through the bundle', () => {
  const files = hasFixtures ? fixtureFiles('terraform', '.json') : [];
  it.concurrent.for(files)('%s', async (f, { expect }) => {
    const e = EXPECTED[f]!;
    const home = job();
    const requests = gh.requests.length;
    const s = stack();
    const r = await tf(s, { mode: 'plan', 'plan-json': join(ROOT, '..', 'shared', 'fixtures', 'terraform', f), 'allow-destroy': 'true' }, { home });
    expect(s.calls()).toEqual([]);
    expect(gh.requests.length).toBe(requests);
    if (e.errored) {
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('plan-failed');
      expect(r.errors[0]).toContain('errored');
      return;
    }
    expect(r.code, visibleLog(r)).toBe(0);
    expect(r.outputs).toMatchObject({ 'has-changes': String(e.hasChanges), add: String(e.add), change: String(e.change), destroy: String(e.destroy), replace: String(e.replace), 'plan-sha256': '' });
    expect(r.summary).toContain(`**${e.add} to add, ${e.change} to change, ${e.destroy} to destroy**`);
    if (f === 'tofu-show-json-sensitive-values.json') expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain('boop');
  });

  it.concurrent('malformed JSON and a non-plan JSON are bad-plan', async () => {
    const home = job();
    writeFileSync(join(home.workspace, 'broken.json'), '{"format_version": "1.2", "resource_changes": [');
    writeFileSync(join(home.workspace, 'state.json'), JSON.stringify({ format_version: '1.0', terraform_version: '1.15.0', values: { root_module: {} } }));
    writeFileSync(join(home.workspace, 'future.json'), JSON.stringify({ format_version: '2.0', resource_changes: [] }));
    for (const [file, words] of [['broken.json', /not valid JSON/], ['state.json', /a state/], ['future.json', /format_version 2\.0/]] as const) {
      const r = await tf(stack(), { mode: 'plan', 'plan-json': file }, { home });
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('bad-plan');
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(words);
      expect(r.summary).toContain('bad-plan');
    }
  });
});

describeFixtures('sensitive values through plan and apply', () => {
  it('never appear in logs, outputs or summaries; sensitive terraform outputs are omitted and masked', async () => {
    const s = stack();
    const p = await tf(s, { mode: 'plan', environment: 'secret-env' }, { fixture: 'tofu-show-json-sensitive-values.json' });
    expect(p.code, visibleLog(p)).toBe(0);
    const a = await tf(s, { mode: 'apply', environment: 'secret-env', 'plan-sha256': p.outputs['plan-sha256']! }, { fixture: 'tofu-show-json-sensitive-values.json' });
    expect(a.code, visibleLog(a)).toBe(0);
    // The stand-in recorded the sensitive output "test" = "boop" in state, as terraform would.
    expect(readFileSync(s.state, 'utf8')).toContain('boop');
    expect(JSON.parse(a.outputs.outputs!)).toEqual({});
    expect(a.summary).toContain('`test`');
    for (const r of [p, a]) {
      expect(r.everything.replace(/::add-mask::boop/g, '')).not.toContain('boop');
      expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain('ghs_loopbackTokenForTests123');
    }
    expect(a.stdout).toContain('::add-mask::boop');
  });
});

describe('bad inputs fail before any side effect', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['unknown mode', { mode: 'destroy' }, 'mode'],
    ['apply without plan-sha256', { mode: 'apply' }, 'plan-sha256'],
    ['a plan-sha256 that is not 64 hex', { mode: 'apply', 'plan-sha256': 'abc123' }, 'plan-sha256'],
    ['missing working directory', { mode: 'plan', 'working-directory': 'no/such/dir' }, 'working-directory'],
  ];
  it.concurrent.each(cases)('%s', async (_n, inputs, name) => {
    const s = stack();
    const requests = gh.requests.length;
    const r = await tf(s, inputs);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`input '${name}'`);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect(s.calls()).toEqual([]);
    expect(gh.requests.length).toBe(requests);
  });
});
