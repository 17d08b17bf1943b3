/**
 * What a run shows: one console line per check and the step summary. Pure: strings in, strings
 * out. Text from the outside world (check names, error messages) is escaped for Markdown here; the
 * caller redacts secrets and keeps log lines inert.
 */
import type { Check } from './checks-file.js';
import type { CheckResult, Totals } from './flow.js';
import { fmt, where } from './probes.js';
import type { ReportMeta } from './report-json.js';

export function target(c: Check): string {
  if (c.http) return `${c.http.method} ${where(c.http.url)}`;
  if (c.tcp) return `${c.tcp.host.includes(':') ? `[${c.tcp.host}]` : c.tcp.host}:${c.tcp.port}`;
  if (c.k8s) {
    const ns = c.k8s.namespace ? ` -n ${c.k8s.namespace}` : '';
    if (c.k8s.kind === 'rollout') return `rollout status ${c.k8s.resource}${ns}`;
    if (c.k8s.kind === 'pods-ready') return `≥${c.k8s.min} ready pods ${c.k8s.selector}${ns}`;
    if (c.k8s.kind === 'argocd-app') return `Argo CD app ${c.k8s.app}${ns} Synced at ${c.k8s.revision.slice(0, 12)}, ${c.k8s.health}`;
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

/** Markdown-escaped text for a table cell. */
export type Escape = (s: string) => string;

export function summaryMarkdown(
  results: CheckResult[],
  t: Totals,
  meta: ReportMeta,
  cell: Escape,
  reportPath?: string,
  environment?: string,
): string {
  const icon = { pass: '✅ pass', fail: '❌ fail', warn: '⚠️ warn' };
  const head = meta.ok ? `✅ ${t.passed}/${t.total} checks passed` : `❌ ${t.failed} of ${t.total} checks failed`;
  const extra = [
    t.warnings ? `${t.warnings} warning${t.warnings > 1 ? 's' : ''}${meta.failOnWarning ? ' (fail-on-warning)' : ''}` : '',
    `${fmt(meta.durationMs)}`,
  ]
    .filter(Boolean)
    .join(' · ');
  const rows = results.map((r) => [
    icon[r.outcome],
    cell(r.check.name),
    cell(target(r.check)),
    `${r.attempts.length}/${r.check.retries + 1}`,
    fmt(r.latencyMs),
    r.outcome === 'pass' ? '' : cell(r.error ?? ''),
  ]);
  const table = [
    '| Result | Check | Target | Tries | Latency | Last error |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  return [
    `### Smoke test${environment ? ` (${cell(environment)})` : ''}: ${head}`,
    '',
    extra,
    '',
    table,
    '',
    reportPath ? `Report: ${cell(reportPath)}` : '',
    '',
  ].join('\n');
}
