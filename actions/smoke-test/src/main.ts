import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { exec, fail, input, InputError, log, maskSecret, md, oneLine, redact, run, runnerContext, runUrl, setOutputs, sleep, UserError, writeSummary } from '@hallmark/kit';
import { CheckFileError, DEFAULTS, LIMITS, parseChecks, urlCheck, type Check } from './config.js';
import { runChecks, totals, type CheckResult } from './engine.js';
import { closeConnections, probeFor } from './probes.js';
import { consoleLines, jsonReport, junit, summaryMarkdown, type ReportMeta } from './report.js';
import { checksSource, checkPath } from './inputs.js';

const ACTION = 'smoke-test';

await run(ACTION, async () => {
  const ctx = runnerContext();
  // ---- inputs: all validated before anything is read, run or written ----
  const checksRaw = input.raw('checks');
  const url = input.string('url');
  const retries = input.integer('retries', { default: DEFAULTS.retries, min: 0, max: LIMITS.retries });
  const intervalMs = input.duration('interval', { default: '5s', min: 0, max: LIMITS.intervalMs });
  const timeoutMs = input.duration('timeout', { default: '30s', min: 1, max: LIMITS.timeoutMs });
  const concurrency = input.integer('concurrency', { default: 10, min: 1, max: 256 });
  const reportIn = input.string('report', { default: 'smoke-report.json' });
  const junitIn = input.string('junit');
  const failOnWarning = input.boolean('fail-on-warning', false);
  if (!checksRaw && !url) throw new InputError('checks', "is required (a check file path or inline YAML), unless 'url' is given");
  if (checksRaw && url) throw new InputError('url', "cannot be used with 'checks' (add the URL to the check file instead)");
  // A password in a URL is masked before anything can echo the URL back.
  for (const m of url.matchAll(/\/\/[^/@\s:]*:([^@\s/]+)@/g)) maskSecret(safeDecode(m[1] as string));
  if (url) {
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      /* below */
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || /[\s]/.test(url)) throw new InputError('url', `must be an absolute http:// or https:// URL (got ${input.shown(url)})`);
  }
  const reportPath = checkPath('report', reportIn, ctx.workspace);
  const junitPath = junitIn ? checkPath('junit', junitIn, ctx.workspace) : undefined;
  if (junitPath && junitPath === reportPath) throw new InputError('junit', "must differ from 'report'");
  const source = checksRaw ? checksSource(checksRaw, ctx.workspace) : undefined;

  // ---- the check file ----
  const defaults = { retries, intervalMs, timeoutMs };
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INPUT_')) env[k] = v;
  let checks: Check[];
  try {
    if (source) {
      const parsed = parseChecks(source.text, defaults, env);
      for (const s of parsed.secrets) maskSecret(s);
      for (const w of parsed.warnings) log.warning(`${ACTION}: ${oneLine(w, 300)}`);
      checks = parsed.checks;
    } else checks = [urlCheck(url, defaults)];
  } catch (e) {
    if (e instanceof CheckFileError) throw new UserError(`bad check file ${oneLine(source?.label ?? '', 200)}: ${e.message}`, 'bad-checks-file');
    throw e;
  }

  // ---- run ----
  const color = !process.env.NO_COLOR;
  const scrubEnv: Record<string, undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrubEnv[k] = undefined;
  const probe = probeFor({
    cwd: ctx.workspace,
    podName: () => `hallmark-smoke-${randomBytes(4).toString('hex')}`,
    exec: (tool, args, o) => exec(tool, args, { ...o, env: scrubEnv }),
  });
  log.info(`${ACTION}: ${checks.length} check${checks.length > 1 ? 's' : ''}, up to ${concurrency} at a time`);
  const startedAt = new Date();
  const t0 = performance.now();
  const results = await runChecks(checks, concurrency, {
    probe,
    sleep,
    now: () => performance.now(),
    onResult: (r) => {
      for (const line of consoleLines(shown(r), color)) log.info(line);
    },
  });
  const durationMs = Math.round(performance.now() - t0);
  closeConnections();
  const t = totals(results);
  const ok = t.failed === 0 && !(failOnWarning && t.warnings > 0);
  const meta: ReportMeta = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs,
    concurrency,
    failOnWarning,
    ok,
    repository: ctx.repository || undefined,
    sha: ctx.sha || undefined,
    runUrl: runUrl(ctx) || undefined,
  };

  // ---- reports: always written, gate or not ----
  write(reportPath, `${JSON.stringify(jsonReport(results, t, meta), null, 2)}\n`);
  if (junitPath) write(junitPath, junit(results, t, meta));
  writeSummary(summaryMarkdown(results, t, meta, (s) => md.cell(s, 300), reportIn));
  setOutputs({ passed: t.passed, failed: t.failed, warnings: t.warnings, total: t.total, ok, report: reportPath, junit: junitPath ?? '' });
  for (const r of results.filter((x) => x.outcome === 'warn')) {
    log.warning(`${ACTION}: check '${oneLine(r.check.name, 200)}' failed but is not critical: ${oneLine(r.error ?? '', 400)}`);
  }
  log.info(`${ACTION}: ${t.passed} passed, ${t.failed} failed, ${t.warnings} warning${t.warnings === 1 ? '' : 's'} of ${t.total} in ${durationMs}ms`);
  if (!ok) {
    const bad = results.filter((r) => r.outcome === 'fail' || (failOnWarning && r.outcome === 'warn'));
    const names = bad.slice(0, 10).map((r) => `'${r.check.name}'`).join(', ') + (bad.length > 10 ? ', …' : '');
    fail(ACTION, 'checks-failed', `${bad.length} of ${t.total} checks failed${t.failed === 0 ? ' (warnings, with fail-on-warning)' : ''}: ${names}`);
  }
});

/** A copy of a result safe to print: outside text on one line, secrets redacted. */
function shown(r: CheckResult): CheckResult {
  const c = r.check;
  const check: Check = { ...c, name: oneLine(c.name, 200) };
  if (c.http) check.http = { ...c.http, url: oneLine(c.http.url, 500) };
  if (c.exec) check.exec = c.exec.map((a) => oneLine(a, 200));
  return { ...r, check, error: r.error === undefined ? undefined : oneLine(r.error, 500), detail: r.detail === undefined ? undefined : oneLine(r.detail, 300) };
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, redact(text));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
