import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, HttpError, parseRetryAfter, retry } from '@hallmark/kit';
import { http } from '@hallmark/kit/runner';
import { startServer, type TestServer } from '../harness/server.js';

describe('retry', () => {
  it('stops after the bounded number of tries and rethrows the last error', async () => {
    let n = 0;
    const delays: number[] = [];
    await expect(
      retry(
        async () => {
          n++;
          throw Object.assign(new Error(`fail ${n}`), { retryable: true });
        },
        { attempts: 4, baseMs: 100, maxMs: 1000, sleep: async (ms) => void delays.push(ms), random: () => 0.5 },
      ),
    ).rejects.toThrow('fail 4');
    expect(n).toBe(4);
    expect(delays).toEqual([75, 150, 300]);
  });

  it('honours Retry-After over backoff, capped by maxMs', async () => {
    const delays: number[] = [];
    let n = 0;
    const v = await retry(
      async () => {
        if (++n < 3) throw Object.assign(new Error('429'), { retryable: true, retryAfterMs: n === 1 ? 2000 : 99_000 });
        return 'ok';
      },
      { attempts: 5, maxMs: 10_000, sleep: async (ms) => void delays.push(ms) },
    );
    expect(v).toBe('ok');
    expect(delays).toEqual([2000, 10_000]);
  });

  it('does not retry errors that are not retryable', async () => {
    let n = 0;
    await expect(
      retry(
        async () => {
          n++;
          throw new Error('bad');
        },
        { attempts: 3 },
      ),
    ).rejects.toThrow('bad');
    expect(n).toBe(1);
  });

  it('parses Retry-After seconds and dates; backoff grows and is capped', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(backoffDelay(1, 1000, 5000, () => 1)).toBe(1000);
    expect(backoffDelay(10, 1000, 5000, () => 1)).toBe(5000);
    expect(backoffDelay(3, 1000, 60_000, () => 0)).toBe(2000);
  });
});

describe('http.request against a loopback server', () => {
  let s: TestServer;
  const hits = new Map<string, number>();
  beforeAll(async () => {
    s = await startServer((req, res) => {
      const n = (hits.get(req.path) ?? 0) + 1;
      hits.set(req.path, n);
      if (req.path === '/flaky') {
        if (n < 3) {
          res.writeHead(503);
          res.end('busy');
          return;
        }
        res.writeHead(200);
        res.end('ok');
        return;
      }
      if (req.path === '/ratelimited') {
        if (n === 1) {
          res.writeHead(429, { 'retry-after': '1' });
          res.end();
          return;
        }
        res.writeHead(200);
        res.end('after');
        return;
      }
      if (req.path === '/truncated') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('only part');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      if (req.path === '/drip') {
        res.writeHead(200);
        const t = setInterval(() => {
          if (res.writableEnded || res.destroyed) clearInterval(t);
          else res.write('.');
        }, 50);
        res.on('close', () => clearInterval(t));
        return;
      }
      if (req.path === '/echo') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body: req.text }));
        return;
      }
      res.writeHead(404);
      res.end('nope');
    });
  });
  afterAll(() => s.close());

  it('retries 5xx until success', async () => {
    const r = await http.request({ url: `${s.url}/flaky`, attempts: 3, retry: { baseMs: 10 } });
    expect(r.status).toBe(200);
    expect(r.attempts).toBe(3);
  });

  it('waits as Retry-After asks on 429', async () => {
    const slept: number[] = [];
    const r = await http.request({ url: `${s.url}/ratelimited`, attempts: 2, retry: { sleep: async (ms) => void slept.push(ms) } });
    expect(r.text()).toBe('after');
    expect(slept).toEqual([1000]);
  });

  it('returns 4xx to the caller without retrying', async () => {
    const before = hits.get('/missing') ?? 0;
    const r = await http.request({ url: `${s.url}/missing`, attempts: 3 });
    expect(r.status).toBe(404);
    expect((hits.get('/missing') ?? 0) - before).toBe(1);
  });

  it('a truncated body is an error, retried, then thrown', async () => {
    const err = await http.request({ url: `${s.url}/truncated`, attempts: 2, retry: { baseMs: 10 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).kind).toBe('network');
    expect(hits.get('/truncated')).toBe(2);
  });

  it('a server that drips bytes hits the whole-exchange deadline', async () => {
    const err = await http.request({ url: `${s.url}/drip`, attempts: 1, timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).kind).toBe('timeout');
  });

  it('a refused connection is a network error', async () => {
    const err = await http.request({ url: 'http://127.0.0.1:9/', attempts: 2, retry: { baseMs: 10 } }).catch((e: unknown) => e);
    expect((err as HttpError).kind).toBe('network');
    expect((err as HttpError).message).not.toContain('?');
  });

  it('sends bodies (string and Buffer)', async () => {
    const a = await http.request({ url: `${s.url}/echo`, method: 'POST', body: 'hi' });
    expect(a.json()).toEqual({ method: 'POST', body: 'hi' });
    const b = await http.request({ url: `${s.url}/echo`, method: 'PUT', body: Buffer.from('bytes') });
    expect(b.json()).toEqual({ method: 'PUT', body: 'bytes' });
  });
});

describe('http.request redirects', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    b = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`b:${req.method}:${req.headers.authorization ?? 'no-auth'}`);
    });
    a = await startServer((req, res) => {
      const path = req.url ?? '/';
      if (path === '/rel') {
        res.writeHead(302, { location: '../final?x=1' });
        res.end();
        return;
      }
      if (path === '/final?x=1') {
        res.writeHead(200);
        res.end(`a:${req.method}:${req.headers.authorization ?? 'no-auth'}`);
        return;
      }
      if (path === '/cross') {
        res.writeHead(307, { location: `${b.url}/landed` });
        res.end();
        return;
      }
      if (path === '/see-other') {
        res.writeHead(303, { location: '/final?x=1' });
        res.end();
        return;
      }
      if (path.startsWith('/loop')) {
        res.writeHead(302, { location: `/loop${path.length}` });
        res.end();
        return;
      }
      if (path === '/file') {
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('follows a relative Location against the current URL, keeping same-origin credentials', async () => {
    const r = await http.request({ url: `${a.url}/dir/../rel`, headers: { Authorization: 'Bearer same' } });
    expect(r.status).toBe(200);
    expect(r.text()).toBe('a:GET:Bearer same');
  });

  it('drops Authorization when a redirect leaves the origin', async () => {
    const r = await http.request({ url: `${a.url}/cross`, headers: { Authorization: 'Bearer secret' } });
    expect(r.text()).toBe('b:GET:no-auth');
    expect(b.requests.some((q) => q.headers.authorization)).toBe(false);
  });

  it('turns a POST into a GET on 303, and refuses loops and non-HTTP schemes', async () => {
    const r = await http.request({ url: `${a.url}/see-other`, method: 'POST', body: 'x' });
    expect(r.text()).toBe('a:GET:no-auth');
    await expect(http.request({ url: `${a.url}/loop`, attempts: 1 })).rejects.toThrow(/more than 5 redirects/);
    await expect(http.request({ url: `${a.url}/file`, attempts: 1 })).rejects.toThrow(/unsupported scheme file:/);
  });

  it('returns the 3xx itself when redirects are off', async () => {
    const r = await http.request({ url: `${a.url}/rel`, followRedirects: false });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('../final?x=1');
  });
});
