/**
 * Temp directories and runner homes a test file removes when it is done: `trackedDir(prefix)`,
 * `trackedHome()`, then `afterAll(cleanupTracked)`. Directories a tool left read-only (buildah's
 * vfs layers) are made writable first. Anything left is removed when the process exits.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runnerHome, type RunnerHome } from './runner.js';

const tracked: string[] = [];

function remove(d: string): void {
  try {
    execFileSync('chmod', ['-R', 'u+w', d], { stdio: 'ignore' });
  } catch {
    /* best effort */
  }
  rmSync(d, { recursive: true, force: true });
}

process.once('exit', () => {
  for (const d of tracked.splice(0)) remove(d);
});

/** A temp directory removed by `cleanupTracked()`. */
export function trackedDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tracked.push(d);
  return d;
}

/** A runner home (temp, tool cache, workspace) removed by `cleanupTracked()`. */
export function trackedHome(prefix = 'hallmark-runner-'): RunnerHome {
  const h = runnerHome(prefix);
  tracked.push(h.root);
  return h;
}

export function cleanupTracked(): void {
  for (const d of tracked.splice(0)) remove(d);
}
