/**
 * One meaning per output name (issue 14 item 7). Every actions/<name>/action.yml output is
 * classified from its description alone — boolean ("`true` when …"), count ("Number of …"), JSON,
 * path, or string — and the suite fails when:
 * - two actions use one output name with different kinds (a caller writing
 *   `steps.x.outputs.passed == 'true'` must be right for every action that has `passed`);
 * - a `-count` output is not described as a count, or a count is not named `-count`;
 * - `passed` is not a boolean, or a gate uses another name for its verdict;
 * - a name retired before v1 (`ok`, `verified`, `total`, `critical`, `add`, `packages` …) is back.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../harness/runner.js';

type Kind = 'boolean' | 'count' | 'json' | 'path' | 'string';
interface Output {
  action: string;
  name: string;
  description: string;
  kind: Kind;
}

/** The kind of an output, from its description (a leading "Plan mode." / "Apply mode." qualifier is ignored). */
function kindOf(description: string): Kind {
  const d = description
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^(?:[A-Z][a-z]+ mode\.\s*)+/, '');
  if (/^`true` (?:when|if)\b/.test(d) || /^`true` or `false`/.test(d)) return 'boolean';
  if (/^(?:The )?(?:number|count) of\b/i.test(d)) return 'count';
  if (/^JSON\b/.test(d) || /^(?:A |The )?JSON (?:array|object)\b/i.test(d)) return 'json';
  if (/\b(?:path|paths|directory)\b/i.test(d.split(/[.;(]/)[0] ?? '')) return 'path';
  return 'string';
}

/** Names used by two or more actions with different kinds: `name → { action: kind }`. */
function conflicts(outputs: Output[]): Record<string, Record<string, Kind>> {
  const byName = new Map<string, Output[]>();
  for (const o of outputs) byName.set(o.name, [...(byName.get(o.name) ?? []), o]);
  const out: Record<string, Record<string, Kind>> = {};
  for (const [name, os] of byName) {
    if (new Set(os.map((o) => o.kind)).size > 1) out[name] = Object.fromEntries(os.map((o) => [o.action, o.kind]));
  }
  return out;
}

function readOutputs(): Output[] {
  const all: Output[] = [];
  for (const action of readdirSync(join(ROOT, 'actions')).sort()) {
    const file = join(ROOT, 'actions', action, 'action.yml');
    if (!existsSync(file)) continue;
    const y = parse(readFileSync(file, 'utf8')) as { outputs?: Record<string, { description?: string }> };
    for (const [name, v] of Object.entries(y.outputs ?? {})) {
      const description = String(v.description ?? '');
      all.push({ action, name, description, kind: kindOf(description) });
    }
  }
  return all;
}

// Decided before v1 (issue 14 item 7): the verdict of a gate is `passed`, counts end in `-count`.
const DECIDED: Record<string, string[]> = {
  'smoke-test': ['passed', 'passed-count', 'failed-count', 'warning-count', 'check-count'],
  'trivy-gate': ['passed', 'critical-count', 'high-count', 'medium-count', 'low-count', 'unknown-count', 'failing-count'],
  'verify-image': ['passed'],
  'terraform-gated-apply': ['add-count', 'change-count', 'destroy-count', 'replace-count'],
  'sbom-attach': ['package-count'],
};
const RETIRED = [
  'ok',
  'verified',
  'total',
  'failed',
  'warnings',
  'failing',
  'critical',
  'high',
  'medium',
  'low',
  'unknown',
  'add',
  'change',
  'destroy',
  'replace',
  'packages',
  'records',
];

describe('output names', () => {
  const outputs = readOutputs();

  it('reads the outputs of every action', () => {
    expect(new Set(outputs.map((o) => o.action)).size).toBeGreaterThanOrEqual(10);
    expect(outputs.filter((o) => o.name === 'failure-reason').length).toBe(new Set(outputs.map((o) => o.action)).size);
  });

  it('the classifier tells the kinds apart (so a conflict can be seen)', () => {
    expect(kindOf('`true` when no critical check failed; else `false`.')).toBe('boolean');
    expect(kindOf('Plan mode. `true` when the plan changes any managed resource.')).toBe('boolean');
    expect(kindOf('Number of checks that passed.')).toBe('count');
    expect(kindOf('Plan mode. Number of managed resources to create.')).toBe('count');
    expect(kindOf('JSON array of the tag references pushed.')).toBe('json');
    expect(kindOf('Absolute path of the JSON report.')).toBe('path');
    expect(kindOf('The directory exported as DOCKER_CONFIG (under RUNNER_TEMP).')).toBe('path');
    expect(kindOf('The message `ts` (Web API only).')).toBe('string');
    const planted: Output[] = [
      { action: 'trivy-gate', name: 'passed', description: '`true` when …', kind: 'boolean' },
      { action: 'smoke-test', name: 'passed', description: 'Number of checks that passed.', kind: 'count' },
      { action: 'build-sign', name: 'signed', description: '`true` when …', kind: 'boolean' },
    ];
    expect(conflicts(planted)).toEqual({ passed: { 'trivy-gate': 'boolean', 'smoke-test': 'count' } });
  });

  it('no output name means two things across actions', () => {
    const shared = conflicts(outputs.filter((o) => o.name !== 'failure-reason'));
    expect(shared).toEqual({});
  });

  it('every `-count` output is described as a count ("Number of …"), and every count is named `-count`', () => {
    const bad = outputs
      .filter((o) => o.name.endsWith('-count') !== (o.kind === 'count'))
      .map((o) => `${o.action}.${o.name} (${o.kind}): ${o.description.slice(0, 60)}`);
    expect(bad).toEqual([]);
  });

  it('`passed` is a boolean verdict ("`true` when …") wherever it appears', () => {
    const passed = outputs.filter((o) => o.name === 'passed');
    expect(passed.map((o) => o.action).sort()).toEqual(['smoke-test', 'trivy-gate', 'verify-image']);
    for (const o of passed) expect(o.kind, `${o.action}.passed`).toBe('boolean');
  });

  it('the names decided before v1 are there, and the retired ones are gone', () => {
    for (const [action, names] of Object.entries(DECIDED)) {
      const have = outputs.filter((o) => o.action === action).map((o) => o.name);
      for (const n of names) expect(have, `${action} has output ${n}`).toContain(n);
    }
    const back = outputs.filter((o) => RETIRED.includes(o.name)).map((o) => `${o.action}.${o.name}`);
    expect(back).toEqual([]);
  });
});
