import { randomBytes } from 'node:crypto';
import * as core from '@actions/core';
import { redact } from '../secrets.js';
import { oneLine } from '../text.js';

export { oneLine };

/**
 * The one way hallmark prints text it did not write itself (tool output, HTTP bodies, report
 * titles, error strings). The text is redacted of registered secrets and wrapped in a
 * `::stop-commands::<token>` block with an unguessable token, so no line of it can be read by
 * the runner as a workflow command (`::set-output`, `::add-mask::`, `::error`, a second
 * `::stop-commands::`, legacy `##[…]`), whatever it contains. The text itself is printed as is.
 */
export function printUntrusted(text: string, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  const clean = redact(text).replace(/\r\n?/g, '\n');
  if (!clean) return;
  const body = clean.endsWith('\n') ? clean : `${clean}\n`;
  if (!/::|##\[/.test(body)) {
    write(body);
    return;
  }
  const token = randomBytes(16).toString('hex');
  write(`::stop-commands::${token}\n${body}::${token}::\n`);
}

/** Our own informational line; any untrusted part must already have been through `oneLine`. */
export function info(message: string): void {
  core.info(neutralizeLineStart(redact(message)));
}

export function warning(message: string, props?: core.AnnotationProperties): void {
  core.warning(redact(message), props);
}

export function notice(message: string, props?: core.AnnotationProperties): void {
  core.notice(redact(message), props);
}

export function errorAnnotation(message: string, props?: core.AnnotationProperties): void {
  core.error(redact(message), props);
}

export function debug(message: string): void {
  core.debug(redact(message));
}

/**
 * A line that starts with `::` (after spaces) would be a workflow command: show it with a leading
 * marker instead. A lone CR ends a line for the runner too (it reads lines like .NET ReadLine), so
 * `text\r::set-output …` is split there first.
 */
function neutralizeLineStart(message: string): string {
  return message
    .split(/\r\n|\r|\n/)
    .map((l) => (/^\s*(::|##\[)/.test(l) ? `␤${l}` : l))
    .join('\n');
}
