import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { HttpClient } from '@actions/http-client';
import { InputError, md, oneLine, redact, runUrl, shown, sleep, UserError } from '@hallmark/kit';
import { audit, exec, fail, input, log, maskSecret, run, runnerContext, setOutputs, writeSummary } from '@hallmark/kit/runner';
import { CheckFileError, DEFAULTS, LIMITS, parseChecks, urlCheck, type Check } from './checks-file.js';
import { smokeTest, type CheckResult } from './flow.js';
import { fileChecks, inlineChecks, isInline } from './inputs.js';
import { junit } from './junit.js';
import { probeFor, type AgentFor } from './probes.js';
import { jsonReport, type ReportMeta } from './report-json.js';
import { consoleLines, summaryMarkdown } from './summary.js';

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
  const reportPath = input.path('report', { kind: 'file', default: 'smoke-report.json', mustExist: false });
  const junitPath = input.path('junit', { kind: 'file', mustExist: false }) || undefined;
  const failOnWarning = input.boolean('fail-on-warning', false);
  const environment = input.string('environment');
  if (environment && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(environment))
    throw new InputError('environment', `must be an environment name: letters, digits, . _ - (got ${shown(environment)})`);
  if (!checksRaw && !url) throw new InputError('checks', "is required (a check file path or inline YAML), unless 'url' is given");
  if (checksRaw && url) throw new InputError('url', "cannot be used with 'checks' (add the URL to the check file instead)");
  // A password in a URL is masked before anything can echo the URL back.
  for (const m of url.matchAll(/\/\/[^/@\s:]*:([^@\s/]+)@/g)) maskSecret(safeDecode(m[1] as string));
  if (url && !isHttpUrl(url)) throw new InputError('url', `must be an absolute http:// or https:// URL (got ${shown(url)})`);
  if (junitPath && junitPath === reportPath) throw new InputError('junit', "must differ from 'report'");
  const source = !checksRaw
    ? undefined
    : isInline(checksRaw)
      ? inlineChecks(checksRaw)
      : fileChecks(input.resolvePath('checks', checksRaw.trim(), { kind: 'file', base: ctx.workspace }), checksRaw.trim());
  audit.subject({ environment });

  // ---- the check file: `${NAME}` expands from the step's env (never from INPUT_*) ----
  const defaults = { retries, intervalMs, timeoutMs };
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('INPUT_')) env[k] = v;
  let checks: Check[];
  let variables: string[] = [];
  try {
    if (source) {
      const parsed = parseChecks(source.text, defaults, env);
      for (const s of parsed.secrets) maskSecret(s);
      for (const w of parsed.warnings) log.warning(`${ACTION}: ${oneLine(w, 300)}`);
      checks = parsed.checks;
      variables = parsed.variables;
    } else checks = [urlCheck(url, defaults)];
  } catch (e) {
    if (e instanceof CheckFileError)
      throw new UserError(`bad check file ${oneLine(source?.label ?? '', 200)}: ${e.message}`, 'bad-checks-file');
    throw e;
  }

  // ---- run ----
  const color = !process.env.NO_COLOR;
  const http = agents();
  const probe = probeFor({
    cwd: ctx.workspace,
    podName: () => `hallmark-smoke-${randomBytes(4).toString('hex')}`,
    agent: http.agentFor,
    // The variables the check file used are the step's own: programs still see them, masked or not.
    exec: (tool, args, o) => exec(tool, args, { ...o, allowEnv: variables }),
  });
  log.info(`${ACTION}: ${checks.length} check${checks.length > 1 ? 's' : ''}, up to ${concurrency} at a time`);
  const startedAt = new Date();
  const o = await smokeTest(
    { checks, concurrency, failOnWarning },
    { probe, sleep, now: () => performance.now(), onResult: (r) => consoleLines(shown1(r), color).forEach((line) => log.info(line)) },
  ).finally(http.close);
  const t = o.totals;
  audit.facts({
    'check-count': t.total,
    'passed-count': t.passed,
    'failed-count': t.failed,
    'warning-count': t.warnings,
    'fail-on-warning': failOnWarning,
    // what was checked, so the audit story can tell an Argo CD wait from the smoke test proper
    'check-kinds': [...new Set(checks.map((c) => (c.k8s ? c.k8s.kind : c.type)))].sort().join(','),
    'argocd-revision': checks.flatMap((c) => (c.k8s?.kind === 'argocd-app' ? [c.k8s.revision] : []))[0],
  });
  const meta: ReportMeta = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: o.durationMs,
    concurrency,
    failOnWarning,
    ok: o.passed,
    repository: ctx.repository || undefined,
    sha: ctx.sha || undefined,
    runUrl: runUrl(ctx) || undefined,
  };

  // ---- reports: always written, gate or not ----
  write(reportPath, `${JSON.stringify(jsonReport(o.results, t, meta), null, 2)}\n`);
  if (junitPath) write(junitPath, junit(o.results, t, meta));
  writeSummary(summaryMarkdown(o.results, t, meta, (s) => md.cell(s, 300), reportIn, environment));
  setOutputs({
    passed: o.passed,
    'passed-count': t.passed,
    'failed-count': t.failed,
    'warning-count': t.warnings,
    'check-count': t.total,
    report: reportPath,
    junit: junitPath ?? '',
  });
  for (const r of o.results.filter((x) => x.outcome === 'warn')) {
    log.warning(`${ACTION}: check '${oneLine(r.check.name, 200)}' failed but is not critical: ${oneLine(r.error ?? '', 400)}`);
  }
  log.info(
    `${ACTION}: ${t.passed} passed, ${t.failed} failed, ${t.warnings} warning${t.warnings === 1 ? '' : 's'} of ${t.total} in ${o.durationMs}ms`,
  );
  if (!o.passed) {
    const names =
      o.failing
        .slice(0, 10)
        .map((r) => `'${r.check.name}'`)
        .join(', ') + (o.failing.length > 10 ? ', …' : '');
    fail(
      ACTION,
      'checks-failed',
      `${o.failing.length} of ${t.total} checks failed${t.failed === 0 ? ' (warnings, with fail-on-warning)' : ''}: ${names}`,
    );
  }
});

/**
 * One keep-alive agent per flavour (http, https, https without verification), from
 * @actions/http-client so the runner's proxy settings (https_proxy, no_proxy) apply.
 */
function agents(): { agentFor: AgentFor; close: () => void } {
  const clients = new Map<string, HttpClient>();
  return {
    agentFor: (u, insecure) => {
      const key = `${u.protocol}${insecure ? '-insecure' : ''}`;
      let c = clients.get(key);
      if (!c) {
        c = new HttpClient('hallmark-smoke-test', undefined, {
          keepAlive: true,
          allowRedirects: false,
          allowRetries: false,
          ignoreSslError: insecure,
        });
        clients.set(key, c);
      }
      return c.getAgent(u.href);
    },
    close: () => {
      for (const c of clients.values()) c.dispose();
      clients.clear();
    },
  };
}

/** A copy of a result safe to print: outside text on one line, secrets redacted. */
function shown1(r: CheckResult): CheckResult {
  const c = r.check;
  const check: Check = { ...c, name: oneLine(c.name, 200) };
  if (c.http) check.http = { ...c.http, url: oneLine(c.http.url, 500) };
  if (c.exec) check.exec = c.exec.map((a) => oneLine(a, 200));
  return {
    ...r,
    check,
    error: r.error === undefined ? undefined : oneLine(r.error, 500),
    detail: r.detail === undefined ? undefined : oneLine(r.detail, 300),
  };
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, redact(text));
}

function isHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !/\s/.test(url);
  } catch {
    return false;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
