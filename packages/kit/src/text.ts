import { redact } from './secrets.js';

/**
 * Text helpers that need no runner: untrusted text made safe to embed in one of our own lines,
 * a rejected input value quoted for an error message, and list splitting.
 */

/** Makes untrusted text safe to embed in one log line or one annotation message: secrets redacted, line breaks and control characters shown, not acted on. */
export function oneLine(text: string, max = 500): string {
  let s = redact(String(text))
    .replace(/\r\n?|\n/g, ' ⏎ ')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s;
}

/**
 * Shows a rejected value in an error message: quoted, one line, shortened, and without the
 * user-info part of anything URL-like (`https://user:token@host` → `https://***@host`): a
 * malformed URL is echoed back, and the credentials in it must not be.
 */
export function shown(value: string, max = 80): string {
  const v = value
    .replace(/(\/\/)[^/@\s]*@/g, '$1***@')
    .replace(/[\r\n]+/g, '⏎')
    .replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
}

/** Splits a comma- or newline-separated list; blank items and `#` comment lines are dropped. */
export function splitList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => !/^\s*#/.test(l))
    .flatMap((l) => l.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}
