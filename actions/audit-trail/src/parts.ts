/**
 * Finding the parts a job downloaded: one `*.jsonl` file per job, either in a directory named
 * after its artifact (`<dir>/hallmark-audit-part-<job>/hallmark-audit.jsonl`, download-artifact
 * without merge) or merged under its own name (`<dir>/<name>.jsonl`). Symbolic links are not
 * followed; sizes and counts are bounded (the files came from other jobs: untrusted).
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { StepFailure } from '@hallmark/kit';
import type { AuditPart } from '@hallmark/audit';
import type { FailureReason } from './inputs.js';

export const MAX_PARTS = 500;
export const MAX_PART_BYTES = 8 * 1024 * 1024;
const PART_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

export function partName(root: string, file: string): string {
  const rel = relative(root, file).split(sep).join('/');
  // <artifact>/hallmark-audit.jsonl → <artifact>; <name>.jsonl → <name>; deeper paths keep their folders.
  return rel.endsWith('/hallmark-audit.jsonl') ? rel.slice(0, -'/hallmark-audit.jsonl'.length) : rel.replace(/\.jsonl$/, '');
}

export function collectParts(root: string, shown: (s: string) => string): AuditPart[] {
  const files: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, ent.name);
      if (ent.isDirectory() && depth < 3) walk(p, depth + 1);
      else if (ent.isFile() && ent.name.endsWith('.jsonl')) files.push(p);
      if (files.length > MAX_PARTS)
        throw new StepFailure<FailureReason>('part-broken', `more than ${MAX_PARTS} part files under the parts directory`);
    }
  };
  if (!existsSync(root)) return [];
  walk(root, 0);
  return files.map((f) => {
    const name = partName(root, f);
    if (!PART_NAME.test(name) || name.includes('..'))
      throw new StepFailure<FailureReason>('part-broken', `part file ${shown(relative(root, f))} has a name that is not an artifact name`);
    const size = lstatSync(f).size;
    if (size > MAX_PART_BYTES)
      throw new StepFailure<FailureReason>('part-broken', `part ${name} is ${size} bytes (at most ${MAX_PART_BYTES}): not an audit part`);
    return { name, text: readFileSync(f, 'utf8') };
  });
}
