import { statSync } from 'node:fs';

/**
 * What is at `path` (following symbolic links): 'file', 'dir', 'other' (a socket, a device …), or
 * undefined when nothing is there or it cannot be read. The `stat` a pure check gets injected.
 */
export function pathKind(path: string): 'file' | 'dir' | 'other' | undefined {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    if (!s) return undefined;
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return undefined;
  }
}
