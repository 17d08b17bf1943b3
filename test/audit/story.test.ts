/**
 * The story's order (packages/audit/src/story.ts): the seal — the join's record, last in the trail —
 * tells approval and the deploy job's result; the story places them where they happened, and an
 * Argo CD wait (a smoke-test run whose only check is `argocd-app`) reads as `synced`, not as a
 * second smoke test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_FILE, appendAuditRecord, joinParts, storySteps } from '@hallmark/audit';
import { DIGEST, entry, pipeline, runOf } from './fixtures.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function trail(jobs: Record<string, ReturnType<typeof entry>[]>, sealFacts: Record<string, string>) {
  const parts = Object.entries(jobs).map(([job, es]) => {
    const d = mkdtempSync(join(tmpdir(), 'hallmark-story-'));
    dirs.push(d);
    const f = join(d, AUDIT_FILE);
    for (const e of es) appendAuditRecord(f, e);
    return { name: `hallmark-audit-part-${job}`, text: readFileSync(f, 'utf8') };
  });
  return joinParts(parts, { time: '2026-12-01T11:00:00.000Z', version: '1.0.0', run: runOf('audit'), facts: sealFacts }).records;
}

const stages = (records: Parameters<typeof storySteps>[0]) => storySteps(records).map((s) => s.stage);

describe('the audit story', () => {
  it('puts the seal’s approval and deploy before the smoke test, not after it', () => {
    const jobs = pipeline();
    delete jobs.apply; // approval known only from the seal's job results
    const records = trail(jobs, { environment: 'production', 'job.apply': 'success', 'job.deploy': 'success', 'deploy-mode': 'helm' });
    expect(stages(records)).toEqual(['built', 'scanned', 'signed', 'approved', 'deployed', 'smoke']);
  });

  it('tells an Argo CD wait as synced, between the GitOps bump and the smoke test', () => {
    const rev = 'c'.repeat(40);
    const jobs = {
      gitops: [entry('gitops-update', 'gitops', 9, { subject: { digest: DIGEST, environment: 'production' }, facts: { mode: 'commit' } })],
      smoke: [
        entry('smoke-test', 'smoke', 10, {
          subject: { environment: 'production' },
          facts: { 'check-kinds': 'argocd-app', 'argocd-revision': rev, 'check-count': 1, 'passed-count': 1 },
        }),
        entry('smoke-test', 'smoke', 11, {
          subject: { environment: 'production' },
          facts: { 'check-kinds': 'http,rollout', 'check-count': 2, 'passed-count': 2 },
        }),
      ],
    };
    const records = trail(jobs, { environment: 'production', 'job.apply': 'success' });
    const steps = storySteps(records);
    expect(steps.map((s) => s.stage)).toEqual(['approved', 'deployed', 'synced', 'smoke']);
    expect(steps.find((s) => s.stage === 'synced')?.text).toContain(rev);
  });
});
