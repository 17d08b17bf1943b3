/**
 * The check file: YAML (or JSON) parsed into plain check definitions, validated key by key so a
 * mistake is reported with its line and key (`line 7: checks[1].http.url is required`).
 * Pure: the environment used for `${NAME}` expansion is passed in.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { parseDuration } from '@hallmark/kit';

export const DEFAULTS = { retries: 3, intervalMs: 5_000, timeoutMs: 30_000 } as const;
export const LIMITS = { retries: 100, intervalMs: 10 * 60_000, timeoutMs: 30 * 60_000, checks: 1_000 } as const;

export type StatusMatcher = { code: number } | { klass: number };

export interface JsonExpect {
  path: string;
  equals?: unknown;
  exists?: boolean;
}

export interface HttpExpect {
  status: StatusMatcher[];
  bodyContains: string[];
  json?: JsonExpect;
  maxLatencyMs?: number;
}

export interface HttpSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  followRedirects: boolean;
  insecure: boolean;
  expect: HttpExpect;
}

export interface TcpSpec {
  host: string;
  port: number;
}

export type K8sSpec =
  | { kind: 'rollout'; resource: string; namespace?: string; context?: string }
  | { kind: 'pods-ready'; selector: string; namespace?: string; min: number; context?: string }
  | { kind: 'denied'; image: string; namespace?: string; context?: string; messageContains?: string }
  /** An Argo CD Application that must report `revision` Synced and `health` (namespace defaults to argocd). */
  | { kind: 'argocd-app'; app: string; namespace: string; revision: string; health: ArgoHealth; context?: string };

/** Argo CD's health codes (gitops-engine pkg/health/health.go, HealthStatusCode). */
export const ARGO_HEALTH = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
export type ArgoHealth = (typeof ARGO_HEALTH)[number];

export type CheckType = 'http' | 'tcp' | 'k8s' | 'exec';

export interface Check {
  name: string;
  /** 1-based line of the check in the file (0 for the `url` shorthand). */
  line: number;
  critical: boolean;
  retries: number;
  intervalMs: number;
  timeoutMs: number;
  type: CheckType;
  http?: HttpSpec;
  tcp?: TcpSpec;
  k8s?: K8sSpec;
  exec?: string[];
}

export interface Defaults {
  retries: number;
  intervalMs: number;
  timeoutMs: number;
}

export interface ParsedChecks {
  checks: Check[];
  /** Values that came from `${NAME}` expansion and must be masked. */
  secrets: string[];
  /** The names of the variables the file expanded (the step's own `env:`, deliberately given). */
  variables: string[];
  /** Things worth telling the user (e.g. `insecure: true`). */
  warnings: string[];
}

/** A problem in the check file; `line` is 1-based when known. */
export class CheckFileError extends Error {
  readonly line: number | undefined;
  constructor(message: string, line?: number) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'CheckFileError';
    this.line = line;
  }
}

const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|PASS|KEY|AUTH|CREDENTIAL|COOKIE|SESSION|BEARER|PRIVATE|API_?KEY|WEBHOOK)/i;
const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

interface Ctx {
  lc: LineCounter;
  env: Record<string, string | undefined>;
  secrets: Set<string>;
  variables: Set<string>;
  warnings: string[];
}

function lineOf(ctx: Ctx, node: Node | Pair | null | undefined): number | undefined {
  const n = node as { range?: [number, number, number]; key?: { range?: [number, number, number] } } | null | undefined;
  const range = n?.range ?? n?.key?.range;
  if (!range) return undefined;
  return ctx.lc.linePos(range[0]).line;
}

function kind(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'empty';
    return typeof v === 'string' ? 'a string' : `a ${typeof v}`;
  }
  return 'empty';
}

function fail(ctx: Ctx, node: Node | Pair | null | undefined, message: string): never {
  throw new CheckFileError(message, lineOf(ctx, node));
}

/** Keys of a mapping, each checked against the allowed set. */
function entries(ctx: Ctx, map: YAMLMap, where: string, allowed: readonly string[]): Map<string, { pair: Pair; value: Node | null }> {
  const out = new Map<string, { pair: Pair; value: Node | null }>();
  for (const pair of map.items as Pair[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) fail(ctx, pair, `${where}: keys must be plain strings`);
    if (!allowed.includes(key)) fail(ctx, pair, `${where}: unknown key '${clip(key)}' (allowed: ${allowed.join(', ')})`);
    out.set(key, { pair, value: (pair.value as Node | null) ?? null });
  }
  return out;
}

function clip(s: string, max = 60): string {
  const t = s.replace(/[\r\n]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '?');
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function scalarOf(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair | null | undefined): unknown {
  if (!isScalar(node)) fail(ctx, node ?? anchor, `${where} must be a single value (got ${kind(node)})`);
  return node.value;
}

/** Expands `${NAME}` from the environment (`$${NAME}` is a literal `${NAME}`). */
export function expand(
  text: string,
  env: Record<string, string | undefined>,
  onValue: (name: string, value: string) => void,
): { value?: string; missing?: string } {
  let missing: string | undefined;
  const value = text.replace(/\$(\$?)\{([^}]*)\}/g, (whole, escaped: string, name: string) => {
    if (escaped) return whole.slice(1);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      missing ??= `'${clip(name)}' is not a variable name`;
      return whole;
    }
    const v = env[name];
    if (v === undefined) {
      missing ??= `\${${name}} is not set in the step's environment (pass it with env:)`;
      return whole;
    }
    onValue(name, v);
    return v;
  });
  return missing ? { missing } : { value };
}

function str(
  ctx: Ctx,
  node: Node | null,
  where: string,
  anchor: Node | Pair | null | undefined,
  opts: { secret?: boolean; allowEmpty?: boolean } = {},
): string {
  const v = scalarOf(ctx, node, where, anchor);
  if (v === null || v === undefined || (typeof v === 'object' && v !== null))
    fail(ctx, node ?? anchor, `${where} must be a string (got ${kind(node)})`);
  const text = String(v);
  const r = expand(text, ctx.env, (name, value) => {
    ctx.variables.add(name);
    if (opts.secret || SECRET_NAME.test(name)) ctx.secrets.add(value);
  });
  if (r.missing) fail(ctx, node ?? anchor, `${where}: ${r.missing}`);
  const out = r.value as string;
  if (!out.trim() && !opts.allowEmpty) fail(ctx, node ?? anchor, `${where} must not be empty`);
  return out;
}

function bool(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair): boolean {
  const v = scalarOf(ctx, node, where, anchor);
  if (typeof v !== 'boolean') fail(ctx, node ?? anchor, `${where} must be true or false (got ${kind(node)})`);
  return v;
}

function int(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair, min: number, max: number): number {
  const v = scalarOf(ctx, node, where, anchor);
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    fail(ctx, node ?? anchor, `${where} must be a whole number from ${min} to ${max} (got ${clip(String(v))})`);
  return n;
}

function dur(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair, min: number, max: number): number {
  const v = scalarOf(ctx, node, where, anchor);
  const ms = typeof v === 'number' || typeof v === 'string' ? parseDuration(String(v)) : undefined;
  if (ms === undefined) fail(ctx, node ?? anchor, `${where} must be a duration such as 500ms, 5s or 2m (got ${clip(String(v))})`);
  if (ms < min || ms > max) fail(ctx, node ?? anchor, `${where} must be between ${min}ms and ${max / 1000}s (got ${clip(String(v))})`);
  return ms;
}

function mapNode(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair | null | undefined): YAMLMap {
  if (!isMap(node)) fail(ctx, node ?? anchor, `${where} must be a mapping (got ${kind(node)})`);
  return node;
}

function parseStatus(ctx: Ctx, node: Node | null, where: string, anchor: Node | Pair): StatusMatcher[] {
  const items: Node[] = isSeq(node) ? (node.items as Node[]) : [node as Node];
  if (items.length === 0) fail(ctx, node ?? anchor, `${where} must list at least one status`);
  return items.map((it) => {
    const v = scalarOf(ctx, it, where, anchor);
    const t = String(v).trim();
    if (/^[1-5]xx$/i.test(t)) return { klass: Number(t[0]) };
    if (/^\d{3}$/.test(t) && Number(t) >= 100 && Number(t) <= 599) return { code: Number(t) };
    return fail(
      ctx,
      it ?? anchor,
      `${where} must be a status code (100–599), a class such as 2xx, or a list of those (got ${clip(String(v))})`,
    );
  });
}

function parseHttp(ctx: Ctx, node: Node | null, where: string, anchor: Pair): HttpSpec {
  const m = entries(ctx, mapNode(ctx, node, where, anchor), where, [
    'url',
    'method',
    'headers',
    'body',
    'expect',
    'follow-redirects',
    'insecure',
  ]);
  const urlE = m.get('url');
  if (!urlE) fail(ctx, node, `${where}.url is required`);
  const url = str(ctx, urlE.value, `${where}.url`, urlE.pair);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(ctx, urlE.value ?? urlE.pair, `${where}.url must be an absolute http:// or https:// URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    fail(ctx, urlE.value ?? urlE.pair, `${where}.url must be an http:// or https:// URL (got ${parsed.protocol})`);
  if (parsed.username || parsed.password) {
    try {
      ctx.secrets.add(decodeURIComponent(parsed.password));
    } catch {
      ctx.secrets.add(parsed.password);
    }
  }
  const methodE = m.get('method');
  const method = methodE ? str(ctx, methodE.value, `${where}.method`, methodE.pair).toUpperCase() : 'GET';
  if (!HTTP_METHODS.includes(method))
    fail(ctx, methodE?.value ?? methodE?.pair, `${where}.method must be one of ${HTTP_METHODS.join(', ')}`);
  const headers: Record<string, string> = {};
  const hE = m.get('headers');
  if (hE) {
    const hm = mapNode(ctx, hE.value, `${where}.headers`, hE.pair);
    for (const pair of hm.items as Pair[]) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) fail(ctx, pair, `${where}.headers: '${clip(k)}' is not a valid header name`);
      const v = str(ctx, (pair.value as Node | null) ?? null, `${where}.headers.${k}`, pair, { secret: true, allowEmpty: true });
      if (/[\r\n\u0000]/.test(v)) fail(ctx, pair, `${where}.headers.${k} must be one line`);
      headers[k] = v;
    }
  }
  const bE = m.get('body');
  const body = bE ? str(ctx, bE.value, `${where}.body`, bE.pair, { secret: true, allowEmpty: true }) : undefined;
  const fE = m.get('follow-redirects');
  const followRedirects = fE ? bool(ctx, fE.value, `${where}.follow-redirects`, fE.pair) : true;
  const iE = m.get('insecure');
  const insecure = iE ? bool(ctx, iE.value, `${where}.insecure`, iE.pair) : false;
  if (insecure && parsed.protocol !== 'https:') fail(ctx, iE?.value ?? iE?.pair, `${where}.insecure only applies to https:// URLs`);
  const expect: HttpExpect = { status: [{ klass: 2 }], bodyContains: [] };
  const eE = m.get('expect');
  if (eE) {
    const ew = `${where}.expect`;
    const em = entries(ctx, mapNode(ctx, eE.value, ew, eE.pair), ew, ['status', 'body-contains', 'json', 'max-latency']);
    const s = em.get('status');
    if (s) expect.status = parseStatus(ctx, s.value, `${ew}.status`, s.pair);
    const bc = em.get('body-contains');
    if (bc) {
      const items = isSeq(bc.value) ? (bc.value.items as Node[]) : [bc.value as Node];
      expect.bodyContains = items.map((it) => str(ctx, it, `${ew}.body-contains`, bc.pair));
    }
    const j = em.get('json');
    if (j) {
      const jw = `${ew}.json`;
      const jm = entries(ctx, mapNode(ctx, j.value, jw, j.pair), jw, ['path', 'equals', 'exists']);
      const p = jm.get('path');
      if (!p) fail(ctx, j.value ?? j.pair, `${jw}.path is required`);
      const path = str(ctx, p.value, `${jw}.path`, p.pair);
      if (!parseJsonPath(path)) fail(ctx, p.value ?? p.pair, `${jw}.path must be a dotted path such as status or data.items[0].state`);
      const je: JsonExpect = { path };
      const eq = jm.get('equals');
      const ex = jm.get('exists');
      if (eq && ex) fail(ctx, ex.pair, `${jw}: use either equals or exists, not both`);
      if (eq) {
        if (isScalar(eq.value) && typeof eq.value.value === 'string')
          je.equals = str(ctx, eq.value, `${jw}.equals`, eq.pair, { allowEmpty: true });
        else je.equals = eq.value === null ? null : (eq.value as Node).toJSON();
      } else if (ex) je.exists = bool(ctx, ex.value, `${jw}.exists`, ex.pair);
      else je.exists = true;
      expect.json = je;
    }
    const ml = em.get('max-latency');
    if (ml) expect.maxLatencyMs = dur(ctx, ml.value, `${ew}.max-latency`, ml.pair, 1, LIMITS.timeoutMs);
  }
  if (insecure) ctx.warnings.push(`TLS verification is off for ${parsed.protocol}//${parsed.host} (insecure: true)`);
  return { url, method, headers, body, followRedirects, insecure, expect };
}

function parseTcp(ctx: Ctx, node: Node | null, where: string, anchor: Pair): TcpSpec {
  const m = entries(ctx, mapNode(ctx, node, where, anchor), where, ['host', 'port']);
  const h = m.get('host');
  if (!h) fail(ctx, node, `${where}.host is required`);
  const host = str(ctx, h.value, `${where}.host`, h.pair).trim();
  if (!/^[A-Za-z0-9._:[\]-]+$/.test(host)) fail(ctx, h.value ?? h.pair, `${where}.host must be a host name or IP address`);
  const p = m.get('port');
  if (!p) fail(ctx, node, `${where}.port is required`);
  if (isScalar(p.value) && typeof p.value.value === 'string') {
    const e = str(ctx, p.value, `${where}.port`, p.pair).trim();
    if (!/^\d+$/.test(e)) fail(ctx, p.value, `${where}.port must be a whole number from 1 to 65535`);
    return { host: host.replace(/^\[|\]$/g, ''), port: validPort(ctx, Number(e), where, p.pair) };
  }
  return { host: host.replace(/^\[|\]$/g, ''), port: int(ctx, p.value, `${where}.port`, p.pair, 1, 65535) };
}

function validPort(ctx: Ctx, n: number, where: string, anchor: Pair): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(ctx, anchor, `${where}.port must be a whole number from 1 to 65535`);
  return n;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ROLLOUT_KINDS = ['deployment', 'deployments', 'deploy', 'statefulset', 'statefulsets', 'sts', 'daemonset', 'daemonsets', 'ds'];

function k8sCommon(ctx: Ctx, m: Map<string, { pair: Pair; value: Node | null }>, where: string): { namespace?: string; context?: string } {
  const out: { namespace?: string; context?: string } = {};
  const n = m.get('namespace');
  if (n) {
    out.namespace = str(ctx, n.value, `${where}.namespace`, n.pair);
    if (!K8S_NAME.test(out.namespace) || out.namespace.length > 63)
      fail(ctx, n.value ?? n.pair, `${where}.namespace must be a Kubernetes namespace name`);
  }
  const c = m.get('context');
  if (c) {
    out.context = str(ctx, c.value, `${where}.context`, c.pair);
    if (/^-|[\s\u0000-\u001f]/.test(out.context)) fail(ctx, c.value ?? c.pair, `${where}.context must be a kubeconfig context name`);
  }
  return out;
}

function parseK8s(ctx: Ctx, node: Node | null, where: string, anchor: Pair): K8sSpec {
  const m = entries(ctx, mapNode(ctx, node, where, anchor), where, [
    'rollout',
    'pods-ready',
    'denied',
    'argocd-app',
    'namespace',
    'context',
    'revision',
    'health',
  ]);
  const kinds = (['rollout', 'pods-ready', 'denied', 'argocd-app'] as const).filter((k) => m.has(k));
  if (kinds.length !== 1) fail(ctx, node, `${where} must have exactly one of rollout, pods-ready, denied, argocd-app`);
  const k = kinds[0] as 'rollout' | 'pods-ready' | 'denied' | 'argocd-app';
  const e = m.get(k) as { pair: Pair; value: Node | null };
  if (k !== 'argocd-app') {
    for (const key of ['revision', 'health']) {
      const x = m.get(key);
      if (x) fail(ctx, x.pair, `${where}.${key} applies only to argocd-app`);
    }
  }
  const common = k8sCommon(ctx, m, where);
  if (k === 'argocd-app') return parseArgoApp(ctx, m, e, where, common, node);
  if (k === 'rollout') {
    const resource = str(ctx, e.value, `${where}.rollout`, e.pair).trim();
    const mm = /^([a-z]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(resource);
    if (!mm || !ROLLOUT_KINDS.includes(mm[1] as string))
      fail(
        ctx,
        e.value ?? e.pair,
        `${where}.rollout must be kind/name with kind deployment, statefulset or daemonset (e.g. deployment/api)`,
      );
    return { kind: 'rollout', resource, ...common };
  }
  const w = `${where}.${k}`;
  const sub = entries(
    ctx,
    mapNode(ctx, e.value, w, e.pair),
    w,
    k === 'pods-ready' ? ['selector', 'namespace', 'context', 'min'] : ['image', 'namespace', 'context', 'message-contains'],
  );
  const merged = { ...common, ...k8sCommon(ctx, sub, w) };
  if (k === 'pods-ready') {
    const s = sub.get('selector');
    if (!s) fail(ctx, e.value, `${w}.selector is required (a label selector such as app=api)`);
    const selector = str(ctx, s.value, `${w}.selector`, s.pair).trim();
    if (/^-|[\s\u0000-\u001f]/.test(selector.replace(/, /g, ',')))
      fail(ctx, s.value ?? s.pair, `${w}.selector must be a label selector such as app=api`);
    const mi = sub.get('min');
    const min = mi ? int(ctx, mi.value, `${w}.min`, mi.pair, 1, 10_000) : 1;
    return { kind: 'pods-ready', selector: selector.replace(/, /g, ','), min, ...merged };
  }
  const im = sub.get('image');
  if (!im) fail(ctx, e.value, `${w}.image is required`);
  const image = str(ctx, im.value, `${w}.image`, im.pair).trim();
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(image))
    fail(ctx, im.value ?? im.pair, `${w}.image must be an image reference such as docker.io/library/nginx:1.27`);
  const mc = sub.get('message-contains');
  const messageContains = mc ? str(ctx, mc.value, `${w}.message-contains`, mc.pair) : undefined;
  return { kind: 'denied', image, messageContains, ...merged };
}

/** `argocd-app: <name>` with `revision:` (required, the 40-hex config commit) and `health:` (default Healthy). */
function parseArgoApp(
  ctx: Ctx,
  m: Map<string, { pair: Pair; value: Node | null }>,
  e: { pair: Pair; value: Node | null },
  where: string,
  common: { namespace?: string; context?: string },
  node: Node | null,
): K8sSpec {
  const app = str(ctx, e.value, `${where}.argocd-app`, e.pair).trim();
  if (!K8S_NAME.test(app) || app.length > 253)
    fail(ctx, e.value ?? e.pair, `${where}.argocd-app must be an Application name (lowercase letters, digits, - and .)`);
  const r = m.get('revision');
  if (!r)
    fail(ctx, node, `${where}.revision is required with argocd-app (the config repository commit, 40 hex, Argo CD must report as synced)`);
  const revision = str(ctx, r.value, `${where}.revision`, r.pair).trim();
  if (!/^[0-9a-f]{40}$/.test(revision))
    fail(ctx, r.value ?? r.pair, `${where}.revision must be a full 40-hex lowercase commit SHA (got ${clip(revision)})`);
  const h = m.get('health');
  const health = h ? str(ctx, h.value, `${where}.health`, h.pair).trim() : 'Healthy';
  if (!(ARGO_HEALTH as readonly string[]).includes(health))
    fail(ctx, h?.value ?? h?.pair, `${where}.health must be one of ${ARGO_HEALTH.join(', ')} (got ${clip(health)})`);
  return {
    kind: 'argocd-app',
    app,
    namespace: common.namespace ?? 'argocd',
    revision,
    health: health as ArgoHealth,
    ...(common.context ? { context: common.context } : {}),
  };
}

function parseExec(ctx: Ctx, node: Node | null, where: string, anchor: Pair): string[] {
  if (!isSeq(node))
    fail(
      ctx,
      node ?? anchor,
      `${where} must be an argument list such as [ "./scripts/check", "--env", "prod" ], not ${kind(node)} (no shell strings)`,
    );
  const args = (node.items as Node[]).map((it, i) => str(ctx, it, `${where}[${i}]`, anchor, { allowEmpty: i > 0 }));
  if (args.length === 0) fail(ctx, node, `${where} must name a program`);
  return args;
}

function targetName(c: Omit<Check, 'name'>): string {
  if (c.http) return `${c.http.method} ${c.http.url.replace(/\?.*$/, '')}`;
  if (c.tcp) return `tcp ${c.tcp.host}:${c.tcp.port}`;
  if (c.k8s) {
    const k = c.k8s;
    return k.kind === 'rollout'
      ? `rollout ${k.resource}`
      : k.kind === 'pods-ready'
        ? `pods ${k.selector}`
        : k.kind === 'denied'
          ? `denied ${k.image}`
          : `argocd-app ${k.app}`;
  }
  return (c.exec ?? []).join(' ');
}

function parseDefaults(ctx: Ctx, node: Node | null, anchor: Pair, base: Defaults): Defaults {
  const m = entries(ctx, mapNode(ctx, node, 'defaults', anchor), 'defaults', ['retries', 'interval', 'timeout']);
  return timing(ctx, m, 'defaults', base);
}

function timing(ctx: Ctx, m: Map<string, { pair: Pair; value: Node | null }>, where: string, base: Defaults): Defaults {
  const out = { ...base };
  const r = m.get('retries');
  if (r) out.retries = int(ctx, r.value, `${where}.retries`, r.pair, 0, LIMITS.retries);
  const i = m.get('interval');
  if (i) out.intervalMs = dur(ctx, i.value, `${where}.interval`, i.pair, 0, LIMITS.intervalMs);
  const t = m.get('timeout');
  if (t) out.timeoutMs = dur(ctx, t.value, `${where}.timeout`, t.pair, 1, LIMITS.timeoutMs);
  return out;
}

const CHECK_KEYS = ['name', 'critical', 'retries', 'interval', 'timeout', 'http', 'tcp', 'k8s', 'exec'];

/**
 * Parses and validates a check file. `defaults` are the action inputs (the file's own `defaults`
 * and each check's keys override them). Throws CheckFileError naming the line and key.
 */
export function parseChecks(text: string, defaults: Defaults, env: Record<string, string | undefined>): ParsedChecks {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const ctx: Ctx = { lc, env, secrets: new Set(), variables: new Set(), warnings: [] };
  if (doc.errors.length) {
    const e = doc.errors[0] as { message: string; pos?: [number, number]; linePos?: [{ line: number; col: number }] };
    const line = e.linePos?.[0]?.line ?? (e.pos ? lc.linePos(e.pos[0]).line : undefined);
    throw new CheckFileError(`YAML syntax error: ${clip(e.message.split('\n')[0] ?? '', 200)}`, line);
  }
  const root = doc.contents as Node | null;
  let list: Node | null;
  let base = { ...defaults };
  let listAnchor: Pair | undefined;
  if (isSeq(root)) list = root;
  else if (isMap(root)) {
    const m = entries(ctx, root, 'the check file', ['defaults', 'checks']);
    const d = m.get('defaults');
    if (d) base = parseDefaults(ctx, d.value, d.pair, base);
    const c = m.get('checks');
    if (!c) fail(ctx, root, "the check file needs a 'checks' list");
    list = c.value;
    listAnchor = c.pair;
  } else fail(ctx, root, `the check file must be a mapping with a 'checks' list (got ${kind(root)})`);
  if (!isSeq(list)) fail(ctx, list ?? listAnchor, `checks must be a list (got ${kind(list)})`);
  if (list.items.length === 0) fail(ctx, list, 'checks must list at least one check');
  if (list.items.length > LIMITS.checks) fail(ctx, list, `checks lists ${list.items.length} checks; at most ${LIMITS.checks}`);
  const checks: Check[] = [];
  const names = new Set<string>();
  (list.items as Node[]).forEach((item, i) => {
    const where = `checks[${i}]`;
    const m = entries(ctx, mapNode(ctx, item, where, listAnchor), where, CHECK_KEYS);
    const types = (['http', 'tcp', 'k8s', 'exec'] as const).filter((t) => m.has(t));
    if (types.length === 0) fail(ctx, item, `${where} needs a check type: one of http, tcp, k8s, exec`);
    if (types.length > 1) fail(ctx, item, `${where} has ${types.join(' and ')}; a check has exactly one type`);
    const type = types[0] as CheckType;
    const te = m.get(type) as { pair: Pair; value: Node | null };
    const t = timing(ctx, m, where, base);
    const ce = m.get('critical');
    const partial: Omit<Check, 'name'> = {
      line: lineOf(ctx, item) ?? 0,
      critical: ce ? bool(ctx, ce.value, `${where}.critical`, ce.pair) : true,
      retries: t.retries,
      intervalMs: t.intervalMs,
      timeoutMs: t.timeoutMs,
      type,
    };
    if (type === 'http') partial.http = parseHttp(ctx, te.value, `${where}.http`, te.pair);
    else if (type === 'tcp') partial.tcp = parseTcp(ctx, te.value, `${where}.tcp`, te.pair);
    else if (type === 'k8s') partial.k8s = parseK8s(ctx, te.value, `${where}.k8s`, te.pair);
    else partial.exec = parseExec(ctx, te.value, `${where}.exec`, te.pair);
    const ne = m.get('name');
    const name = ne ? str(ctx, ne.value, `${where}.name`, ne.pair).trim() : targetName(partial);
    if (names.has(name)) fail(ctx, ne?.pair ?? item, `${where}: another check is already named '${clip(name)}'`);
    names.add(name);
    checks.push({ name, ...partial });
  });
  return { checks, secrets: [...ctx.secrets].filter((s) => s.length > 0), variables: [...ctx.variables].sort(), warnings: ctx.warnings };
}

/** The `url` input shorthand: one HTTP GET expecting 2xx. */
export function urlCheck(url: string, defaults: Defaults): Check {
  return {
    name: url.replace(/\?.*$/, ''),
    line: 0,
    critical: true,
    ...defaults,
    type: 'http',
    http: { url, method: 'GET', headers: {}, followRedirects: true, insecure: false, expect: { status: [{ klass: 2 }], bodyContains: [] } },
  };
}

/** `status`, `data.items[0].state`, `a["b.c"]` → path segments; undefined when malformed. */
export function parseJsonPath(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  const re = /(?:^|\.)([A-Za-z0-9_$@-]+)|\[(\d+)\]|\["([^"]*)"\]/gy;
  let pos = 0;
  const p = path.replace(/^\$\.?/, '');
  if (!p) return undefined;
  re.lastIndex = 0;
  while (pos < p.length) {
    re.lastIndex = pos;
    const m = re.exec(p);
    if (!m || m.index !== pos) return undefined;
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(m[3] as string);
    pos = re.lastIndex;
  }
  return out;
}
