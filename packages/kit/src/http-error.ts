import type { RetryOptions } from './retry.js';

/**
 * What an HTTP call looks like to domain code: the request and response of the runner layer's
 * `http.request` (`@hallmark/kit/runner`), the error it throws, and pure URL/header helpers.
 * Domain code receives the request function through its Deps and imports these only.
 */
export interface HttpRequest {
  method?: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Deadline for one try, in ms (default 30 s). */
  timeoutMs?: number;
  /** Tries in all (default 3). */
  attempts?: number;
  /** Extra statuses to retry (besides 408, 429, 5xx). */
  retryStatuses?: number[];
  /** Cap on the response size in bytes (default 64 MiB). */
  maxBytes?: number;
  retry?: Partial<Omit<RetryOptions, 'attempts'>>;
  userAgent?: string;
  /** Follow redirects (default true, at most 5). */
  followRedirects?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
  /** How many tries it took. */
  attempts: number;
  /** Time of the last try, ms. */
  elapsedMs: number;
}

export class HttpError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly response: HttpResponse | undefined;
  /** What kind of failure: `status`, `timeout`, `network`, `too-large`. */
  readonly kind: 'status' | 'timeout' | 'network' | 'too-large';
  constructor(
    message: string,
    kind: HttpError['kind'],
    opts: { status?: number; retryable: boolean; retryAfterMs?: number; response?: HttpResponse },
  ) {
    super(message);
    this.name = 'HttpError';
    this.kind = kind;
    this.status = opts.status;
    this.retryable = opts.retryable;
    this.retryAfterMs = opts.retryAfterMs;
    this.response = opts.response;
  }
}

/** Strips credentials, query string and fragment from a URL so it can be named in a message. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Request headers kept when a redirect leaves the original origin; every other header is dropped. */
const CROSS_ORIGIN_SAFE = new Set([
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'content-type',
  'range',
  'if-none-match',
  'if-modified-since',
  'cache-control',
]);

/** Deletes, in place, every header that may carry a credential, for a request that leaves its origin. */
export function stripForOtherOrigin(headers: Record<string, string>): Record<string, string> {
  for (const h of Object.keys(headers)) if (!CROSS_ORIGIN_SAFE.has(h.toLowerCase())) delete headers[h];
  return headers;
}

/** Statuses `http.request` retries (besides those a request adds): 408, 429 and 5xx. */
export function isRetryableStatus(status: number, extra: readonly number[] = []): boolean {
  return status === 408 || status === 429 || status >= 500 || extra.includes(status);
}
