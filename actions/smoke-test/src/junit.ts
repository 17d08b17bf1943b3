/** The JUnit XML report. Pure: text from the outside world is escaped for XML here. */
import type { CheckResult, Totals } from './flow.js';
import { fmt } from './probes.js';
import type { ReportMeta } from './report-json.js';
import { target } from './summary.js';

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
    const tries = r.attempts.map((a) => `try ${a.attempt}: ${a.ok ? 'ok' : (a.error ?? 'failed')} (${fmt(a.latencyMs)})`).join('\n');
    if (r.outcome === 'fail' || (r.outcome === 'warn' && meta.failOnWarning)) {
      return `    <testcase ${attrs}>\n      <failure message="${xml(r.error ?? 'failed')}" type="${r.outcome === 'warn' ? 'warning' : 'check-failed'}">${xml(`${target(r.check)}\n${tries}`)}</failure>\n    </testcase>`;
    }
    if (r.outcome === 'warn')
      return `    <testcase ${attrs}>\n      <system-out>${xml(`WARNING (critical: false): ${r.error ?? 'failed'}\n${tries}`)}</system-out>\n    </testcase>`;
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
