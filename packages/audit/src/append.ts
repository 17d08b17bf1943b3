// The one writer of a job's audit file (used by the kit's run()): appends one chained line.
import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type AuditEntry, AuditRecordError, nextLink, recordLine } from './record.js';

/**
 * Appends `entry` to the JSON Lines file `file` as one line with `seq` (1, 2, …) and `prev`
 * (sha256 of the previous line, or 64 zeros). Creates the directory; the file is opened with
 * O_APPEND and created with mode 0600. Throws AuditRecordError on an entry that is not a record.
 */
export function appendAuditRecord(file: string, entry: AuditEntry): void {
  mkdirSync(dirname(file), { recursive: true });
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const { seq, prev } = nextLink(before);
  const line = recordLine(entry, seq, prev);
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600);
  try {
    if (!fstatSync(fd).isFile()) throw new AuditRecordError(`audit record: ${file} is not a regular file`);
    // A file whose last line lacks its newline (a crash mid-write) gets one, so lines never merge.
    const sep = before.length > 0 && !before.endsWith('\n') ? '\n' : '';
    writeSync(fd, `${sep}${line}\n`);
  } finally {
    closeSync(fd);
  }
}
