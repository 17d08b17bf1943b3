/**
 * Loopback parts for smoke-test's bundle tests: an HTTP app with flaky, slow, wrong-body,
 * wrong-JSON, redirecting and hostile endpoints; the same app over HTTPS with a self-signed
 * certificate made by openssl for this run; a port that refuses connections; a TCP listener.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

export const TOKEN = `tok-canary-${process.pid}-5e1f`;

export interface Parts {
  app: TestServer;
  tls: TestServer;
  refusedPort: number;
  tcp: { port: number; connections: () => number; close(): Promise<void> };
  /** Requests the app saw for one path. */
  hits(path: string): RecordedRequest[];
  /** Most requests to /hold/* in flight at once. */
  peakHold(): number;
  close(): Promise<void>;
}

export function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-smoke-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startParts(): Promise<Parts> {
  const flaky = new Map<string, number>();
  let holding = 0;
  let peak = 0;
  const pending = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      pending.delete(t);
      fn();
    }, ms);
    pending.add(t);
  };
  let self = '';
  const handler = (req: RecordedRequest, res: import('node:http').ServerResponse) => {
    const p = req.path;
    const send = (status: number, body: string, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain', ...headers });
      res.end(body);
    };
    let m: RegExpExecArray | null;
    if ((m = /^\/flaky\/(.+)$/.exec(p))) {
      const n = (flaky.get(m[1] as string) ?? 0) + 1;
      flaky.set(m[1] as string, n);
      return n <= 2 ? send(503, 'warming up') : send(200, '{"status":"up"}');
    }
    if (p === '/healthz') return send(200, '{"status":"up","db":{"ok":true}}');
    if (p === '/slow') return later(3_000, () => send(200, '{"status":"up"}'));
    if (p === '/wrong-body') return send(200, 'service in maintenance');
    if (p === '/json-down') return send(200, '{"status":"down"}');
    if (p === '/r/1') return send(302, '', { location: '/r/2' });
    if (p === '/r/2') return send(301, '', { location: '3' });
    if (p === '/r/3') return send(307, '', { location: `${self}/r/final` });
    if (p === '/r/final') return send(200, 'arrived ok');
    if (p === '/loop') return send(302, '', { location: '/loop' });
    if (p === '/cross') return send(302, '', { location: `http://localhost:${new URL(self).port}/landing` });
    if (p === '/landing') return send(200, 'landed');
    if (p === '/auth') return req.headers.authorization === `Bearer ${TOKEN}` ? send(200, 'ok') : send(401, 'unauthorized');
    if (p === '/evil')
      return send(500, '::set-output name=hacked::yes\n::add-mask::visible\n::error::forged error\n::stop-commands::x\n##[error]legacy');
    if (p.startsWith('/hold/')) {
      holding++;
      peak = Math.max(peak, holding);
      return later(300, () => {
        holding--;
        send(200, 'ok');
      });
    }
    return send(404, 'not found');
  };
  const app = await startServer(handler);
  self = app.url;
  const keyCert = selfSigned();
  const tls = await startServer(handler, { tls: keyCert });
  const refusedPort = await freePort();
  let conns = 0;
  const tcpServer: NetServer = createNetServer((s) => {
    conns++;
    s.end();
  });
  await new Promise<void>((r) => tcpServer.listen(0, '127.0.0.1', () => r()));
  const tcpPort = (tcpServer.address() as { port: number }).port;
  const tcp = { port: tcpPort, connections: () => conns, close: () => new Promise<void>((r) => tcpServer.close(() => r())) };
  return {
    app,
    tls,
    refusedPort,
    tcp,
    hits: (path) => [...app.requests, ...tls.requests].filter((r) => r.path === path),
    peakHold: () => peak,
    close: async () => {
      for (const t of pending) clearTimeout(t);
      await Promise.all([app.close(), tls.close(), tcp.close()]);
    },
  };
}
