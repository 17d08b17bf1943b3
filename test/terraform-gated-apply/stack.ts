/**
 * Real Terraform (or OpenTofu exposed as `terraform`) stacks for the bundle and hardening tests,
 * offline: the configurations use only what is built into the CLI (`terraform_data`, variables,
 * outputs, the `local` backend), so `init` downloads nothing. Each stack is one state file shared
 * by the jobs that plan and apply it (as a remote backend is shared by the jobs of a run); each job
 * is a fresh runner home with its own HOME, TF_DATA_DIR and TF_LOG_PATH.
 *
 * What a job's terraform saw is read from terraform's own log: with TF_LOG=info it writes
 * `[INFO]  CLI command args: []string{…}` (Go's %#v) for every command, appended to TF_LOG_PATH
 * (hashicorp/terraform v1.11.4 main.go and internal/logging/logging.go; opentofu/opentofu v1.12.6
 * cmd/tofu/main.go). Nothing here imitates terraform.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runnerHome, type RunnerHome } from '../harness/runner.js';
import { pathWith, toolPath } from '../harness/tools.js';

export interface Stack {
  dir: string;
  /** The local backend's state file, shared by every job of this stack. */
  state: string;
}

let lab: string | undefined;
let n = 0;
export function stack(): Stack {
  lab ??= mkdtempSync(join(tmpdir(), 'hallmark-tf-lab-'));
  const dir = join(lab, `stack-${++n}`);
  mkdirSync(dir, { recursive: true });
  return { dir, state: join(dir, 'terraform.tfstate') };
}

/**
 * The root module: two `terraform_data` resources, a sensitive output. `region` is dropped with
 * `withRegion: false` (a plan that destroys it). The backend path is in the configuration unless
 * `backendFromConfig: false` (then the job passes `-backend-config=path=…`).
 */
export function mainTf(s: Stack, o: { withRegion?: boolean; backendInConfig?: boolean } = {}): string {
  const backend = o.backendInConfig === false ? 'backend "local" {}' : `backend "local" {\n    path = ${JSON.stringify(s.state)}\n  }`;
  return `terraform {
  ${backend}
}

variable "release" {
  type = string
}

variable "region" {
  type    = string
  default = "eu-west-1"
}

resource "terraform_data" "release" {
  input = var.release
}
${
  o.withRegion === false
    ? ''
    : `
resource "terraform_data" "region" {
  input = var.region
}
`
}
output "release" {
  value = terraform_data.release.output
}

output "db_password" {
  value     = "hunter2-\${var.release}-s3cr3t"
  sensitive = true
}
`;
}

/** A checkout of the stack in a fresh runner home: infra/main.tf and infra/prod.tfvars. */
export function job(s: Stack, o: { release?: string; withRegion?: boolean; backendInConfig?: boolean; prefix?: string } = {}): RunnerHome {
  const home = runnerHome(o.prefix ?? 'hallmark-tf-');
  const infra = join(home.workspace, 'infra');
  mkdirSync(infra, { recursive: true });
  writeFileSync(join(infra, 'main.tf'), mainTf(s, o));
  writeFileSync(join(infra, 'prod.tfvars'), `release = ${JSON.stringify(o.release ?? 'v1')}\n`);
  return home;
}

/** The environment a job's terraform runs in: the real CLI first on PATH, its data dir and log in the job's home. */
export function tfEnv(home: RunnerHome): Record<string, string | undefined> {
  return {
    PATH: pathWith(['terraform']),
    TF_DATA_DIR: join(home.root, 'tf-data'),
    TF_LOG: 'info',
    TF_LOG_PATH: join(home.root, 'terraform.log'),
    // This machine's own CLI configuration is no part of a job.
    TF_CLI_CONFIG_FILE: undefined,
  };
}

/** Go's strconv.Quote text (what %#v prints for a string) back to the string. */
export function goUnquote(q: string): string {
  const bytes: number[] = [];
  const push = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 };
  for (let i = 1; i < q.length - 1; i++) {
    const c = q[i] as string;
    if (c !== '\\') {
      const cp = q.codePointAt(i) as number;
      const ch = String.fromCodePoint(cp);
      push(ch);
      i += ch.length - 1;
      continue;
    }
    const e = q[++i] as string;
    if (e in simple) bytes.push(simple[e] as number);
    else if (e === 'x') {
      bytes.push(parseInt(q.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      push(String.fromCodePoint(parseInt(q.slice(i + 1, i + 1 + len), 16)));
      i += len;
    } else if (/[0-7]/.test(e)) {
      bytes.push(parseInt(q.slice(i, i + 3), 8));
      i += 2;
    } else throw new Error(`goUnquote: unknown escape \\${e} in ${q}`);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Every terraform command a job ran, as argv (subcommand first), from terraform's own log. */
export function cliCalls(home: RunnerHome): string[][] {
  const log = join(home.root, 'terraform.log');
  if (!existsSync(log)) return [];
  const calls: string[][] = [];
  for (const m of readFileSync(log, 'utf8').matchAll(/\[INFO\]\s+CLI command args: \[\]string\{(.*)\}$/gm)) {
    calls.push([...(m[1] as string).matchAll(/"(?:[^"\\]|\\.)*"/g)].map((q) => goUnquote(q[0])));
  }
  return calls;
}

/** Runs the real CLI outside the action (to read what it did independently), in `cwd` with its own data dir. */
export function terraform(
  args: string[],
  cwd: string,
  dataDir = join(cwd, '.tf-independent'),
): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(toolPath('terraform'), args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: cwd, TF_DATA_DIR: dataDir, TF_IN_AUTOMATION: 'true', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An independent checkout of the stack, initialised: for reading outputs and planning/applying around the action. */
export function checkout(s: Stack, o: { release?: string; withRegion?: boolean } = {}): string {
  const d = mkdtempSync(join(s.dir, 'checkout-'));
  writeFileSync(join(d, 'main.tf'), mainTf(s, o));
  writeFileSync(join(d, 'prod.tfvars'), `release = ${JSON.stringify(o.release ?? 'v1')}\n`);
  const r = terraform(['init', '-input=false', '-no-color'], d);
  if (r.code !== 0) throw new Error(`terraform init failed: ${r.stderr}`);
  return d;
}

/** `terraform output -json` of the stack, read in an independent checkout. */
export function outputsOf(s: Stack): Record<string, { value: unknown; sensitive: boolean }> {
  const r = terraform(['output', '-json', '-no-color'], checkout(s));
  if (r.code !== 0) throw new Error(`terraform output failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, { value: unknown; sensitive: boolean }>;
}

/** The state file as terraform wrote it (undefined before the first apply). */
export function stateOf(s: Stack):
  | {
      serial: number;
      lineage: string;
      resources: { type: string; name: string; instances: { attributes: Record<string, unknown> }[] }[];
      outputs: Record<string, { value: unknown }>;
    }
  | undefined {
  return existsSync(s.state) ? JSON.parse(readFileSync(s.state, 'utf8')) : undefined;
}

/** The `input` of each terraform_data resource in the state: { release: 'v1', region: 'eu-west-1' }. */
export function inputsInState(s: Stack): Record<string, unknown> {
  const st = stateOf(s);
  // terraform_data's `input` is a dynamic value: the state holds it as { value, type }.
  const unwrap = (v: unknown) => (v && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v);
  return Object.fromEntries((st?.resources ?? []).map((r) => [r.name, unwrap(r.instances[0]?.attributes.input)]));
}

/** Applies a release to the stack outside the action (someone else's run), with real terraform. */
export function applyOutside(s: Stack, release: string): void {
  const d = checkout(s, { release });
  const r = terraform(['apply', '-input=false', '-no-color', '-auto-approve', '-var-file=prod.tfvars'], d);
  if (r.code !== 0) throw new Error(`terraform apply failed: ${r.stdout}${r.stderr}`);
}

/** A plan of `release` made outside the action, against the stack's current state: the plan file's path. */
export function planOutside(s: Stack, release: string): string {
  const d = checkout(s, { release });
  const out = join(d, 'other.tfplan');
  const r = terraform(['plan', '-input=false', '-no-color', '-var-file=prod.tfvars', `-out=${out}`], d);
  if (r.code !== 0) throw new Error(`terraform plan failed: ${r.stdout}${r.stderr}`);
  return out;
}

/**
 * Another run holding the state lock: an interactive `terraform apply` waiting at its approval
 * prompt holds the lock until its stdin closes (then it answers "error asking for approval: EOF"
 * and unlocks). Resolves once the lock info file is there.
 */
export async function holdLock(s: Stack): Promise<{ release(): Promise<void> }> {
  const d = checkout(s, { release: 'held' });
  const child: ChildProcessWithoutNullStreams = spawn(toolPath('terraform'), ['apply', '-no-color', '-var-file=prod.tfvars'], {
    cwd: d,
    env: { PATH: process.env.PATH, HOME: d, TF_DATA_DIR: join(d, '.tf-independent'), CHECKPOINT_DISABLE: '1' },
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((res) => child.on('close', () => res()));
  const info = join(s.dir, '.terraform.tfstate.lock.info');
  for (let i = 0; i < 200 && !(existsSync(info) && out.includes('Enter a value')); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(info)) {
    child.kill();
    throw new Error(`the lock holder did not take the lock: ${out}`);
  }
  return {
    async release() {
      child.stdin.end();
      await exited;
    },
  };
}

/** Counts of a plan file, by `terraform show -json` run independently and counted here by hand. */
export function countsOf(
  planFile: string,
  cwd: string,
): { add: number; change: number; destroy: number; replace: number; addresses: string[] } {
  const r = terraform(['show', '-json', '-no-color', planFile], cwd);
  if (r.code !== 0) throw new Error(`terraform show failed: ${r.stderr}`);
  const plan = JSON.parse(r.stdout) as { resource_changes?: { address: string; mode: string; change: { actions: string[] } }[] };
  const c = { add: 0, change: 0, destroy: 0, replace: 0, addresses: [] as string[] };
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== 'managed') continue;
    const a = rc.change.actions.join('+');
    if (a === 'no-op') continue;
    c.addresses.push(rc.address);
    if (a === 'create') c.add++;
    else if (a === 'update') c.change++;
    else if (a === 'delete') c.destroy++;
    else if (a === 'delete+create' || a === 'create+delete') c.add++, c.destroy++, c.replace++;
  }
  return c;
}
