/**
 * The `checks` input: inline YAML, or the path of the check file in the workspace (its path is
 * checked by the kit's `input.resolvePath` in main.ts; read here). Each failure is an InputError
 * naming the input.
 */
import { readFileSync, statSync } from 'node:fs';
import { InputError, shown } from '@hallmark/kit';

export const MAX_CHECK_FILE = 1024 * 1024;

/** Inline YAML (several lines, or a `checks:`/`defaults:`/`{`/`[` start) or a path in the workspace. */
export function isInline(value: string): boolean {
  return /\n/.test(value.trim()) || /^\s*(\{|\[|-\s|(checks|defaults)\s*:)/.test(value);
}

/** Inline YAML as the check file. */
export function inlineChecks(value: string): { text: string; label: string } {
  if (value.length > MAX_CHECK_FILE) throw new InputError('checks', `inline YAML is larger than ${MAX_CHECK_FILE} bytes`);
  return { text: value, label: '(inline)' };
}

/** The check file at `file` (an existing file, checked by the kit's input.path); `label` is the path as given. */
export function fileChecks(file: string, label: string): { text: string; label: string } {
  if (statSync(file).size > MAX_CHECK_FILE) throw new InputError('checks', `file ${shown(label)} is larger than ${MAX_CHECK_FILE} bytes`);
  return { text: readFileSync(file, 'utf8'), label };
}
