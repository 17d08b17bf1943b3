import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parseDuration } from '../duration.js';
import { InputError } from '../errors.js';
import { shown, splitList } from '../text.js';
import { maskSecret } from './secrets.js';

export { shown, splitList };

/**
 * Typed readers for action inputs. Each reads `INPUT_<NAME>` the way the runner sets it, trims
 * it, and either returns a value of the right type or throws an InputError whose message names
 * the input and what was expected, e.g. `input 'severity' must be one of CRITICAL, HIGH (got "x")`.
 * A value is echoed back in the message only when it is short and not a secret.
 */
export interface StringOptions {
  required?: boolean;
  default?: string;
  /** A value must match this pattern; `expected` says in words what that is. */
  pattern?: RegExp;
  expected?: string;
}

/** The raw, trimmed value; '' when unset. */
export function raw(name: string): string {
  return core.getInput(name, { trimWhitespace: true });
}

export function string(name: string, opts: StringOptions = {}): string {
  const v = raw(name) || opts.default || '';
  if (!v) {
    if (opts.required) throw new InputError(name, `is required${opts.expected ? `: ${opts.expected}` : ''}`);
    return '';
  }
  if (opts.pattern && !opts.pattern.test(v)) {
    throw new InputError(name, `must be ${opts.expected ?? `a value matching ${opts.pattern}`} (got ${shown(v)})`);
  }
  return v;
}

/** A secret input: registered with the runner's masker before anything else looks at it. Never echoed. */
export function secret(name: string, opts: { required?: boolean } = {}): string {
  const v = core.getInput(name, { trimWhitespace: false });
  maskSecret(v);
  const t = v.trim();
  if (!t && opts.required) throw new InputError(name, 'is required (a secret: pass it with ${{ secrets.NAME }})');
  return t ? v.replace(/^\s+|\s+$/g, '') : '';
}

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

export function boolean(name: string, defaultValue: boolean): boolean {
  const v = raw(name);
  if (!v) return defaultValue;
  if (TRUE.includes(v)) return true;
  if (FALSE.includes(v)) return false;
  throw new InputError(name, `must be true or false (got ${shown(v)})`);
}

export interface IntegerOptions {
  default?: number;
  required?: boolean;
  min?: number;
  max?: number;
}

export function integer(name: string, opts: IntegerOptions = {}): number {
  const v = raw(name);
  const range = `${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}${opts.min !== undefined && opts.max !== undefined ? ' and' : ''}${opts.max !== undefined ? ` ≤ ${opts.max}` : ''}`;
  if (!v) {
    if (opts.default !== undefined) return opts.default;
    if (opts.required) throw new InputError(name, `is required: a whole number${range}`);
    return NaN;
  }
  if (!/^-?\d+$/.test(v)) throw new InputError(name, `must be a whole number${range} (got ${shown(v)})`);
  const n = Number(v);
  if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max) || !Number.isSafeInteger(n)) {
    throw new InputError(name, `must be a whole number${range} (got ${shown(v)})`);
  }
  return n;
}

export interface DurationOptions {
  default?: string;
  min?: number;
  max?: number;
}

/** A duration (`500ms`, `30s`, `2m`, `1h`, `1m30s`, or bare seconds), returned in milliseconds. */
export function duration(name: string, opts: DurationOptions = {}): number {
  const v = raw(name) || opts.default || '';
  const expected = 'a duration such as 500ms, 30s, 2m or 1h';
  if (!v) throw new InputError(name, `is required: ${expected}`);
  const ms = parseDuration(v);
  if (ms === undefined) throw new InputError(name, `must be ${expected} (got ${shown(v)})`);
  if (opts.min !== undefined && ms < opts.min) throw new InputError(name, `must be at least ${opts.min}ms (got ${shown(v)})`);
  if (opts.max !== undefined && ms > opts.max) throw new InputError(name, `must be at most ${opts.max}ms (got ${shown(v)})`);
  return ms;
}

export interface EnumOptions<T extends string> {
  default?: T;
  required?: boolean;
  /** Accept any letter case (the value returned is the canonical spelling). */
  caseInsensitive?: boolean;
}

export function oneOf<T extends string>(name: string, values: readonly T[], opts: EnumOptions<T> = {}): T {
  const v = raw(name);
  if (!v) {
    if (opts.default !== undefined) return opts.default;
    throw new InputError(name, `is required: one of ${values.join(', ')}`);
  }
  const hit = values.find((x) => (opts.caseInsensitive ? x.toLowerCase() === v.toLowerCase() : x === v));
  if (hit === undefined) throw new InputError(name, `must be one of ${values.join(', ')} (got ${shown(v)})`);
  return hit;
}

export interface ListOptions {
  required?: boolean;
  default?: string[];
  /** Each item must match; `expected` describes one item. */
  item?: RegExp;
  expected?: string;
}

export function list(name: string, opts: ListOptions = {}): string[] {
  const v = raw(name);
  const items = v ? splitList(v) : (opts.default ?? []);
  if (items.length === 0 && opts.required) {
    throw new InputError(name, `is required: a comma- or newline-separated list${opts.expected ? ` of ${opts.expected}` : ''}`);
  }
  if (opts.item) {
    for (const it of items) {
      if (!opts.item.test(it))
        throw new InputError(name, `must be a list of ${opts.expected ?? `items matching ${opts.item}`} (got ${shown(it)})`);
    }
  }
  return items;
}

/** YAML or JSON text (JSON is YAML). Returns undefined when unset and not required. */
export function structured(name: string, opts: { required?: boolean; expected?: string } = {}): unknown {
  const v = raw(name);
  const expected = opts.expected ?? 'YAML or JSON';
  if (!v) {
    if (opts.required) throw new InputError(name, `is required: ${expected}`);
    return undefined;
  }
  try {
    return parseYaml(v, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new InputError(name, `must be ${expected}: ${msg}`);
  }
}

/** A mapping of string keys to scalar values, e.g. `fields` or `build-args`. */
export function map(name: string, opts: { required?: boolean } = {}): Record<string, string> {
  const v = structured(name, { required: opts.required, expected: 'a YAML or JSON mapping of keys to values' });
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new InputError(name, 'must be a YAML or JSON mapping of keys to values');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (val !== null && typeof val === 'object')
      throw new InputError(
        name,
        `must map each key to a single value (key ${shown(k)} holds a ${Array.isArray(val) ? 'list' : 'mapping'})`,
      );
    out[k] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}

export interface PathOptions {
  /** Directory a relative value is resolved against (default: the workspace, GITHUB_WORKSPACE). */
  base?: string;
  /** How the base is named in messages (default `the workspace`). */
  baseName?: string;
  /** What the path must be: `file`, `dir` or `any` (default). */
  kind?: 'file' | 'dir' | 'any';
  required?: boolean;
  default?: string;
  /**
   * The path must exist (default true). With false a missing path is accepted (an output file
   * the action will write), but one that exists must still be of the right kind.
   */
  mustExist?: boolean;
  /**
   * Refuse a path that leads outside the base (`..`, an absolute path elsewhere, a symbolic link
   * out). Default false: today's actions accept absolute paths and paths outside the workspace.
   */
  within?: boolean;
}

const KIND_WORD = { file: 'a file', dir: 'a directory', any: 'a file or directory' } as const;

/**
 * A path input, resolved: relative values against `base` (the workspace by default), absolute
 * values as given. Returns the absolute path, or '' when unset and not required. Throws an
 * InputError naming the input when the value has control characters, leaves the base (with
 * `within`), does not exist (unless `mustExist: false`) or is not of the `kind` asked for.
 */
export function path(name: string, opts: PathOptions = {}): string {
  const v = raw(name) || opts.default || '';
  if (!v) {
    if (opts.required)
      throw new InputError(
        name,
        `is required: a path to ${KIND_WORD[opts.kind ?? 'any']}${opts.within ? ` inside ${opts.baseName ?? 'the workspace'}` : ''}`,
      );
    return '';
  }
  return resolvePath(name, v, opts);
}

/** The checks of `path` for a value from elsewhere (an item of a list input, a field of a structured one). */
export function resolvePath(name: string, value: string, opts: PathOptions = {}): string {
  const kind = opts.kind ?? 'any';
  const where = opts.baseName ?? 'the workspace';
  const base = resolve(opts.base ?? (process.env.GITHUB_WORKSPACE || process.cwd()));
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new InputError(name, `must be a path on one line, without control characters (got ${shown(value)})`);
  if (kind === 'file' && /[\\/]$/.test(value))
    throw new InputError(name, `must be a path to a file, not a directory (got ${shown(value)})`);
  const abs = isAbsolute(value) ? resolve(value) : resolve(base, value);
  const exists = existsSync(abs);
  if (opts.within) {
    const outside = (p: string, b: string) => {
      const rel = relative(b, p);
      return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
    };
    // Through symbolic links too: compare real paths when the path (or its base) exists.
    const realBase = existsSync(base) ? realpathSync(base) : base;
    if (outside(abs, base) || (exists && outside(realpathSync(abs), realBase))) {
      throw new InputError(name, `must be a path inside ${where} (got ${shown(value)})`);
    }
  }
  if (!exists) {
    if (opts.mustExist === false) return abs;
    throw new InputError(
      name,
      `must name an existing ${kind === 'any' ? 'file or directory' : kind === 'dir' ? 'directory' : 'file'} in ${where} (got ${shown(value)}: not found)`,
    );
  }
  const st = statSync(abs);
  if (kind === 'file' && !st.isFile())
    throw new InputError(
      name,
      `must be a path to a file (got ${shown(value)}: ${st.isDirectory() ? 'a directory' : 'not a regular file'})`,
    );
  if (kind === 'dir' && !st.isDirectory()) throw new InputError(name, `must be a path to a directory (got ${shown(value)}: a file)`);
  return abs;
}
