// The workflow model's expressions: `${{ }}` and `if:` evaluated with GitHub's own expression
// library (@actions/expressions), plus the runner's status functions
// (success/failure/always/cancelled) and hashFiles.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { truthy } from '@actions/expressions/result';

export const CONTEXTS = ['github', 'inputs', 'secrets', 'vars', 'env', 'runner', 'needs', 'matrix', 'strategy', 'job', 'jobs', 'steps'];
const STATUS_FUNCS = ['success', 'failure', 'always', 'cancelled'].map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
const FUNCS = [...STATUS_FUNCS, { name: 'hashFiles', minArgs: 1, maxArgs: 255 }];

/** The contexts an expression sees, as plain values. */
export type Contexts = Record<string, unknown>;

/** What the status functions answer: something failed before, the run was cancelled, a needed job was skipped. */
export interface Status {
  failed: boolean;
  cancelled: boolean;
  skippedNeeds?: boolean;
}

export const NO_STATUS: Status = { failed: false, cancelled: false };

export class ExpressionFailure extends Error {}

export function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData;
}

export function fromData(d: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(d, data.replacer));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Evaluates one expression (without `${{ }}`). `ctx` holds plain JS contexts; `status` drives the
 * status functions; `workspace` is where hashFiles looks.
 */
export function evaluate(expression: string, ctx: Contexts, status: Status = NO_STATUS, workspace = process.cwd()): data.ExpressionData {
  let expr: ReturnType<Parser['parse']>;
  try {
    const lexed = new Lexer(expression).lex();
    expr = new Parser(lexed.tokens, CONTEXTS, FUNCS).parse();
  } catch (e) {
    throw new ExpressionFailure(`cannot parse expression '${expression}': ${message(e)}`);
  }
  const dict = new data.Dictionary(...CONTEXTS.filter((k) => ctx[k] !== undefined).map((key) => ({ key, value: toData(ctx[key]) })));
  const b = (v: boolean) => ({ call: () => new data.BooleanData(v) });
  const functions = new Map<string, FunctionDefinition>([
    // success(): nothing before failed or was cancelled and (for a job) no job it needs was skipped.
    ['success', { name: 'success', minArgs: 0, maxArgs: 0, ...b(!status.failed && !status.cancelled && !status.skippedNeeds) }],
    ['failure', { name: 'failure', minArgs: 0, maxArgs: 0, ...b(status.failed) }],
    ['always', { name: 'always', minArgs: 0, maxArgs: 0, ...b(true) }],
    ['cancelled', { name: 'cancelled', minArgs: 0, maxArgs: 0, ...b(status.cancelled) }],
    [
      'hashfiles',
      {
        name: 'hashFiles',
        minArgs: 1,
        maxArgs: 255,
        call: (...args) =>
          new data.StringData(
            hashFiles(
              workspace,
              args.map((a) => a.coerceString()),
            ),
          ),
      },
    ],
  ]);
  try {
    return new Evaluator(expr, dict, functions).evaluate();
  } catch (e) {
    throw new ExpressionFailure(`cannot evaluate '${expression}': ${message(e)}`);
  }
}

/** hashFiles for literal paths (globs are not expanded here; a pattern with * hashes nothing). */
function hashFiles(workspace: string, patterns: string[]): string {
  const h = createHash('sha256');
  let any = false;
  for (const p of patterns) {
    const f = join(workspace, p);
    if (!/[*?[]/.test(p) && existsSync(f) && statSync(f).isFile()) {
      h.update(createHash('sha256').update(readFileSync(f)).digest());
      any = true;
    }
  }
  return any ? h.digest('hex') : '';
}

/** Does the expression call a status function? (An `if:` without one gets `success() &&` in front.) */
export function hasStatusFunction(expression: string): boolean {
  return /\b(success|failure|always|cancelled)\s*\(/.test(expression);
}

const WHOLE = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;

/** Interpolates a string: a string that is one whole expression keeps its type; otherwise each `${{ }}` is coerced to a string. */
export function interpolate(value: unknown, ctx: Contexts, status: Status, workspace: string): unknown {
  if (typeof value !== 'string' || !value.includes('${{')) return value;
  const whole = WHOLE.exec(value);
  if (whole && !(whole[1] as string).includes('}}')) return fromData(evaluate(whole[1] as string, ctx, status, workspace));
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => evaluate(e, ctx, status, workspace).coerceString());
}

/** Interpolates and gives the result as the runner passes it on (a string). */
export function interpolateString(value: unknown, ctx: Contexts, status: Status, workspace: string): string {
  return asString(interpolate(value, ctx, status, workspace));
}

/** Deep interpolation of a YAML value (maps, lists, strings). */
export function interpolateDeep(value: unknown, ctx: Contexts, status: Status, workspace: string): unknown {
  if (typeof value === 'string') return interpolate(value, ctx, status, workspace);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, ctx, status, workspace));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, ctx, status, workspace)]));
  return value;
}

/** A value as the runner passes it to an action input or env var. */
export function asString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** Evaluates an `if:` (with or without `${{ }}`), adding the implicit `success() &&`. */
export function condition(ifValue: unknown, ctx: Contexts, status: Status, workspace: string): boolean {
  const ok = !status.failed && !status.cancelled && !status.skippedNeeds;
  if (ifValue === undefined || ifValue === null || ifValue === '') return ok;
  if (typeof ifValue === 'boolean') return ifValue && ok;
  let e = String(ifValue).trim();
  const whole = WHOLE.exec(e);
  if (whole) e = (whole[1] as string).trim();
  if (!hasStatusFunction(e)) e = `success() && (${e})`;
  return truthy(evaluate(e, ctx, status, workspace));
}
