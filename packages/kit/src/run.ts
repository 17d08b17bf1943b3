import * as core from '@actions/core';
import { isUserError, errorMessage } from './errors.js';
import { oneLine } from './log.js';
import { redact } from './secrets.js';

/**
 * The entry every action's main.ts calls: `run('trivy-gate', main)`.
 * - main returns normally: exit code 0 (or whatever main set with `fail`).
 * - main throws a UserError: one `::error::<action>: <message>` line, `failure-reason` output set,
 *   exit 1, no stack trace.
 * - anything else is a bug: `::error::<action>: unexpected error: <message>`, the stack in the log
 *   (and under debug), `failure-reason` `internal-error`, exit 1.
 * Every message is redacted of registered secrets first.
 */
export async function run(action: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (e) {
    process.exitCode = 1;
    if (isUserError(e)) {
      setOutputSafe('failure-reason', e.reason);
      core.error(`${action}: ${oneLine(e.message, 2000)}`);
      return;
    }
    setOutputSafe('failure-reason', 'internal-error');
    core.error(`${action}: unexpected error: ${oneLine(errorMessage(e), 2000)}`);
    const stack = e instanceof Error && e.stack ? redact(e.stack) : '';
    if (stack) {
      core.debug(stack);
      core.info(stack.split('\n').map((l) => `  ${l.replace(/^\s*::/, '␤::')}`).join('\n'));
    }
  }
}

/** Marks the step failed with a reason, without throwing (for gates that still write outputs). */
export function fail(action: string, reason: string, message: string): void {
  process.exitCode = 1;
  setOutputSafe('failure-reason', reason);
  core.error(`${action}: ${oneLine(message, 2000)}`);
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
