import * as core from '@actions/core';
import { errorMessage, isUserError } from '../errors.js';
import { redact } from '../secrets.js';
import * as md from '../summary.js';
import { oneLine } from '../text.js';
import { _resetAudit, audit, writeAuditRecord } from './audit.js';
import { writeSummary } from './summary.js';

export interface RunOptions {
  /** Write this run's audit record (default true). false for a post-step entry point; or call `audit.off()` inside main. */
  audit?: boolean;
}

/** The failure of the current run, set by `fail()` or by run() when main throws. */
let failure: { reason: string } | undefined;

/**
 * The entry every action's main.ts calls: `await run('trivy-gate', async () => { … })`.
 * - main returns normally: exit code 0 (or 1 when main called `fail`).
 * - main throws a UserError: one `::error::<action>: <message>` line, `failure-reason` output set,
 *   a ❌ failure section in the step summary (action, reason, message), exit 1, no stack trace.
 * - anything else is a bug: `::error::<action>: unexpected error: <message>`, the stack in the
 *   log, `failure-reason` `internal-error`, the ❌ failure section, exit 1.
 * - either way, at the end: one audit record (verdict passed/failed, the failure reason, the
 *   subject and facts main declared with `audit`) appended to $RUNNER_TEMP/hallmark-audit.jsonl.
 * Every message is redacted of registered secrets first.
 */
export async function run(action: string, main: () => Promise<void>, opts: RunOptions = {}): Promise<void> {
  failure = undefined;
  _resetAudit();
  try {
    await main();
  } catch (e) {
    process.exitCode = 1;
    if (isUserError(e)) {
      failure = { reason: e.reason };
      setOutputSafe('failure-reason', e.reason);
      core.error(`${action}: ${oneLine(e.message, 2000)}`);
      failureSummary(action, e.reason, oneLine(e.message, 2000));
    } else {
      failure = { reason: 'internal-error' };
      setOutputSafe('failure-reason', 'internal-error');
      core.error(`${action}: unexpected error: ${oneLine(errorMessage(e), 2000)}`);
      failureSummary(action, 'internal-error', `unexpected error: ${oneLine(errorMessage(e), 2000)} (see the log)`);
      const stack = e instanceof Error && e.stack ? redact(e.stack) : '';
      if (stack) {
        core.debug(stack);
        core.info(
          stack
            .split('\n')
            .map((l) => `  ${l.replace(/^\s*::/, '␤::')}`)
            .join('\n'),
        );
      }
    }
  }
  if (opts.audit === false) return;
  const failed = failure !== undefined || (process.exitCode !== undefined && Number(process.exitCode) !== 0);
  writeAuditRecord(action, failed ? 'failed' : 'passed', failure?.reason);
}

/** Marks the step failed with a reason, without throwing (for gates that still write outputs and reports). */
export function fail(action: string, reason: string, message: string): void {
  process.exitCode = 1;
  failure = { reason };
  setOutputSafe('failure-reason', reason);
  core.error(`${action}: ${oneLine(message, 2000)}`);
}

/**
 * The step summary section of a failed run: `### <action>[: <image or environment>]` and
 * `❌ **failed**: \`<reason>\` — <message>`. Never throws (a summary that cannot be written is
 * not a second failure).
 */
export function failureSummaryMarkdown(action: string, reason: string, message: string): string {
  const s = audit.current().subject;
  const what = s.image ?? s.configRepository ?? s.environment;
  return `### ${md.text(action)}${what ? `: ${md.text(what)}` : ''}\n\n❌ **failed**: ${md.code(reason)} — ${md.text(message)}\n`;
}

function failureSummary(action: string, reason: string, message: string): void {
  try {
    writeSummary(failureSummaryMarkdown(action, reason, message));
  } catch {
    /* an unwritable summary file: the ::error:: line already says it */
  }
}

function setOutputSafe(name: string, value: string): void {
  try {
    core.setOutput(name, value);
  } catch {
    /* no GITHUB_OUTPUT: nothing more to do */
  }
}

/** Sets outputs; objects are written as JSON. Every value is redacted of registered secrets. */
export function setOutputs(outputs: Record<string, string | number | boolean | object | undefined | null>): void {
  for (const [k, v] of Object.entries(outputs)) {
    if (v === undefined || v === null) continue;
    core.setOutput(k, redact(typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
}
