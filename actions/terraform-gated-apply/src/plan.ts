/**
 * Reading `terraform show -json` / `tofu show -json` plan output: format check, the counting
 * contract, and a sensitive-safe view of each change. Pure: plain data in, plain data out.
 *
 * Counting (the contract in issue #5): over `resource_changes[]` with `mode: managed`, by
 * `change.actions`: create → add; update → change; delete → destroy; delete+create or
 * create+delete → add + destroy and replace + 1; no-op, read → nothing. Imports
 * (`change.importing`) and forgets (`forget`) are counted on their own.
 */

export class BadPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadPlanError';
  }
}

/** The plan is valid JSON of a plan, but Terraform reported errors while planning. */
export class ErroredPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ErroredPlanError';
  }
}

export type Action = 'create' | 'update' | 'delete' | 'replace' | 'forget' | 'no-op' | 'read' | 'import';

export interface Counts {
  add: number;
  change: number;
  destroy: number;
  replace: number;
  imports: number;
  forgets: number;
}

export interface AttributeChange {
  /** Dotted path, e.g. `tags.Name` or `ingress[0].cidr`. */
  path: string;
  /** Rendered values: JSON text, `(sensitive)`, `(known after apply)`, or '' when absent. */
  before: string;
  after: string;
  forcesReplacement: boolean;
}

export interface ResourceChange {
  address: string;
  action: Action;
  /** `change.actions` as Terraform wrote them. */
  actions: string[];
  reason?: string;
  importing: boolean;
  attributes: AttributeChange[];
  /** Attributes left out because of the per-resource limit. */
  moreAttributes: number;
}

export interface OutputChange {
  name: string;
  action: Action;
  after: string;
}

export interface PlanSummary {
  formatVersion: string;
  terraformVersion?: string;
  /** `opentofu` when `terraform version` says so, or (plan-json) when its providers come from registry.opentofu.org; else `terraform`. */
  tool: 'terraform' | 'opentofu';
  counts: Counts;
  hasChanges: boolean;
  /** Managed resources with an action other than no-op/read (plus imports), in plan order. */
  resources: ResourceChange[];
  outputs: OutputChange[];
  /** Resources changed outside Terraform (`resource_drift`), addresses only. */
  drift: string[];
  warnings: string[];
}

export const SENSITIVE = '(sensitive)';
export const UNKNOWN = '(known after apply)';
const MAX_ATTRIBUTES = 40;
const MAX_VALUE = 120;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses plan JSON text; throws BadPlanError (malformed, not a plan, unknown format) or ErroredPlanError. */
export function parsePlanText(text: string, source = 'plan JSON'): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new BadPlanError(`${source} is not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
}

/** Checks the top-level shape: an object with a supported `format_version` that is a plan (not a state or a provider schema). */
export function checkPlanShape(plan: unknown, source = 'plan JSON'): { formatVersion: string; warnings: string[] } {
  if (!isObject(plan))
    throw new BadPlanError(
      `${source} is not a Terraform plan (expected a JSON object, got ${Array.isArray(plan) ? 'an array' : typeof plan})`,
    );
  const fv = plan.format_version;
  if (typeof fv !== 'string' || !/^\d+\.\d+$/.test(fv))
    throw new BadPlanError(
      `${source} is not a Terraform plan (no "format_version"; expected the output of \`terraform show -json <planfile>\`)`,
    );
  const [major, minor] = fv.split('.').map(Number) as [number, number];
  const warnings: string[] = [];
  if (major > 1)
    throw new BadPlanError(
      `${source} has format_version ${fv}: this action reads plan formats 0.x and 1.x (up to 1.2); a new major format may change meaning, so it is refused`,
    );
  if (major === 1 && minor > 2)
    warnings.push(`plan format_version ${fv} is newer than 1.2; read as 1.2 (minor versions are backward compatible)`);
  const isPlan = 'planned_values' in plan || 'resource_changes' in plan || 'output_changes' in plan;
  if (!isPlan) {
    const what =
      'values' in plan
        ? 'a state (`terraform show -json` without a plan file)'
        : 'provider_schemas' in plan
          ? 'provider schemas'
          : 'not a plan';
    throw new BadPlanError(`${source} is ${what}: expected the output of \`terraform show -json <planfile>\``);
  }
  if (plan.resource_changes !== undefined && !Array.isArray(plan.resource_changes))
    throw new BadPlanError(`${source}: "resource_changes" must be a list`);
  if (plan.output_changes !== undefined && !isObject(plan.output_changes))
    throw new BadPlanError(`${source}: "output_changes" must be an object`);
  if (plan.errored === true)
    throw new ErroredPlanError('Terraform reported errors while planning ("errored": true): the plan is incomplete and cannot be applied');
  return { formatVersion: fv, warnings };
}

/** The action class of a `change.actions` list; throws BadPlanError for a list this contract does not know. */
export function classify(actions: unknown, address: string): Action {
  if (!Array.isArray(actions) || actions.some((a) => typeof a !== 'string'))
    throw new BadPlanError(`resource ${address}: "change.actions" must be a list of strings`);
  const key = (actions as string[]).join(',');
  switch (key) {
    case 'create':
      return 'create';
    case 'update':
      return 'update';
    case 'delete':
      return 'delete';
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    case 'no-op':
      return 'no-op';
    case 'read':
      return 'read';
    case 'forget':
      return 'forget';
    default:
      throw new BadPlanError(
        `resource ${address}: unknown change actions ${JSON.stringify(actions)}; refusing to guess what they would do`,
      );
  }
}

/** Counts per the contract. Exported on its own so tests and callers can count without rendering. */
export function countChanges(plan: Record<string, unknown>): Counts {
  const c: Counts = { add: 0, change: 0, destroy: 0, replace: 0, imports: 0, forgets: 0 };
  for (const rc of (plan.resource_changes as unknown[] | undefined) ?? []) {
    if (!isObject(rc) || rc.mode !== 'managed') continue;
    const change = isObject(rc.change) ? rc.change : {};
    const action = classify(change.actions, String(rc.address ?? '?'));
    if (action === 'create') c.add++;
    else if (action === 'update') c.change++;
    else if (action === 'delete') c.destroy++;
    else if (action === 'replace') {
      c.add++;
      c.destroy++;
      c.replace++;
    } else if (action === 'forget') c.forgets++;
    if (isObject(change.importing)) c.imports++;
  }
  return c;
}

/** True when `mask` (an *_sensitive structure) marks `path` or any parent of it as sensitive. */
export function isSensitive(mask: unknown, path: readonly (string | number)[]): boolean {
  let m: unknown = mask;
  if (m === true) return true;
  for (const step of path) {
    if (m === true) return true;
    if (Array.isArray(m)) m = m[Number(step)];
    else if (isObject(m)) m = m[String(step)];
    else return false;
  }
  return m === true;
}

/** True when the mask holds any `true` at or below it (a value with a sensitive part inside). */
function containsSensitive(mask: unknown): boolean {
  if (mask === true) return true;
  if (Array.isArray(mask)) return mask.some(containsSensitive);
  if (isObject(mask)) return Object.values(mask).some(containsSensitive);
  return false;
}

function at(v: unknown, path: readonly (string | number)[]): unknown {
  let x = v;
  for (const s of path) {
    if (Array.isArray(x)) x = x[Number(s)];
    else if (isObject(x)) x = x[String(s)];
    else return undefined;
  }
  return x;
}

function render(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v) ?? '';
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s;
}

function pathText(path: readonly (string | number)[]): string {
  return path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/**
 * The attribute-level differences of one change, values rendered safely: anything marked in
 * `before_sensitive`/`after_sensitive` is `(sensitive)`, unknown values are `(known after apply)`.
 * Objects are walked down to leaves (depth-limited); a sensitive or unknown subtree is one line.
 */
export function attributeChanges(change: Record<string, unknown>, replacePaths: unknown = undefined): AttributeChange[] {
  const before = change.before;
  const after = change.after;
  const bs = change.before_sensitive;
  const as = change.after_sensitive;
  const au = change.after_unknown;
  const forces = new Set<string>(
    Array.isArray(replacePaths) ? replacePaths.filter(Array.isArray).map((p) => pathText(p as (string | number)[])) : [],
  );
  const out: AttributeChange[] = [];
  const walk = (path: (string | number)[], depth: number): void => {
    const b = at(before, path);
    const a = at(after, path);
    const unknown = isSensitive(au, path);
    const sb = isSensitive(bs, path);
    const sa = isSensitive(as, path);
    const leafish =
      depth >= 4 ||
      sb ||
      sa ||
      unknown ||
      !(
        (isObject(b) || Array.isArray(b) || b === undefined || b === null) &&
        (isObject(a) || Array.isArray(a) || a === undefined || a === null)
      ) ||
      (b == null && a == null);
    if (!leafish && (isObject(a) || Array.isArray(a) || isObject(b) || Array.isArray(b))) {
      // A container on at least one side: walk the union of keys (sensitive parts inside are handled per leaf).
      const keys = new Set<string | number>();
      for (const side of [b, a]) {
        if (Array.isArray(side)) side.forEach((_, i) => keys.add(i));
        else if (isObject(side)) Object.keys(side).forEach((k) => keys.add(k));
      }
      const auHere = at(au, path);
      if (isObject(auHere)) Object.keys(auHere).forEach((k) => keys.add(k));
      else if (Array.isArray(auHere)) auHere.forEach((_, i) => keys.add(i));
      for (const k of [...keys].sort((x, y) => String(x).localeCompare(String(y), 'en', { numeric: true }))) walk([...path, k], depth + 1);
      return;
    }
    if (path.length === 0) return;
    const sensitive = sb || sa || containsSensitive(at(bs, path)) || containsSensitive(at(as, path));
    const bText = b === undefined ? '' : sb || containsSensitive(at(bs, path)) ? SENSITIVE : render(b);
    const aText = unknown ? UNKNOWN : a === undefined ? '' : sa || containsSensitive(at(as, path)) ? SENSITIVE : render(a);
    const same = sensitive
      ? !unknown && JSON.stringify(b) === JSON.stringify(a)
      : !unknown && render(b) === render(a) && JSON.stringify(b) === JSON.stringify(a);
    if (same) return;
    const p = pathText(path);
    out.push({ path: p, before: bText, after: aText, forcesReplacement: forces.has(p) });
  };
  walk([], 0);
  return out;
}

/**
 * A best guess from the JSON alone: OpenTofu writes `terraform_version` too (internal/command/jsonplan/plan.go
 * in opentofu/opentofu v1.12.6), so only its registry's provider addresses tell it apart. When
 * terraform runs, plan mode names the CLI from `terraform version` instead.
 */
function detectTool(plan: Record<string, unknown>): 'terraform' | 'opentofu' {
  const text = JSON.stringify([plan.resource_changes ?? null, plan.configuration ?? null]);
  return text.includes('registry.opentofu.org') ? 'opentofu' : 'terraform';
}

/** Reads a parsed plan into the summary every report is built from. */
export function summarizePlan(plan: unknown, source = 'plan JSON'): PlanSummary {
  const { formatVersion, warnings } = checkPlanShape(plan, source);
  const p = plan as Record<string, unknown>;
  const counts = countChanges(p);
  const resources: ResourceChange[] = [];
  for (const rc of (p.resource_changes as unknown[] | undefined) ?? []) {
    if (!isObject(rc) || rc.mode !== 'managed') continue;
    const change = isObject(rc.change) ? rc.change : {};
    const address = String(rc.address ?? '?');
    const action = classify(change.actions, address);
    const importing = isObject(change.importing);
    if ((action === 'no-op' || action === 'read') && !importing) continue;
    const attrs = action === 'forget' ? [] : attributeChanges(change, rc.replace_paths ?? change.replace_paths);
    resources.push({
      address,
      action: importing && action === 'no-op' ? 'import' : action,
      actions: change.actions as string[],
      reason: typeof rc.action_reason === 'string' ? rc.action_reason : undefined,
      importing,
      attributes: attrs.slice(0, MAX_ATTRIBUTES),
      moreAttributes: Math.max(0, attrs.length - MAX_ATTRIBUTES),
    });
  }
  const outputs: OutputChange[] = [];
  for (const [name, oc] of Object.entries(isObject(p.output_changes) ? p.output_changes : {})) {
    if (!isObject(oc)) continue;
    const action = classify(oc.actions, `output.${name}`);
    if (action === 'no-op' || action === 'read') continue;
    const after =
      oc.after_unknown === true
        ? UNKNOWN
        : oc.after_sensitive === true || containsSensitive(oc.after_sensitive)
          ? SENSITIVE
          : action === 'delete'
            ? ''
            : render(oc.after);
    outputs.push({ name, action, after });
  }
  const drift = ((p.resource_drift as unknown[] | undefined) ?? []).filter(isObject).map((d) => String(d.address ?? '?'));
  const hasChanges = counts.add + counts.change + counts.destroy + counts.imports + counts.forgets > 0 || outputs.length > 0;
  return {
    formatVersion,
    terraformVersion: typeof p.terraform_version === 'string' ? p.terraform_version : undefined,
    tool: detectTool(p),
    counts,
    hasChanges,
    resources,
    outputs,
    drift,
    warnings,
  };
}

/**
 * Every string value a plan marks as sensitive (resource attributes, outputs, sensitive variables),
 * so the action can register them with the masker: a sensitive value then cannot leak into any
 * log line even through tool output we print.
 */
export function sensitiveStrings(plan: unknown): string[] {
  const found = new Set<string>();
  const collect = (value: unknown, mask: unknown): void => {
    if (mask === true) {
      leaves(value, (s) => found.add(s));
      return;
    }
    if (Array.isArray(mask) && Array.isArray(value)) mask.forEach((m, i) => collect(value[i], m));
    else if (isObject(mask) && isObject(value)) for (const [k, m] of Object.entries(mask)) collect(value[k], m);
  };
  if (!isObject(plan)) return [];
  for (const rc of (plan.resource_changes as unknown[] | undefined) ?? []) {
    if (!isObject(rc) || !isObject(rc.change)) continue;
    collect(rc.change.before, rc.change.before_sensitive);
    collect(rc.change.after, rc.change.after_sensitive);
  }
  if (isObject(plan.output_changes)) {
    for (const oc of Object.values(plan.output_changes)) {
      if (!isObject(oc)) continue;
      collect(oc.before, oc.before_sensitive);
      collect(oc.after, oc.after_sensitive);
    }
  }
  const vars =
    isObject(plan.configuration) && isObject(plan.configuration.root_module) ? plan.configuration.root_module.variables : undefined;
  if (isObject(vars) && isObject(plan.variables)) {
    for (const [name, def] of Object.entries(vars)) {
      const v = plan.variables[name];
      if (isObject(def) && def.sensitive === true && isObject(v)) leaves(v.value, (s) => found.add(s));
    }
  }
  // Sensitive values inside planned_values/prior_state are covered by the same values above.
  return [...found];
}

/** Values worth registering with the masker: strings of 4+ characters that are not words every log has. */
export function maskable(s: string): boolean {
  return s.trim().length >= 4 && !/^(true|false|null|none|\(sensitive\)|\(known after apply\))$/i.test(s.trim());
}

function leaves(v: unknown, add: (s: string) => void): void {
  if (typeof v === 'string') {
    if (maskable(v)) add(v);
  } else if (Array.isArray(v)) v.forEach((x) => leaves(x, add));
  else if (isObject(v)) Object.values(v).forEach((x) => leaves(x, add));
}

/** `terraform output -json`: the non-sensitive outputs as name → value, and every sensitive value (to mask). */
export function splitOutputs(json: unknown): { outputs: Record<string, Json>; sensitive: string[]; omitted: string[] } {
  if (!isObject(json)) throw new BadPlanError('`terraform output -json` did not print a JSON object');
  const outputs: Record<string, Json> = {};
  const sensitive: string[] = [];
  const omitted: string[] = [];
  for (const [name, o] of Object.entries(json)) {
    if (!isObject(o)) continue;
    if (o.sensitive === true) {
      omitted.push(name);
      leaves(o.value, (s) => sensitive.push(s));
      if (o.value !== undefined && o.value !== null && typeof o.value === 'object') sensitive.push(JSON.stringify(o.value));
      continue;
    }
    outputs[name] = (o.value ?? null) as Json;
  }
  return { outputs, sensitive, omitted };
}
