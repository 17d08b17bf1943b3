import type { OutgoingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { HttpError, isRetryableStatus, safeUrl, stripForOtherOrigin, type HttpRequest, type HttpResponse } from '../http-error.js';
import { parseRetryAfter, retry } from '../retry.js';

export { HttpError, safeUrl, stripForOtherOrigin, type HttpRequest, type HttpResponse } from '../http-error.js';

/**
 * One HTTP request with a hard deadline (the whole exchange, not just idle time, so a server that
 * drips bytes cannot hold a step forever), retried with backoff on network errors, timeouts, 5xx,
 * 408 and 429, honouring `Retry-After`. Built on `@actions/http-client`, so runner proxy settings
 * apply. Bodies of failed responses are kept for the caller but never printed here.
 */

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One try, following redirects ourselves (at most 5): `@actions/http-client` rejects relative
 * `Location` headers, and we drop credentials when a redirect leaves the original origin.
 */
async function once(req: HttpRequest, attempt: number): Promise<HttpResponse> {
  let current: HttpRequest = req;
  const origin = new URL(req.url).origin;
  const deadline = Date.now() + (req.timeoutMs ?? 30_000);
  for (let hop = 0; ; hop++) {
    const res = await single({ ...current, timeoutMs: Math.max(1, deadline - Date.now()) }, attempt);
    const location = res.headers.location;
    if ((req.followRedirects ?? true) === false || !REDIRECTS.has(res.status) || typeof location !== 'string') return res;
    if (hop >= 5)
      throw new HttpError(`${(req.method ?? 'GET').toUpperCase()} ${safeUrl(req.url)}: more than 5 redirects`, 'status', {
        status: res.status,
        retryable: false,
        response: res,
      });
    const next = new URL(location, current.url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new HttpError(`${safeUrl(current.url)}: redirect to unsupported scheme ${next.protocol}`, 'status', {
        status: res.status,
        retryable: false,
        response: res,
      });
    if (current.url.startsWith('https:') && next.protocol === 'http:')
      throw new HttpError(`${safeUrl(current.url)}: refusing redirect from https to http`, 'status', {
        status: res.status,
        retryable: false,
        response: res,
      });
    const headers = { ...current.headers };
    // Leaving the origin: only headers that can never carry a credential go along (an API key
    // travels in X-Api-Key, PRIVATE-TOKEN, X-Auth-Token … as often as in Authorization).
    if (next.origin !== origin) stripForOtherOrigin(headers);
    const toGet = res.status === 303 || ((res.status === 301 || res.status === 302) && (current.method ?? 'GET').toUpperCase() === 'POST');
    current = { ...current, url: next.toString(), headers, ...(toGet ? { method: 'GET', body: undefined } : {}) };
  }
}

async function single(req: HttpRequest, attempt: number): Promise<HttpResponse> {
  const timeoutMs = req.timeoutMs ?? 30_000;
  // Loaded on first use: actions that fail on an input never pay for the HTTP stack.
  const { HttpClient } = await import('@actions/http-client');
  const client = new HttpClient(req.userAgent ?? 'hallmark', undefined, {
    allowRetries: false,
    allowRedirects: false,
    socketTimeout: timeoutMs,
    keepAlive: false,
  });
  const started = Date.now();
  const method = (req.method ?? 'GET').toUpperCase();
  let timer: NodeJS.Timeout | undefined;
  let aborted = false;
  const where = `${method} ${safeUrl(req.url)}`;
  const exchange = (async () => {
    const headers: Record<string, string> = { ...req.headers };
    let data: string | NodeJS.ReadableStream | null = null;
    if (typeof req.body === 'string') data = req.body;
    else if (req.body) {
      data = Readable.from([req.body]);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['content-length'] = String(req.body.length);
    }
    const res = await client.request(method, req.url, data, headers as OutgoingHttpHeaders);
    const msg = res.message;
    const chunks: Buffer[] = [];
    let size = 0;
    const max = req.maxBytes ?? 64 * 1024 * 1024;
    await new Promise<void>((resolve, reject) => {
      msg.on('data', (c: Buffer) => {
        size += c.length;
        if (size > max) {
          msg.destroy();
          reject(new HttpError(`${where}: response larger than ${max} bytes`, 'too-large', { retryable: false }));
          return;
        }
        chunks.push(c);
      });
      msg.on('end', () => resolve());
      msg.on('aborted', () => reject(new HttpError(`${where}: connection closed mid-response`, 'network', { retryable: true })));
      msg.on('error', (e) => reject(new HttpError(`${where}: ${e.message}`, 'network', { retryable: true })));
    });
    if (msg.complete === false) throw new HttpError(`${where}: connection closed mid-response`, 'network', { retryable: true });
    const body = Buffer.concat(chunks);
    const status = msg.statusCode ?? 0;
    const response: HttpResponse = {
      status,
      headers: msg.headers,
      body,
      text: () => body.toString('utf8'),
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
      attempts: attempt,
      elapsedMs: Date.now() - started,
    };
    return { response, destroy: () => msg.destroy() };
  })();
  try {
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        aborted = true;
        client.dispose();
        reject(new HttpError(`${where}: no complete response within ${Math.round(timeoutMs / 100) / 10}s`, 'timeout', { retryable: true }));
      }, timeoutMs);
    });
    const { response } = await Promise.race([exchange, deadline]);
    return response;
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (aborted) throw new HttpError(`${where}: timed out`, 'timeout', { retryable: true });
    const code = (e as NodeJS.ErrnoException)?.code;
    const m = e instanceof Error ? e.message : String(e);
    throw new HttpError(`${where}: ${code ?? m}`, 'network', { retryable: true });
  } finally {
    if (timer) clearTimeout(timer);
    exchange.catch(() => undefined);
  }
}

/**
 * Sends the request; resolves with any final response (the caller decides what a 4xx means),
 * except that retryable statuses are retried and, when tries run out, rejected as HttpError.
 */
export async function request(req: HttpRequest): Promise<HttpResponse> {
  return retry(
    async (attempt) => {
      const res = await once(req, attempt);
      if (isRetryableStatus(res.status, req.retryStatuses)) {
        throw new HttpError(`${(req.method ?? 'GET').toUpperCase()} ${safeUrl(req.url)}: HTTP ${res.status}`, 'status', {
          status: res.status,
          retryable: true,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
          response: res,
        });
      }
      return res;
    },
    { baseMs: 500, maxMs: 30_000, ...req.retry, attempts: req.attempts ?? 3 },
  );
}
