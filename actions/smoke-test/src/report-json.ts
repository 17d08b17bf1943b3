/** The JSON report: every check with every try and its error. Pure: data in, a plain object out. */
import type { CheckResult, Totals } from './flow.js';
import { target } from './summary.js';

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
    // Schema 2: the verdict is `passed` (a boolean) and counts end in Count, as the outputs do.
    schema: 2,
    passed: meta.ok,
    checkCount: t.total,
    passedCount: t.passed,
    failedCount: t.failed,
    warningCount: t.warnings,
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
