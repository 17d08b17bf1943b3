/**
 * Small purpose-made repositories and a quiet rehearse() for the rules-*.test.ts files: each rule
 * the rehearsal enforces is proven with a workflow that breaks it and one that keeps it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { rehearse, type RehearseOptions } from '../../packages/rehearse/src/engine.js';

const roots: string[] = [];
export function cleanup(): void {
  roots.splice(0).forEach((r) => rmSync(r, { recursive: true, force: true }));
}

export function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hallmark-rules-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

export async function run(root: string, workflow: string, opts: Partial<RehearseOptions> = {}, runDir = join(root, '.run')) {
  let log = '';
  const record = await rehearse({ workflow, root, hallmarkRoot: root, runDir, out: { write: (s: string) => (log += s) }, ...opts });
  return { record, log, job: (name: string) => record.jobs.find((j) => j.name === name) };
}
