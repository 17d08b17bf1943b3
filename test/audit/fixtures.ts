/** Audit entries for tests: a whole pipeline's worth, as the actions would record them. */
import type { AuditEntry, AuditRun } from '@hallmark/audit';

export const DIGEST = `sha256:${'d'.repeat(64)}`;
export const SIGNER = 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/heads/main';

export function runOf(job: string, over: Partial<AuditRun> = {}): AuditRun {
  return {
    repository: 'octo-org/shop',
    workflowRef: 'octo-org/shop/.github/workflows/release.yml@refs/heads/main',
    runId: '4242',
    runAttempt: '1',
    job,
    actor: 'alice',
    event: 'push',
    sha: 'a'.repeat(40),
    ref: 'refs/heads/main',
    ...over,
  };
}

let clock = Date.parse('2026-12-01T10:00:00Z');
export function at(minutes: number): string {
  return new Date(clock + minutes * 60_000).toISOString();
}
export function resetClock(iso = '2026-12-01T10:00:00Z'): void {
  clock = Date.parse(iso);
}

export function entry(action: string, job: string, minute: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return { time: at(minute), action, version: '1.0.0', run: runOf(job), subject: {}, verdict: 'passed', facts: {}, ...over };
}

/** One job's parts: job name → entries in the order the job ran them. */
export function pipeline(): Record<string, AuditEntry[]> {
  const image = 'ghcr.io/octo-org/shop';
  return {
    build: [
      entry('setup-tools', 'build', 0, { facts: { tools: 'cosign syft' } }),
      entry('build-sign', 'build', 2, { subject: { image, digest: DIGEST }, facts: { builder: 'buildah', pushed: true } }),
    ],
    scan: [
      entry('trivy-gate', 'scan', 3, {
        subject: { image, digest: DIGEST },
        facts: { severity: 'HIGH', 'critical-count': 0, 'high-count': 0, 'failing-count': 0 },
      }),
    ],
    sign: [
      entry('build-sign', 'sign', 5, {
        subject: { image, digest: DIGEST },
        facts: {
          signed: true,
          'signing-mode': 'keyless',
          'signer-identity': SIGNER,
          'signer-issuer': 'https://token.actions.githubusercontent.com',
        },
      }),
    ],
    apply: [
      entry('terraform-gated-apply', 'apply', 8, {
        subject: { planSha256: 'e'.repeat(64), environment: 'production' },
        facts: { mode: 'apply' },
      }),
    ],
    smoke: [
      entry('smoke-test', 'smoke', 12, {
        subject: { environment: 'production', digest: DIGEST },
        facts: { 'passed-count': 4, 'check-count': 4, 'failed-count': 0, 'warning-count': 0 },
      }),
    ],
  };
}
