/**
 * smoke-test under the hardening suites, against loopback servers of our own. Secrets reach
 * smoke-test through the step's `env:` and `${NAME}` in the check file: the canary is such a
 * variable, meant only for the Authorization header of the checked service.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runAction, runnerHome } from '../../harness/runner.js';
import { startServer, type RecordedRequest, type TestServer } from '../../harness/server.js';
import { argvStandIn, readArgvLog } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let app: TestServer;
let other: TestServer;
let scratch: string;
let bin: string;
/** Per-path behaviour queued by scenarios (path → responder), consumed in order. */
type Responder = (req: RecordedRequest, res: import('node:http').ServerResponse, raw: import('node:http').IncomingMessage) => void;
const routes = new Map<string, Responder[]>();
let seq = 0;
const path = (name: string) => `/${name}-${++seq}`;

function defaultRoute(req: RecordedRequest, res: import('node:http').ServerResponse): void {
  if (req.path.startsWith('/echo')) {
    // A debug endpoint that reflects the request headers (as many do): the token comes back in the body.
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'denied', seen: req.headers }));
    return;
  }
  if (req.path.startsWith('/cross')) {
    res.writeHead(302, { location: `${other.url.replace('127.0.0.1', 'localhost')}/landing` });
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"up"}');
}

async function smoke(checks: string, env: Record<string, string> = {}, inputs: Record<string, string> = {}): Promise<Outcome> {
  const home = runnerHome('hallmark-hard-smoke-');
  const markA = app.requests.length;
  const markB = other.requests.length;
  const r = await runAction('smoke-test', {
    home,
    inputs: { checks, retries: '0', interval: '10ms', timeout: '2s', junit: 'smoke-junit.xml', ...inputs },
    env,
    timeoutMs: 30_000,
  });
  const reports = ['smoke-report.json', 'smoke-junit.xml'].map((f) => {
    try {
      return { name: f, data: readFileSync(join(home.workspace, f), 'utf8') };
    } catch {
      return { name: f, data: '' };
    }
  });
  return {
    result: r,
    blobs: reports,
    servers: [
      {
        name: 'app',
        requests: () => app.requests.slice(markA),
        allow: [{ label: 'env:API_TOKEN', header: 'authorization', path: /^\/(auth|echo|cross)/ }],
      },
      { name: 'other origin', requests: () => other.requests.slice(markB) },
    ],
  };
}

const hardening: ActionHardening = {
  action: 'smoke-test',
  async start() {
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-smoke-'));
    bin = join(scratch, 'bin');
    argvStandIn(bin, 'probe');
    const handler = (req: RecordedRequest, res: import('node:http').ServerResponse, raw: import('node:http').IncomingMessage) => {
      const r = routes.get(req.path)?.shift();
      if (r) return r(req, res, raw);
      defaultRoute(req, res);
    };
    app = await startServer(handler);
    other = await startServer(handler);
  },
  async stop() {
    await app?.close();
    await other?.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'a check with the token in its Authorization header passes',
      labels: ['env:API_TOKEN'],
      expect: { code: 0 },
      async run(c) {
        const o = await smoke(
          `checks:\n  - name: auth\n    http: { url: "${app.url}/auth", headers: { Authorization: "Bearer \${API_TOKEN}" } }\n`,
          { API_TOKEN: c['env:API_TOKEN'] as string },
        );
        expect(app.requests.some((q) => q.headers.authorization === `Bearer ${c['env:API_TOKEN']}`)).toBe(true);
        return o;
      },
    },
    {
      name: 'a service that reflects the token in its error body (checks-failed): report, JUnit and log stay clean',
      labels: ['env:API_TOKEN'],
      expect: { code: 1, reason: 'checks-failed' },
      run: (c) =>
        smoke(
          `checks:\n  - name: echo\n    http: { url: "${app.url}/echo", headers: { Authorization: "Bearer \${API_TOKEN}" }, expect: { body-contains: ok } }\n`,
          { API_TOKEN: c['env:API_TOKEN'] as string },
        ),
    },
    {
      name: 'a redirect to another origin does not carry the token along',
      labels: ['env:API_TOKEN'],
      expect: { code: 0 },
      run: (c) =>
        smoke(`checks:\n  - name: cross\n    http: { url: "${app.url}/cross", headers: { Authorization: "Bearer \${API_TOKEN}" } }\n`, {
          API_TOKEN: c['env:API_TOKEN'] as string,
        }),
    },
    {
      name: 'a redirect to another origin does not carry a custom secret header (X-Api-Key) along either',
      labels: ['env:API_TOKEN'],
      expect: { code: 0 },
      async run(c) {
        const o = await smoke(
          `checks:\n  - name: cross-custom\n    http: { url: "${app.url}/cross", headers: { X-Api-Key: "\${API_TOKEN}" } }\n`,
          { API_TOKEN: c['env:API_TOKEN'] as string },
        );
        o.servers = [
          { name: 'app', requests: o.servers![0]!.requests, allow: [{ label: 'env:API_TOKEN', header: 'x-api-key', path: /^\/cross/ }] },
          o.servers![1]!,
        ];
        return o;
      },
    },
    {
      name: 'a secret-named variable in a URL query (checks-failed)',
      labels: ['env:API_TOKEN'],
      expect: { code: 1, reason: 'checks-failed' },
      async run(c) {
        const p = path('q');
        routes.set(p, [(_q, res) => (res.writeHead(500), res.end('no'))]);
        const o = await smoke(`checks:\n  - name: query\n    http: { url: "${app.url}${p}?key=\${API_TOKEN}" }\n`, {
          API_TOKEN: c['env:API_TOKEN'] as string,
        });
        // The query is where this secret is meant to go: allow it there, and only there.
        o.servers = [
          {
            name: 'app',
            requests: () => app.requests.filter((q) => q.path === p),
            allow: [{ label: 'env:API_TOKEN', header: ':url', path: new RegExp(`^${p}$`) }],
          },
        ];
        return o;
      },
    },
  ],

  injection: [
    {
      name: 'payload as the response body of a failing check (quoted in report and error)',
      kind: 'workflow',
      async run(p) {
        const at = path('body');
        routes.set(at, [(_q, res) => (res.writeHead(200, { 'content-type': 'text/plain' }), res.end(p.payload))]);
        return smoke(`checks:\n  - name: body\n    http: { url: "${app.url}${at}", expect: { body-contains: healthy } }\n`);
      },
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('checks-failed'),
    },
    {
      name: 'payload as a JSON field the check compares',
      kind: 'workflow',
      async run(p) {
        const at = path('json');
        routes.set(at, [
          (_q, res) => (res.writeHead(200, { 'content-type': 'application/json' }), res.end(JSON.stringify({ status: p.payload }))),
        ]);
        return smoke(`checks:\n  - name: json\n    http: { url: "${app.url}${at}", expect: { json: { path: status, equals: up } } }\n`);
      },
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('checks-failed'),
    },
    {
      name: 'payload as the check name and as a program’s output',
      kind: 'workflow',
      async run(p) {
        const log = join(scratch, `argv-${p.tag}-${++seq}.jsonl`);
        return smoke(`checks:\n  - name: ${JSON.stringify(p.payload)}\n    exec: [ ${JSON.stringify(join(bin, 'probe'))}, "x" ]\n`, {
          HARDENING_ARGV_LOG: log,
          HARDENING_STDOUT: p.payload,
          HARDENING_STDERR: p.payload,
          HARDENING_EXIT: '1',
        });
      },
    },
    {
      name: 'payload in the url input (refused)',
      kind: 'workflow',
      run: (p) => smoke('', {}, { checks: '', url: `${app.url}/x${p.payload}` }),
    },
    {
      name: 'shell payload in an exec check reaches the program as one argument (literally and through ${VAR})',
      kind: 'shell',
      async run(p) {
        const log = join(scratch, `argv-${p.tag}-${++seq}.jsonl`);
        const o = await smoke(
          `checks:\n  - name: probe\n    exec: [ ${JSON.stringify(join(bin, 'probe'))}, ${JSON.stringify(p.payload)}, "\${PAYLOAD}" ]\n`,
          { HARDENING_ARGV_LOG: log, PAYLOAD: p.payload },
        );
        return { ...o, calls: readArgvLog(log) };
      },
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'bad-checks-file') return;
        expect(o.result.code, o.result.stdout).toBe(0);
        expect(o.calls?.[0]?.argv).toEqual([p.payload, p.payload]);
      },
    },
  ],

  faults: [
    {
      name: 'a server that drips its body past the timeout: the try is cut, retried within bounds, checks-failed',
      async run() {
        const at = path('drip');
        const drip: Responder = (_q, res, raw) => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          const t = setInterval(() => (raw.socket.destroyed ? clearInterval(t) : res.write('.')), 100);
          raw.socket.on('close', () => clearInterval(t));
        };
        routes.set(at, [drip, drip, drip]);
        const o = await smoke(`checks:\n  - name: drip\n    http: { url: "${app.url}${at}" }\n    retries: 1\n    timeout: 500ms\n`);
        expect(o.result.timedOut).toBe(false);
        expect(o.result.outputs['failure-reason']).toBe('checks-failed');
        expect(app.requests.filter((q) => q.path === at)).toHaveLength(2);
      },
    },
    {
      name: 'connection reset then 200: retried and passes',
      async run() {
        const at = path('reset');
        routes.set(at, [(_q, _res, raw) => raw.socket.destroy()]);
        const o = await smoke(`checks:\n  - name: reset\n    http: { url: "${app.url}${at}" }\n    retries: 2\n`);
        expect(o.result.code, o.result.stdout).toBe(0);
        expect(app.requests.filter((q) => q.path === at)).toHaveLength(2);
      },
    },
    {
      name: '5xx streak longer than the retries: exactly retries+1 tries, checks-failed, report written',
      async run() {
        const at = path('5xx');
        const fail: Responder = (_q, res) => (res.writeHead(503), res.end('down'));
        routes.set(at, [fail, fail, fail, fail]);
        const o = await smoke(`checks:\n  - name: down\n    http: { url: "${app.url}${at}" }\n    retries: 2\n`);
        expect(o.result.outputs['failure-reason']).toBe('checks-failed');
        expect(app.requests.filter((q) => q.path === at)).toHaveLength(3);
        expect(JSON.parse(String(o.blobs?.[0]?.data)).checks[0].result).toBe('fail');
      },
    },
    {
      name: 'a body cut mid-way (Content-Length larger than sent) is a failed try, not a pass',
      async run() {
        const at = path('cut');
        const cut: Responder = (_q, res, raw) => {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"status":"up"', () => setTimeout(() => raw.socket.destroy(), 10));
        };
        routes.set(at, [cut, cut]);
        const o = await smoke(
          `checks:\n  - name: cut\n    http: { url: "${app.url}${at}", expect: { json: { path: status, equals: up } } }\n    retries: 1\n`,
        );
        expect(o.result.outputs['failure-reason']).toBe('checks-failed');
        expect(app.requests.filter((q) => q.path === at)).toHaveLength(2);
      },
    },
  ],
};

export default hardening;
