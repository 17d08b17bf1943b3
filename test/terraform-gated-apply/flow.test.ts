/**
 * The plan and apply flows with fake tools and a fake artifact store (no runner, no bundle): how
 * terraform's exit codes and messages map to failure reasons, and what is (not) run after each.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyFlow, planFlow, runStep, sha256, type Deps, type ToolResult } from '../../actions/terraform-gated-apply/src/flow.js';
import { checkInputs, type Config } from '../../actions/terraform-gated-apply/src/inputs.js';

const PLAN_JSON = JSON.stringify({
  format_version: '1.2',
  planned_values: {},
  resource_changes: [
    {
      address: 'null_resource.a',
      mode: 'managed',
      change: { actions: ['create'], before: null, after: { x: 'hunter2-secret' }, after_sensitive: { x: true }, after_unknown: {} },
    },
  ],
});

type Script = Record<string, (args: string[]) => ToolResult>;

function fakes(script: Script) {
  const temp = mkdtempSync(join(tmpdir(), 'hallmark-tf-flow-'));
  const wd = join(temp, 'wd');
  mkdirSync(wd);
  const store = new Map<string, Map<string, Buffer>>();
  const calls: string[][] = [];
  const log: string[] = [];
  const masked: string[] = [];
  const deps: Deps = {
    exec: async (_tool, args) => {
      calls.push(args);
      const f = script[args[0] as string];
      return f ? f(args) : { exitCode: 0, stdout: '', stderr: '' };
    },
    printUntrusted: (t) => log.push(t),
    info: (m) => log.push(m),
    warn: (m) => log.push(`WARN ${m}`),
    mask: (v) => masked.push(v),
    upload: async (name, files) => {
      store.set(name, new Map(files.map((f) => [f.split('/').pop() as string, readFileSync(f)])));
      return { id: 1, size: 1 };
    },
    download: async (name, dir) => {
      const a = store.get(name);
      if (!a) return false;
      for (const [f, b] of a) writeFileSync(join(dir, f), b);
      return true;
    },
    tempDir: temp,
  };
  return { deps, calls, log, masked, store, wd };
}

const planScript: Script = {
  plan: (args) => {
    writeFileSync(args.find((a) => a.startsWith('-out='))!.slice(5), `binary plan ${Math.random()}`);
    return { exitCode: 2, stdout: 'Plan: 1 to add, 0 to change, 0 to destroy.', stderr: '' };
  },
  show: () => ({ exitCode: 0, stdout: PLAN_JSON, stderr: '' }),
};
const cfg = (wd: string) => ({
  workingDir: wd,
  varFiles: [],
  backendConfig: ['password=s3cr3t-value'],
  environment: 'production',
  allowDestroy: false,
  artifactName: 'tfplan-production',
  lockTimeoutMs: 90_000,
  terraform: 'terraform',
});

describe('plan flow', () => {
  it('hashes the uploaded plan, masks sensitive values before printing, and hides backend-config values', async () => {
    const f = fakes(planScript);
    const r = await planFlow(cfg(f.wd), f.deps);
    expect(r.failure).toBeUndefined();
    expect(r.planSha256).toBe(sha256(f.store.get('tfplan-production')!.get('tfplan')!));
    expect([...f.store.get('tfplan-production')!.keys()].sort()).toEqual(['tfplan', 'tfplan.json']);
    expect(f.masked).toContain('hunter2-secret');
    const init = f.calls.find((c) => c[0] === 'init')!;
    expect(init).toContain('-backend-config=password=s3cr3t-value');
    expect(init).toContain('-lock-timeout=90s');
    expect(f.log.join('\n')).not.toContain('s3cr3t-value');
    // No lock file after init: the configuration needs no registry provider (terraform_data only), not a mistake to warn about.
    expect(f.log.join('\n')).toContain('no .terraform.lock.hcl after terraform init');
    expect(f.log.join('\n')).not.toContain('WARN');
  });

  it('a lock file that init wrote (not in the checkout) travels with the plan, with a warning', async () => {
    const f = fakes({
      ...planScript,
      init: () => (
        writeFileSync(join(f.wd, '.terraform.lock.hcl'), 'provider "registry.terraform.io/hashicorp/random" {}\n'),
        { exitCode: 0, stdout: '', stderr: '' }
      ),
    });
    const r = await planFlow(cfg(f.wd), f.deps);
    expect(r.failure).toBeUndefined();
    expect(f.store.get('tfplan-production')!.get('.terraform.lock.hcl')!.toString()).toContain('hashicorp/random');
    expect(f.log.some((l) => l.startsWith('WARN .terraform.lock.hcl is not in the checkout'))).toBe(true);
  });

  it('names the CLI from `terraform version`: OpenTofu writes terraform_version in its plan JSON too', async () => {
    const tofu = fakes({ ...planScript, version: () => ({ exitCode: 0, stdout: 'OpenTofu v1.12.6\non linux_amd64\n', stderr: '' }) });
    const t = await planFlow(cfg(tofu.wd), tofu.deps);
    expect([t.summary?.tool, t.summary?.terraformVersion]).toEqual(['opentofu', '1.12.6']);
    const tf = fakes({ ...planScript, version: () => ({ exitCode: 0, stdout: 'Terraform v1.11.4\non linux_amd64\n', stderr: '' }) });
    const r = await planFlow(cfg(tf.wd), tf.deps);
    expect([r.summary?.tool, r.summary?.terraformVersion]).toEqual(['terraform', '1.11.4']);
    expect(tf.calls.map((c) => c[0])).toEqual(['version', 'init', 'plan', 'show']);
  });

  it('maps plan failures: lock → state-locked, other errors → plan-failed, missing terraform → init-failed; nothing uploaded', async () => {
    const locked = fakes({ ...planScript, plan: () => ({ exitCode: 1, stdout: '', stderr: '│ Error: Error acquiring the state lock\n' }) });
    expect((await planFlow(cfg(locked.wd), locked.deps)).failure?.reason).toBe('state-locked');
    const broken = fakes({ ...planScript, plan: () => ({ exitCode: 1, stdout: '', stderr: 'Error: Unsupported argument' }) });
    const b = await planFlow(cfg(broken.wd), broken.deps);
    expect(b.failure?.reason).toBe('plan-failed');
    expect(broken.calls.map((c) => c[0])).toEqual(['version', 'init', 'plan']);
    const missing = fakes({ init: () => ({ exitCode: 127, stdout: '', stderr: 'Unable to locate executable file: terraform' }) });
    const m = await planFlow(cfg(missing.wd), missing.deps);
    expect(m.failure).toMatchObject({ reason: 'init-failed' });
    expect(m.failure?.message).toMatch(/setup-tools/);
    for (const f of [locked, broken, missing]) expect(f.store.size).toBe(0);
  });

  it('a show that prints something other than a plan is bad-plan', async () => {
    const f = fakes({ ...planScript, show: () => ({ exitCode: 0, stdout: '{"format_version":"1.0","values":{}}', stderr: '' }) });
    expect((await planFlow(cfg(f.wd), f.deps)).failure?.reason).toBe('bad-plan');
    expect(f.store.size).toBe(0);
  });

  it('an upload failure is upload-failed and outputs no hash', async () => {
    const f = fakes(planScript);
    f.deps.upload = async () => {
      throw new Error('Failed to CreateArtifact: (409) Conflict');
    };
    const r = await planFlow(cfg(f.wd), f.deps);
    expect(r.failure?.reason).toBe('upload-failed');
    expect(r.planSha256).toBe('');
  });
});

describe('apply flow', () => {
  async function planned() {
    const f = fakes(planScript);
    writeFileSync(join(f.wd, '.terraform.lock.hcl'), 'provider "x" {}\n');
    const p = await planFlow(cfg(f.wd), f.deps);
    f.calls.length = 0;
    return { f, sha: p.planSha256 };
  }
  const acfg = (wd: string, sha: string) => ({
    workingDir: wd,
    backendConfig: [],
    environment: 'production',
    planSha256: sha,
    artifactName: 'tfplan-production',
    lockTimeoutMs: 1000,
    terraform: 'terraform',
  });

  it('applies the downloaded file whose hash was approved, then reads outputs', async () => {
    const { f, sha } = await planned();
    f.deps.exec = async (_t, args) => {
      f.calls.push(args);
      if (args[0] === 'output')
        return {
          exitCode: 0,
          stdout: JSON.stringify({
            url: { sensitive: false, type: 'string', value: 'https://app' },
            pw: { sensitive: true, type: 'string', value: 'out-secret-pw' },
          }),
          stderr: '',
        };
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    writeFileSync(join(f.wd, '.terraform.lock.hcl'), 'provider "x" { changed }\n');
    const r = await applyFlow(acfg(f.wd, sha), f.deps);
    expect(r.failure).toBeUndefined();
    expect(r.applied).toBe(true);
    expect(f.calls.map((c) => c[0])).toEqual(['init', 'apply', 'output']);
    expect(sha256(readFileSync(f.calls[1]!.at(-1)!))).toBe(sha);
    expect(r.outputs).toEqual({ url: 'https://app' });
    expect(f.masked).toContain('out-secret-pw');
    // The lock file the plan was made with is restored.
    expect(readFileSync(join(f.wd, '.terraform.lock.hcl'), 'utf8')).toBe('provider "x" {}\n');
  });

  it('a different hash is plan-changed before terraform runs; a missing artifact is artifact-missing', async () => {
    const { f, sha } = await planned();
    const r = await applyFlow(
      acfg(
        f.wd,
        sha.replace(/^./, (c) => (c === '0' ? '1' : '0')),
      ),
      f.deps,
    );
    expect(r.failure?.reason).toBe('plan-changed');
    expect(r.actualSha256).toBe(sha);
    expect(f.calls).toEqual([]);
    const none = await applyFlow({ ...acfg(f.wd, sha), artifactName: 'tfplan-elsewhere' }, f.deps);
    expect(none.failure?.reason).toBe('artifact-missing');
    expect(f.calls).toEqual([]);
  });

  it("maps terraform's refusals: stale plan → plan-stale, lock → state-locked, anything else → apply-failed", async () => {
    for (const [stderr, reason] of [
      ['╷\n│ Error: Saved plan is stale\n│ \n│ The given plan file can no longer be applied because the state was changed\n', 'plan-stale'],
      ['╷\n│ Error: Error acquiring the state lock\n', 'state-locked'],
      // backend/local/backend_local.go: a plan made against another state lineage.
      ['╷\n│ Error: Saved plan does not match the given state\n', 'plan-stale'],
      ['╷\n│ Error: Inconsistent dependency lock file\n', 'apply-failed'],
      // internal/plans/planfile/tfplan.go (hashicorp/terraform v1.11.4; OpenTofu v1.12.6 says "OpenTofu or Terraform").
      // What OpenTofu 1.12.6 printed (-no-color, no terminal: wrapped at 78 columns) for a plan made by Terraform 1.11.4.
      [
        '\nError: Failed to read plan from plan file\n\nCannot read the plan from the given plan file: plan file was created by\nOpenTofu or Terraform 1.11.4, but this is 1.12.6; plan files cannot be\ntransferred between different versions of OpenTofu / Terraform.\n',
        'apply-failed',
      ],
      ['╷\n│ Error: creating S3 Bucket: AccessDenied\n', 'apply-failed'],
    ] as const) {
      const { f, sha } = await planned();
      f.deps.exec = async (_t, args) => (
        f.calls.push(args), args[0] === 'apply' ? { exitCode: 1, stdout: '', stderr } : { exitCode: 0, stdout: '', stderr: '' }
      );
      const r = await applyFlow(acfg(f.wd, sha), f.deps);
      expect(r.failure?.reason).toBe(reason);
      if (stderr.includes('cannot be\ntransferred')) expect(r.failure?.message).toMatch(/another Terraform\/OpenTofu version/);
      expect(r.applied).toBe(false);
      expect(f.calls.map((c) => c[0])).toEqual(['init', 'apply']);
    }
  });
});

describe('the whole step (runStep)', () => {
  const stepCfg = (wd: string, o: Partial<Config> = {}): Config => ({
    ...checkInputs(
      {
        mode: 'plan',
        token: 't',
        environment: 'production',
        artifactName: 'tfplan-production',
        workingDir: wd,
        varFiles: [],
        backendConfig: [],
        planJson: '',
        planJsonShown: '',
        allowDestroy: false,
        comment: true,
        lockTimeoutMs: 60_000,
        planSha256: '',
      },
      { eventName: 'pull_request', isFile: () => false },
    ),
    ...o,
  });

  it('plan mode: counts under their -count names, the PR comment under its environment marker, the summary with the hash', async () => {
    const f = fakes(planScript);
    const comments: { marker: string; body: string }[] = [];
    const r = await runStep(stepCfg(f.wd), {
      ...f.deps,
      comment: async (marker, body) => (comments.push({ marker, body }), { action: 'created', id: 7 }),
      commit: 'abc',
      eventName: 'pull_request',
    });
    const digest = sha256(f.store.get('tfplan-production')!.get('tfplan')!);
    expect(r.failure).toBeUndefined();
    expect(r.outputs).toEqual({
      'has-changes': true,
      'add-count': 1,
      'change-count': 0,
      'destroy-count': 0,
      'replace-count': 0,
      'plan-sha256': digest,
      'artifact-name': 'tfplan-production',
    });
    // The audit record gets the hash as its subject and the counts as facts (never a value from the plan).
    expect([r.planSha256, r.facts]).toEqual([
      digest,
      { 'has-changes': true, 'add-count': 1, 'change-count': 0, 'destroy-count': 0, 'replace-count': 0, uploaded: true },
    ]);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(comments[0]!.marker)).toBe(true);
    expect(comments[0]!.marker).toContain('environment=production');
    expect(r.summary).toContain(digest);
    expect(f.log).toContain('PR comment created (id 7)');
  });

  it('a PR comment that cannot be posted is a warning, not a failure; a failed plan posts none and outputs no hash', async () => {
    const f = fakes(planScript);
    const r = await runStep(stepCfg(f.wd), {
      ...f.deps,
      comment: async () => Promise.reject(new Error('HTTP 403\nforbidden')),
      commit: 'abc',
      eventName: 'pull_request',
    });
    expect(r.failure).toBeUndefined();
    expect(f.log.find((l) => l.startsWith('WARN'))).toMatch(/could not post the PR comment .*: HTTP 403 ⏎ forbidden$/);
    const g = fakes({ ...planScript, plan: () => ({ exitCode: 1, stdout: '', stderr: 'Error: boom' }) });
    let posted = 0;
    const bad = await runStep(stepCfg(g.wd), {
      ...g.deps,
      comment: async () => (posted++, { action: 'created' }),
      commit: 'abc',
      eventName: 'pull_request',
    });
    expect([bad.failure?.reason, bad.outputs, posted]).toEqual(['plan-failed', { 'plan-sha256': '', 'artifact-name': '' }, 0]);
    expect(bad.summary).toContain('❌ **`plan-failed`**');
  });
});

describe('inputs', () => {
  // Paths come resolved and checked by the kit's input.path (test/kit); these are the action's own rules.
  const raw = {
    mode: 'plan' as const,
    token: '',
    environment: 'production',
    artifactName: 'tfplan-production',
    workingDir: '/ws/infra',
    varFiles: [],
    backendConfig: [],
    planJson: '',
    planJsonShown: '',
    allowDestroy: false,
    comment: true,
    lockTimeoutMs: 60_000,
    planSha256: '',
  };
  const env = (files: string[], eventName = 'push') => ({ eventName, isFile: (p: string) => files.includes(p) });

  it('backend-config: key=value items pass; other items must be files relative to working-directory, never echoed', () => {
    expect(
      checkInputs({ ...raw, backendConfig: ['key=v', 'backend.hcl', '/etc/b.hcl'] }, env(['/ws/infra/backend.hcl', '/etc/b.hcl']))
        .backendConfig,
    ).toEqual(['key=v', 'backend.hcl', '/etc/b.hcl']);
    // A backend-config file that is missing is named by position, never echoed (it may be a credential).
    expect(() => checkInputs({ ...raw, backendConfig: ['key=v', 's3cr3t-token'] }, env([]))).toThrow(
      /^input 'backend-config' item 2 must be key=value or an existing file[\s\S]*value not shown/,
    );
    expect(() => checkInputs({ ...raw, backendConfig: ['s3cr3t-token'] }, env([]))).not.toThrow(/s3cr3t/);
  });

  it('apply needs the approved hash (normalised); a PR comment needs a token; ignored inputs are warned about', () => {
    expect(() => checkInputs({ ...raw, mode: 'apply' }, env([]))).toThrow(/input 'plan-sha256' is required in apply mode/);
    expect(checkInputs({ ...raw, mode: 'apply', planSha256: `sha256:${'AB'.repeat(32)}` }, env([])).planSha256).toBe('ab'.repeat(32));
    expect(() => checkInputs(raw, env([], 'pull_request'))).toThrow(/input 'github-token' is required to comment/);
    expect(checkInputs({ ...raw, comment: false }, env([], 'pull_request')).wantComment).toBe(false);
    expect([checkInputs(raw, env([])).wantComment, checkInputs(raw, env([])).noCommentEvent]).toEqual([false, true]);
    expect(checkInputs({ ...raw, planSha256: 'a'.repeat(64) }, env([])).warnings).toEqual([
      'plan-sha256 is used in apply mode only; ignored',
    ]);
  });
});
