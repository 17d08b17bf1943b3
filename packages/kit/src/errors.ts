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
