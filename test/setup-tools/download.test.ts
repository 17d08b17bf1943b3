/** The streamed downloader against a loopback server: hashing, truncation, size cap, what is retried. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '@hallmark/kit';
import { download } from '../../actions/setup-tools/src/runner.js';
import { startServer, type TestServer } from '../harness/server.js';

const body = Buffer.from(`${'x'.repeat(200_000)}end`);
const hex = createHash('sha256').update(body).digest('hex');
let server: TestServer;
let dir: string;
let truncatedOnce = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'st-dl-'));
  server = await startServer((req, res, raw) => {
    if (req.path === '/chunked') {
      res.writeHead(200); // no Content-Length: chunked transfer encoding
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    } else if (req.path === '/big') {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
    } else if (req.path === '/redirect') {
      res.writeHead(302, { location: '/big' });
      res.end();
    } else if (req.path === '/redirect-absolute') {
      res.writeHead(301, { location: `${server.url}/big` });
      res.end();
    } else if (req.path === '/loop') {
      res.writeHead(307, { location: '/loop' });
      res.end();
    } else if (req.path === '/truncated-once') {
      res.writeHead(200, { 'content-length': String(body.length) });
      if (truncatedOnce) return void res.end(body);
      truncatedOnce = true;
      res.write(body.subarray(0, 5000), () => setTimeout(() => raw.socket.destroy(), 10));
    } else {
      res.writeHead(404);
      res.end('no');
    }
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const opts = { timeoutMs: 5000, attempts: 3, baseDelayMs: 10 };
const count = (p: string) => server.requests.filter((r) => r.path === p).length;

describe('download', () => {
  it('a chunked body (no Content-Length) is hashed and written whole', async () => {
    const dest = join(dir, 'a');
    const r = await download({ ...opts, url: `${server.url}/chunked`, dest });
    expect(r).toEqual({ bytes: body.length, sha256: hex, attempts: 1 });
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it('follows redirects, absolute (GitHub release assets go to their CDN) and relative (a mirror behind nginx)', async () => {
    for (const p of ['/redirect', '/redirect-absolute']) {
      const r = await download({ ...opts, url: `${server.url}${p}`, dest: join(dir, 'b') });
      expect(r.sha256).toBe(hex);
    }
  });

  it('refuses endless redirects, without retrying', async () => {
    const before = count('/loop');
    const e = await download({ ...opts, url: `${server.url}/loop`, dest: join(dir, 'l') }).catch((x: HttpError) => x);
    expect((e as HttpError).message).toMatch(/more than 5 redirects/);
    expect(count('/loop') - before).toBe(6);
  });

  it('a truncated try is retried; only the whole body lands at dest, no .part file stays', async () => {
    const sub = mkdtempSync(join(dir, 't-'));
    const notes: string[] = [];
    const r = await download({ ...opts, url: `${server.url}/truncated-once`, dest: join(sub, 'c'), onRetry: (e) => notes.push(e.message) });
    expect(r).toEqual({ bytes: body.length, sha256: hex, attempts: 2 });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/(connection closed after \d+ of 200003 bytes|truncated body)/);
    expect(readdirSync(sub)).toEqual(['c']);
  });

  it('404 is not retried', async () => {
    const before = count('/missing');
    const e = await download({ ...opts, url: `${server.url}/missing`, dest: join(dir, 'd') }).catch((x: HttpError) => x);
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(404);
    expect(count('/missing') - before).toBe(1);
  });

  it('a body over maxBytes is refused without retry', async () => {
    const before = count('/big');
    const e = await download({ ...opts, url: `${server.url}/big`, dest: join(dir, 'e'), maxBytes: 1000 }).catch((x: HttpError) => x);
    expect((e as HttpError).kind).toBe('too-large');
    expect(count('/big') - before).toBe(1);
  });
});
