/**
 * Input checks that look at the file system: where the check file comes from, and where reports
 * may be written. Each failure is an InputError naming the input.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { input, InputError } from '@hallmark/kit';

export const MAX_CHECK_FILE = 1024 * 1024;

/** Inline YAML (several lines, or a `checks:`/`defaults:`/`{`/`[` start) or a path in the workspace. */
export function isInline(value: string): boolean {
  return /\n/.test(value.trim()) || /^\s*(\{|\[|-\s|(checks|defaults)\s*:)/.test(value);
}

export function checksSource(value: string, workspace: string): { text: string; label: string } {
  if (isInline(value)) {
    if (value.length > MAX_CHECK_FILE) throw new InputError('checks', `inline YAML is larger than ${MAX_CHECK_FILE} bytes`);
    return { text: value, label: '(inline)' };
  }
  const p = value.trim();
  if (/[\u0000-\u001f]/.test(p)) throw new InputError('checks', `must be a path to a YAML file or inline YAML (got ${input.shown(p)})`);
  const file = isAbsolute(p) ? p : resolve(workspace, p);
  if (!existsSync(file)) throw new InputError('checks', `must be a path to a YAML file or inline YAML: ${input.shown(p)} does not exist in the workspace`);
  const st = statSync(file);
  if (!st.isFile()) throw new InputError('checks', `must be a path to a YAML file: ${input.shown(p)} is not a file`);
  if (st.size > MAX_CHECK_FILE) throw new InputError('checks', `file ${input.shown(p)} is larger than ${MAX_CHECK_FILE} bytes`);
  return { text: readFileSync(file, 'utf8'), label: p };
}

/** A report path: one line, relative to the workspace (or absolute), not a directory. */
export function checkPath(name: string, value: string, workspace: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new InputError(name, `must be a file path on one line (got ${input.shown(value)})`);
  if (/[\\/]$/.test(value)) throw new InputError(name, `must be a file path, not a directory (got ${input.shown(value)})`);
  const file = isAbsolute(value) ? value : resolve(workspace, value);
  if (existsSync(file) && statSync(file).isDirectory()) throw new InputError(name, `must be a file path, not a directory (got ${input.shown(value)})`);
  return file;
}
