/**
 * `.trivyignore` and `.trivyignore.yaml`, read and matched the way Trivy does
 * (pkg/result/ignore.go), with two differences that stop ignores from failing silently:
 * - a file we cannot read fully (bad YAML, unknown section or key, a bad date, a bad glob or purl)
 *   is refused with the line/entry at fault instead of being partly applied;
 * - an expired entry is kept aside so the action can warn about it by name.
 *
 * Matching (as Trivy): an entry matches a finding when its `id` equals the finding's ID
 * (vulnerability ID, secret rule ID, misconfiguration ID or AVD ID; an entry without `id` matches
 * any ID), one of its `paths` globs (doublestar: `**` crosses directories) matches the Result
 * target — or, for a vulnerability, the package path — and one of its `purls` matches the
 * package (same type/namespace/name; version, qualifiers and subpath only when the entry gives
 * them; a finding without a purl is not restricted by `purls`). A plain `.trivyignore` line
 * applies to every kind of finding. Misconfiguration IDs also match in their `AVD-` spelling
 * (`DS-0002` ↔ `AVD-DS-0002`), since current Trivy writes one and documents the other.
 */
import { parse as parseYaml } from 'yaml';
import type { Finding, FindingKind } from './trivy-report.js';

export type Section = 'vulnerabilities' | 'misconfigurations' | 'secrets' | 'licenses';
const SECTIONS: readonly Section[] = ['vulnerabilities', 'misconfigurations', 'secrets', 'licenses'];
const SECTION_OF: Record<FindingKind, Section> = {
  vulnerability: 'vulnerabilities',
  misconfiguration: 'misconfigurations',
  secret: 'secrets',
};
const ENTRY_KEYS = ['id', 'paths', 'purls', 'expired_at', 'statement'];

export interface Purl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: Record<string, string>;
  subpath: string;
}

export interface IgnoreEntry {
  /** `all` for a line of a plain .trivyignore. */
  section: Section | 'all';
  id?: string;
  paths: string[];
  purls: string[];
  /** YYYY-MM-DD or an RFC 3339 time, as written. */
  expiredAt?: string;
  statement?: string;
  /** Where it is: `line 5` or `vulnerabilities[2]`. */
  where: string;
  /** Compiled. */
  pathRes: RegExp[];
  purlsParsed: Purl[];
}

export interface IgnoreConfig {
  file: string;
  format: 'plain' | 'yaml';
  active: IgnoreEntry[];
  expired: IgnoreEntry[];
}

export class IgnoreFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IgnoreFileError';
  }
}

/** How an entry is named in warnings and the summary. */
export function entryLabel(e: IgnoreEntry): string {
  const id = e.id ?? '(any ID)';
  const scope = [...e.paths.map((p) => `path ${p}`), ...e.purls.map((p) => `purl ${p}`)].join(', ');
  return `${id}${scope ? ` [${scope}]` : ''} (${e.where})`;
}

// ---------------------------------------------------------------------------------------------
// doublestar globs

/** Converts a doublestar pattern to an anchored RegExp; throws IgnoreFileError on a bad pattern. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  let i = 0;
  let braces = 0;
  const n = pattern.length;
  while (i < n) {
    const c = pattern[i] as string;
    if (c === '\\') {
      if (i + 1 >= n) throw new IgnoreFileError(`bad path pattern ${JSON.stringify(pattern)}: ends with a backslash`);
      re += escapeRe(pattern[i + 1] as string);
      i += 2;
      continue;
    }
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        const atStart = i === 0 || pattern[i - 1] === '/';
        const atEnd = i + 2 === n || pattern[i + 2] === '/';
        if (atStart && atEnd) {
          if (i + 2 === n) re += '.*';
          else {
            re += '(?:.*/)?';
            i += 3;
            continue;
          }
          i += 2;
          continue;
        }
        re += '[^/]*';
        i += 2;
        continue;
      }
      re += '[^/]*';
      i++;
      continue;
    }
    if (c === '?') {
      re += '[^/]';
      i++;
      continue;
    }
    if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) throw new IgnoreFileError(`bad path pattern ${JSON.stringify(pattern)}: unclosed [`);
      let body = pattern.slice(i + 1, close);
      let neg = false;
      if (body.startsWith('!') || body.startsWith('^')) {
        neg = true;
        body = body.slice(1);
      }
      re += `[${neg ? '^/' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close + 1;
      continue;
    }
    if (c === '{') {
      braces++;
      re += '(?:';
      i++;
      continue;
    }
    if (c === '}' && braces > 0) {
      braces--;
      re += ')';
      i++;
      continue;
    }
    if (c === ',' && braces > 0) {
      re += '|';
      i++;
      continue;
    }
    re += escapeRe(c);
    i++;
  }
  if (braces !== 0) throw new IgnoreFileError(`bad path pattern ${JSON.stringify(pattern)}: unclosed {`);
  try {
    return new RegExp(`^${re}$`, 's');
  } catch {
    throw new IgnoreFileError(`bad path pattern ${JSON.stringify(pattern)}`);
  }
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------
// package URLs

export function parsePurl(text: string): Purl | undefined {
  const m = /^pkg:([A-Za-z][A-Za-z0-9.+-]*)\/(.+)$/.exec(text.trim());
  if (!m) return undefined;
  let rest = m[2] as string;
  let subpath = '';
  let qualifiers: Record<string, string> = {};
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    subpath = rest.slice(hash + 1).replace(/^\/+|\/+$/g, '');
    rest = rest.slice(0, hash);
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    qualifiers = {};
    for (const pair of rest
      .slice(q + 1)
      .split('&')
      .filter(Boolean)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      qualifiers[pair.slice(0, eq).toLowerCase()] = dec(pair.slice(eq + 1));
    }
    rest = rest.slice(0, q);
  }
  const slash = rest.lastIndexOf('/');
  let version = '';
  const at = rest.indexOf('@', slash + 1);
  if (at >= 0) {
    version = dec(rest.slice(at + 1));
    rest = rest.slice(0, at);
  }
  const parts = rest.split('/').filter(Boolean).map(dec);
  const name = parts.pop();
  if (!name) return undefined;
  return { type: (m[1] as string).toLowerCase(), namespace: parts.join('/'), name, version, qualifiers, subpath };
}

function dec(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Trivy's PackageURL.Match: `constraint` restricts only what it states. */
export function purlMatches(constraint: Purl, target: Purl): boolean {
  if (constraint.type !== target.type || constraint.namespace !== target.namespace || constraint.name !== target.name) return false;
  if (constraint.version && constraint.version !== target.version) return false;
  if (constraint.subpath && constraint.subpath !== target.subpath) return false;
  for (const [k, v] of Object.entries(constraint.qualifiers)) if (target.qualifiers[k] !== v) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// parsing

function expiry(value: string, where: string, now: Date): { text: string; expired: boolean } {
  const v = value.trim();
  let t: number;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) t = Date.parse(`${v}T00:00:00Z`);
  else if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(v)) t = Date.parse(v.replace(' ', 'T'));
  else t = NaN;
  if (Number.isNaN(t))
    throw new IgnoreFileError(`${where}: expiry date ${JSON.stringify(v.slice(0, 40))} is not YYYY-MM-DD (or an RFC 3339 time)`);
  return { text: v, expired: t < now.getTime() };
}

function compile(e: Omit<IgnoreEntry, 'pathRes' | 'purlsParsed'>): IgnoreEntry {
  const pathRes = e.paths.map((p) => {
    try {
      return globToRegExp(p);
    } catch (err) {
      throw new IgnoreFileError(`${e.where}: ${(err as Error).message}`);
    }
  });
  const purlsParsed = e.purls.map((p) => {
    const parsed = parsePurl(p);
    if (!parsed)
      throw new IgnoreFileError(`${e.where}: ${JSON.stringify(p.slice(0, 80))} is not a package URL (pkg:type/namespace/name@version)`);
    return parsed;
  });
  return { ...e, pathRes, purlsParsed };
}

function parsePlain(text: string, file: string, now: Date): IgnoreConfig {
  const cfg: IgnoreConfig = { file, format: 'plain', active: [], expired: [] };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `line ${i + 1}`;
    const exp = fields.slice(1).find((f) => f.startsWith('exp:'));
    const entry = compile({ section: 'all', id: fields[0] as string, paths: [], purls: [], where });
    if (exp !== undefined) {
      const e = expiry(exp.slice(4), `${where} (${fields[0]})`, now);
      entry.expiredAt = e.text;
      (e.expired ? cfg.expired : cfg.active).push(entry);
    } else cfg.active.push(entry);
  });
  return cfg;
}

function stringList(v: unknown, where: string, key: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !x.trim()))
    throw new IgnoreFileError(`${where}: '${key}' must be a list of strings`);
  return v as string[];
}

function parseYamlIgnore(text: string, file: string, now: Date): IgnoreConfig {
  const cfg: IgnoreConfig = { file, format: 'yaml', active: [], expired: [] };
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (e) {
    throw new IgnoreFileError(`not valid YAML: ${((e as Error).message ?? '').split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return cfg;
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new IgnoreFileError(`must be a mapping with the sections ${SECTIONS.join(', ')}`);
  for (const [section, list] of Object.entries(doc as Record<string, unknown>)) {
    if (!SECTIONS.includes(section as Section))
      throw new IgnoreFileError(`unknown section '${section.slice(0, 40)}' (expected ${SECTIONS.join(', ')})`);
    if (list === null) continue;
    if (!Array.isArray(list)) throw new IgnoreFileError(`section '${section}' must be a list of entries`);
    list.forEach((item: unknown, i: number) => {
      const where = `${section}[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw new IgnoreFileError(`${where} must be a mapping with 'id' and optional paths, purls, expired_at, statement`);
      const o = item as Record<string, unknown>;
      for (const k of Object.keys(o))
        if (!ENTRY_KEYS.includes(k))
          throw new IgnoreFileError(`${where}: unknown key '${k.slice(0, 40)}' (expected ${ENTRY_KEYS.join(', ')})`);
      const id = o.id === undefined || o.id === null ? undefined : String(o.id).trim();
      const paths = stringList(o.paths, where, 'paths');
      const purls = stringList(o.purls, where, 'purls');
      if (!id && paths.length === 0 && purls.length === 0)
        throw new IgnoreFileError(`${where}: needs an 'id' (or paths/purls); an empty entry would ignore everything`);
      if (purls.length && section !== 'vulnerabilities') throw new IgnoreFileError(`${where}: 'purls' applies to vulnerabilities only`);
      const statement = o.statement === undefined || o.statement === null ? undefined : String(o.statement);
      const entry = compile({ section: section as Section, id: id || undefined, paths, purls, statement, where });
      if (o.expired_at !== undefined && o.expired_at !== null) {
        const raw = o.expired_at instanceof Date ? o.expired_at.toISOString() : String(o.expired_at);
        const e = expiry(raw, `${where}${id ? ` (${id})` : ''}`, now);
        entry.expiredAt = e.text;
        (e.expired ? cfg.expired : cfg.active).push(entry);
      } else cfg.active.push(entry);
    });
  }
  return cfg;
}

/** Parses an ignore file's text; the format follows the extension (.yaml/.yml → YAML), as in Trivy. */
export function parseIgnoreFile(text: string, file: string, now: Date): IgnoreConfig {
  return /\.ya?ml$/i.test(file) ? parseYamlIgnore(text, file, now) : parsePlain(text, file, now);
}

// ---------------------------------------------------------------------------------------------
// matching

function ids(f: Finding): string[] {
  const out = [f.id];
  if (f.kind === 'misconfiguration') {
    if (f.avdId) out.push(f.avdId);
    if (f.id && !f.id.startsWith('AVD-')) out.push(`AVD-${f.id}`);
  }
  return out;
}

/** The first active entry that matches the finding, or undefined. */
export function matchIgnore(cfg: IgnoreConfig, f: Finding, targetPurl?: Purl | null): IgnoreEntry | undefined {
  const section = SECTION_OF[f.kind];
  const findingIds = ids(f);
  const paths = f.kind === 'vulnerability' && f.pkgPath ? [f.target, f.pkgPath] : [f.target];
  let purl: Purl | null | undefined = targetPurl;
  for (const e of cfg.active) {
    if (e.section !== 'all' && e.section !== section) continue;
    if (e.id !== undefined && !findingIds.includes(e.id)) continue;
    if (e.pathRes.length && !paths.some((p) => e.pathRes.some((re) => re.test(p)))) continue;
    if (e.purlsParsed.length && f.purl) {
      if (purl === undefined) purl = parsePurl(f.purl) ?? null;
      if (purl && !e.purlsParsed.some((c) => purlMatches(c, purl as Purl))) continue;
    }
    return e;
  }
  return undefined;
}
