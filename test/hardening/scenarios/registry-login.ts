/**
 * registry-login under the hardening suites. The registry is the REAL Debian docker-registry with
 * htpasswd (Basic) auth (test/harness/registry.ts), reached through a recording forwarding proxy on
 * loopback so the suites see every request the action made (and where the password went). Two
 * parts are SIMULATED, and say so: a registry with a Bearer token service (docker-registry needs a
 * signing token server for that), and registries that misbehave on purpose (5xx, 429, resets,
 * hangs, hostile error bodies and challenge headers) — recording servers, no registry behind them.
 *
 * What the action does (actions/registry-login/src): `GET /v2/`, then the token service or Basic
 * auth on `/v2/`; each GET through the kit's http with a deadline per try (input `timeout`, default 20s) and 3 tries in all
 * (5xx, 408, 429, resets and timeouts retried, Retry-After honoured; 401/403 are final answers);
 * a loopback registry without `insecure` is tried over https first, then plain HTTP. The config
 * (`$RUNNER_TEMP/hallmark-registry-login/config.json`) is written only after a good check and is
 * removed by the post step (the same bundle, run with the main step's state).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { expect } from 'vitest';
import { runAction, type ActionResult, type RunOptions } from '../../harness/runner.js';
import { hasRegistry, startRegistry, type Registry } from '../../harness/registry.js';
import { startServer, type RecordedRequest, type TestServer } from '../../harness/server.js';
import { argvStandIn, readArgvLog } from '../lib.js';
import type { ActionHardening, Watched } from './types.js';

const ACTION = 'registry-login';
const DIR = 'hallmark-registry-login';
const USER = 'ci-bot';
/** The shared registry's password (the wrong-password and fault scenarios; canary runs get their own registry). */
const PASSWORD = `hardening-pw-${randomBytes(6).toString('hex')}`;
const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );
const basicOf = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');
const hostOf = (s: TestServer) => s.url.replace(/^http:\/\//, '');

let scratch: string;
let bin: string;
let shared: Registry;
let registries: Registry[] = [];
let servers: TestServer[] = [];
let seq = 0;

async function htpasswd(user: string, password: string): Promise<string> {
  const bcrypt = (await import('bcryptjs')).default;
  const file = join(scratch, `htpasswd-${++seq}`);
  writeFileSync(file, `${user}:${bcrypt.hashSync(password, 5)}\n`);
  return file;
}

/** A real docker-registry asking `user`/`password` (Basic, htpasswd), stopped by stop(). */
async function realRegistry(user: string, password: string): Promise<Registry> {
  const r = await startRegistry({ htpasswd: await htpasswd(user, password) });
  registries.push(r);
  return r;
}

async function server(handler: (req: RecordedRequest, res: ServerResponse, n: number) => unknown): Promise<TestServer> {
  let n = 0;
  const s = await startServer((req, res) => handler(req, res, ++n));
  servers.push(s);
  return s;
}

/** Forwards one request to the real registry and copies its answer back (status, challenge, body). */
async function forward(target: Registry, req: RecordedRequest, res: ServerResponse): Promise<void> {
  const headers: Record<string, string> = {};
  for (const h of ['authorization', 'accept']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
  const r = await fetch(`${target.url}${req.url}`, { method: req.method, headers });
  const out: Record<string, string> = {};
  for (const h of ['www-authenticate', 'content-type', 'docker-distribution-api-version']) {
    const v = r.headers.get(h);
    if (v) out[h] = v;
  }
  res.writeHead(r.status, out);
  res.end(Buffer.from(await r.arrayBuffer()));
}

/** A recording proxy in front of a real registry; `fault(n)` may answer the n-th request itself (true = handled). */
function proxy(target: Registry, fault?: (req: RecordedRequest, res: ServerResponse, n: number) => boolean): Promise<TestServer> {
  return server(async (req, res, n) => {
    if (fault?.(req, res, n)) return;
    await forward(target, req, res);
  });
}

/** SIMULATED registry with a Bearer token service on the same loopback host (as ghcr.io / Docker Hub work). */
async function bearerRegistry(user: string, password: string, tokenFault?: (res: ServerResponse) => boolean): Promise<TestServer> {
  let self = '';
  const token = randomBytes(12).toString('hex');
  const s = await server((req, res) => {
    if (req.path === '/token') {
      if (tokenFault?.(res)) return;
      const ok = req.headers.authorization === `Basic ${basicOf(user, password)}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(ok ? JSON.stringify({ token, access_token: token }) : '{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    if (req.headers.authorization === `Bearer ${token}`) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
      return;
    }
    res.writeHead(401, { 'www-authenticate': `Bearer realm="${self}/token",service="hallmark-sim"`, 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  });
  self = s.url;
  return s;
}

type Result = ActionResult;

/** Runs the main step with tool stand-ins first on PATH (they record any call: none is expected). */
async function main(
  inputs: Record<string, string>,
  env: Record<string, string> = {},
  opts: Pick<RunOptions, 'timeoutMs'> = {},
): Promise<{ result: Result; log: string }> {
  const log = join(scratch, `argv-${++seq}.jsonl`);
  const result = await runAction(ACTION, {
    inputs,
    env: { PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HARDENING_ARGV_LOG: log, ...env },
    timeoutMs: opts.timeoutMs ?? 60_000,
  });
  return { result, log };
}

/** The post step: the same bundle with the main step's saved state (STATE_*), on the same runner home. */
async function post(r: Result): Promise<Result> {
  const state = Object.fromEntries(Object.entries(r.state).map(([k, v]) => [`STATE_${k}`, v]));
  const p = await runAction(ACTION, { home: r.home, env: state });
  expect(p.code, `post step\n${p.stdout}`).toBe(0);
  expect(p.errors).toEqual([]);
  return p;
}

/** The config the main step wrote: registry → "user:password". */
function writtenAuths(r: Result): Record<string, string> {
  const file = join(r.home.temp, DIR, 'config.json');
  const auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
  return Object.fromEntries(Object.entries(auths).map(([k, v]) => [k, Buffer.from(v.auth, 'base64').toString()]));
}

/** Nothing left behind by a failed login: no config, nothing exported, no state pointing at one, a post step with nothing to remove. */
async function nothingLeft(r: Result): Promise<Result> {
  expect(existsSync(join(r.home.temp, DIR))).toBe(false);
  expect(r.env).toEqual({});
  expect(r.state.dir ?? '').toBe('');
  expect(r.outputs['logged-in'] ?? '').not.toBe('true');
  const p = await post(r);
  expect(p.stdout).toContain('nothing to remove');
  return p;
}

/** Main and post as one outcome: both logs, the main step's runner files (the post step's are scanned as files of the same home). */
function joined(m: Result, p: Result): Result {
  return {
    ...m,
    stdout: `${m.stdout}\n${p.stdout}`,
    stderr: `${m.stderr}\n${p.stderr}`,
    summary: `${m.summary}${p.summary}`,
    commands: [...m.commands, ...p.commands],
    errors: [...m.errors, ...p.errors],
    everything: `${m.everything}\n${p.everything}`,
  };
}

const watch = (s: TestServer, name: string, allow: Watched['allow'] = []): Watched => ({ name, requests: () => s.requests, allow });

/** A recording server that answers every request with `status` (and headers/body), counting them. */
const answering = (status: number, headers: Record<string, string> = {}, body = '') =>
  server((_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });

const hardening: ActionHardening = {
  action: ACTION,
  missing: () => (hasRegistry ? undefined : 'docker-registry is not installed'),
  async start() {
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-reglogin-'));
    bin = join(scratch, 'bin');
    // What a naive login would run (`docker login`, a credential helper, a shell): each records its argv.
    for (const t of ['docker', 'podman', 'buildah', 'skopeo', 'sh', 'bash', 'docker-credential-desktop']) argvStandIn(bin, t);
    registries = [];
    servers = [];
    shared = await realRegistry(USER, PASSWORD);
  },
  async stop() {
    for (const s of servers) await s.close();
    for (const r of registries) await r.stop();
    servers = [];
    registries = [];
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'Basic auth against a real htpasswd docker-registry, then the post step: the password only in the Authorization header, the config gone',
      labels: ['input:password', 'input:github-token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const pw = c['input:password'] as string;
        const reg = await realRegistry(USER, pw);
        const px = await proxy(reg);
        const host = hostOf(px);
        const { result: m, log } = await main(
          { registry: host, username: USER, password: pw, insecure: 'true', 'github-token': c['input:github-token'] as string },
          envOf(c),
        );
        expect(m.errors).toEqual([]);
        expect(m.outputs).toMatchObject({ registry: host, 'logged-in': 'true', 'docker-config': join(m.home.temp, DIR) });
        // The config holds exactly this login (and the base64 form was masked too), then the post step removes it.
        expect(writtenAuths(m)).toEqual({ [host]: `${USER}:${pw}` });
        expect(m.commands.filter((x) => x.command === 'add-mask').map((x) => x.value)).toContain(basicOf(USER, pw));
        // The real registry's verdict: one unauthenticated ping, one Basic request it accepted.
        expect(px.requests.map((q) => [q.path, q.headers.authorization ? 'auth' : 'none'])).toEqual([
          ['/v2/', 'none'],
          ['/v2/', 'auth'],
        ]);
        const p = await post(m);
        expect(p.stdout).toContain("removed the job's registry credentials");
        expect(existsSync(join(m.home.temp, DIR))).toBe(false);
        expect(readArgvLog(log)).toEqual([]);
        return {
          result: joined(m, p),
          servers: [
            watch(px, 'registry (real, via recording proxy)', [
              { label: 'basic:ci-bot:password', header: 'authorization', path: /^\/v2\/$/ },
            ]),
          ],
          scan: [reg.dir],
          values: { 'basic:ci-bot:password': basicOf(USER, pw) },
        };
      },
    },
    {
      name: 'a password full of shell and workflow-command characters, checked by a real htpasswd registry: sent byte for byte, masked, no shell ran, nowhere after the post step',
      labels: ['input:password', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const file = join(scratch, `shell-${++seq}`);
        const pw = `${c['input:password']}$(touch ${file})\`touch ${file}\`;x' "; touch ${file} %0A::set-output name=x::y`;
        const reg = await realRegistry(USER, pw);
        const px = await proxy(reg);
        const host = hostOf(px);
        const { result: m, log } = await main({ registry: host, username: USER, password: pw, insecure: 'true' }, envOf(c));
        expect(m.errors).toEqual([]);
        expect(writtenAuths(m)).toEqual({ [host]: `${USER}:${pw}` });
        const p = await post(m);
        expect(existsSync(file)).toBe(false);
        expect(readArgvLog(log)).toEqual([]);
        return {
          result: joined(m, p),
          servers: [
            watch(px, 'registry (real, via recording proxy)', [
              { label: 'basic:ci-bot:password', header: 'authorization', path: /^\/v2\/$/ },
            ]),
          ],
          scan: [reg.dir],
          values: { 'input:password': pw, 'basic:ci-bot:password': basicOf(USER, pw) },
        };
      },
    },
    {
      name: 'wrong password against the real registry: login-failed, the password nowhere, nothing written',
      labels: ['input:password', 'input:github-token', ...ENV_CANARIES],
      expect: { code: 1, reason: 'login-failed' },
      async run(c) {
        const pw = c['input:password'] as string;
        const px = await proxy(shared);
        const host = hostOf(px);
        const { result: m } = await main(
          { registry: host, username: USER, password: pw, insecure: 'true', 'github-token': c['input:github-token'] as string },
          envOf(c),
        );
        expect(m.errors).toEqual([`registry-login: ${host} refused the credentials of '${USER}' (HTTP 401)`]);
        // 401 is the registry's answer, not an outage: not retried.
        expect(px.requests).toHaveLength(2);
        const p = await nothingLeft(m);
        return {
          result: joined(m, p),
          servers: [
            watch(px, 'registry (real, via recording proxy)', [
              { label: 'basic:ci-bot:password', header: 'authorization', path: /^\/v2\/$/ },
            ]),
          ],
          scan: [shared.dir],
          values: { 'basic:ci-bot:password': basicOf(USER, pw) },
        };
      },
    },
    {
      name: "GitHub's registry with the job token (github-registry = a real htpasswd registry): the token only in its Authorization header",
      labels: ['input:github-token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const tok = c['input:github-token'] as string;
        const reg = await realRegistry('octocat', tok);
        const px = await proxy(reg);
        const host = hostOf(px);
        const { result: m } = await main(
          { image: `${host}/octo-org/app:v1`, insecure: 'true', 'github-token': tok, 'github-registry': host },
          envOf(c),
        );
        expect(m.errors).toEqual([]);
        expect(writtenAuths(m)).toEqual({ [host]: `octocat:${tok}` });
        const p = await post(m);
        expect(existsSync(join(m.home.temp, DIR))).toBe(false);
        return {
          result: joined(m, p),
          servers: [
            watch(px, 'registry (real, via recording proxy)', [
              { label: 'basic:octocat:token', header: 'authorization', path: /^\/v2\/$/ },
            ]),
          ],
          scan: [reg.dir],
          values: { 'basic:octocat:token': basicOf('octocat', tok) },
        };
      },
    },
    {
      name: 'SIMULATED Bearer token service: the password only in the Authorization header of /token, never in its URL',
      labels: ['input:password', 'input:github-token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const pw = c['input:password'] as string;
        const reg = await bearerRegistry(USER, pw);
        const { result: m } = await main(
          { registry: hostOf(reg), username: USER, password: pw, insecure: 'true', 'github-token': c['input:github-token'] as string },
          envOf(c),
        );
        expect(m.errors).toEqual([]);
        expect(m.summary).toContain('token service');
        const tokenReq = reg.requests.find((q) => q.path === '/token');
        expect(new URL(tokenReq?.url ?? '/', reg.url).searchParams.get('account')).toBe(USER);
        const p = await post(m);
        return {
          result: joined(m, p),
          servers: [
            watch(reg, 'registry with token service (simulated)', [
              { label: 'basic:ci-bot:password', header: 'authorization', path: /^\/token$/ },
            ]),
          ],
          values: { 'basic:ci-bot:password': basicOf(USER, pw) },
        };
      },
    },
    {
      name: 'job token and another registry: no login, no request, the token nowhere',
      labels: ['input:github-token', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const sink = await answering(401, { 'www-authenticate': 'Basic realm="x"' });
        const { result: m } = await main(
          { registry: hostOf(sink), insecure: 'true', 'github-token': c['input:github-token'] as string },
          envOf(c),
        );
        expect(m.outputs['logged-in']).toBe('false');
        expect(sink.requests).toHaveLength(0);
        const p = await nothingLeft(m);
        return { result: joined(m, p), servers: [watch(sink, 'other registry')] };
      },
    },
    {
      name: 'registry answering 503 throughout: registry-unreachable, the password nowhere',
      labels: ['input:password', 'input:github-token', ...ENV_CANARIES],
      expect: { code: 1, reason: 'registry-unreachable' },
      async run(c) {
        const busy = await answering(503, { 'retry-after': '0' }, 'busy');
        const pw = c['input:password'] as string;
        const { result: m } = await main(
          { registry: hostOf(busy), username: USER, password: pw, insecure: 'true', 'github-token': c['input:github-token'] as string },
          envOf(c),
        );
        const p = await nothingLeft(m);
        return { result: joined(m, p), servers: [watch(busy, 'busy registry')], values: { 'basic:ci-bot:password': basicOf(USER, pw) } };
      },
    },
  ],

  injection: [
    {
      name: 'payloads in registry, image and username are refused in one inert error line, before any request',
      kind: 'workflow',
      async run(p) {
        const sink = await answering(401, { 'www-authenticate': 'Basic realm="x"' });
        const host = hostOf(sink);
        const runs = [
          await main({ registry: p.payload, username: USER, password: PASSWORD, insecure: 'true' }),
          await main({ image: `${host}/octo-org/app:${p.payload}`, username: USER, password: PASSWORD, insecure: 'true' }),
          await main({ registry: host, username: p.payload, password: PASSWORD, insecure: 'true' }),
        ].map((x) => x.result);
        runs.forEach((r, i) => {
          expect(r.outputs['failure-reason'], `run ${i}`).toBe('invalid-input');
          expect(r.errors, `run ${i}`).toHaveLength(1);
          expect(r.errors[0]).toMatch(new RegExp(`^registry-login: input '${['registry', 'image', 'username'][i]}'`));
        });
        expect(sink.requests).toHaveLength(0);
        const [a, b, c] = runs as [Result, Result, Result];
        return {
          result: {
            ...a,
            stdout: [a, b, c].map((r) => r.stdout).join('\n'),
            everything: [a, b, c].map((r) => r.everything).join('\n'),
            commands: [...a.commands, ...b.commands, ...c.commands],
            outputs: { ...a.outputs, ...b.outputs, ...c.outputs },
            env: { ...a.env, ...b.env, ...c.env },
            state: { ...a.state, ...b.state, ...c.state },
          },
        };
      },
    },
    {
      name: "payloads in the registry's HTTP error bodies (401 on /v2/, 403 on the login) leave one error line of ours",
      kind: 'workflow',
      async run(p) {
        const reg = await server((req, res) => {
          if (!req.headers.authorization) {
            res.writeHead(401, { 'www-authenticate': 'Basic realm="hallmark"', 'content-type': 'application/json' });
            res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: p.payload }] }));
          } else {
            res.writeHead(403, { 'content-type': 'text/plain' });
            res.end(`${p.payload}\n`);
          }
        });
        const { result } = await main({ registry: hostOf(reg), username: USER, password: PASSWORD, insecure: 'true' });
        expect(result.outputs['failure-reason']).toBe('login-failed');
        expect(result.errors).toEqual([`registry-login: ${hostOf(reg)} refused the credentials of '${USER}' (HTTP 403)`]);
        expect(reg.requests).toHaveLength(2);
        await nothingLeft(result);
        return { result };
      },
    },
    {
      name: 'payloads in 503 bodies (retried, then registry-unreachable) and in a Bearer challenge are never echoed',
      kind: 'workflow',
      async run(p) {
        const busy = await answering(503, { 'retry-after': '0', 'content-type': 'text/plain' }, p.payload);
        const a = (await main({ registry: hostOf(busy), username: USER, password: PASSWORD, insecure: 'true' })).result;
        expect(a.outputs['failure-reason']).toBe('registry-unreachable');
        expect(busy.requests).toHaveLength(3);
        // Header values cannot carry CR/LF: the payload with line breaks as spaces, in realm and service.
        const flat = p.payload.replace(/[\r\n]/g, ' ').replace(/"/g, "'");
        const odd = await answering(401, { 'www-authenticate': `Bearer realm="${flat}",service="${flat}"` }, p.payload);
        const b = (await main({ registry: hostOf(odd), username: USER, password: PASSWORD, insecure: 'true' })).result;
        expect(b.outputs['failure-reason']).toBe('login-failed');
        expect(b.errors).toEqual([`registry-login: ${hostOf(odd)} asked for a Bearer token without a usable realm`]);
        const c = await answering(401, { 'www-authenticate': flat }, p.payload);
        const d = (await main({ registry: hostOf(c), username: USER, password: PASSWORD, insecure: 'true' })).result;
        expect(d.outputs['failure-reason']).toBe('login-failed');
        expect(d.errors).toHaveLength(1);
        expect(d.errors[0]).toMatch(/asked for an authentication scheme this action does not speak \([a-z0-9_]+\)$/);
        return {
          result: {
            ...a,
            stdout: [a, b, d].map((r) => r.stdout).join('\n'),
            everything: [a, b, d].map((r) => r.everything).join('\n'),
            commands: [...a.commands, ...b.commands, ...d.commands],
            outputs: { ...a.outputs, ...b.outputs, ...d.outputs },
            env: { ...a.env, ...b.env, ...d.env },
            state: { ...a.state, ...b.state, ...d.state },
          },
        };
      },
    },
    {
      name: 'shell payloads in registry and image are refused; in username, refused or sent only as a Basic-auth user name the real registry refuses; no shell, no tool',
      kind: 'shell',
      async run(p) {
        const px = await proxy(shared);
        const host = hostOf(px);
        const reg = await main({ registry: p.payload, username: USER, password: PASSWORD, insecure: 'true' });
        expect(reg.result.outputs['failure-reason']).toBe('invalid-input');
        const img = await main({ image: `${host}/${p.payload}`, username: USER, password: PASSWORD, insecure: 'true' });
        expect(img.result.outputs['failure-reason']).toBe('invalid-input');
        expect(px.requests).toHaveLength(0);
        // A user name without whitespace or a colon (`--output=/etc/passwd`) is a user name: the real registry refuses it.
        const usr = await main({ registry: host, username: p.payload, password: PASSWORD, insecure: 'true' });
        const plain = !/[\s:]/.test(p.payload);
        expect(usr.result.outputs['failure-reason']).toBe(plain ? 'login-failed' : 'invalid-input');
        if (plain) expect(px.requests.map((q) => q.headers.authorization)).toEqual([undefined, `Basic ${basicOf(p.payload, PASSWORD)}`]);
        await nothingLeft(usr.result);
        const all = [reg, img, usr];
        const rs = all.map((x) => x.result);
        return {
          result: {
            ...usr.result,
            stdout: rs.map((r) => r.stdout).join('\n'),
            everything: rs.map((r) => r.everything).join('\n'),
            commands: rs.flatMap((r) => r.commands),
          },
          calls: all.flatMap((x) => readArgvLog(x.log)),
        };
      },
      check(o) {
        expect(o.calls ?? []).toEqual([]);
      },
    },
  ],

  faults: [
    {
      name: 'a registry answering 503 (Retry-After: 0) to everything: 3 tries of /v2/, registry-unreachable, nothing written, exported or left',
      async run() {
        const busy = await answering(503, { 'retry-after': '0' }, 'busy');
        const { result: r } = await main({ registry: hostOf(busy), username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(r.errors).toEqual([`registry-login: ${hostOf(busy)} did not answer: GET ${busy.url}/v2/: HTTP 503`]);
        expect(busy.requests.map((q) => q.path)).toEqual(['/v2/', '/v2/', '/v2/']);
        await nothingLeft(r);
      },
    },
    {
      name: 'a real registry behind two 503s: retried, logged in (3 pings + 1 login), the config removed by the post step',
      async run() {
        const px = await proxy(shared, (_req, res, n) => {
          if (n > 2) return false;
          res.writeHead(503, { 'content-type': 'text/plain' });
          res.end('warming up');
          return true;
        });
        const host = hostOf(px);
        const { result: r } = await main({ registry: host, username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.errors).toEqual([]);
        expect(r.outputs['logged-in']).toBe('true');
        expect(px.requests.map((q) => `${q.path} ${q.headers.authorization ? 'auth' : 'none'}`)).toEqual([
          '/v2/ none',
          '/v2/ none',
          '/v2/ none',
          '/v2/ auth',
        ]);
        expect(writtenAuths(r)).toEqual({ [host]: `${USER}:${PASSWORD}` });
        await post(r);
        expect(existsSync(join(r.home.temp, DIR))).toBe(false);
      },
    },
    {
      name: 'a real registry rate-limiting the login once (429, Retry-After: 1): retried once, logged in',
      async run() {
        let limited = false;
        const px = await proxy(shared, (req, res) => {
          if (!req.headers.authorization || limited) return false;
          limited = true;
          res.writeHead(429, { 'retry-after': '1' });
          res.end('slow down');
          return true;
        });
        const { result: r } = await main({ registry: hostOf(px), username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.errors).toEqual([]);
        expect(r.outputs['logged-in']).toBe('true');
        expect(px.requests.map((q) => (q.headers.authorization ? 'auth' : 'none'))).toEqual(['none', 'auth', 'auth']);
        await post(r);
      },
    },
    {
      name: 'a registry rate-limiting the login throughout (429): 3 tries, registry-unreachable (not a verdict on the password), nothing left',
      async run() {
        const reg = await server((req, res) => {
          if (!req.headers.authorization) res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
          else res.writeHead(429, { 'retry-after': '0' });
          res.end();
        });
        const { result: r } = await main({ registry: hostOf(reg), username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(reg.requests.map((q) => (q.headers.authorization ? 'auth' : 'none'))).toEqual(['none', 'auth', 'auth', 'auth']);
        await nothingLeft(r);
      },
    },
    {
      name: 'connections reset on every request: 3 tries, registry-unreachable, nothing left',
      async run() {
        const reset = await server((_req, _res, _n) => {
          _res.socket?.destroy();
        });
        const { result: r } = await main({ registry: hostOf(reset), username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(r.errors[0]).toMatch(/did not answer: GET http:\/\/127\.0\.0\.1:\d+\/v2\/: /);
        expect(reset.requests).toHaveLength(3);
        await nothingLeft(r);
      },
    },
    {
      name: 'a registry that accepts the request and never answers: each try ends at its deadline (timeout: 2s), 3 tries, registry-unreachable',
      async run() {
        const hang = await server(() => undefined);
        const { result: r } = await main(
          { registry: hostOf(hang), username: USER, password: PASSWORD, insecure: 'true', timeout: '2s' },
          {},
          { timeoutMs: 30_000 },
        );
        expect(r.timedOut).toBe(false);
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(r.errors).toEqual([`registry-login: ${hostOf(hang)} did not answer: GET ${hang.url}/v2/: no complete response within 2s`]);
        expect(hang.requests).toHaveLength(3);
        await nothingLeft(r);
      },
    },
    {
      name: 'the token service answering 503: 3 tries of /token, registry-unreachable (not login-failed)',
      async run() {
        const reg = await bearerRegistry(USER, PASSWORD, (res) => {
          res.writeHead(503, { 'retry-after': '0' });
          res.end();
          return true;
        });
        const { result: r } = await main({ registry: hostOf(reg), username: USER, password: PASSWORD, insecure: 'true' });
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(reg.requests.map((q) => q.path)).toEqual(['/v2/', '/token', '/token', '/token']);
        await nothingLeft(r);
      },
    },
    {
      name: 'a loopback registry without insecure that is not listening: https then http, registry-unreachable, nothing left',
      async run() {
        const { result: r } = await main({ registry: '127.0.0.1:1', username: USER, password: PASSWORD });
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(r.errors).toEqual(['registry-login: 127.0.0.1:1 did not answer: GET http://127.0.0.1:1/v2/: ECONNREFUSED']);
        await nothingLeft(r);
      },
    },
    {
      name: 'a loopback registry without insecure, speaking plain HTTP and 503: the https tries never reach it, then 3 http tries',
      async run() {
        const busy = await answering(503, { 'retry-after': '0' });
        const { result: r } = await main({ registry: hostOf(busy), username: USER, password: PASSWORD });
        expect(r.outputs['failure-reason']).toBe('registry-unreachable');
        expect(busy.requests).toHaveLength(3);
        await nothingLeft(r);
      },
    },
  ],
};

export default hardening;
