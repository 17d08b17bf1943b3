/**
 * The real CLIs the tests run against (cosign 3 and 2.6, syft, trivy, helm 4 and 3, kyverno,
 * terraform or OpenTofu), found through `npm run tools` (scripts/tools.mjs) and never through
 * PATH accidents. test/harness/global-setup.ts builds what is missing once per test run; here we
 * only read where each one is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ROOT } from './runner.js';

export type ToolName = 'cosign' | 'cosign2' | 'syft' | 'trivy' | 'helm' | 'helm3' | 'kyverno' | 'terraform';
export interface ToolInfo {
  version: string;
  path: string;
  via: 'cache' | 'built' | 'PATH';
}

let cached: Record<ToolName, ToolInfo> | undefined;

/** Every test peer (built already by the global setup; `--check` builds nothing and fails naming what is missing). */
export function realTools(): Record<ToolName, ToolInfo> {
  if (cached) return cached;
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts', 'tools.mjs'), '--json', '--check'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cached = JSON.parse(out) as Record<ToolName, ToolInfo>;
  return cached;
}

/** The absolute path of one real tool. */
export function toolPath(name: ToolName): string {
  return realTools()[name].path;
}

const dirs: string[] = [];
process.once('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A directory to put first on PATH holding the named tools under the names the actions call
 * (`cosign`, `helm`, `terraform`, …): `binDir(['cosign2', 'syft'])` puts cosign 2.6 there as `cosign`.
 */
export function binDir(names: ToolName[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-bin-'));
  dirs.push(dir);
  for (const n of names) {
    const p = toolPath(n);
    const as = n === 'terraform' ? 'terraform' : basename(p);
    symlinkSync(p, join(dir, as));
    // OpenTofu is exposed as `terraform` by a symlink to `tofu` next to it: link the target too.
    if (n === 'terraform' && basename(p) === 'terraform' && existsSync(join(dirname(p), 'tofu')))
      symlinkSync(join(dirname(p), 'tofu'), join(dir, 'tofu'));
  }
  return dir;
}

/** `PATH` with the named real tools first, then this process's PATH. */
export function pathWith(names: ToolName[], rest = process.env.PATH ?? '/usr/bin:/bin'): string {
  return `${binDir(names)}:${rest}`;
}

/** Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool-linux), for `validate --rule-kind "Gh;Sarif"`. */
export function sarifMultitool(): string {
  const require = createRequire(import.meta.url);
  const p = require('@microsoft/sarif-multitool-linux') as string;
  return p;
}

export function scratchDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  mkdirSync(d, { recursive: true });
  return d;
}
