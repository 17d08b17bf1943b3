// Checking a chained audit file (one job's part, or a joined trail). Pure: text in, verdict out.
import { type AuditRecord, canonicalJson, lineHash, ZERO_HASH } from './record.js';

export interface ChainProblem {
  /** 1-based line number in the file. */
  line: number;
  /** The record's seq and action when the line could be read. */
  seq?: number;
  action?: string;
  message: string;
}
export interface ChainResult {
  ok: boolean;
  records: AuditRecord[];
  problems: ChainProblem[];
}
export interface ChainOptions {
  /** A joined trail ends with a seal record (action audit-trail) that counts the records before it. */
  sealed?: boolean;
  /** Named in messages: "part hallmark-audit-part-build: …". */
  name?: string;
}

/** "record 3 (trivy-gate)" */
export function recordName(r: { seq?: unknown; action?: unknown } | undefined, fallbackLine?: number): string {
  const seq = typeof r?.seq === 'number' ? r.seq : undefined;
  const action = typeof r?.action === 'string' ? r.action.replace(/[^a-z0-9-]/g, '?').slice(0, 64) : undefined;
  if (seq === undefined) return `the record on line ${fallbackLine ?? '?'}${action ? ` (${action})` : ''}`;
  return `record ${seq}${action ? ` (${action})` : ''}`;
}

function isRecord(v: unknown): v is AuditRecord {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const r = v as Partial<AuditRecord>;
  return (
    typeof r.seq === 'number' &&
    typeof r.prev === 'string' &&
    typeof r.action === 'string' &&
    typeof r.time === 'string' &&
    (r.verdict === 'passed' || r.verdict === 'failed') &&
    !!r.run &&
    typeof r.run === 'object' &&
    !!r.subject &&
    typeof r.subject === 'object' &&
    !!r.facts &&
    typeof r.facts === 'object'
  );
}

/** The record with `seq` on a line after `from` (0-based), if any. */
function laterSeq(lines: string[], from: number, seq: number): { rec: AuditRecord; line: number } | undefined {
  for (let j = from; j < lines.length; j++) {
    try {
      const r = JSON.parse(lines[j] as string) as unknown;
      if (isRecord(r) && r.seq === seq) return { rec: r, line: j + 1 };
    } catch {
      // not a record: skip
    }
  }
  return undefined;
}

/**
 * Verifies that `text` is an unbroken chain: every line a canonical record, seq 1, 2, … in order,
 * each `prev` the sha256 of the line before (the first: 64 zeros). Every problem names the record
 * (seq and action) where the chain breaks and what that means.
 */
export function verifyChain(text: string, opts: ChainOptions = {}): ChainResult {
  const where = opts.name ? `${opts.name}: ` : '';
  const problems: ChainProblem[] = [];
  const records: AuditRecord[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else if (lines.length > 0)
    problems.push({ line: lines.length, message: `${where}the last line has no newline (the file was cut or edited)` });
  let prevLine: string | undefined;
  let prevRec: AuditRecord | undefined;
  // The seq the next record must carry: one past the highest seen, so one removed, moved or
  // duplicated record is reported once, at the place it went wrong, not again at every later line.
  let maxSeq = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const n = i + 1;
    const expectedSeq = maxSeq + 1;
    const after = prevRec ? ` (after ${recordName(prevRec)})` : '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push({ line: n, message: `${where}line ${n} is not a JSON record${after}` });
      maxSeq += 1;
      prevLine = line;
      prevRec = undefined;
      continue;
    }
    if (!isRecord(parsed)) {
      const p = parsed as { seq?: unknown; action?: unknown } | null;
      problems.push({
        line: n,
        message: `${where}${recordName(p ?? undefined, n)} is not an audit record (seq, prev, action, time, verdict, run, subject, facts)${after}`,
      });
      maxSeq += 1;
      prevLine = line;
      prevRec = undefined;
      continue;
    }
    const rec = parsed;
    const name = recordName(rec, n);
    const at = { line: n, seq: rec.seq, action: rec.action };
    if (canonicalJson(rec) !== line) {
      problems.push({ ...at, message: `${where}${name} was edited: its line is not the canonical form it was written in` });
    } else if (rec.seq !== expectedSeq) {
      const later = laterSeq(lines, i + 1, expectedSeq);
      if (rec.seq > expectedSeq && later) {
        problems.push({
          ...at,
          message: `${where}${name} is out of order: ${recordName(later.rec)} comes after it, on line ${later.line} (reordered)`,
        });
      } else if (rec.seq > expectedSeq) {
        const missing =
          rec.seq - expectedSeq === 1 ? `record ${expectedSeq} is missing` : `records ${expectedSeq}–${rec.seq - 1} are missing`;
        problems.push({
          ...at,
          message: `${where}${missing}: ${name} follows ${prevRec ? recordName(prevRec) : 'the start of the file'} (removed or reordered)`,
        });
      } else {
        problems.push({
          ...at,
          message: `${where}${name} is out of order: it stands where record ${expectedSeq} belongs${after} (reordered, duplicated or removed)`,
        });
      }
    } else {
      const want = prevLine === undefined ? ZERO_HASH : lineHash(prevLine);
      if (rec.prev !== want) {
        const before = prevLine === undefined ? 'the start of the file' : prevRec ? recordName(prevRec) : `line ${n - 1}`;
        problems.push({
          ...at,
          message: `${where}${name} does not chain to ${before}: its prev is not the hash of ${before}, so ${before} was edited, or records between them were removed or reordered`,
        });
      }
    }
    records.push(rec);
    maxSeq = Math.max(maxSeq, rec.seq);
    prevLine = line;
    prevRec = rec;
  }
  if (lines.length === 0) problems.push({ line: 0, message: `${where}the file holds no records` });
  if (opts.sealed && lines.length > 0) {
    const seals = records.filter((r) => r.seal !== undefined);
    const last = records.at(-1);
    if (!last?.seal || last.action !== 'audit-trail') {
      problems.push({
        line: lines.length,
        ...(last ? { seq: last.seq, action: last.action } : {}),
        message: `${where}the trail does not end with its seal: records after ${recordName(last, lines.length)} were removed (or the file is a part, not a joined trail)`,
      });
    } else if (last.seal.records !== last.seq - 1) {
      problems.push({
        line: lines.length,
        seq: last.seq,
        action: last.action,
        message: `${where}the seal (${recordName(last)}) counts ${last.seal.records} records before it, the trail has ${last.seq - 1}`,
      });
    }
    for (const s of seals) {
      if (s !== last)
        problems.push({
          line: s.seq,
          seq: s.seq,
          action: s.action,
          message: `${where}${recordName(s)} is a seal in the middle of the trail (two trails were spliced)`,
        });
    }
  }
  return { ok: problems.length === 0, records, problems };
}
