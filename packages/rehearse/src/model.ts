// The workflow model: a workflow file parsed into jobs and steps, its triggers and declared
// inputs, `needs`, matrices, and an action's action.yml. Validation before a run is validate.ts;
// expressions are expr.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { RehearsalError } from './errors.js';
import { asString } from './expr.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const objOr = (v: unknown): Obj => (isObj(v) ? v : {});

/** One step as written (`uses:` or `run:`); values are YAML, interpolated when the step runs. */
export interface StepSpec {
  name?: unknown;
  id?: string;
  uses?: string;
  run?: unknown;
  with?: unknown;
  env?: unknown;
  if?: unknown;
  shell?: string;
  'working-directory'?: unknown;
  'timeout-minutes'?: unknown;
  'continue-on-error'?: unknown;
}

/** One job as written: runs steps, or `uses:` a reusable workflow. */
export interface JobSpec {
  name?: unknown;
  uses?: unknown;
  with?: unknown;
  secrets?: unknown;
  strategy?: unknown;
  needs?: unknown;
  if?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  environment?: unknown;
  env?: unknown;
  steps?: unknown;
  outputs?: unknown;
  defaults?: unknown;
  'timeout-minutes'?: unknown;
  'continue-on-error'?: unknown;
  [key: string]: unknown;
}

export interface WorkflowDoc {
  name?: unknown;
  on?: unknown;
  jobs: Record<string, JobSpec>;
  env?: unknown;
  permissions?: unknown;
  concurrency?: unknown;
  [key: string]: unknown;
}

/** An action's action.yml (node actions). */
export interface ActionMeta {
  inputs?: unknown;
  runs?: { using?: string; main?: string; post?: string; 'post-if'?: string };
}

export function loadYaml(file: string): WorkflowDoc {
  const doc: unknown = parse(readFileSync(file, 'utf8'));
  if (!isObj(doc) || !isObj(doc.jobs)) throw new RehearsalError(`${file}: not a workflow (no jobs:)`);
  return doc as WorkflowDoc;
}

/** `on:` as a mapping event → its settings (a string or a list of events becomes one). */
export function triggers(doc: WorkflowDoc): Record<string, Obj | undefined> {
  // YAML 1.1 readers turn a bare `on` key into true.
  const on = doc.on ?? doc.true;
  if (typeof on === 'string') return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), {}]));
  return isObj(on) ? (on as Record<string, Obj | undefined>) : {};
}

/** The steps of a job (an empty list when it has none). */
export function stepsOf(job: JobSpec): StepSpec[] {
  return Array.isArray(job.steps) ? (job.steps as StepSpec[]) : [];
}

/** Inputs with declared defaults and types applied (dispatch or call). */
export function resolveInputs(declared: unknown, given: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const decl = objOr(declared);
  for (const k of Object.keys(given))
    if (!(k in decl)) throw new RehearsalError(`${where}: unknown input '${k}' (declared: ${Object.keys(decl).join(', ') || 'none'})`);
  for (const [k, spec] of Object.entries(decl)) {
    const s = objOr(spec);
    let v: unknown = k in given ? given[k] : s.default;
    if (v === undefined) {
      if (s.required) throw new RehearsalError(`${where}: required input '${k}' is missing (pass --input ${k}=…)`);
      v = s.type === 'boolean' ? false : s.type === 'number' ? 0 : '';
    }
    if (s.type === 'boolean') v = v === true || v === 'true';
    else if (s.type === 'number') v = Number(v);
    else v = asString(v);
    if (s.type === 'choice' && Array.isArray(s.options) && !s.options.map(String).includes(v as string))
      throw new RehearsalError(`${where}: input '${k}' must be one of ${s.options.join(', ')}, got '${v}'`);
    out[k] = v;
  }
  return out;
}

export function needsOf(job: JobSpec): string[] {
  if (job.needs === undefined) return [];
  return Array.isArray(job.needs) ? job.needs.map(String) : [String(job.needs)];
}

/** An action's action.yml (or .yaml) in `dir`, or undefined when there is none. */
export function actionMeta(dir: string): ActionMeta | undefined {
  const f = ['action.yml', 'action.yaml'].map((x) => join(dir, x)).find((x) => existsSync(x));
  if (!f) return undefined;
  try {
    return parse(readFileSync(f, 'utf8')) as ActionMeta;
  } catch (e) {
    throw new RehearsalError(`${f} is not valid YAML: ${String((e as Error).message).split('\n')[0]}`);
  }
}

/** Keys GitHub accepts on a job that calls a reusable workflow (docs "Supported keywords for jobs that call a reusable workflow"). */
export const CALLING_JOB_KEYS = ['name', 'uses', 'with', 'secrets', 'strategy', 'needs', 'if', 'permissions', 'concurrency'];

/** A matrix's legs, by GitHub's rules for include and exclude; `[undefined]` for a job without one. */
export function expandMatrix(matrix: unknown): (Record<string, unknown> | undefined)[] {
  if (!isObj(matrix)) return [undefined];
  const { include, exclude, ...axes } = matrix;
  let combos: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new RehearsalError(`matrix axis '${k}' is not a list`);
    combos = combos.flatMap((c) => values.map((v: unknown) => ({ ...c, [k]: v })));
  }
  if (Object.keys(axes).length === 0) combos = [];
  const matches = (c: Obj, e: Obj) => Object.entries(e).every(([k, v]) => JSON.stringify(c[k]) === JSON.stringify(v));
  if (Array.isArray(exclude)) combos = combos.filter((c) => !exclude.some((e: unknown) => matches(c, objOr(e))));
  if (Array.isArray(include)) {
    // GitHub's rule: an include entry extends every original combination whose original values it
    // does not overwrite; when it extends none, it becomes a combination of its own.
    const originals = combos.map((c) => ({ ...c }));
    for (const incValue of include) {
      const inc = objOr(incValue);
      let added = false;
      combos.forEach((c, i) => {
        const orig = originals[i] as Obj;
        if (Object.entries(inc).every(([k, v]) => !(k in orig) || JSON.stringify(orig[k]) === JSON.stringify(v))) {
          Object.assign(c, inc);
          added = true;
        }
      });
      if (!added) {
        combos.push({ ...inc });
        originals.push({ ...inc });
      }
    }
  }
  return combos.length ? combos : [undefined];
}
