/**
 * The record format and the chain (issue 16 §2): canonical lines, seq/prev links, and a verifier
 * whose every failure names the record — for removal, reordering and editing of any one record.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AUDIT_FILE,
  appendAuditRecord,
  AuditRecordError,
  canonicalJson,
  joinParts,
  verifyChain,
  ZERO_HASH,
  type AuditRecord,
} from '@hallmark/audit';
import { entry, pipeline, runOf } from './fixtures.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'hallmark-audit-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function joined(): { text: string; lines: string[]; records: AuditRecord[] } {
  const parts = Object.entries(pipeline()).map(([job, entries]) => {
    const f = join(tmp(), AUDIT_FILE);
    for (const e of entries) appendAuditRecord(f, e);
    return { name: `hallmark-audit-part-${job}`, text: readFileSync(f, 'utf8') };
  });
  const t = joinParts(parts, {
    time: '2026-12-01T11:00:00.000Z',
    version: '1.0.0',
    run: runOf('audit'),
    facts: { 'signer-identity': 'x' },
  });
  return { text: t.text, lines: t.text.trimEnd().split('\n'), records: t.records };
}

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined, and is stable under a parse round trip', () => {
    const v = { b: 1, a: { d: [1, 'x', true], c: null }, u: undefined, é: 'ü\n' };
    const s = canonicalJson(v);
    expect(s).toBe('{"a":{"c":null,"d":[1,"x",true]},"b":1,"é":"ü\\n"}');
    expect(canonicalJson(JSON.parse(s))).toBe(s);
  });
  it('refuses what JSON cannot carry exactly', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(AuditRecordError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(AuditRecordError);
  });
});

describe('appendAuditRecord', () => {
  it('writes one canonical line per call, chained by seq and the sha256 of the previous line, 0600, creating the directory', () => {
    const f = join(tmp(), 'deep', 'er', AUDIT_FILE);
    const [a, b] = pipeline().build as [never, never];
    appendAuditRecord(f, a);
    appendAuditRecord(f, b);
    appendAuditRecord(f, { ...entry('trivy-gate', 'build', 4), verdict: 'failed', failureReason: 'gate-failed' });
    const text = readFileSync(f, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const recs = lines.map((l) => JSON.parse(l) as AuditRecord);
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(recs[0]?.prev).toBe(ZERO_HASH);
    expect(recs[1]?.prev).toBe(sha(lines[0] as string));
    expect(recs[2]?.prev).toBe(sha(lines[1] as string));
    expect(recs[2]?.failureReason).toBe('gate-failed');
    for (const l of lines) expect(canonicalJson(JSON.parse(l))).toBe(l);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(verifyChain(text).ok).toBe(true);
  });

  it('keeps only the known fields and refuses free text, bad names and non-scalar facts, writing nothing', () => {
    const f = join(tmp(), AUDIT_FILE);
    const sneaky = { ...entry('trivy-gate', 'scan', 1), extra: 'x', subject: { digest: 'sha256:1', note: 'y' } } as never;
    appendAuditRecord(f, sneaky);
    const rec = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
    expect(rec.extra).toBeUndefined();
    expect(rec.subject).toEqual({ digest: 'sha256:1' });
    const before = readFileSync(f, 'utf8');
    const bad: [string, object][] = [
      ['free text', { facts: { log: 'x'.repeat(1025) } }],
      ['fact name', { facts: { 'a b': 1 } }],
      ['object fact', { facts: { o: { a: 1 } } }],
      ['verdict', { verdict: 'maybe' }],
      ['reason word', { verdict: 'failed', failureReason: 'Gate Failed!' }],
      ['action', { action: '../x' }],
      ['time', { time: 'yesterday' }],
    ];
    for (const [what, over] of bad)
      expect(() => appendAuditRecord(f, { ...entry('trivy-gate', 'scan', 1), ...over } as never), what).toThrow(AuditRecordError);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('chains after a last line cut without its newline (a crash mid-write) instead of merging lines', () => {
    const f = join(tmp(), AUDIT_FILE);
    writeFileSync(f, '{"half":', { mode: 0o600 });
    appendAuditRecord(f, entry('trivy-gate', 'scan', 1));
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect((JSON.parse(lines[1] as string) as AuditRecord).prev).toBe(sha('{"half":'));
    const res = verifyChain(readFileSync(f, 'utf8'));
    expect(res.ok).toBe(false);
    expect(res.problems[0]?.message).toMatch(/line 1 is not a JSON record/);
  });
});

describe('verifyChain on a joined trail: any one record removed, moved or edited is named', () => {
  const { text, lines, records } = joined();
  const name = (i: number) => `record ${records[i]?.seq} (${records[i]?.action})`;
  const check = (changed: string[]) => verifyChain(`${changed.join('\n')}\n`, { sealed: true });

  it('the untouched trail verifies, ordered by time then job, ending with its seal', () => {
    const res = verifyChain(text, { sealed: true });
    expect(res.problems).toEqual([]);
    expect(records.map((r) => `${r.run.job}/${r.action}`)).toEqual([
      'build/setup-tools',
      'build/build-sign',
      'scan/trivy-gate',
      'sign/build-sign',
      'apply/terraform-gated-apply',
      'smoke/smoke-test',
      'audit/audit-trail',
    ]);
    expect(records.at(-1)?.seal).toEqual({
      records: 6,
      parts: [
        'hallmark-audit-part-apply',
        'hallmark-audit-part-build',
        'hallmark-audit-part-scan',
        'hallmark-audit-part-sign',
        'hallmark-audit-part-smoke',
      ],
    });
    expect(records[2]?.origin).toEqual({ part: 'hallmark-audit-part-scan', seq: 1 });
  });

  for (let i = 0; i < 7; i++) {
    it(`removing record ${i + 1} fails and names it`, () => {
      const res = check(lines.filter((_, j) => j !== i));
      expect(res.ok).toBe(false);
      const msg = res.problems.map((p) => p.message).join('\n');
      if (i < 6) expect(msg).toContain(`record ${i + 1} is missing`);
      else expect(msg).toMatch(/does not end with its seal/);
      // and it names the neighbour it found instead
      if (i < 6) expect(msg).toContain(name(i + 1));
      // said once, where it went wrong: the records after the gap still chain and count on from it
      if (i < 6) expect(res.problems).toHaveLength(1);
    });
  }

  for (let i = 0; i < 6; i++) {
    it(`swapping records ${i + 1} and ${i + 2} fails and names the record out of place`, () => {
      const swapped = [...lines];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1] as string, swapped[i] as string];
      const res = check(swapped);
      expect(res.ok).toBe(false);
      expect(res.problems[0]?.message).toContain(`${name(i + 1)} is out of order`);
      expect(res.problems[0]?.seq).toBe(i + 2);
    });
  }

  for (let i = 0; i < 7; i++) {
    it(`editing a value in record ${i + 1} (canonically, as a careful forger would) fails and names it`, () => {
      const rec = JSON.parse(lines[i] as string) as AuditRecord;
      rec.verdict = rec.verdict === 'passed' ? 'failed' : 'passed';
      const edited = [...lines];
      edited[i] = canonicalJson(rec);
      const res = check(edited);
      const msg = res.problems.map((p) => p.message).join('\n');
      if (i < 6) {
        expect(res.ok).toBe(false);
        expect(msg).toContain(`does not chain to ${name(i)}`);
        expect(msg).toContain(`so ${name(i)} was edited`);
      } else {
        // The seal is the last line: only the signature covers it (verifyTrail, signature tests).
        expect(res.ok).toBe(true);
      }
    });
    it(`editing record ${i + 1} by hand (not in canonical form) fails and names it`, () => {
      const edited = [...lines];
      edited[i] = (lines[i] as string).replace('"verdict":', '"verdict" :');
      const res = check(edited);
      expect(res.ok).toBe(false);
      expect(res.problems[0]?.message).toContain(`${name(i)} was edited`);
    });
  }

  it('a seal that miscounts, a seal in the middle, and a cut last line are all named', () => {
    const seal = JSON.parse(lines[6] as string) as AuditRecord;
    seal.seal = { records: 5, parts: seal.seal?.parts ?? [] };
    expect(
      check([...lines.slice(0, 6), canonicalJson(seal)])
        .problems.map((p) => p.message)
        .join(),
    ).toMatch(/counts 5 records before it, the trail has 6/);
    expect(verifyChain(text.slice(0, -1), { sealed: true }).problems[0]?.message).toMatch(/no newline/);
    const twice = joined();
    expect(
      check([...lines, ...twice.lines])
        .problems.map((p) => p.message)
        .join('\n'),
    ).toMatch(/out of order|in the middle/);
  });
});

describe('joinParts', () => {
  it('refuses a broken part, naming the part and the record', () => {
    const f = join(tmp(), AUDIT_FILE);
    for (const e of pipeline().build ?? []) appendAuditRecord(f, e);
    appendAuditRecord(f, entry('trivy-gate', 'build', 9));
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
    const broken = `${[lines[0], lines[2]].join('\n')}\n`;
    expect(() =>
      joinParts([{ name: 'hallmark-audit-part-build', text: broken }], { time: '2026-12-01T11:00:00Z', version: '1', run: runOf('audit') }),
    ).toThrow(/part hallmark-audit-part-build: record 2 is missing: record 3 \(trivy-gate\)/);
  });
  it('is deterministic: the same parts in any order give the same bytes', () => {
    const parts = Object.entries(pipeline()).map(([job, es]) => {
      const f = join(tmp(), AUDIT_FILE);
      for (const e of es) appendAuditRecord(f, e);
      return { name: job, text: readFileSync(f, 'utf8') };
    });
    const seal = { time: '2026-12-01T11:00:00.000Z', version: '1', run: runOf('audit') };
    const a = joinParts(parts, seal);
    const b = joinParts([...parts].reverse(), seal);
    expect(b.text).toBe(a.text);
    expect(a.sha256).toBe(sha(a.text));
  });
});
