/**
 * Shared plumbing for the hardening suites (issue #9): loading the per-action corpora, knowing
 * which bundles exist, snapshotting directories, a small concurrency pool, canary values, the real
 * tools for scenarios (`realToolsPath`, `argvTracer`: npm run tools, never PATH accidents), and
 * argv-recording stand-ins for commands that are not one of those tools (buildah/docker faults,
 * smoke-test's `probe`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AUDIT_FILE } from '@hallmark/audit';
import type { ActionCorpus } from './corpus.js';
import { bundlePath, ROOT, type ActionResult } from '../harness/runner.js';
import { filesUnder, walkTree } from '../harness/files.js';
import { pathWith, realTools, toolPath, type ToolName } from '../harness/tools.js';

export { toolPath, type ToolName };

/**
 * A PATH for a scenario: the named REAL tools first (built by `npm run tools`, under the names the
 * actions call: `cosign2` appears as `cosign`, `helm3` as `helm`), then `rest`.
 */
export function realToolsPath(names: ToolName[], rest = process.env.PATH ?? '/usr/bin:/bin'): string {
  return pathWith(names, rest);
}

/** Why a scenario cannot run with the real tools (`missing()` of an ActionHardening), or undefined. */
export function realToolsMissing(names: ToolName[]): string | undefined {
  try {
    const all = realTools();
    const absent = names.filter((n) => !all[n] || !existsSync(all[n].path));
    return absent.length ? `real tools not built: ${absent.join(', ')} (npm run tools)` : undefined;
  } catch (e) {
    return `real tools not built (npm run tools): ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * Writes `binDir/<as>` (default: the name the actions call) that appends `{ tool, argv, cwd }` to
 * `$HARDENING_ARGV_LOG` and then `exec`s the REAL tool with the same arguments, so stdin, stdout,
 * stderr, signals and the exit code are the real tool's own. Not a stand-in: the real tool does
 * all the work; this only lets a scenario check the exact argv an action gave it.
 */
export function argvTracer(binDir: string, name: ToolName, as?: string): string {
  mkdirSync(binDir, { recursive: true });
  const real = toolPath(name);
  const shown = as ?? (name === 'cosign2' ? 'cosign' : name === 'helm3' ? 'helm' : name);
  const file = join(binDir, shown);
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  const record =
    'require("node:fs").appendFileSync(process.env.HARDENING_ARGV_LOG, JSON.stringify({ tool: process.argv[1], argv: process.argv.slice(2), cwd: process.cwd(), input: "" }) + "\\n")';
  writeFileSync(
    file,
    `#!/bin/sh
# argv tracer (hardening suites) around the REAL ${shown} (${real}): records the argv, then execs it.
if [ -n "\${HARDENING_ARGV_LOG:-}" ]; then
  ${q(process.execPath)} -e ${q(record)} -- ${q(shown)} "$@" || exit 127
fi
exec ${q(real)} "$@"
`,
  );
  chmodSync(file, 0o755);
  return file;
}

export const HARDENING = join(ROOT, 'test', 'hardening');

/** The actions the hardening suites cover (issue #9's seven, then later ones). */
export const ACTIONS = [
  'setup-tools',
  'build-sign',
  'trivy-gate',
  'sbom-attach',
  'terraform-gated-apply',
  'smoke-test',
  'slack-notify',
  'verify-image',
  'registry-login',
  'gitops-update',
  'audit-trail',
] as const;

export const hasBundle = (action: string): boolean => existsSync(bundlePath(action));

/** Every `cases/*.ts` default export, sorted by action name. */
export async function loadCorpora(): Promise<ActionCorpus[]> {
  const dir = join(HARDENING, 'cases');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.ts'))
        .sort()
    : [];
  const out: ActionCorpus[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: ActionCorpus };
    if (!mod.default || typeof mod.default.action !== 'string' || !Array.isArray(mod.default.bad))
      throw new Error(`test/hardening/cases/${f} does not default-export an ActionCorpus`);
    if (`${mod.default.action}.ts` !== f) throw new Error(`test/hardening/cases/${f} declares action ${mod.default.action}`);
    out.push(mod.default);
  }
  return out;
}

/** Replaces `{url}` in every value. */
export function fill(values: Record<string, string | undefined>, url: string): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(values)) out[k] = v === undefined ? undefined : v.split('{url}').join(url);
  return out;
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      results[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Every entry under `dir` (relative path → content hash, `dir`, or `link:<target>`), skipping
 * the relative paths for which `skip` is true (and everything under them).
 */
export function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { path, rel, stat } of walkTree(dir, skip)) {
    if (stat.isSymbolicLink()) out[rel] = `link:${readlinkSync(path)}`;
    else if (stat.isDirectory()) out[rel] = 'dir';
    else if (stat.isFile()) {
      try {
        out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
      } catch {
        out[rel] = 'unreadable';
      }
    } else out[rel] = 'other';
  }
  return out;
}

/** What changed between two snapshots: `+path`, `-path`, `~path`. */
export function diffSnapshots(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before)) out.push(`+${k}`);
    else if (before[k] !== v) out.push(`~${k}`);
  }
  for (const k of Object.keys(before)) if (!(k in after)) out.push(`-${k}`);
  return out.sort();
}

/** Lines that look like a JavaScript stack trace or an uncaught error's header. */
export function stackLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter(
      (l) =>
        /^\s+at\s+\S.*(\(|:\d+:\d+)/.test(l) || /^\s*(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: /.test(l) || /^\s*node:internal/.test(l),
    );
}

/** A distinctive canary: an uppercase tag no action could produce by chance. */
export function canary(label: string): string {
  return `CANARY${label.replace(/[^A-Za-z0-9]/g, '').toUpperCase()}${randomBytes(9).toString('hex')}`;
}

/** stdout minus the `::add-mask::` registrations (the one place a secret is meant to be written: to the runner's masker). */
export function withoutMaskCommands(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
}

/** Everything a run wrote to the runner (stdout minus mask registrations, stderr, outputs, env, state, path, summary). */
export function runnerVisible(r: ActionResult): string {
  return [
    withoutMaskCommands(r.stdout),
    r.stderr,
    JSON.stringify(r.outputs),
    JSON.stringify(r.env),
    JSON.stringify(r.state),
    r.path.join('\n'),
    r.summary,
  ].join('\n');
}

/** Every variant of a secret that would still give it away (as is, each long line, URL/JSON/base64 encoded). */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([
    secret,
    encodeURIComponent(secret),
    JSON.stringify(secret).slice(1, -1),
    Buffer.from(secret).toString('base64'),
  ]);
  for (const l of secret.split(/\r?\n/)) if (l.trim().length >= 16) forms.add(l.trim());
  return [...forms].filter((f) => f.length >= 8);
}

/** Which of `secrets` (in any form) occur in `text`: `label@form`. */
export function findLeaks(text: string, secrets: Record<string, string>): string[] {
  const hits: string[] = [];
  // Also with line breaks removed: a secret printed in two pieces on two lines escapes both the
  // runner's masker and a plain search, but is still in the log for anyone to join.
  const joined = text.replace(/\r?\n/g, '');
  for (const [label, s] of Object.entries(secrets)) {
    for (const f of secretForms(s)) {
      if (text.includes(f)) hits.push(`${label} (${f === s ? 'as is' : 'encoded'})`);
      else if (!f.includes('\n') && joined.includes(f)) hits.push(`${label} (split across lines)`);
    }
  }
  return [...new Set(hits)];
}

/** Every regular file under `dir` (< 16 MB) with its text. */
export function filesText(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const file of filesUnder(dir, 16 * 1024 * 1024)) {
    try {
      out.push({ file, text: readFileSync(file).toString('latin1') });
    } catch {
      /* unreadable */
    }
  }
  return out;
}

/**
 * Writes an argv-recording stand-in named `tool` into `binDir`: it appends one JSON line
 * `{ tool, argv, cwd }` to `$HARDENING_ARGV_LOG`, prints `$HARDENING_STDOUT` / `$HARDENING_STDERR`
 * (so tests can feed hostile tool output), runs `$HARDENING_<TOOL>_SCRIPT` (a small node snippet
 * with `argv` in scope) when set, and exits `$HARDENING_EXIT` (default 0). TEST STAND-IN: not the
 * real tool.
 */
export function argvStandIn(binDir: string, tool: string): string {
  mkdirSync(binDir, { recursive: true });
  const file = join(binDir, tool);
  const key = tool.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  writeFileSync(
    file,
    `#!/usr/bin/env node
// TEST STAND-IN for ${tool} (hardening suites): records its argv, prints what the test asks, never runs a shell.
const fs = require('node:fs');
const argv = process.argv.slice(2);
const log = process.env.HARDENING_ARGV_LOG;
if (log) fs.appendFileSync(log, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv, cwd: process.cwd(), input: '' }) + '\\n');
const script = process.env.HARDENING_${key}_SCRIPT;
if (script) new Function('argv', 'fs', 'env', script)(argv, fs, process.env);
if (process.env.HARDENING_STDOUT) process.stdout.write(process.env.HARDENING_STDOUT);
if (process.env.HARDENING_STDERR) process.stderr.write(process.env.HARDENING_STDERR);
process.exitCode = Number(process.env.HARDENING_${key}_EXIT ?? process.env.HARDENING_EXIT ?? 0);
`,
  );
  chmodSync(file, 0o755);
  return file;
}

export interface ArgvCall {
  tool: string;
  argv: string[];
  cwd: string;
}

export function readArgvLog(file: string): ArgvCall[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ArgvCall);
}

/**
 * The payloads of the injection suites. Each carries `{canary}` where a shell would create a file;
 * if any shell ever interprets the text, that file appears.
 */
export function shellPayloads(canaryFile: string): string[] {
  return [
    `$(touch ${canaryFile})`,
    `\`touch ${canaryFile}\``,
    `x; touch ${canaryFile}`,
    `x | touch ${canaryFile}`,
    `x && touch ${canaryFile}`,
    `x' ; touch ${canaryFile} ; '`,
    `x" ; touch ${canaryFile} ; "`,
    `--output=/etc/passwd`,
    `-o/etc/passwd`,
  ];
}

/** Workflow-command payloads: text that a runner would act on if printed raw. */
export function workflowPayloads(tag: string): string[] {
  return [
    `::set-output name=${tag}::pwned`,
    `::add-mask::octo-org`,
    `::stop-commands::x${tag}`,
    `::error::${tag} forged error`,
    `::warning file=a::${tag} forged warning`,
    `line1\n::set-output name=${tag}::pwned`,
    `line1\r::set-output name=${tag}::pwned`,
    `${tag}<<EOF\npwned\nEOF`,
    `##[set-output name=${tag};]pwned`,
    `::notice::${tag}\n::set-env name=${tag}::pwned`,
  ];
}

/** Files left in a run's RUNNER_TEMP, not counting the job's audit file (the kit's run() appends one record per action run). */
export function runnerTempLeftovers(temp: string): string[] {
  return readdirSync(temp).filter((f) => f !== AUDIT_FILE);
}

/** The audit records one run left in its RUNNER_TEMP (`hallmark-audit.jsonl`, one JSON object per line). */
export function auditRecordsIn(
  temp: string,
): Array<{ action: string; verdict: string; failureReason?: string; facts: Record<string, unknown> }> {
  const file = join(temp, AUDIT_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
