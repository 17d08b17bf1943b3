/**
 * The I/O of one attempt of a check: an HTTP exchange (following redirects ourselves, so relative
 * `Location`s work and credentials do not follow a redirect to another origin), a TCP connect,
 * a program, or kubectl. Each honours the attempt's deadline and never throws: it returns a result.
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { stripForOtherOrigin } from '@hallmark/kit';
import { request as httpRequest, type Agent } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Check, HttpSpec, TcpSpec } from './checks-file.js';
import { evaluate } from './expect.js';
import { interpret, kubectlRun, type KubectlOutcome } from './kube.js';

export interface ProbeResult {
  ok: boolean;
  error?: string;
  latencyMs: number;
  status?: number;
  detail?: string;
  /** No later try can change the outcome (e.g. Argo CD's sync of that revision failed): stop retrying. */
  final?: boolean;
}

export type ExecLike = (tool: string, args: string[], opts: { timeoutMs: number; input?: string; cwd?: string }) => Promise<KubectlOutcome>;

export interface ProbeDeps {
  exec: ExecLike;
  cwd: string;
  /** Name for the dry-run pod of a `denied` check. */
  podName: () => string;
  /** The HTTP connection agent for a URL (default: node's). */
  agent?: AgentFor;
}

/** Bytes of a response body kept for `body-contains`/`json` (the rest is read and dropped). */
export const MAX_BODY = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;
const REDIRECTS = [301, 302, 303, 307, 308];

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** A network error in words: `connection refused (ECONNREFUSED)`, `TLS verification failed: …`. */
export function describeNetworkError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  if (code && TLS_CODES.has(code)) return `TLS verification failed: ${msg}${msg.includes(code) ? '' : ` (${code})`}`;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the server',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'DNS lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    EPIPE: 'connection closed by the server',
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  return code ? `${msg} (${code})` : msg;
}

/** Where a URL points, without credentials, query or fragment. */
export function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

class Timeout extends Error {}

interface RawResponse {
  status: number;
  location?: string;
  body: string;
}

/**
 * The connection agent for a URL (keep-alive, the runner's proxy settings), given by the caller:
 * main.ts takes it from @actions/http-client. Undefined: node's default agent.
 */
export type AgentFor = (url: URL, insecure: boolean) => Agent | undefined;

async function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  insecure: boolean,
  agentFor: AgentFor,
): Promise<RawResponse> {
  const u = new URL(url);
  const agent = agentFor(u, insecure);
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const h: Record<string, string> = { 'user-agent': 'hallmark-smoke-test', ...headers };
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length'))
    h['content-length'] = String(Buffer.byteLength(body));
  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = send(u, { method, headers: h, agent, ...(insecure ? { rejectUnauthorized: false } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < MAX_BODY) {
          chunks.push(c);
          kept += c.length;
        }
      });
      res.on('end', () => {
        if (!res.complete) return finish(() => reject(new Error('connection closed mid-response')));
        const loc = res.headers.location;
        finish(() =>
          resolve({
            status: res.statusCode ?? 0,
            location: Array.isArray(loc) ? loc[0] : loc,
            body: Buffer.concat(chunks).subarray(0, MAX_BODY).toString('utf8'),
          }),
        );
      });
      res.on('aborted', () => finish(() => reject(new Error('connection closed mid-response'))));
      res.on('error', (e) => finish(() => reject(e)));
    });
    const timer = setTimeout(
      () => {
        finish(() => reject(new Timeout()));
        req.destroy();
      },
      Math.max(1, timeoutMs),
    );
    req.on('error', (e) => finish(() => reject(Object.assign(e, { reusedSocket: req.reusedSocket }))));
    req.end(body);
  });
}

function staleConnection(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException & { reusedSocket?: boolean };
  return err?.reusedSocket === true && (err.code === 'ECONNRESET' || err.code === 'EPIPE' || /socket hang up/.test(err.message ?? ''));
}

export async function httpProbe(
  spec: HttpSpec,
  timeoutMs: number,
  agentFor: AgentFor = () => undefined,
  now: () => number = () => performance.now(),
): Promise<ProbeResult> {
  const started = now();
  let url = spec.url;
  let method = spec.method;
  let body = spec.body;
  let headers = { ...spec.headers };
  const chain: string[] = [];
  for (let hop = 0; ; hop++) {
    const left = timeoutMs - (now() - started);
    let res: RawResponse;
    try {
      if (left <= 0) throw new Timeout();
      try {
        res = await exchange(url, method, headers, body, left, spec.insecure, agentFor);
      } catch (e) {
        // A kept-alive connection the server had already closed: retry at once on a new one
        // (what browsers do), rather than count the server's idle timeout as a failure.
        if (!staleConnection(e)) throw e;
        res = await exchange(url, method, headers, body, timeoutMs - (now() - started), spec.insecure, agentFor);
      }
    } catch (e) {
      const latencyMs = now() - started;
      const via = chain.length ? ` (after ${chain.length} redirect${chain.length > 1 ? 's' : ''}, at ${where(url)})` : '';
      if (e instanceof Timeout) return { ok: false, latencyMs, error: `no complete response within ${fmt(timeoutMs)}${via}` };
      return { ok: false, latencyMs, error: `${describeNetworkError(e)}${via}` };
    }
    if (spec.followRedirects && REDIRECTS.includes(res.status) && res.location) {
      if (hop >= MAX_REDIRECTS)
        return {
          ok: false,
          latencyMs: now() - started,
          status: res.status,
          error: `more than ${MAX_REDIRECTS} redirects (last at ${where(url)})`,
        };
      let next: URL;
      try {
        next = new URL(res.location, url);
      } catch {
        return {
          ok: false,
          latencyMs: now() - started,
          status: res.status,
          error: `HTTP ${res.status} with an invalid Location header at ${where(url)}`,
        };
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:')
        return { ok: false, latencyMs: now() - started, status: res.status, error: `redirect to a ${next.protocol} URL refused` };
      if (next.origin !== new URL(url).origin) {
        headers = stripForOtherOrigin({ ...headers });
      }
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !/^content-/i.test(k)));
      }
      chain.push(`${res.status} → ${where(next.href)}`);
      url = next.href;
      continue;
    }
    const latencyMs = now() - started;
    const error = evaluate(spec.expect, { status: res.status, body: res.body, latencyMs });
    const detail = chain.length ? `redirects: ${chain.join(', ')}` : undefined;
    return error ? { ok: false, latencyMs, status: res.status, error, detail } : { ok: true, latencyMs, status: res.status, detail };
  }
}

export function tcpProbe(spec: TcpSpec, timeoutMs: number, now: () => number = () => performance.now()): Promise<ProbeResult> {
  const started = now();
  return new Promise((resolve) => {
    const socket = connect({ host: spec.host, port: spec.port });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, latencyMs: now() - started, error: `no connection within ${fmt(timeoutMs)}` }),
      Math.max(1, timeoutMs),
    );
    socket.once('connect', () => done({ ok: true, latencyMs: now() - started }));
    socket.once('error', (e) => done({ ok: false, latencyMs: now() - started, error: describeNetworkError(e) }));
  });
}

function lastLines(text: string, n = 2): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' ⏎ ');
}

export async function execProbe(
  argv: string[],
  timeoutMs: number,
  deps: ProbeDeps,
  now: () => number = () => performance.now(),
): Promise<ProbeResult> {
  const started = now();
  const [tool, ...args] = argv as [string, ...string[]];
  const r = await deps.exec(tool, args, { timeoutMs, cwd: deps.cwd });
  const latencyMs = now() - started;
  if (r.timedOut) return { ok: false, latencyMs, error: `did not finish within ${fmt(timeoutMs)}` };
  if (r.exitCode === 0) return { ok: true, latencyMs, detail: lastLines(r.stdout, 1) || undefined };
  const said = lastLines(r.stderr) || lastLines(r.stdout);
  if (r.exitCode === 127 && /ENOENT|not found|Unable to locate/i.test(r.stderr))
    return { ok: false, latencyMs, error: `${tool}: program not found` };
  return { ok: false, latencyMs, error: `exit code ${r.exitCode}${said ? `: ${said}` : ''}` };
}

export async function k8sProbe(
  check: Check,
  timeoutMs: number,
  deps: ProbeDeps,
  now: () => number = () => performance.now(),
): Promise<ProbeResult> {
  const spec = check.k8s as NonNullable<Check['k8s']>;
  const started = now();
  const run = kubectlRun(spec, timeoutMs, deps.podName());
  // kubectl gets the deadline itself (--timeout/--request-timeout); ours is a backstop.
  const r = await deps.exec('kubectl', run.args, { timeoutMs: timeoutMs + 5_000, input: run.input, cwd: deps.cwd });
  const latencyMs = now() - started;
  if (r.exitCode === 127 && !r.timedOut && /ENOENT|not found|Unable to locate/i.test(r.stderr))
    return { ok: false, latencyMs, error: 'kubectl is not on PATH (install it, e.g. with hallmark setup-tools)' };
  const v = interpret(spec, r, timeoutMs);
  return { ok: v.ok, error: v.error, detail: v.detail, latencyMs, ...(v.final ? { final: true } : {}) };
}

export function probeFor(deps: ProbeDeps): (check: Check, timeoutMs: number) => Promise<ProbeResult> {
  return async (check, timeoutMs) => {
    if (check.http) return httpProbe(check.http, timeoutMs, deps.agent);
    if (check.tcp) return tcpProbe(check.tcp, timeoutMs);
    if (check.k8s) return k8sProbe(check, timeoutMs, deps);
    return execProbe(check.exec as string[], timeoutMs, deps);
  };
}

export function fmt(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
