/**
 * The audit hook in-process: what audit.subject/facts keep, what they leave out (secrets, names the
 * record format refuses), and that writing never throws. The records are written by T's real
 * appendAuditRecord (@hallmark/audit) and read back; run.test.ts covers the record of a whole run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { _resetSecrets } from '@hallmark/kit';
import { audit, maskSecret, writeAuditRecord } from '@hallmark/kit/runner';
import { _resetAudit } from '../../packages/kit/src/runner/audit.js';

const dirs: string[] = [];
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'kit-audit-'));
  dirs.push(d);
  return d;
}
function records(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'hallmark-audit.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

afterEach(() => {
  _resetAudit();
  _resetSecrets();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('audit', () => {
  it('subject and facts merge (a later value wins; undefined and empty subject fields are ignored)', () => {
    const dir = temp();
    audit.subject({ image: 'ghcr.io/o/app', environment: 'staging' });
    audit.subject({ digest: `sha256:${'b'.repeat(64)}`, environment: 'production', image: undefined, configCommit: '' });
    audit.facts({ severity: 'HIGH', 'critical-count': 1 });
    audit.facts({ 'critical-count': 0, 'ignore-file-sha256': undefined, cache: false });
    const warnings: string[] = [];
    expect(
      writeAuditRecord('trivy-gate', 'passed', undefined, {
        env: { RUNNER_TEMP: dir, GITHUB_REPOSITORY: 'o/app' },
        warn: (m) => warnings.push(m),
        now: () => new Date('2026-12-01T15:00:00Z'),
      }),
    ).toBe(join(dir, 'hallmark-audit.jsonl'));
    expect(warnings).toEqual([]);
    const [r] = records(dir);
    expect(r).toMatchObject({
      action: 'trivy-gate',
      version: 'dev',
      time: '2026-12-01T15:00:00.000Z',
      verdict: 'passed',
      subject: { image: 'ghcr.io/o/app', digest: `sha256:${'b'.repeat(64)}`, environment: 'production' },
      facts: { severity: 'HIGH', 'critical-count': 0, cache: false },
      run: { repository: 'o/app', runId: '' },
    });
    expect(Object.keys(r?.facts as object).sort()).toEqual(['cache', 'critical-count', 'severity']);
  });

  it('a value holding a registered secret, a bad fact name, a non-finite number or an over-long string: that value is left out, with a warning that does not show it', () => {
    const dir = temp();
    maskSecret('audit-canary-0b7d2f');
    audit.subject({ image: 'ghcr.io/o/app', configRepository: 'https://x:audit-canary-0b7d2f@git.example/cfg' });
    audit.facts({
      registry: 'ghcr.io',
      'auth-header': 'Basic audit-canary-0b7d2f',
      'bad name!': 'x',
      ratio: Number.NaN,
      blob: 'y'.repeat(2000),
      ok: 3,
    });
    const warnings: string[] = [];
    writeAuditRecord('build-sign', 'failed', 'sign-failed', { env: { RUNNER_TEMP: dir }, warn: (m) => warnings.push(m) });
    const text = readFileSync(join(dir, 'hallmark-audit.jsonl'), 'utf8');
    expect(text).not.toContain('audit-canary');
    const [r] = records(dir);
    expect(r).toMatchObject({
      verdict: 'failed',
      failureReason: 'sign-failed',
      subject: { image: 'ghcr.io/o/app' },
      facts: { registry: 'ghcr.io', ok: 3 },
    });
    expect(Object.keys(r?.facts as object).sort()).toEqual(['ok', 'registry']);
    expect(r?.subject).not.toHaveProperty('configRepository');
    expect(warnings).toEqual([
      "build-sign: audit: subject 'configRepository' left out of the audit record: its value holds a secret",
      "build-sign: audit: fact 'auth-header' left out of the audit record: its value holds a secret",
      'build-sign: audit: fact "bad name!" left out of the audit record: not a fact name ([A-Za-z0-9_.-], at most 64)',
      "build-sign: audit: fact 'ratio' left out of the audit record: not a finite number",
      "build-sign: audit: fact 'blob' left out of the audit record: longer than 1024 characters",
    ]);
    expect(warnings.join('\n')).not.toContain('audit-canary');
  });

  it('a passed verdict carries no failure reason; off() and a missing RUNNER_TEMP write nothing', () => {
    const dir = temp();
    writeAuditRecord('slack-notify', 'passed', 'delivery-failed', { env: { RUNNER_TEMP: dir } });
    expect(records(dir)[0]).not.toHaveProperty('failureReason');
    expect(writeAuditRecord('slack-notify', 'passed', undefined, { env: {} })).toBeUndefined();
    audit.off();
    expect(writeAuditRecord('registry-login', 'passed', undefined, { env: { RUNNER_TEMP: dir } })).toBeUndefined();
    expect(records(dir)).toHaveLength(1);
  });

  it('a writer that throws is a warning, never an exception', () => {
    const warnings: string[] = [];
    const out = writeAuditRecord('verify-image', 'passed', undefined, {
      env: { RUNNER_TEMP: '/nonexistent' },
      warn: (m) => warnings.push(m),
      write: () => {
        throw new Error('EACCES: permission denied');
      },
    });
    expect(out).toBeUndefined();
    expect(warnings).toEqual(['verify-image: could not write the audit record: EACCES: permission denied']);
  });
});
