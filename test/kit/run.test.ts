/**
 * run(), the audit hook and exec's environment, end to end: test/kit/fixtures/probe-action.ts is
 * bundled with esbuild (the options scripts/build.mjs uses, `@hallmark/kit/runner` resolved through
 * the package's exports) and run as the runner runs an action: INPUT_* variables, GITHUB_OUTPUT,
 * GITHUB_STEP_SUMMARY, RUNNER_TEMP. The assertions read what the runner would read: workflow
 * commands on stdout, the output and summary files, the audit file.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileCommands, parseWorkflowCommands, ROOT, runtimes } from '../harness/runner.js';

const CANARY = 'probe-canary-7f3a9c1e55d04b2a';
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kit-run-'));
  await build({
    entryPoints: { index: join(ROOT, 'test/kit/fixtures/probe-action.ts') },
    outdir: join(dir, 'dist'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'error',
    absWorkingDir: ROOT,
    mainFields: ['module', 'main'],
    conditions: ['import', 'node'],
    banner: { js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);' },
    define: { __HALLMARK_VERSION__: JSON.stringify(VERSION) },
  });
  writeFileSync(join(dir, 'dist', 'package.json'), '{"type":"module"}\n');
  bundle = join(dir, 'dist', 'index.js');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Probe {
  code: number;
  stdout: string;
  errors: string[];
  warnings: string[];
  outputs: Record<string, string>;
  summary: string;
  audit: Record<string, unknown>[];
  auditText: string;
  workspace: string;
}

let n = 0;
function probe(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  opts: { temp?: string | null; setup?: (workspace: string) => void; node?: string } = {},
): Probe {
  const root = join(dir, `run-${++n}`);
  const workspace = join(root, 'workspace');
  const temp = join(root, 'temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(temp, { recursive: true });
  opts.setup?.(workspace);
  const files = { output: join(root, 'output'), summary: join(root, 'summary') };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const childEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_WORKSPACE: workspace,
    GITHUB_REPOSITORY: 'octo-org/app',
    GITHUB_WORKFLOW_REF: 'octo-org/app/.github/workflows/ci.yml@refs/heads/main',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_JOB: 'scan',
    GITHUB_ACTOR: 'octocat',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_SHA: 'c0ffee'.padEnd(40, '0'),
    GITHUB_REF: 'refs/heads/main',
    ...(opts.temp === null ? {} : { RUNNER_TEMP: opts.temp ?? temp }),
    ...env,
  };
  for (const [k, v] of Object.entries(inputs)) childEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  let code = 0;
  let stdout = '';
  try {
    stdout = execFileSync(opts.node ?? process.execPath, [bundle], {
      env: childEnv,
      cwd: workspace,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { status: number; stdout: string };
    code = err.status;
    stdout = err.stdout;
  }
  const cmds = parseWorkflowCommands(stdout);
  const auditFile = join(opts.temp ?? temp, 'hallmark-audit.jsonl');
  const auditText = existsSync(auditFile) && statSync(auditFile).isFile() ? readFileSync(auditFile, 'utf8') : '';
  return {
    code,
    stdout,
    errors: cmds.filter((c) => c.command === 'error').map((c) => c.value),
    warnings: cmds.filter((c) => c.command === 'warning').map((c) => c.value),
    outputs: parseFileCommands(readFileSync(files.output, 'utf8')),
    summary: readFileSync(files.summary, 'utf8'),
    audit: auditText
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>),
    auditText,
    workspace,
  };
}

describe('run(): a failure', () => {
  it('a UserError: one ::error:: line, failure-reason, exit 1, and the ❌ section in the step summary (escaped, redacted)', () => {
    const r = probe({ mode: 'user-error', token: CANARY });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual(['probe-action: the gate refused it <b>(token ***)</b>']);
    expect(r.outputs['failure-reason']).toBe('gate-failed');
    expect(r.summary).toBe(
      '### probe-action: registry.example/team/app\n\n❌ **failed**: `gate-failed` — the gate refused it &lt;b&gt;\\(token \\*\\*\\*\\)&lt;/b&gt;\n\n',
    );
    expect(r.stdout).not.toMatch(/at .*probe-action|TypeError/);
  });

  it('an unexpected error: internal-error, the stack in the log (inert), the summary says so', () => {
    const r = probe({ mode: 'crash', token: CANARY });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual(['probe-action: unexpected error: boom with ***']);
    expect(r.outputs['failure-reason']).toBe('internal-error');
    expect(r.summary).toContain('❌ **failed**: `internal-error` — unexpected error: boom with \\*\\*\\* \\(see the log\\)');
    expect(r.stdout).toContain('TypeError: boom with ***');
  });

  it('a bad input fails before main does anything: invalid-input, named in the ::error:: line and the summary', () => {
    const r = probe({ mode: 'nonsense', token: CANARY });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual([`probe-action: input 'mode' must be one of pass, user-error, crash, fail, env, path, post (got "nonsense")`]);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.summary).toMatch(/^### probe-action\n\n❌ \*\*failed\*\*: `invalid-input` — input 'mode' must be one of/);
  });

  it('a success writes no failure section', () => {
    const r = probe({ mode: 'pass', token: CANARY });
    expect(r.code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.summary).toBe('');
    expect(r.outputs).toEqual({ ok: 'true' });
  });
});

describe('run(): the audit record', () => {
  it('on success: one record, verdict passed, subject and facts as declared, the run from GITHUB_*, the bundle version', () => {
    const r = probe({ mode: 'pass', token: CANARY });
    expect(r.audit).toHaveLength(1);
    const rec = r.audit[0] as Record<string, unknown>;
    expect(rec).toMatchObject({
      action: 'probe-action',
      version: VERSION,
      verdict: 'passed',
      seq: 1,
      prev: '0'.repeat(64),
      subject: { image: 'registry.example/team/app', digest: `sha256:${'a'.repeat(64)}` },
      run: {
        repository: 'octo-org/app',
        workflowRef: 'octo-org/app/.github/workflows/ci.yml@refs/heads/main',
        runId: '4242',
        runAttempt: '2',
        job: 'scan',
        actor: 'octocat',
        event: 'push',
        sha: 'c0ffee'.padEnd(40, '0'),
        ref: 'refs/heads/main',
      },
    });
    expect(rec).not.toHaveProperty('failureReason');
    // `leaked` held the secret: left out, with a warning that names the fact only. `skipped` was undefined.
    expect(rec.facts).toEqual({ severity: 'HIGH', 'critical-count': 2, cache: true });
    expect(r.warnings).toEqual(["probe-action: audit: fact 'leaked' left out of the audit record: its value holds a secret"]);
    expect(r.auditText).not.toContain(CANARY);
    expect(Date.parse(rec.time as string)).not.toBeNaN();
  });

  it('on a thrown failure: verdict failed with the failure reason; the secret is nowhere in the record', () => {
    const r = probe({ mode: 'user-error', token: CANARY });
    expect(r.audit).toHaveLength(1);
    expect(r.audit[0]).toMatchObject({ verdict: 'failed', failureReason: 'gate-failed' });
    expect(r.auditText).not.toContain(CANARY);
  });

  it('on fail() (a gate that still writes outputs): verdict failed with its reason', () => {
    const r = probe({ mode: 'fail', token: CANARY });
    expect(r.code).toBe(1);
    expect(r.outputs).toEqual({ report: 'written', 'failure-reason': 'threshold-exceeded' });
    expect(r.audit.map((a) => [a.verdict, a.failureReason])).toEqual([['failed', 'threshold-exceeded']]);
  });

  it('a second action in the same job chains onto the first record', () => {
    const temp = mkdtempSync(join(dir, 'shared-temp-'));
    probe({ mode: 'pass', token: CANARY }, {}, { temp });
    const r = probe({ mode: 'crash', token: CANARY }, {}, { temp });
    expect(r.audit.map((a) => [a.seq, a.verdict, a.failureReason])).toEqual([
      [1, 'passed', undefined],
      [2, 'failed', 'internal-error'],
    ]);
    const firstLine = r.auditText.split('\n')[0] as string;
    expect(r.audit[1]?.prev).toBe(createHash('sha256').update(firstLine).digest('hex'));
  });

  it('audit.off() (a post step) writes no record; no RUNNER_TEMP, no record and no crash', () => {
    expect(probe({ mode: 'post' }).audit).toEqual([]);
    const r = probe({ mode: 'pass', token: CANARY }, {}, { temp: null });
    expect(r.code).toBe(0);
    expect(r.warnings.filter((w) => !w.includes("fact 'leaked'"))).toEqual([]);
  });

  it('an audit file that cannot be written is a ::warning::, never a failure', () => {
    const temp = mkdtempSync(join(dir, 'bad-temp-'));
    mkdirSync(join(temp, 'hallmark-audit.jsonl')); // a directory where the file should be
    const r = probe({ mode: 'pass', token: CANARY }, {}, { temp });
    expect(r.code).toBe(0);
    expect(r.outputs).toEqual({ ok: 'true' });
    expect(r.warnings.some((w) => w.startsWith('probe-action: could not write the audit record: '))).toBe(true);
  });
});

describe('exec in an action: the child environment', () => {
  it('has no INPUT_* and no inherited variable holding a secret; an explicitly passed secret does reach it', () => {
    const r = probe({ mode: 'env', token: CANARY, other: 'plain' }, { PROBE_INHERITED: `user:${CANARY}`, PROBE_PLAIN: 'harmless' });
    expect(r.code).toBe(0);
    const child = JSON.parse(r.outputs.child as string) as { names: string[]; explicit: string };
    expect(child.names.filter((k) => k.startsWith('INPUT_'))).toEqual([]);
    expect(child.names).not.toContain('PROBE_INHERITED');
    expect(child.names).toContain('PROBE_PLAIN');
    expect(child.names).toContain('GITHUB_OUTPUT');
    expect(child.explicit).toBe(createHash('sha256').update(CANARY).digest('hex'));
  });
});

describe('input.path in an action', () => {
  it('missing → invalid-input; a workspace file resolves; a symbolic link out of the workspace is refused', () => {
    const missing = probe({ mode: 'path', token: CANARY, file: 'x' });
    expect(missing.errors).toEqual([`probe-action: input 'file' must name an existing file in the workspace (got "x": not found)`]);
    const ok = probe(
      { mode: 'path', token: CANARY, file: 'sub/a.txt' },
      {},
      {
        setup: (ws) => {
          mkdirSync(join(ws, 'sub'));
          writeFileSync(join(ws, 'sub/a.txt'), 'a');
        },
      },
    );
    expect(ok.code).toBe(0);
    expect(ok.outputs.resolved).toBe(join(ok.workspace, 'sub/a.txt'));
    writeFileSync(join(dir, 'outside.txt'), 'x');
    const out = probe(
      { mode: 'path', token: CANARY, file: 'link.txt' },
      {},
      { setup: (ws) => symlinkSync(join(dir, 'outside.txt'), join(ws, 'link.txt')) },
    );
    expect(out.errors).toEqual([`probe-action: input 'file' must be a path inside the workspace (got "link.txt")`]);
    expect(out.outputs['failure-reason']).toBe('invalid-input');
  });
});

describe.each(runtimes())('on $name', (rt) => {
  it('a failure: ::error::, failure-reason, the summary section and a failed audit record', () => {
    const r = probe({ mode: 'user-error', token: CANARY }, {}, { node: rt.node });
    expect([r.code, r.outputs['failure-reason'], r.errors.length]).toEqual([1, 'gate-failed', 1]);
    expect(r.summary).toContain('❌ **failed**: `gate-failed`');
    expect(r.audit.map((a) => [a.verdict, a.failureReason, a.version])).toEqual([['failed', 'gate-failed', VERSION]]);
  });
});
