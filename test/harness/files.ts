/** Walking a directory tree in tests (leak scans, before/after snapshots). */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join, relative } from 'node:path';

export interface TreeEntry {
  path: string;
  /** Path relative to the walked directory. */
  rel: string;
  /** From lstat: symbolic links are reported, never followed. */
  stat: Stats;
}

/** Every entry under `dir`, depth first; what cannot be read is left out; `skip(rel)` prunes an entry and everything under it. */
export function walkTree(dir: string, skip: (rel: string) => boolean = () => false): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const path = join(d, n);
      const rel = relative(dir, path);
      if (skip(rel)) continue;
      let stat: Stats;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      out.push({ path, rel, stat });
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out;
}

/** Every regular file under `dir` smaller than `maxBytes`. */
export function filesUnder(dir: string, maxBytes = 32 * 1024 * 1024): string[] {
  return walkTree(dir)
    .filter((e) => e.stat.isFile() && e.stat.size < maxBytes)
    .map((e) => e.path);
}
