import * as core from '@actions/core';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from './duration.js';
import { InputError } from './errors.js';
import { maskSecret } from './secrets.js';

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

/**
 * Shows a rejected value in an error message: quoted, one line, shortened, and without the
 * user-info part of anything URL-like (`https://user:token@host` → `https://***@host`): a
 * malformed URL is echoed back, and the credentials in it must not be.
 */
export function shown(value: string, max = 80): string {
  const v = value
    .replace(/(\/\/)[^/@\s]*@/g, '$1***@')
    .replace(/[\r\n]+/g, '⏎')
    .replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
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

/** Splits a comma- or newline-separated list; blank items and `#` comment lines are dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => !/^\s*#/.test(l))
    .flatMap((l) => l.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
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
      if (!opts.item.test(it)) throw new InputError(name, `must be a list of ${opts.expected ?? `items matching ${opts.item}`} (got ${shown(it)})`);
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
    if (val !== null && typeof val === 'object') throw new InputError(name, `must map each key to a single value (key ${shown(k)} holds a ${Array.isArray(val) ? 'list' : 'mapping'})`);
    out[k] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}
