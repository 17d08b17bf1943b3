/**
 * terraform-gated-apply bundle tests with the REAL terraform (test/harness/tools.ts: the terraform
 * on PATH, or OpenTofu built as `terraform` with HALLMARK_TOOLS_TERRAFORM=tofu): dist/terraform-
 * gated-apply/index.js run as the runner runs it, the real @actions/artifact and @actions/github
 * clients against the loopback GitHub services, and the plan job and the apply job as two separate
 * runner homes (own HOME, TF_DATA_DIR, RUNNER_TEMP) sharing only the artifact service and the
 * state file of the `local` backend, as two jobs of one run share a remote backend. Offline: the
 * configuration uses only `terraform_data` (built into the CLI), so init downloads nothing.
 *
 * What terraform did is read independently: its own log of each command's argv (stack.ts),
 * `terraform show -json` / `terraform output -json` run by the test, and the state file.
 *
 * Terraform's refusals asserted here are its own diagnostics, read at the tags we run:
 * "Saved plan is stale" in internal/backend/local/backend_local.go and "Error acquiring the state
 * lock" in internal/command/clistate/state.go (hashicorp/terraform v1.11.4; the same files and
 * wording in opentofu/opentofu v1.12.6).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { describeFixtures, fixtureFiles, hasFixtures } from '../harness/fixtures.js';
import { ROOT, runAction, runtimes, visibleLog, type ActionResult, type RunnerHome, type Runtime } from '../harness/runner.js';
import { realTools } from '../harness/tools.js';
import { EXPECTED } from './expected.js';
import {
  applyOutside,
  cliCalls,
  countsOf,
  holdLock,
  inputsInState,
  job,
  outputsOf,
  planOutside,
  stack,
  stateOf,
  tfEnv,
  type Stack,
} from './stack.js';

const ACTION = 'terraform-gated-apply';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'ghs_loopbackTokenForTests123';

let gh: GitHubServices;
beforeAll(async () => {
  gh = await startGitHubServices();
});
afterAll(async () => {
  await gh?.close();
});

/** What the plan summary must name: the CLI that really ran and its version. */
function cliFacts(): { tool: string; version: string } {
  const v = realTools().terraform.version;
  return v.startsWith('opentofu-') ? { tool: 'opentofu', version: v.slice('opentofu-'.length) } : { tool: 'terraform', version: v };
}

function tf(
  home: RunnerHome,
  inputs: Record<string, string>,
  opts: { runtime?: Runtime; env?: Record<string, string | undefined> } = {},
): Promise<ActionResult> {
  return runAction(ACTION, {
    runtime: opts.runtime,
    home,
    inputs: { 'working-directory': 'infra', 'github-token': TOKEN, ...inputs },
    env: { ...gh.env, ...tfEnv(home), ...opts.env },
    timeoutMs: 60_000,
  });
}

/** The files of an uploaded artifact (a zip), unpacked with unzip(1). */
function unpack(zip: Buffer): string {
  const d = mkdtempSync(join(tmpdir(), 'hallmark-tf-artifact-'));
  writeFileSync(join(d, 'artifact.zip'), zip);
  execFileSync('unzip', ['-q', '-o', join(d, 'artifact.zip'), '-d', join(d, 'files')]);
  return join(d, 'files');
}
function repack(dir: string): Buffer {
  const out = join(dir, '..', `repacked-${Math.random().toString(36).slice(2)}.zip`);
  execFileSync('zip', ['-q', '-X', '-r', out, '.'], { cwd: dir });
  return readFileSync(out);
}

const sub = (calls: string[][]) => calls.map((c) => c[0]);
const flat = (t: string) => t.replace(/\s+/g, ' ');

describe.each(runtimes())('plan → artifact → approved apply in a fresh home, real terraform ($name)', (rt) => {
  it.concurrent('plans with the real CLI, uploads the binary plan, and a fresh home applies exactly that plan', async () => {
    const s = stack();
    const env = `prod-${rt.name}`;
    const planHome = job(s, { backendInConfig: false });
    const backend = `path=${s.state}`;
    const plan = await tf(
      planHome,
      { mode: 'plan', environment: env, 'var-files': 'prod.tfvars', 'backend-config': backend },
      { runtime: rt },
    );
    expect(plan.code, visibleLog(plan)).toBe(0);
    expect(plan.outputs).toMatchObject({
      'has-changes': 'true',
      'add-count': '2',
      'change-count': '0',
      'destroy-count': '0',
      'replace-count': '0',
      'artifact-name': `tfplan-${env}`,
    });
    const digest = plan.outputs['plan-sha256'] as string;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);

    // What terraform itself logged it was asked to do.
    const calls = cliCalls(planHome);
    expect(sub(calls)).toEqual(['version', 'init', 'plan', 'show']);
    const [, init, planArgs] = calls as [string[], string[], string[]];
    expect(init).toEqual(expect.arrayContaining(['-input=false', '-lock-timeout=300s', `-backend-config=${backend}`]));
    expect(planArgs).toEqual(expect.arrayContaining(['-input=false', '-detailed-exitcode', '-var-file=prod.tfvars', '-lock-timeout=300s']));
    const planFile = planArgs.find((a) => a.startsWith('-out='))!.slice('-out='.length);
    expect(planFile.startsWith(planHome.temp)).toBe(true);
    // The hash is of the plan file terraform wrote, and of the bytes in the artifact.
    expect(sha(readFileSync(planFile))).toBe(digest);
    expect(gh.artifacts.get(`tfplan-${env}`)?.finalized).toBe(true);
    const files = unpack(gh.artifactBytes(`tfplan-${env}`)!);
    expect(sha(readFileSync(join(files, 'tfplan')))).toBe(digest);
    // terraform_data is built in: init writes no lock file, and none is uploaded.
    expect(existsSync(join(files, '.terraform.lock.hcl'))).toBe(false);
    expect(plan.warnings).toEqual([]);

    // The counts approvers read are the ones `terraform show -json` gives, counted here by hand.
    const independent = countsOf(planFile, planHome.root);
    expect(independent).toEqual({
      add: 2,
      change: 0,
      destroy: 0,
      replace: 0,
      addresses: ['terraform_data.region', 'terraform_data.release'],
    });
    // …and the count outputs (line above) are these independent counts, under their `-count` names only.
    expect(plan.outputs.add).toBeUndefined();
    expect(plan.summary).toContain(`**${independent.add} to add, ${independent.change} to change, ${independent.destroy} to destroy**`);
    for (const a of independent.addresses) expect(plan.summary).toContain(`\`${a}\``);
    expect(plan.summary).toContain(`\`${digest}\``);
    const cli = cliFacts();
    expect(plan.summary).toContain(`${cli.tool} ${cli.version}, plan format 1.2`);
    // The backend-config value is not echoed; but terraform records the backend configuration in
    // the saved plan (plans.Backend, read back by BackendForLocalPlan in internal/command/meta_backend.go),
    // so it is in the artifact: the README says to pass secrets by environment variables.
    expect(visibleLog(plan)).not.toContain(s.state);
    expect(execFileSync('unzip', ['-p', join(files, 'tfplan'), 'tfplan']).includes(Buffer.from(s.state))).toBe(true);
    expect(stateOf(s)).toBeUndefined();

    // The apply job: a fresh runner home (no TF_DATA_DIR, no plan file of its own) and the approved hash.
    const applyHome = job(s, { backendInConfig: false });
    expect(existsSync(join(applyHome.root, 'tf-data'))).toBe(false);
    const apply = await tf(
      applyHome,
      { mode: 'apply', environment: env, 'plan-sha256': `sha256:${digest.toUpperCase()}`, 'backend-config': backend },
      { runtime: rt },
    );
    expect(apply.code, visibleLog(apply)).toBe(0);
    expect(apply.outputs.applied).toBe('true');
    expect(apply.outputs['failure-reason']).toBeUndefined();
    const acalls = cliCalls(applyHome);
    expect(sub(acalls)).toEqual(['init', 'apply', 'output']);
    const applied = acalls[1]!.at(-1)!;
    expect(applied.startsWith(applyHome.temp)).toBe(true);
    expect(sha(readFileSync(applied))).toBe(digest);
    // Each job's audit record (issue 16): the reviewed plan's hash and the environment as the subject, the counts as
    // facts; the apply record names the same hash and says it applied. Nothing from the plan's values.
    const record = (home: { temp: string }) =>
      JSON.parse(readFileSync(join(home.temp, 'hallmark-audit.jsonl'), 'utf8')) as {
        verdict: string;
        subject: Record<string, string>;
        facts: Record<string, unknown>;
      };
    const planned = record(planHome);
    expect([planned.verdict, planned.subject]).toEqual(['passed', { environment: env, planSha256: digest }]);
    expect(planned.facts).toMatchObject({ mode: 'plan', 'has-changes': true, 'add-count': 2, 'destroy-count': 0, uploaded: true });
    const appliedRecord = record(applyHome);
    expect([appliedRecord.verdict, appliedRecord.subject, appliedRecord.facts.applied, appliedRecord.facts.mode]).toEqual([
      'passed',
      { environment: env, planSha256: digest },
      true,
      'apply',
    ]);
    expect(acalls[1]).toEqual(expect.arrayContaining(['-input=false', '-lock-timeout=300s']));
    expect(acalls[1]!.some((a) => a === '-auto-approve' || a.startsWith('-var'))).toBe(false);
    expect(apply.summary).toContain('✅ matches');

    // The state really changed: read the state file and `terraform output -json` independently.
    expect(inputsInState(s)).toEqual({ release: 'v1', region: 'eu-west-1' });
    const outs = outputsOf(s);
    expect(outs.release).toMatchObject({ value: 'v1', sensitive: false });
    expect(outs.db_password).toMatchObject({ value: 'hunter2-v1-s3cr3t', sensitive: true });
    // The action's outputs: the plain output; the sensitive one omitted, named, masked.
    expect(JSON.parse(apply.outputs.outputs!)).toEqual({ release: 'v1' });
    expect(apply.summary).toContain('`db_password`');
    expect(apply.stdout).toContain('::add-mask::hunter2-v1-s3cr3t');
    for (const r of [plan, apply]) {
      expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain('hunter2-v1-s3cr3t');
      expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(TOKEN);
    }
  });

  it.concurrent('plan-stale: another apply moved the state after the review; terraform refuses the saved plan', async () => {
    const s = stack();
    applyOutside(s, 'v1');
    const env = `stale-${rt.name}`;
    const plan = await tf(job(s, { release: 'v2' }), { mode: 'plan', environment: env, 'var-files': 'prod.tfvars' }, { runtime: rt });
    expect(plan.code, visibleLog(plan)).toBe(0);
    expect(plan.outputs).toMatchObject({ 'add-count': '0', 'change-count': '1', 'destroy-count': '0' });
    // Someone else's run applies v3 between the review and the apply.
    const serial = stateOf(s)!.serial;
    applyOutside(s, 'v3');
    expect(stateOf(s)!.serial).toBeGreaterThan(serial);
    const applyHome = job(s);
    const stale = await tf(applyHome, { mode: 'apply', environment: env, 'plan-sha256': plan.outputs['plan-sha256']! }, { runtime: rt });
    expect(stale.code).toBe(1);
    expect(stale.outputs['failure-reason']).toBe('plan-stale');
    expect(stale.outputs.applied).toBe('false');
    expect(stale.errors).toHaveLength(1);
    expect(stale.errors[0]).toContain('Saved plan is stale');
    // terraform's own diagnostic, printed as the log line the approver reads.
    expect(flat(visibleLog(stale))).toContain('Error: Saved plan is stale');
    expect(flat(visibleLog(stale))).toContain(
      'The given plan file can no longer be applied because the state was changed by another operation after the plan was created.',
    );
    expect(sub(cliCalls(applyHome))).toEqual(['init', 'apply']);
    expect(inputsInState(s).release).toBe('v3');
  });

  it.concurrent('plan-changed: artifact bytes changed after upload (one byte flipped, or another valid plan swapped in) are never applied', async () => {
    const s = stack();
    applyOutside(s, 'v1');
    const env = `tamper-${rt.name}`;
    const reviewed = await tf(job(s, { release: 'v2' }), { mode: 'plan', environment: env, 'var-files': 'prod.tfvars' }, { runtime: rt });
    expect(reviewed.code, visibleLog(reviewed)).toBe(0);
    const digest = reviewed.outputs['plan-sha256']!;
    const original = gh.artifactBytes(`tfplan-${env}`)!;
    // A real plan of something nobody reviewed, made against the same state (terraform would apply it).
    const evil = readFileSync(planOutside(s, 'v666-unreviewed'));
    const flipped = readFileSync(join(unpack(original), 'tfplan'));
    flipped[flipped.length >> 1] = (flipped[flipped.length >> 1] as number) ^ 0x01;
    for (const [what, bytes] of [
      ['one byte flipped', flipped],
      ['another plan', evil],
    ] as const) {
      const files = unpack(original);
      writeFileSync(join(files, 'tfplan'), bytes);
      gh.artifacts.get(`tfplan-${env}`)!.content = repack(files);
      const applyHome = job(s);
      const apply = await tf(applyHome, { mode: 'apply', environment: env, 'plan-sha256': digest }, { runtime: rt });
      expect(apply.code, what).toBe(1);
      expect(apply.outputs['failure-reason'], what).toBe('plan-changed');
      expect(apply.outputs.applied).toBe('false');
      expect(apply.errors).toHaveLength(1);
      expect(apply.errors[0]).toContain(sha(bytes));
      expect(apply.summary).toContain('❌ differs');
      // terraform never ran in the apply job, and the state is as it was.
      expect(cliCalls(applyHome)).toEqual([]);
      expect(inputsInState(s).release).toBe('v1');
    }
    // The untouched artifact still applies (the refusal was the bytes, nothing else).
    gh.artifacts.get(`tfplan-${env}`)!.content = original;
    const ok = await tf(job(s), { mode: 'apply', environment: env, 'plan-sha256': digest }, { runtime: rt });
    expect(ok.code, visibleLog(ok)).toBe(0);
    expect(inputsInState(s).release).toBe('v2');
  });
});

describe.each(runtimes())('gates and terraform refusals, real terraform ($name)', (rt) => {
  it.concurrent('a plan that destroys fails in plan mode without allow-destroy: no artifact, no hash; with it, the destroy applies', async () => {
    const s = stack();
    applyOutside(s, 'v1');
    const env = `destroy-${rt.name}`;
    const home = job(s, { withRegion: false });
    const r = await tf(home, { mode: 'plan', environment: env, 'var-files': 'prod.tfvars' }, { runtime: rt });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('destroy-not-allowed');
    expect(r.outputs).toMatchObject({
      'add-count': '0',
      'change-count': '0',
      'destroy-count': '1',
      'replace-count': '0',
      'plan-sha256': '',
      'artifact-name': '',
    });
    expect(gh.artifacts.has(`tfplan-${env}`)).toBe(false);
    expect(r.errors).toHaveLength(1);
    expect(r.summary).toContain('Refused: `destroy-not-allowed`');
    expect(r.summary).toContain('`terraform_data.region`');
    // The counts are terraform's own.
    const planFile = cliCalls(home)
      .find((c) => c[0] === 'plan')!
      .find((a) => a.startsWith('-out='))!
      .slice(5);
    expect(countsOf(planFile, home.root)).toEqual({ add: 0, change: 0, destroy: 1, replace: 0, addresses: ['terraform_data.region'] });

    const ok = await tf(
      job(s, { withRegion: false }),
      { mode: 'plan', environment: env, 'var-files': 'prod.tfvars', 'allow-destroy': 'true' },
      { runtime: rt },
    );
    expect(ok.code, visibleLog(ok)).toBe(0);
    expect(gh.artifacts.has(`tfplan-${env}`)).toBe(true);
    const apply = await tf(job(s), { mode: 'apply', environment: env, 'plan-sha256': ok.outputs['plan-sha256']! }, { runtime: rt });
    expect(apply.code, visibleLog(apply)).toBe(0);
    expect(inputsInState(s)).toEqual({ release: 'v1' });
  });

  it.concurrent('a state lock held by another run is state-locked; once it is released the same plan applies', async () => {
    const s = stack();
    const env = `lock-${rt.name}`;
    const p = await tf(job(s), { mode: 'plan', environment: env, 'var-files': 'prod.tfvars' }, { runtime: rt });
    expect(p.code, visibleLog(p)).toBe(0);
    const holder = await holdLock(s);
    let locked: ActionResult;
    try {
      locked = await tf(
        job(s),
        { mode: 'apply', environment: env, 'plan-sha256': p.outputs['plan-sha256']!, 'lock-timeout': '1s' },
        { runtime: rt },
      );
    } finally {
      await holder.release();
    }
    expect(locked.code).toBe(1);
    expect(locked.outputs['failure-reason']).toBe('state-locked');
    expect(locked.errors).toHaveLength(1);
    expect(visibleLog(locked)).toContain('Error acquiring the state lock');
    expect(stateOf(s)?.resources ?? []).toEqual([]);
    const again = await tf(job(s), { mode: 'apply', environment: env, 'plan-sha256': p.outputs['plan-sha256']! }, { runtime: rt });
    expect(again.code, visibleLog(again)).toBe(0);
    expect(inputsInState(s)).toEqual({ release: 'v1', region: 'eu-west-1' });
    // Planned again, nothing is left to do: -detailed-exitcode 0 and the JSON agree (no warning).
    const none = await tf(job(s), { mode: 'plan', environment: `${env}-again`, 'var-files': 'prod.tfvars' }, { runtime: rt });
    expect(none.code, visibleLog(none)).toBe(0);
    expect(none.outputs).toMatchObject({ 'has-changes': 'false', 'add-count': '0', 'change-count': '0', 'destroy-count': '0' });
    expect(none.warnings).toEqual([]);
    expect(none.summary).toContain('No changes.');
  });
});

describe('PR comment upsert over the loopback REST API', () => {
  it('creates one comment per environment, then updates it in place; other comments are untouched', async () => {
    const s = stack();
    const home = job(s);
    const event = join(home.root, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({
        action: 'synchronize',
        number: 41,
        pull_request: { number: 41, head: { sha: 'abc', ref: 'f' }, base: { ref: 'main' } },
        repository: { name: 'shop', owner: { login: 'octo-org' } },
      }),
    );
    const other = gh.addComment(41, 'LGTM, but see the plan', 'reviewer');
    const prEnv = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event };
    const first = await tf(home, { mode: 'plan', environment: 'production', 'var-files': 'prod.tfvars' }, { env: prEnv });
    expect(first.code, visibleLog(first)).toBe(0);
    const ours = () =>
      gh.comments.filter((c) => c.issue === 41 && c.body.includes('hallmark:terraform-gated-apply environment=production'));
    expect(ours()).toHaveLength(1);
    const id = ours()[0]!.id;
    expect(ours()[0]!.body).toContain(`\`${first.outputs['plan-sha256']}\``);
    expect(ours()[0]!.body).toContain('**2 to add, 0 to change, 0 to destroy**');

    // A new push drops a resource from the configuration: the same comment shows the new plan.
    const pushed = job(s, { withRegion: false });
    const second = await tf(pushed, { mode: 'plan', environment: 'production', 'var-files': 'prod.tfvars' }, { env: prEnv });
    expect(second.code, visibleLog(second)).toBe(0);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.id).toBe(id);
    expect(ours()[0]!.body).toContain('**1 to add, 0 to change, 0 to destroy**');
    expect(ours()[0]!.body).not.toContain(first.outputs['plan-sha256']);

    const staging = await tf(job(s), { mode: 'plan', environment: 'staging', 'var-files': 'prod.tfvars' }, { env: prEnv });
    expect(staging.code).toBe(0);
    expect(gh.comments.filter((c) => c.issue === 41)).toHaveLength(3);
    expect(gh.comments.find((c) => c.id === other.id)!.body).toBe('LGTM, but see the plan');
    const patches = gh.requests.filter((r) => r.method === 'PATCH');
    expect(patches.every((r) => r.path === `/repos/octo-org/shop/issues/comments/${id}`)).toBe(true);
    expect(patches.every((r) => r.headers.authorization === `token ${TOKEN}`)).toBe(true);
  });

  it("only the token's own comment is updated: a planted marker is ignored (GITHUB_TOKEN and a personal token)", async () => {
    const marker = (env: string) => `<!-- hallmark:terraform-gated-apply environment=${env} -->`;
    const s = stack();
    const home = job(s);
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 44, pull_request: { number: 44 } }));
    const planted = gh.addComment(44, `${marker('production')}\nplan approved, nothing to see`, 'mallory');
    const prEnv = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event };
    for (const h of [home, job(s, { withRegion: false })]) {
      const r = await tf(h, { mode: 'plan', environment: 'production', 'var-files': 'prod.tfvars' }, { env: prEnv });
      expect(r.code, visibleLog(r)).toBe(0);
    }
    expect(gh.comments.find((c) => c.id === planted.id)!.body).toBe(`${marker('production')}\nplan approved, nothing to see`);
    const bots = gh.comments.filter((c) => c.issue === 44 && c.user.login === 'github-actions[bot]');
    expect(bots).toHaveLength(1);
    expect(bots[0]!.body).toContain('**1 to add, 0 to change, 0 to destroy**');

    const pat = await startGitHubServices({ restUser: 'release-manager' });
    try {
      pat.addComment(45, `${marker('production')}\nold bot comment`, 'github-actions[bot]');
      const forged = pat.addComment(45, `${marker('production')}\nforged`, 'mallory');
      writeFileSync(event, JSON.stringify({ number: 45, pull_request: { number: 45 } }));
      for (let i = 0; i < 2; i++) {
        const h = job(stack());
        const r = await tf(h, { mode: 'plan', environment: 'production', 'var-files': 'prod.tfvars' }, { env: { ...pat.env, ...prEnv } });
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
    const home = job(stack());
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 43, pull_request: { number: 43 } }));
    gh.intercept = (req, res) => {
      if (!req.path.includes('/issues/43/comments')) return false;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Resource not accessible by integration' }));
      return true;
    };
    try {
      const r = await tf(
        home,
        { mode: 'plan', environment: 'fork-pr', 'var-files': 'prod.tfvars' },
        { env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } },
      );
      expect(r.code, visibleLog(r)).toBe(0);
      expect(r.outputs['plan-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(
        r.warnings.some((w) => w.includes('could not post the PR comment') && w.includes('Resource not accessible by integration')),
      ).toBe(true);
      expect(gh.comments.filter((c) => c.issue === 43)).toEqual([]);
    } finally {
      gh.intercept = undefined;
    }
  });

  it('no comment on push or with comment: false, and the REST API is not called', async () => {
    const s = stack();
    const before = gh.requests.filter((r) => r.path.startsWith('/repos/')).length;
    const push = await tf(job(s), { mode: 'plan', environment: 'nocomment', 'var-files': 'prod.tfvars' });
    expect(push.code, visibleLog(push)).toBe(0);
    const home = job(s);
    const event = join(home.root, 'event.json');
    writeFileSync(event, JSON.stringify({ number: 42, pull_request: { number: 42 } }));
    const off = await tf(
      home,
      { mode: 'plan', environment: 'nocomment-2', comment: 'false', 'var-files': 'prod.tfvars' },
      { env: { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: event } },
    );
    expect(off.code).toBe(0);
    expect(gh.requests.filter((r) => r.path.startsWith('/repos/')).length).toBe(before);
  });
});

describeFixtures('plan-json: every recorded plan through the bundle (terraform is not run)', () => {
  const files = hasFixtures ? fixtureFiles('terraform', '.json') : [];
  it.concurrent.for(files)('%s', async (f, { expect }) => {
    const e = EXPECTED[f]!;
    const home = job(stack());
    const requests = gh.requests.length;
    const r = await tf(home, {
      mode: 'plan',
      'plan-json': join(ROOT, '..', 'shared', 'fixtures', 'terraform', f),
      'allow-destroy': 'true',
    });
    expect(cliCalls(home)).toEqual([]);
    expect(existsSync(join(home.root, 'terraform.log'))).toBe(false);
    expect(gh.requests.length).toBe(requests);
    if (e.errored) {
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('plan-failed');
      expect(r.errors[0]).toContain('errored');
      return;
    }
    expect(r.code, visibleLog(r)).toBe(0);
    expect(r.outputs).toMatchObject({
      'has-changes': String(e.hasChanges),
      'add-count': String(e.add),
      'change-count': String(e.change),
      'destroy-count': String(e.destroy),
      'replace-count': String(e.replace),
      'plan-sha256': '',
    });
    expect(r.summary).toContain(`**${e.add} to add, ${e.change} to change, ${e.destroy} to destroy**`);
    if (f === 'tofu-show-json-sensitive-values.json') expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain('boop');
  });

  it.concurrent('malformed JSON and a non-plan JSON are bad-plan', async () => {
    const home = job(stack());
    writeFileSync(join(home.workspace, 'broken.json'), '{"format_version": "1.2", "resource_changes": [');
    writeFileSync(
      join(home.workspace, 'state.json'),
      JSON.stringify({ format_version: '1.0', terraform_version: '1.15.0', values: { root_module: {} } }),
    );
    writeFileSync(join(home.workspace, 'future.json'), JSON.stringify({ format_version: '2.0', resource_changes: [] }));
    for (const [file, words] of [
      ['broken.json', /not valid JSON/],
      ['state.json', /a state/],
      ['future.json', /format_version 2\.0/],
    ] as const) {
      const r = await tf(home, { mode: 'plan', 'plan-json': file });
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('bad-plan');
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]).toMatch(words);
      expect(r.summary).toContain('bad-plan');
    }
    expect(cliCalls(home)).toEqual([]);
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
    const s: Stack = stack();
    const home = job(s);
    const requests = gh.requests.length;
    const r = await tf(home, inputs);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`input '${name}'`);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    // terraform never started (it would have written its log), nothing was planned or uploaded.
    expect(existsSync(join(home.root, 'terraform.log'))).toBe(false);
    expect(stateOf(s)).toBeUndefined();
    expect(gh.requests.length).toBe(requests);
  });
});
