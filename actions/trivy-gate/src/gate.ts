/**
 * The gate: counts findings per severity and decides. The contract (issue #3):
 * a finding is an entry of Results[].Vulnerabilities[], Results[].Secrets[] or
 * Results[].Misconfigurations[]; a misconfiguration counts only with Status FAIL (PASS and
 * EXCEPTION entries appear with --include-non-failures). ExperimentalModifiedFindings never count.
 * `ignore-unfixed` drops vulnerabilities without a fixed version; the ignore file drops what its
 * active entries match. Per severity, the count is what is left, summed over all Results.
 */
import { matchIgnore, type IgnoreConfig, type IgnoreEntry } from './ignore.js';
import type { Finding, TrivyReport } from './trivy-report.js';
import { atOrAbove, rank, zeroCounts, type Counts, type Threshold } from './severity.js';

export interface GateOptions {
  threshold: Threshold;
  ignoreUnfixed: boolean;
  ignore?: IgnoreConfig;
}

export interface HonouredIgnore {
  entry: IgnoreEntry;
  /** Findings it suppressed. */
  matched: number;
}

export interface Evaluation {
  counts: Counts;
  /** Findings at or above the threshold (0 for `none`). */
  failing: number;
  passed: boolean;
  threshold: Threshold;
  /** Every counted finding, highest severity first (stable within a severity). */
  counted: Finding[];
  /** The counted findings at or above the threshold, highest first. */
  failingFindings: Finding[];
  /** Active ignore entries, with how many findings each suppressed. */
  honoured: HonouredIgnore[];
  expired: IgnoreEntry[];
  ignoredFindings: number;
  unfixedSkipped: number;
  /** Misconfiguration entries with a Status other than FAIL. */
  nonFailures: number;
  /** ExperimentalModifiedFindings in the report (suppressed by Trivy itself). */
  modifiedByTrivy: number;
}

/** A vulnerability counts as unfixed when it has no fixed version (Trivy's `--ignore-unfixed` keeps only Status `fixed`). */
export function isUnfixed(f: Finding): boolean {
  if (f.kind !== 'vulnerability') return false;
  if (!f.fixed?.trim()) return true;
  return f.status !== undefined && f.status !== '' && f.status !== 'fixed';
}

export function evaluate(report: TrivyReport, opts: GateOptions): Evaluation {
  const counts = zeroCounts();
  const counted: Finding[] = [];
  const hits = new Map<IgnoreEntry, number>();
  let ignoredFindings = 0;
  let unfixedSkipped = 0;
  let nonFailures = 0;
  for (const f of report.findings) {
    if (f.kind === 'misconfiguration' && f.status !== 'FAIL') {
      nonFailures++;
      continue;
    }
    if (opts.ignoreUnfixed && isUnfixed(f)) {
      unfixedSkipped++;
      continue;
    }
    if (opts.ignore) {
      const e = matchIgnore(opts.ignore, f);
      if (e) {
        hits.set(e, (hits.get(e) ?? 0) + 1);
        ignoredFindings++;
        continue;
      }
    }
    counts[f.severity]++;
    counted.push(f);
  }
  // Stable sort by severity, highest first.
  const byRank = counted
    .map((f, i) => [rank(f.severity), i, f] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .map((x) => x[2]);
  const failingFindings = byRank.filter((f) => atOrAbove(f.severity, opts.threshold));
  return {
    counts,
    failing: failingFindings.length,
    passed: failingFindings.length === 0,
    threshold: opts.threshold,
    counted: byRank,
    failingFindings,
    honoured: (opts.ignore?.active ?? []).map((entry) => ({ entry, matched: hits.get(entry) ?? 0 })),
    expired: opts.ignore?.expired ?? [],
    ignoredFindings,
    unfixedSkipped,
    nonFailures,
    modifiedByTrivy: report.modified,
  };
}
