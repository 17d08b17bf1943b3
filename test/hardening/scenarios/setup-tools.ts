/**
 * setup-tools under the hardening suites. Releases are built by test/setup-tools/mirror.ts
 * (`buildRelease`: vendor layout, real checksum formats) and served by a loopback mirror of our
 * own with more faults than the bundle tests use: cut mid-body, reset before the headers, headers
 * that never come, a body dripped slower than the deadline, 5xx streaks, 403/429 with Retry-After.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { expect } from 'vitest';
import { runAction, runnerHome, type ActionResult, type RunnerHome } from '../../harness/runner.js';
import { startServer, type RecordedRequest, type TestServer } from '../../harness/server.js';
import { buildRelease, DEFAULTS, listTree, sha256, type Release, type Tool } from '../../setup-tools/mirror.js';
import type { ActionHardening } from './types.js';

type Fault =
  | { status: number; retryAfter?: string; body?: string }
  | { cut: true }
  | { reset: true }
  | { silent: true }
  | { drip: number }
  | { body: Buffer | string };

let work: string;
let files: Map<string, Buffer>;
const releases = new Map<Tool, Release>();
const faults = new Map<string, Fault[]>();
let server: TestServer;

const asset = (t: Tool) => `/${t}/${DEFAULTS[t]}/${(releases.get(t) as Release).asset}`;
const checksum = (t: Tool) => `/${t}/${DEFAULTS[t]}/${(releases.get(t) as Release).checksum}`;

function handler(req: RecordedRequest, res: ServerResponse, raw: IncomingMessage): void {
  const mirrorPath = req.path.replace(/^\/m\d+/, '');
  // Faults are queued per run (prefix) and path, so runs in parallel never take each other's.
  const f = faults.get(req.path)?.shift();
  if (f && 'reset' in f) {
    raw.socket.destroy();
    return;
  }
  if (f && 'silent' in f) return; // never answers; the connection stays open
  if (f && 'status' in f) {
    res.writeHead(f.status, { 'content-type': 'text/plain', ...(f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}) });
    res.end(f.body ?? `mirror says ${f.status}`);
    return;
  }
  const body = f && 'body' in f ? Buffer.from(f.body) : files.get(mirrorPath);
  if (!body) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
  if (f && 'cut' in f) {
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => raw.socket.destroy(), 10));
    return;
  }
  if (f && 'drip' in f) {
    let i = 0;
    const t = setInterval(() => {
      if (raw.socket.destroyed || i >= body.length) {
        clearInterval(t);
        if (!raw.socket.destroyed) res.end();
        return;
      }
      res.write(body.subarray(i, i + 1));
      i++;
    }, f.drip);
    raw.socket.on('close', () => clearInterval(t));
    return;
  }
  res.end(body);
}

/** Each run gets its own path prefix on the one server, so requests can be told apart. */
let runs = 0;
function mirrorFor(queue: [string, Fault[]][] = []): { url: string; requests: () => RecordedRequest[] } {
  const prefix = `/m${++runs}`;
  for (const [path, f] of queue) faults.set(`${prefix}${path}`, f);
  return { url: `${server.url}${prefix}`, requests: () => server.requests.filter((q) => q.path.startsWith(`${prefix}/`)) };
}

async function setup(
  tools: string,
  o: { inputs?: Record<string, string>; env?: Record<string, string>; home?: RunnerHome; faults?: [string, Fault[]][] } = {},
): Promise<{ r: ActionResult; requests: RecordedRequest[]; home: RunnerHome }> {
  const m = mirrorFor(o.faults);
  const home = o.home ?? runnerHome('hallmark-hard-st-');
  const r = await runAction('setup-tools', {
    home,
    // The test mirror carries no vendor signatures: these scenarios exercise the checksum path.
    inputs: { tools, mirror: m.url, verify: 'checksum', 'retry-delay': '20ms', 'download-timeout': '3s', retries: '2', ...o.inputs },
    env: o.env,
    timeoutMs: 45_000,
  });
  return { r, requests: m.requests(), home };
}

/** Runs `tool` from the PATH entries the step added (as a later step would). */
function runFromPath(r: ActionResult, tool: string): string {
  const p = spawnSync(tool, [], { env: { PATH: `${[...r.path].reverse().join(':')}:/usr/bin:/bin` }, encoding: 'utf8' });
  return (p.stdout ?? '').trim();
}

/** After a failed install: nothing on PATH, nothing of the tool in the tool cache, no partial file left in RUNNER_TEMP. */
function nothingHalfInstalled(r: ActionResult, home: RunnerHome, tool: Tool): void {
  expect(r.path, 'nothing added to PATH').toEqual([]);
  expect(
    listTree(home.toolCache).filter((f) => f.startsWith(tool)),
    'nothing in the tool cache',
  ).toEqual([]);
  expect(
    listTree(home.temp).filter((f) =>
      /\.part$|\.tar\.gz$|\.zip$|\/(cosign|kubectl|syft|trivy|helm|terraform|kyverno)(-[a-z0-9_-]+)?$/.test(f),
    ),
    'no partial or unverified file left in RUNNER_TEMP',
  ).toEqual([]);
}

const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN', 'env:ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );

const hardening: ActionHardening = {
  action: 'setup-tools',
  async start() {
    work = mkdtempSync(join(tmpdir(), 'hallmark-hard-mirror-'));
    files = new Map();
    for (const t of ['cosign', 'kubectl', 'syft', 'terraform', 'helm'] as Tool[])
      releases.set(t, buildRelease(work, t, DEFAULTS[t], files));
    server = await startServer(handler);
  },
  async stop() {
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'install from the mirror with runner tokens in the environment (success)',
      labels: ENV_CANARIES,
      expect: { code: 0 },
      async run(c) {
        const m = mirrorFor();
        const r = await runAction('setup-tools', {
          inputs: { tools: 'kubectl, cosign', mirror: m.url, verify: 'checksum', 'retry-delay': '20ms' },
          env: envOf(c),
          timeoutMs: 45_000,
        });
        expect(runFromPath(r, 'kubectl')).toBe(releases.get('kubectl')?.banner);
        return { result: r, servers: [{ name: 'mirror', requests: m.requests }] };
      },
    },
    {
      name: 'tampered archive with runner tokens in the environment (checksum-mismatch)',
      labels: ENV_CANARIES,
      expect: { code: 1, reason: 'checksum-mismatch' },
      async run(c) {
        const m = mirrorFor([[asset('syft'), [{ body: 'not syft at all' }]]]);
        const r = await runAction('setup-tools', {
          inputs: { tools: 'syft', mirror: m.url, verify: 'checksum', retries: '0' },
          env: envOf(c),
          timeoutMs: 45_000,
        });
        return { result: r, servers: [{ name: 'mirror', requests: m.requests }] };
      },
    },
    {
      name: 'mirror unreachable (download-failed) with runner tokens in the environment',
      labels: ENV_CANARIES,
      expect: { code: 1, reason: 'download-failed' },
      async run(c) {
        const m = mirrorFor([[checksum('helm'), [{ status: 500, body: 'internal error' }]]]);
        const r = await runAction('setup-tools', {
          inputs: { tools: 'helm', mirror: m.url, retries: '0' },
          env: envOf(c),
          timeoutMs: 45_000,
        });
        return { result: r, servers: [{ name: 'mirror', requests: m.requests }] };
      },
    },
    {
      name: 'a malformed mirror URL carrying credentials is refused without echoing them',
      labels: ['mirror-password'],
      expect: { code: 1, reason: 'invalid-input' },
      async run(c) {
        const m = mirrorFor();
        const r = await runAction('setup-tools', {
          inputs: { tools: 'kubectl', mirror: `https://ci:${c['mirror-password']}@mirror .example.com/tools` },
          timeoutMs: 30_000,
        });
        expect(r.errors[0]).toMatch(/^setup-tools: input 'mirror' /);
        return { result: r, servers: [{ name: 'mirror', requests: m.requests }] };
      },
    },
  ],

  injection: [
    {
      name: 'payload in the tools input',
      kind: 'workflow',
      run: async (p) => ({ result: (await setup(`cosign, ${p.payload}`)).r }),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('invalid-input'),
    },
    {
      name: 'payload in the mirror 404 body',
      kind: 'workflow',
      async run(p) {
        const s = await setup('cosign', { inputs: { retries: '0' }, faults: [[asset('cosign'), [{ status: 404, body: p.payload }]]] });
        return { result: s.r };
      },
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('download-failed'),
    },
    {
      name: 'payload as the checksum file',
      kind: 'workflow',
      async run(p) {
        return {
          result: (await setup('cosign', { inputs: { retries: '0' }, faults: [[checksum('cosign'), [{ body: `${p.payload}\n` }]]] })).r,
        };
      },
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('checksum-mismatch'),
    },
    {
      name: 'payload as a 503 body that is retried',
      kind: 'workflow',
      async run(p) {
        return { result: (await setup('kubectl', { faults: [[asset('kubectl'), [{ status: 503, body: p.payload }]]] })).r };
      },
      check: (o) => expect(o.result.code).toBe(0),
    },
    {
      name: 'shell payload in the mirror path reaches HTTP as a path, not a shell',
      kind: 'shell',
      async run(p) {
        const m = mirrorFor();
        const r = await runAction('setup-tools', {
          inputs: { tools: 'kubectl', mirror: `${m.url}/${p.payload}`, retries: '0' },
          timeoutMs: 30_000,
        });
        return { result: r, blobs: m.requests().map((q) => ({ name: q.url, data: q.url })) };
      },
      check: (o) => {
        // Either refused as an input, or fetched (and 404: the mirror has nothing there).
        if (o.result.outputs['failure-reason'] === 'invalid-input') return;
        expect(o.result.outputs['failure-reason']).toBe('download-failed');
        expect(o.blobs?.length).toBeGreaterThan(0);
      },
    },
  ],

  faults: [
    {
      name: 'download cut mid-body once: retried, then installed and verified',
      async run() {
        const { r, requests } = await setup('terraform', { faults: [[asset('terraform'), [{ cut: true }]]] });
        expect(r.code, r.stdout).toBe(0);
        expect(requests.filter((q) => q.path.endsWith(asset('terraform')))).toHaveLength(2);
        expect(runFromPath(r, 'terraform')).toBe(releases.get('terraform')?.banner);
      },
    },
    {
      name: 'download cut mid-body on every try: download-failed after retries+1 tries, nothing half-installed',
      async run() {
        const { r, requests, home } = await setup('terraform', {
          faults: [[asset('terraform'), [{ cut: true }, { cut: true }, { cut: true }, { cut: true }]]],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(requests.filter((q) => q.path.endsWith(asset('terraform')))).toHaveLength(3);
        nothingHalfInstalled(r, home, 'terraform');
      },
    },
    {
      name: 'connection reset before the headers on every try: download-failed, bounded, nothing half-installed',
      async run() {
        const { r, requests, home } = await setup('cosign', {
          faults: [[asset('cosign'), [{ reset: true }, { reset: true }, { reset: true }, { reset: true }]]],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(requests.filter((q) => q.path.endsWith(asset('cosign')))).toHaveLength(3);
        nothingHalfInstalled(r, home, 'cosign');
      },
    },
    {
      name: 'connection reset once: retried and installed',
      async run() {
        const { r } = await setup('cosign', { faults: [[checksum('cosign'), [{ reset: true }]]] });
        expect(r.code, r.stdout).toBe(0);
        expect(runFromPath(r, 'cosign')).toBe(releases.get('cosign')?.banner);
      },
    },
    {
      name: 'slow-loris: a body dripped past the deadline is abandoned each try; download-failed, nothing half-installed',
      async run() {
        const { r, requests, home } = await setup('syft', {
          inputs: { 'download-timeout': '700ms', retries: '1' },
          faults: [[asset('syft'), [{ drip: 100 }, { drip: 100 }]]],
        });
        expect(r.timedOut, 'the step ended by itself').toBe(false);
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(r.stdout).toMatch(/no complete response within 0\.7s/);
        expect(requests.filter((q) => q.path.endsWith(asset('syft')))).toHaveLength(2);
        nothingHalfInstalled(r, home, 'syft');
      },
    },
    {
      name: 'headers that never come: the per-try deadline holds, then retried and installed',
      async run() {
        const { r, requests } = await setup('kubectl', {
          inputs: { 'download-timeout': '700ms' },
          faults: [[asset('kubectl'), [{ silent: true }]]],
        });
        expect(r.timedOut).toBe(false);
        expect(r.code, r.stdout).toBe(0);
        expect(requests.filter((q) => q.path.endsWith(asset('kubectl')))).toHaveLength(2);
        expect(runFromPath(r, 'kubectl')).toBe(releases.get('kubectl')?.banner);
      },
    },
    {
      name: '5xx streak longer than the retries: exactly retries+1 tries, download-failed',
      async run() {
        const { r, requests, home } = await setup('helm', {
          faults: [[asset('helm'), [{ status: 502 }, { status: 503 }, { status: 500 }, { status: 504 }]]],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(requests.filter((q) => q.path.endsWith(asset('helm')))).toHaveLength(3);
        nothingHalfInstalled(r, home, 'helm');
      },
    },
    {
      name: '5xx streak shorter than the retries: installed',
      async run() {
        const { r, requests } = await setup('helm', { faults: [[asset('helm'), [{ status: 502 }, { status: 503 }]]] });
        expect(r.code, r.stdout).toBe(0);
        expect(requests.filter((q) => q.path.endsWith(asset('helm')))).toHaveLength(3);
        expect(runFromPath(r, 'helm')).toBe(releases.get('helm')?.banner);
      },
    },
    {
      name: '429 with Retry-After: 1 waits as asked (not the 20ms backoff), then installs',
      async run() {
        const { r } = await setup('kubectl', { faults: [[asset('kubectl'), [{ status: 429, retryAfter: '1' }]]] });
        expect(r.code, r.stdout).toBe(0);
        expect(r.stdout).toMatch(/HTTP 429; retry 1\/2 in 1\.0s as the server asked \(Retry-After\)/);
      },
    },
    {
      name: '403 with Retry-After (a rate limit or a refusal): bounded, download-failed, nothing half-installed',
      async run() {
        const { r, requests, home } = await setup('syft', {
          faults: [
            [
              asset('syft'),
              [
                { status: 403, retryAfter: '1' },
                { status: 403, retryAfter: '1' },
                { status: 403, retryAfter: '1' },
              ],
            ],
          ],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(requests.filter((q) => q.path.endsWith(asset('syft'))).length).toBeLessThanOrEqual(3);
        nothingHalfInstalled(r, home, 'syft');
      },
    },
    {
      name: 'checksum file cut mid-body on every try: download-failed before the asset is fetched',
      async run() {
        const { r, requests, home } = await setup('kubectl', {
          faults: [[checksum('kubectl'), [{ cut: true }, { cut: true }, { cut: true }]]],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        expect(requests.some((q) => q.path.endsWith(asset('kubectl')))).toBe(false);
        nothingHalfInstalled(r, home, 'kubectl');
      },
    },
    {
      name: 'a served archive that differs on the retry after a cut is still verified against the checksum',
      async run() {
        const { r, home } = await setup('cosign', { faults: [[asset('cosign'), [{ cut: true }, { body: 'evil cosign' }]]] });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('checksum-mismatch');
        expect(r.errors[0]).toContain(sha256('evil cosign'));
        nothingHalfInstalled(r, home, 'cosign');
      },
    },
    {
      name: 'one tool failing among several: PATH untouched, the failing tool not cached',
      async run() {
        const { r, home } = await setup('kubectl, syft', {
          faults: [[asset('syft'), [{ status: 500 }, { status: 500 }, { status: 500 }]]],
        });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('download-failed');
        nothingHalfInstalled(r, home, 'syft');
        expect(existsSync(join(home.toolCache, 'kubectl'))).toBe(true);
      },
    },
  ],
};

export default hardening;
