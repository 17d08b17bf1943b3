// The audit record: one JSON Lines record per action run, hash-chained per file.
// Pure: canonical JSON, hashing and the record shape. No fs, no runner.
import { createHash } from 'node:crypto';

export interface AuditSubject {
  image?: string;
  digest?: string;
  planSha256?: string;
  configRepository?: string;
  configCommit?: string;
  environment?: string;
}
export type AuditFacts = Record<string, string | number | boolean>;
export interface AuditRun {
  repository: string;
  workflowRef: string;
  runId: string;
  runAttempt: string;
  job: string;
  actor: string;
  event: string;
  sha: string;
  ref: string;
}
export interface AuditEntry {
  time: string;
  action: string;
  version: string;
  run: AuditRun;
  subject: AuditSubject;
  verdict: 'passed' | 'failed';
  failureReason?: string;
  facts: AuditFacts;
}
/** Where a joined record came from: the part (one job's file) and its place in that part's chain. */
export interface AuditOrigin {
  part: string;
  seq: number;
}
/** A record as stored: the entry plus its place in the chain. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  /** sha256 (hex) of the previous line's bytes (without its newline), or ZERO_HASH for the first. */
  prev: string;
  /** Set in a joined trail only. */
  origin?: AuditOrigin;
  /** Set on the last record of a joined trail only: the trail's seal, written by audit-trail. */
  seal?: { records: number; parts: string[] };
}

export const AUDIT_FILE = 'hallmark-audit.jsonl';
export const ZERO_HASH = '0'.repeat(64);
/** Longest string value a record may hold: facts are identifiers, hashes, counts — never free text. */
export const MAX_VALUE_LENGTH = 1024;

const SUBJECT_KEYS = ['image', 'digest', 'planSha256', 'configRepository', 'configCommit', 'environment'] as const;
const RUN_KEYS = ['repository', 'workflowRef', 'runId', 'runAttempt', 'job', 'actor', 'event', 'sha', 'ref'] as const;
const FACT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export class AuditRecordError extends Error {
  override name = 'AuditRecordError';
}

/** JSON with object keys sorted (recursively), no whitespace, undefined members dropped: same value, same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new AuditRecordError(`canonical JSON: ${value} is not a finite number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      throw new AuditRecordError(`canonical JSON: cannot encode a ${typeof value}`);
  }
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function checkString(where: string, v: unknown, optional: boolean): string | undefined {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw new AuditRecordError(`audit record: ${where} must be a string`);
  if (v.length > MAX_VALUE_LENGTH)
    throw new AuditRecordError(`audit record: ${where} is ${v.length} characters (at most ${MAX_VALUE_LENGTH})`);
  return v;
}

/** Checks an entry's shape and copies only the known fields (so nothing else slips into a record). */
export function normalizeEntry(entry: AuditEntry): AuditEntry {
  if (!entry || typeof entry !== 'object') throw new AuditRecordError('audit record: entry must be an object');
  const time = checkString('time', entry.time, false) as string;
  if (Number.isNaN(Date.parse(time))) throw new AuditRecordError(`audit record: time '${time}' is not an ISO date`);
  const action = checkString('action', entry.action, false) as string;
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(action)) throw new AuditRecordError(`audit record: action '${action}' is not an action name`);
  const version = checkString('version', entry.version, false) as string;
  if (entry.verdict !== 'passed' && entry.verdict !== 'failed')
    throw new AuditRecordError("audit record: verdict must be 'passed' or 'failed'");
  const failureReason = checkString('failureReason', entry.failureReason, true);
  if (failureReason !== undefined && !/^[a-z0-9-]{1,64}$/.test(failureReason)) {
    throw new AuditRecordError('audit record: failureReason must be a failure-reason word (a-z, 0-9, -)');
  }
  const run = {} as AuditRun;
  for (const k of RUN_KEYS) run[k] = checkString(`run.${k}`, entry.run?.[k] ?? '', false) as string;
  const subject: AuditSubject = {};
  for (const k of SUBJECT_KEYS) {
    const v = checkString(`subject.${k}`, entry.subject?.[k], true);
    if (v !== undefined && v !== '') subject[k] = v;
  }
  const facts: AuditFacts = {};
  for (const [k, v] of Object.entries(entry.facts ?? {})) {
    if (v === undefined) continue;
    if (!FACT_NAME.test(k))
      throw new AuditRecordError(`audit record: fact name '${k.slice(0, 80)}' is not a name ([A-Za-z0-9_.-], at most 64)`);
    if (typeof v === 'number' && !Number.isFinite(v)) throw new AuditRecordError(`audit record: fact '${k}' is not a finite number`);
    if (typeof v === 'string') checkString(`fact '${k}'`, v, false);
    else if (typeof v !== 'number' && typeof v !== 'boolean')
      throw new AuditRecordError(`audit record: fact '${k}' must be a string, number or boolean`);
    facts[k] = v;
  }
  return { time, action, version, run, subject, verdict: entry.verdict, ...(failureReason ? { failureReason } : {}), facts };
}

/** The line (without newline) for an entry at a place in a chain. */
export function recordLine(entry: AuditEntry, seq: number, prev: string, extra: Pick<AuditRecord, 'origin' | 'seal'> = {}): string {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new AuditRecordError(`audit record: seq must be a positive integer, got ${seq}`);
  if (!/^[0-9a-f]{64}$/.test(prev)) throw new AuditRecordError('audit record: prev must be 64 hex digits');
  const record: AuditRecord = { ...normalizeEntry(entry), seq, prev, ...extra };
  return canonicalJson(record);
}

/** The hash the next record's `prev` must hold: sha256 of this line's bytes (UTF-8, no newline). */
export function lineHash(line: string): string {
  return sha256Hex(Buffer.from(line, 'utf8'));
}

/** Where the next record of a file goes, from the file's current text (pure). */
export function nextLink(text: string): { seq: number; prev: string } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const last = lines.at(-1);
  if (last === undefined) return { seq: 1, prev: ZERO_HASH };
  let seq = lines.length + 1;
  try {
    const parsed = JSON.parse(last) as { seq?: unknown };
    if (typeof parsed.seq === 'number' && Number.isSafeInteger(parsed.seq) && parsed.seq >= 1) seq = parsed.seq + 1;
  } catch {
    // A damaged last line still gets chained to; verification names it.
  }
  return { seq, prev: lineHash(last) };
}
