import { oneLine } from './text.js';
import { outputTail, toolMissing, type ToolOutcome } from './tool.js';

/**
 * Errors an action reports to its user. A UserError is something the caller can fix (a bad
 * input, a failed gate, a refused upload): it prints as one `::error::<action>: <message>` line
 * with no stack trace and sets the `failure-reason` output to its `reason`.
 */
export class UserError extends Error {
  readonly reason: string;
  constructor(message: string, reason: string) {
    super(message);
    this.name = 'UserError';
    this.reason = reason;
  }
}

/** The failure reason every action uses for a bad input. */
export const INVALID_INPUT = 'invalid-input';

/** A bad input: names the input and what was expected. */
export class InputError extends UserError {
  readonly input: string;
  constructor(input: string, expected: string) {
    super(`input '${input}' ${expected}`, INVALID_INPUT);
    this.name = 'InputError';
    this.input = input;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * A step of a flow failed with one of the action's failure reasons. The same as UserError with
 * the arguments the other way round (reason first) and the reason typed by the action's
 * vocabulary: `throw new StepFailure<FailureReason>('sign-failed', 'cosign sign failed: …')`.
 */
export class StepFailure<R extends string = string> extends UserError {
  declare readonly reason: R;
  constructor(reason: R, message: string) {
    super(message, reason);
  }
}

/**
 * A tool that is not installed fails with what to do about it, not with a generic error:
 * throws `StepFailure(reason, '<tool> was not found on PATH: <hint>')` when `r` says the tool
 * could not be started; otherwise returns.
 */
export function requireFound<R extends string>(tool: string, r: ToolOutcome, reason: R, hint?: string): void {
  const missing = toolMissing(tool, r, hint);
  if (missing) throw new StepFailure(reason, missing);
}

/** The end of a failed tool's output (or `timed out`), on one line, redacted, for our own message. */
export function tail(r: ToolOutcome, max = 600): string {
  return oneLine(outputTail(r), max);
}
