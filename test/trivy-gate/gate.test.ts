/**
 * gate.ts: the counting contract, the threshold, ordering, what counts as unfixed.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, isUnfixed } from '../../actions/trivy-gate/src/gate.js';
import type { Finding } from '../../actions/trivy-gate/src/trivy-report.js';

describe('gate', () => {
  const f = (severity: Finding['severity'], extra: Partial<Finding> = {}): Finding => ({
    kind: 'vulnerability',
    id: `CVE-${Math.random()}`,
    severity,
    target: 't',
    fixed: '1.0',
    status: 'fixed',
    ...extra,
  });
  const report = (findings: Finding[]) => ({
    schemaVersion: 2,
    artifactName: 'a',
    artifactType: 'container_image',
    trivyVersion: 'dev',
    results: 1,
    findings,
    modified: 0,
  });

  it('fails at the threshold and above, never with none', () => {
    const r = report([f('CRITICAL'), f('HIGH'), f('MEDIUM'), f('LOW'), f('UNKNOWN')]);
    expect(evaluate(r, { threshold: 'CRITICAL', ignoreUnfixed: false }).failing).toBe(1);
    expect(evaluate(r, { threshold: 'HIGH', ignoreUnfixed: false }).failing).toBe(2);
    expect(evaluate(r, { threshold: 'MEDIUM', ignoreUnfixed: false }).failing).toBe(3);
    expect(evaluate(r, { threshold: 'LOW', ignoreUnfixed: false }).failing).toBe(4);
    expect(evaluate(r, { threshold: 'UNKNOWN', ignoreUnfixed: false }).failing).toBe(5);
    const none = evaluate(r, { threshold: 'none', ignoreUnfixed: false });
    expect([none.failing, none.passed, none.counts.CRITICAL]).toEqual([0, true, 1]);
  });

  it('orders failing findings highest first, stable', () => {
    const r = report([f('HIGH', { id: 'h1' }), f('CRITICAL', { id: 'c1' }), f('HIGH', { id: 'h2' }), f('CRITICAL', { id: 'c2' })]);
    expect(evaluate(r, { threshold: 'HIGH', ignoreUnfixed: false }).failingFindings.map((x) => x.id)).toEqual(['c1', 'c2', 'h1', 'h2']);
  });

  it('unfixed means no fixed version or a status other than fixed; never a secret', () => {
    expect(isUnfixed(f('HIGH', { fixed: undefined, status: 'affected' }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '', status: undefined }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '2.0', status: 'will_not_fix' }))).toBe(true);
    expect(isUnfixed(f('HIGH', { fixed: '2.0', status: undefined }))).toBe(false);
    expect(isUnfixed({ kind: 'secret', id: 's', severity: 'HIGH', target: 't' })).toBe(false);
  });
});
