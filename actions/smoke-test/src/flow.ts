/**
 * The step over injected deps: runs the checks concurrently (at most `concurrency` at a time); each one is tried until it passes or
 * its tries run out (`retries` + 1), `interval` apart, every try bounded by `timeout`. Any failure
 * is retried: refused connection, timeout, wrong status, wrong body. Every try is recorded.
 */
import type { Check } from './checks-file.js';
import type { ProbeResult } from './probes.js';

export type Outcome = 'pass' | 'fail' | 'warn';

export interface Attempt {
  attempt: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: string;
  detail?: string;
}

export interface CheckResult {
  check: Check;
  outcome: Outcome;
  attempts: Attempt[];
  /** Latency of the last try. */
  latencyMs: number;
  /** The last try's error when the check did not pass. */
  error?: string;
  detail?: string;
  durationMs: number;
}

export interface Deps {
  probe: (check: Check, timeoutMs: number) => Promise<ProbeResult>;
  sleep: (ms: number) => Promise<void>;
  /** A monotonic clock in ms (performance.now). */
  now: () => number;
  onResult?: (r: CheckResult) => void;
}

/** A try that throws (a bug or an unexpected error) counts as a failed try, not a crash. */
async function tryOnce(check: Check, deps: Deps): Promise<ProbeResult> {
  let guard: NodeJS.Timeout | undefined;
  try {
    const backstop = new Promise<ProbeResult>((resolve) => {
      guard = setTimeout(
        () => resolve({ ok: false, latencyMs: check.timeoutMs, error: `no result within ${check.timeoutMs}ms` }),
        check.timeoutMs + 15_000,
      );
    });
    return await Promise.race([deps.probe(check, check.timeoutMs), backstop]);
  } catch (e) {
    return { ok: false, latencyMs: 0, error: e instanceof Error ? e.message : String(e) };
  } finally {
    if (guard) clearTimeout(guard);
  }
}

export async function runCheck(check: Check, deps: Deps): Promise<CheckResult> {
  const started = deps.now();
  const attempts: Attempt[] = [];
  const tries = check.retries + 1;
  for (let n = 1; n <= tries; n++) {
    const r = await tryOnce(check, deps);
    attempts.push({
      attempt: n,
      ok: r.ok,
      latencyMs: Math.round(r.latencyMs),
      ...(r.status !== undefined ? { status: r.status } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    });
    if (r.ok || r.final) break;
    if (n < tries && check.intervalMs > 0) await deps.sleep(check.intervalMs);
  }
  const last = attempts.at(-1) as Attempt;
  const outcome: Outcome = last.ok ? 'pass' : check.critical ? 'fail' : 'warn';
  return {
    check,
    outcome,
    attempts,
    latencyMs: last.latencyMs,
    error: last.ok ? undefined : last.error,
    detail: last.detail,
    durationMs: Math.round(deps.now() - started),
  };
}

/** Results in the order of `checks`; `onResult` is called as each check finishes. */
export async function runChecks(checks: Check[], concurrency: number, deps: Deps): Promise<CheckResult[]> {
  const results: CheckResult[] = new Array(checks.length);
  let next = 0;
  const worker = async () => {
    while (next < checks.length) {
      const i = next++;
      const r = await runCheck(checks[i] as Check, deps);
      results[i] = r;
      deps.onResult?.(r);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, checks.length)) }, worker));
  return results;
}

export interface Totals {
  total: number;
  passed: number;
  failed: number;
  warnings: number;
}

export function totals(results: CheckResult[]): Totals {
  return {
    total: results.length,
    passed: results.filter((r) => r.outcome === 'pass').length,
    failed: results.filter((r) => r.outcome === 'fail').length,
    warnings: results.filter((r) => r.outcome === 'warn').length,
  };
}

export interface Config {
  checks: Check[];
  concurrency: number;
  failOnWarning: boolean;
}

export interface SmokeOutcome {
  results: CheckResult[];
  totals: Totals;
  /** The verdict: no critical check failed (and, with fail-on-warning, no warning). */
  passed: boolean;
  durationMs: number;
  /** The checks that fail the step (critical failures, and warnings with fail-on-warning). */
  failing: CheckResult[];
}

/** Runs every check and decides the verdict. */
export async function smokeTest(cfg: Config, deps: Deps): Promise<SmokeOutcome> {
  const t0 = deps.now();
  const results = await runChecks(cfg.checks, cfg.concurrency, deps);
  const durationMs = Math.round(deps.now() - t0);
  const t = totals(results);
  const failing = results.filter((r) => r.outcome === 'fail' || (cfg.failOnWarning && r.outcome === 'warn'));
  return { results, totals: t, passed: failing.length === 0, durationMs, failing };
}
