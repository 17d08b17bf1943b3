/**
 * Runs trivy-gate's hardening corpus (test/hardening/cases/trivy-gate.ts) through the bundle: each
 * case gives exactly one `::error::trivy-gate: input '<name>' …` line, exit 1, failure-reason
 * invalid-input, no stack trace, nothing written outside RUNNER_TEMP and inside it only the audit
 * record of the failed run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import corpus from '../hardening/cases/trivy-gate.js';
import { runAction } from '../harness/runner.js';
import { cleanupHomes, trackedHome } from './helpers.js';

afterAll(cleanupHomes);

function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('trivy-gate hardening corpus', () => {
  it('has at least 25 cases with unique names', () => {
    expect(corpus.bad.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.bad.map((c) => c.name)).size).toBe(corpus.bad.length);
  });

  it('the base is valid (passes)', async () => {
    const home = trackedHome();
    corpus.setup?.(home.workspace);
    const r = await runAction('trivy-gate', { home, inputs: corpus.base.inputs, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 20_000 });
    expect([r.code, r.outputs.passed, r.errors]).toEqual([0, 'true', []]);
  });

  it.each(corpus.bad)('$name → one error naming $input', async (c) => {
    const home = trackedHome();
    corpus.setup?.(home.workspace);
    const before = listTree(home.workspace);
    const inputs: Record<string, string | undefined> = { ...corpus.base.inputs, ...c.inputs };
    const r = await runAction('trivy-gate', { home, inputs, env: { PATH: '/usr/bin:/bin' }, timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^trivy-gate: /);
    expect(r.errors[0]).toContain(`input '${c.input}'`);
    if (c.expect) expect(r.errors[0]).toMatch(c.expect);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.stdout).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
    expect(listTree(home.workspace)).toEqual(before);
    // RUNNER_TEMP holds nothing but the run's audit record, which says what failed and why.
    expect(listTree(home.temp)).toEqual(['hallmark-audit.jsonl']);
    const record = JSON.parse(readFileSync(join(home.temp, 'hallmark-audit.jsonl'), 'utf8')) as {
      action: string;
      verdict: string;
      failureReason: string;
    };
    expect([record.action, record.verdict, record.failureReason]).toEqual(['trivy-gate', 'failed', 'invalid-input']);
  });
});
