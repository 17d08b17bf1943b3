// Joining one run's parts (one chained file per job) into one trail: verify each part, order all
// records by time then job, re-chain them, and end with a seal that counts them. Pure.
import { type ChainProblem, verifyChain } from './chain.js';
import { type AuditEntry, type AuditFacts, type AuditRecord, type AuditRun, lineHash, recordLine, ZERO_HASH } from './record.js';

export interface AuditPart {
  /** The part's name, e.g. the artifact it came in: hallmark-audit-part-bss-build. */
  name: string;
  text: string;
}
export interface SealInfo {
  time: string;
  version: string;
  run: AuditRun;
  /** Non-secret facts of the join (job results, deploy mode, approvers …). */
  facts?: AuditFacts;
}
export interface JoinedTrail {
  /** The trail's bytes: one canonical line per record, the seal last, each line ending in \n. */
  text: string;
  records: AuditRecord[];
  sha256: string;
}

export class PartError extends Error {
  override name = 'PartError';
  constructor(
    readonly part: string,
    readonly problems: ChainProblem[],
  ) {
    super(problems.map((p) => p.message).join('; '));
  }
}

function timeOf(r: AuditRecord): number {
  const t = Date.parse(r.time);
  return Number.isNaN(t) ? 0 : t;
}

function entryOf(r: AuditRecord): AuditEntry {
  const { time, action, version, run, subject, verdict, failureReason, facts } = r;
  return { time, action, version, run, subject, verdict, ...(failureReason ? { failureReason } : {}), facts };
}

/**
 * Verifies every part (a broken one throws PartError naming the part and the record), orders all
 * records by time, then job, then part, then their place in the part, and re-chains them into one
 * trail ending with a seal record (action audit-trail).
 */
export function joinParts(parts: AuditPart[], seal: SealInfo): JoinedTrail {
  const names = new Set<string>();
  const all: { rec: AuditRecord; part: string }[] = [];
  for (const part of [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (names.has(part.name)) throw new PartError(part.name, [{ line: 0, message: `${part.name}: two parts have this name` }]);
    names.add(part.name);
    const res = verifyChain(part.text, { name: `part ${part.name}` });
    if (!res.ok) throw new PartError(part.name, res.problems);
    for (const rec of res.records) all.push({ rec, part: part.name });
  }
  all.sort(
    (a, b) =>
      timeOf(a.rec) - timeOf(b.rec) ||
      (a.rec.run.job < b.rec.run.job ? -1 : a.rec.run.job > b.rec.run.job ? 1 : 0) ||
      (a.part < b.part ? -1 : a.part > b.part ? 1 : 0) ||
      a.rec.seq - b.rec.seq,
  );
  const lines: string[] = [];
  let prev = ZERO_HASH;
  for (const [i, { rec, part }] of all.entries()) {
    const line = recordLine(entryOf(rec), i + 1, prev, { origin: { part, seq: rec.seq } });
    lines.push(line);
    prev = lineHash(line);
  }
  const sealEntry: AuditEntry = {
    time: seal.time,
    action: 'audit-trail',
    version: seal.version,
    run: seal.run,
    subject: {},
    verdict: 'passed',
    facts: { ...(seal.facts ?? {}), 'record-count': all.length, 'part-count': names.size },
  };
  lines.push(recordLine(sealEntry, all.length + 1, prev, { seal: { records: all.length, parts: [...names] } }));
  const text = lines.map((l) => `${l}\n`).join('');
  const records = lines.map((l) => JSON.parse(l) as AuditRecord);
  return { text, records, sha256: lineHash(text) };
}
