/**
 * Independent references for the trivy-gate tests: counts computed with jq (a different JSON
 * implementation and a different program) and a plain JSON.parse walk, never with the action's
 * code; the SARIF Multitool's verdict on the SARIF we write; the real Trivy on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runnerHome, type RunnerHome } from '../harness/runner.js';
import { binDir, sarifMultitool } from '../harness/tools.js';

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
  const keepVuln = opts.ignoreUnfixed
    ? 'select((.FixedVersion // "") != "" and ((.Status // "fixed") == "fixed" or (.Status // "") == ""))'
    : '.';
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
    const items = [
      ...(r.Vulnerabilities ?? []),
      ...(r.Secrets ?? []),
      ...((r.Misconfigurations ?? []) as { Status?: string }[]).filter((m) => m.Status === 'FAIL'),
    ];
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

/** A directory holding the real Trivy 0.74 (toolPath('trivy')) as `trivy`, to put first on PATH. */
export function trivyPath(): string {
  return `${binDir(['trivy'])}:/usr/bin:/bin`;
}

export interface SarifVerdict {
  errors: string[];
  warnings: string[];
  notes: number;
}

/**
 * Microsoft's SARIF Multitool (`validate --rule-kind "Gh;Sarif"`: the SARIF 2.1.0 schema and spec
 * rules, and GitHub code scanning's ingestion rules) over one SARIF file. What it found is read
 * from its own output log (a SARIF file): each result's level, from the result or its rule's
 * default configuration, SARIF's default being `warning`.
 */
export function validateSarif(file: string): SarifVerdict {
  const out = join(mkdtempSync(join(tmpdir(), 'hallmark-sarif-val-')), 'validation.sarif');
  const r = spawnSync(sarifMultitool(), ['validate', '--rule-kind', 'Gh;Sarif', '--output', out, file], {
    encoding: 'utf8',
    env: { ...process.env, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT: '1' },
    cwd: dirname(out),
    timeout: 120_000,
  });
  if (!existsSync(out)) throw new Error(`the SARIF Multitool wrote no log (exit ${r.status}): ${r.stdout}${r.stderr}`);
  const log = JSON.parse(readFileSync(out, 'utf8')) as {
    runs: {
      tool: { driver: { rules?: { id: string; defaultConfiguration?: { level?: string } }[] } };
      results?: { ruleId: string; ruleIndex?: number; level?: string; message: { text?: string; id?: string; arguments?: string[] } }[];
      invocations?: { executionSuccessful?: boolean }[];
    }[];
  };
  rmSync(dirname(out), { recursive: true, force: true });
  const run = log.runs[0];
  if (!run || run.invocations?.[0]?.executionSuccessful === false)
    throw new Error(`the SARIF Multitool did not run to completion on ${file}: ${r.stdout}`);
  const rules = run.tool.driver.rules ?? [];
  const v: SarifVerdict = { errors: [], warnings: [], notes: 0 };
  for (const res of run.results ?? []) {
    const level = res.level ?? (res.ruleIndex !== undefined ? rules[res.ruleIndex]?.defaultConfiguration?.level : undefined) ?? 'warning';
    const text = `${res.ruleId}: ${res.message.text ?? `${res.message.id ?? ''} ${(res.message.arguments ?? []).join(' | ')}`}`;
    if (level === 'error') v.errors.push(text);
    else if (level === 'warning') v.warnings.push(text);
    else v.notes++;
  }
  return v;
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
