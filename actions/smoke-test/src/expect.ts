/**
 * Pure evaluation of an HTTP response against a check's `expect` block. Returns undefined when
 * everything matches, else one sentence saying what did not (with a short, one-line excerpt of
 * the body where that helps; the caller prints it inertly).
 */
import { parseJsonPath, type HttpExpect, type StatusMatcher } from './checks-file.js';

export interface ObservedResponse {
  status: number;
  body: string;
  latencyMs: number;
}

export function statusText(m: StatusMatcher[]): string {
  return m.map((s) => ('code' in s ? String(s.code) : `${s.klass}xx`)).join(', ');
}

export function statusMatches(m: StatusMatcher[], status: number): boolean {
  return m.some((s) => ('code' in s ? s.code === status : Math.floor(status / 100) === s.klass));
}

export function excerpt(body: string, max = 120): string {
  const t = body.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

/** Walks a parsed JSON value along a path; `found` false when a segment is missing. */
export function lookup(value: unknown, path: string): { found: boolean; value?: unknown } {
  const segs = parseJsonPath(path);
  if (!segs) return { found: false };
  let cur: unknown = value;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return { found: false };
    if (typeof s === 'number') {
      if (!Array.isArray(cur) || s >= cur.length) return { found: false };
      cur = cur[s];
    } else {
      if (Array.isArray(cur) || !Object.hasOwn(cur, s)) return { found: false };
      cur = (cur as Record<string, unknown>)[s];
    }
  }
  return { found: true, value: cur };
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  return ak.length === bk.length && ak.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function evaluate(expect: HttpExpect, r: ObservedResponse): string | undefined {
  if (!statusMatches(expect.status, r.status)) {
    const body = excerpt(r.body);
    return `HTTP ${r.status}, expected ${statusText(expect.status)}${body ? ` (body: ${body})` : ''}`;
  }
  for (const needle of expect.bodyContains) {
    if (!r.body.includes(needle)) return `body does not contain ${show(needle)} (body: ${excerpt(r.body) || 'empty'})`;
  }
  if (expect.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(r.body);
    } catch {
      return `body is not JSON, so ${expect.json.path} cannot be checked (body: ${excerpt(r.body) || 'empty'})`;
    }
    const hit = lookup(parsed, expect.json.path);
    if ('equals' in expect.json) {
      if (!hit.found) return `JSON ${expect.json.path} is missing, expected ${show(expect.json.equals)}`;
      if (!deepEqual(hit.value, expect.json.equals))
        return `JSON ${expect.json.path} is ${show(hit.value)}, expected ${show(expect.json.equals)}`;
    } else if (expect.json.exists === false) {
      if (hit.found) return `JSON ${expect.json.path} is present (${show(hit.value)}), expected it absent`;
    } else if (!hit.found) return `JSON ${expect.json.path} is missing`;
  }
  if (expect.maxLatencyMs !== undefined && r.latencyMs > expect.maxLatencyMs) {
    return `took ${Math.round(r.latencyMs)}ms, more than max-latency ${expect.maxLatencyMs}ms`;
  }
  return undefined;
}
