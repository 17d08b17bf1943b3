/**
 * Bounded retry with exponential backoff, full jitter, and `Retry-After`.
 * An error may say it is retryable (`retryable`) and how long the server asked us to wait
 * (`retryAfterMs`); anything else is retried only when `shouldRetry` says so.
 */
export interface RetryOptions {
  /** Total tries, including the first (≥ 1). */
  attempts: number;
  /** First backoff before jitter; doubles each time. */
  baseMs?: number;
  /** Cap on one backoff, and on any Retry-After we honour. */
  maxMs?: number;
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface RetryableError {
  retryable?: boolean;
  retryAfterMs?: number;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  // Full jitter, but never less than half the ceiling, so retries still spread out and back off.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const attempts = Math.max(1, Math.floor(opts.attempts));
  const baseMs = opts.baseMs ?? 1000;
  const maxMs = opts.maxMs ?? 30_000;
  const doSleep = opts.sleep ?? sleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const e = err as RetryableError;
      const wanted = e?.retryable ?? opts.shouldRetry?.(err, attempt) ?? false;
      if (!wanted || attempt >= attempts) throw err;
      const asked = typeof e?.retryAfterMs === 'number' && e.retryAfterMs >= 0 ? Math.min(e.retryAfterMs, maxMs) : undefined;
      const delay = asked ?? backoffDelay(attempt, baseMs, maxMs, opts.random);
      opts.onRetry?.(err, attempt, delay);
      await doSleep(delay);
    }
  }
}

/** Parses a `Retry-After` header (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | string[] | undefined | null, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v === null) return undefined;
  const t = String(v).trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const when = Date.parse(t);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, when - now);
}
