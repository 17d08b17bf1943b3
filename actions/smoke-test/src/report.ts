/**
 * What a run leaves behind: one console line per check, the JSON report, JUnit XML and the step
 * summary. Pure: strings in, strings out. Text from the outside world (bodies, error messages,
 * check names) is escaped for Markdown/XML here; the caller redacts secrets and keeps log lines inert.
 */
import type { Check } from './config.js';
import type { CheckResult, Totals } from './engine.js';
import { fmt, where } from './probes.js';

export function target(c: Check): string {
  if (c.http) return `${c.http.method} ${where(c.http.url)}`;
  if (c.tcp) return `${c.tcp.host.includes(':') ? `[${c.tcp.host}]` : c.tcp.host}:${c.tcp.port}`;
  if (c.k8s) {
    const ns = c.k8s.namespace ? ` -n ${c.k8s.namespace}` : '';
    if (c.k8s.kind === 'rollout') return `rollout status ${c.k8s.resource}${ns}`;
    if (c.k8s.kind === 'pods-ready') return `≥${c.k8s.min} ready pods ${c.k8s.selector}${ns}`;
    return `admission denies ${c.k8s.image}${ns}`;
  }
  return (c.exec ?? []).join(' ');
}

const COLOR = { pass: '\u001b[32m', fail: '\u001b[31m', warn: '\u001b[33m', dim: '\u001b[2m', reset: '\u001b[0m' };
const MARK = { pass: '✓ PASS', fail: '✗ FAIL', warn: '! WARN' };

/** `✓ PASS  api health  GET https://…/healthz  1/4 tries · 120ms` (coloured); failures add the last error on the next line. */
export function consoleLines(r: CheckResult, color = true): string[] {
  const c = color ? COLOR : { pass: '', fail: '', warn: '', dim: '', reset: '' };
  const tries = `${r.attempts.length}/${r.check.retries + 1} ${r.check.retries + 1 === 1 ? 'try' : 'tries'}`;
  const head = `${c[r.outcome]}${MARK[r.outcome]}${c.reset}  ${r.check.name}  ${c.dim}${target(r.check)} · ${tries} · ${fmt(r.latencyMs)}${c.reset}`;
  const lines = [head];
  if (r.outcome !== 'pass' && r.error) lines.push(`    last error: ${r.error}`);
  if (r.outcome === 'pass' && r.detail) lines.push(`    ${r.detail}`);
  return lines;
}

export interface ReportMeta {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  concurrency: number;
  failOnWarning: boolean;
  ok: boolean;
  repository?: string;
  sha?: string;
  runUrl?: string;
}

export function jsonReport(results: CheckResult[], t: Totals, meta: ReportMeta): object {
  return {
    tool: 'hallmark smoke-test',
    schema: 1,
    ok: meta.ok,
    ...t,
    startedAt: meta.startedAt,
    finishedAt: meta.finishedAt,
    durationMs: meta.durationMs,
    concurrency: meta.concurrency,
    failOnWarning: meta.failOnWarning,
    ...(meta.repository ? { repository: meta.repository } : {}),
    ...(meta.sha ? { sha: meta.sha } : {}),
    ...(meta.runUrl ? { runUrl: meta.runUrl } : {}),
    checks: results.map((r) => ({
      name: r.check.name,
      type: r.check.type,
      target: target(r.check),
      critical: r.check.critical,
      result: r.outcome,
      tries: r.attempts.length,
      maxTries: r.check.retries + 1,
      latencyMs: r.latencyMs,
      durationMs: r.durationMs,
      ...(r.error ? { error: r.error } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
      ...(r.check.line ? { line: r.check.line } : {}),
      attempts: r.attempts,
    })),
  };
}

export function xml(s: string): string {
  // XML 1.0 cannot carry most control characters at all: show them as '?'.
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '?')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junit(results: CheckResult[], t: Totals, meta: ReportMeta): string {
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const failures = t.failed + (meta.failOnWarning ? t.warnings : 0);
  const cases = results.map((r) => {
    const attrs = `name="${xml(r.check.name)}" classname="smoke-test.${r.check.type}" time="${secs(r.durationMs)}"`;
    const tries = r.attempts.map((a) => `try ${a.attempt}: ${a.ok ? 'ok' : a.error ?? 'failed'} (${fmt(a.latencyMs)})`).join('\n');
    if (r.outcome === 'fail' || (r.outcome === 'warn' && meta.failOnWarning)) {
      return `    <testcase ${attrs}>\n      <failure message="${xml(r.error ?? 'failed')}" type="${r.outcome === 'warn' ? 'warning' : 'check-failed'}">${xml(`${target(r.check)}\n${tries}`)}</failure>\n    </testcase>`;
    }
    if (r.outcome === 'warn') return `    <testcase ${attrs}>\n      <system-out>${xml(`WARNING (critical: false): ${r.error ?? 'failed'}\n${tries}`)}</system-out>\n    </testcase>`;
    return `    <testcase ${attrs}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="smoke-test" tests="${t.total}" failures="${failures}" errors="0" time="${secs(meta.durationMs)}">`,
    `  <testsuite name="smoke-test" tests="${t.total}" failures="${failures}" errors="0" skipped="0" time="${secs(meta.durationMs)}" timestamp="${xml(meta.startedAt)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

/** Markdown-escaped text for a table cell. */
export type Escape = (s: string) => string;

export function summaryMarkdown(results: CheckResult[], t: Totals, meta: ReportMeta, cell: Escape, reportPath?: string): string {
  const icon = { pass: '✅ pass', fail: '❌ fail', warn: '⚠️ warn' };
  const head = meta.ok ? `✅ ${t.passed}/${t.total} checks passed` : `❌ ${t.failed} of ${t.total} checks failed`;
  const extra = [t.warnings ? `${t.warnings} warning${t.warnings > 1 ? 's' : ''}${meta.failOnWarning ? ' (fail-on-warning)' : ''}` : '', `${fmt(meta.durationMs)}`].filter(Boolean).join(' · ');
  const rows = results.map((r) => [icon[r.outcome], cell(r.check.name), cell(target(r.check)), `${r.attempts.length}/${r.check.retries + 1}`, fmt(r.latencyMs), r.outcome === 'pass' ? '' : cell(r.error ?? '')]);
  const table = ['| Result | Check | Target | Tries | Latency | Last error |', '| --- | --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  return [`### Smoke test: ${head}`, '', extra, '', table, '', reportPath ? `Report: ${cell(reportPath)}` : '', ''].join('\n');
}
