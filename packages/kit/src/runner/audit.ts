import { join } from 'node:path';
import { appendAuditRecord, AUDIT_FILE, type AuditEntry, type AuditFacts, type AuditRun, type AuditSubject } from '@hallmark/audit';
import type { RunnerContext } from '../context.js';
import { errorMessage } from '../errors.js';
import { containsSecret } from '../secrets.js';
import { oneLine } from '../text.js';
import { runnerContext } from './context.js';
import * as log from './log.js';

/**
 * The audit hook (issue 16 §2): every action run appends ONE record to
 * `$RUNNER_TEMP/hallmark-audit.jsonl` (written by `run()`, on success and on failure). main.ts
 * declares, as soon as it knows them, what the run was about and the non-secret values that shaped
 * its verdict:
 *
 *   audit.subject({ image, digest });
 *   audit.facts({ severity: 'HIGH', 'critical-count': 0, 'trivy-version': '0.74.0' });
 *
 * Facts are identifiers, hashes, counts, tool versions and settings — never a secret, never free
 * text from a tool. A value that holds a registered secret is left out (with a warning naming the
 * fact, not the value), and so is a fact the record format refuses (name not [A-Za-z0-9_.-],
 * string over 1024 characters), so one bad fact never costs the whole record.
 */
declare const __HALLMARK_VERSION__: string | undefined;

/** The version of hallmark this bundle was built from (scripts/build.mjs defines it); 'dev' unbundled. */
export const VERSION: string = typeof __HALLMARK_VERSION__ === 'string' ? __HALLMARK_VERSION__ : 'dev';

const FACT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const MAX_VALUE = 1024;
const SUBJECT_KEYS = ['image', 'digest', 'planSha256', 'configRepository', 'configCommit', 'environment'] as const;

export type FactValue = string | number | boolean | undefined;
export type SubjectInput = { [K in keyof AuditSubject]?: string | undefined };

interface AuditState {
  subject: AuditSubject;
  facts: AuditFacts;
  off: boolean;
}

const state: AuditState = { subject: {}, facts: {}, off: false };

export const audit = {
  /** What this run is about; merged with earlier calls (a later value wins, `undefined` and '' are ignored). */
  subject(s: SubjectInput): void {
    for (const k of SUBJECT_KEYS) {
      const v = s[k];
      if (typeof v === 'string' && v !== '') state.subject[k] = v;
    }
  },
  /** Non-secret values that shaped the verdict; merged (a later value wins, `undefined` is ignored). */
  facts(f: Record<string, FactValue>): void {
    for (const [k, v] of Object.entries(f)) if (v !== undefined) state.facts[k] = v;
  },
  /** This run writes no audit record (e.g. the post step of an action: its main step wrote one). */
  off(): void {
    state.off = true;
  },
  /** What has been declared so far (a copy). */
  current(): { subject: AuditSubject; facts: AuditFacts; off: boolean } {
    return { subject: { ...state.subject }, facts: { ...state.facts }, off: state.off };
  },
};

/** For tests and for run(): forget the subject and facts of a previous run in this process. */
export function _resetAudit(): void {
  state.subject = {};
  state.facts = {};
  state.off = false;
}

export interface AuditWriteDeps {
  env?: NodeJS.ProcessEnv;
  write?: (file: string, entry: AuditEntry) => void;
  warn?: (message: string) => void;
  now?: () => Date;
}

/** Who ran what, from the runner's facts: the `run` of every audit record (and of the audit-trail seal). */
export function auditRun(ctx: RunnerContext): AuditRun {
  return {
    repository: ctx.repository,
    workflowRef: ctx.workflowRef,
    runId: ctx.runId,
    runAttempt: ctx.runAttempt,
    job: ctx.job,
    actor: ctx.actor,
    event: ctx.eventName,
    sha: ctx.sha,
    ref: ctx.ref,
  };
}

/** The entry for this run, values checked: secret-holding or malformed ones left out, each with a warning. */
export function auditEntry(
  action: string,
  verdict: 'passed' | 'failed',
  failureReason: string | undefined,
  warn: (m: string) => void,
  env: NodeJS.ProcessEnv,
  now: Date,
): AuditEntry {
  const ctx = runnerContext(env);
  const subject: AuditSubject = {};
  for (const k of SUBJECT_KEYS) {
    const v = state.subject[k];
    if (v === undefined) continue;
    if (containsSecret(v)) warn(`${action}: audit: subject '${k}' left out of the audit record: its value holds a secret`);
    else if (v.length > MAX_VALUE)
      warn(`${action}: audit: subject '${k}' left out of the audit record: longer than ${MAX_VALUE} characters`);
    else subject[k] = v;
  }
  const facts: AuditFacts = {};
  for (const [k, v] of Object.entries(state.facts)) {
    const name = oneLine(k, 64);
    if (!FACT_NAME.test(k) || containsSecret(k))
      warn(`${action}: audit: fact ${JSON.stringify(name)} left out of the audit record: not a fact name ([A-Za-z0-9_.-], at most 64)`);
    else if (typeof v === 'number' && !Number.isFinite(v))
      warn(`${action}: audit: fact '${k}' left out of the audit record: not a finite number`);
    else if (typeof v !== 'boolean' && containsSecret(String(v)))
      warn(`${action}: audit: fact '${k}' left out of the audit record: its value holds a secret`);
    else if (typeof v === 'string' && v.length > MAX_VALUE)
      warn(`${action}: audit: fact '${k}' left out of the audit record: longer than ${MAX_VALUE} characters`);
    else facts[k] = v;
  }
  return {
    time: now.toISOString(),
    action,
    version: VERSION,
    run: auditRun(ctx),
    subject,
    verdict,
    ...(verdict === 'failed' && failureReason ? { failureReason } : {}),
    facts,
  };
}

/**
 * Appends this run's record to `$RUNNER_TEMP/hallmark-audit.jsonl` (nothing when RUNNER_TEMP is
 * unset, or after `audit.off()`). Returns the file written, or undefined. Never throws: a record
 * that cannot be written is a `::warning::`.
 */
export function writeAuditRecord(
  action: string,
  verdict: 'passed' | 'failed',
  failureReason: string | undefined,
  deps: AuditWriteDeps = {},
): string | undefined {
  const env = deps.env ?? process.env;
  const warn = deps.warn ?? ((m: string) => log.warning(m));
  try {
    if (state.off || !env.RUNNER_TEMP) return undefined;
    const file = join(env.RUNNER_TEMP, AUDIT_FILE);
    const entry = auditEntry(action, verdict, failureReason, warn, env, deps.now?.() ?? new Date());
    (deps.write ?? appendAuditRecord)(file, entry);
    return file;
  } catch (e) {
    warn(`${action}: could not write the audit record: ${oneLine(errorMessage(e), 300)}`);
    return undefined;
  }
}
