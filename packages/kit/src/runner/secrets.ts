import * as core from '@actions/core';
import { registerSecret } from '../secrets.js';

/**
 * Registers a secret with the runner's log masker (`::add-mask::`) and with the kit's `redact`,
 * which scrubs it from every message, output, summary, report and audit record, and keeps it out
 * of the environment of tools run with `exec`. Empty and 1–3 character values are ignored (the
 * runner ignores them too).
 */
export function maskSecret(value: string | undefined): void {
  for (const v of registerSecret(value)) core.setSecret(v);
}
