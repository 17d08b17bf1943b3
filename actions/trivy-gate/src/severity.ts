/** Trivy severities, highest first, and the gate threshold vocabulary. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const THRESHOLDS = [...SEVERITIES, 'none'] as const;
export type Threshold = (typeof THRESHOLDS)[number];

const RANK: Record<Severity, number> = { CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1, UNKNOWN: 0 };

export function rank(s: Severity): number {
  return RANK[s];
}

/** A severity string as Trivy writes it; anything else (empty, missing, unknown words) is UNKNOWN, as Trivy does. */
export function toSeverity(s: unknown): Severity {
  return typeof s === 'string' && Object.hasOwn(RANK, s) ? (s as Severity) : 'UNKNOWN';
}

/** True when a finding of severity `s` fails a gate at `threshold` (never for `none`). */
export function atOrAbove(s: Severity, threshold: Threshold): boolean {
  return threshold !== 'none' && RANK[s] >= RANK[threshold];
}

export type Counts = Record<Severity, number>;
export function zeroCounts(): Counts {
  return { CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
}
