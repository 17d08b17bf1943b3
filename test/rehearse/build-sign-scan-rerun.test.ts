/**
 * "Re-run failed jobs" of build-sign-scan, rehearsed: attempt 1 fails in the sign job (the
 * COSIGN_PASSWORD secret was wrong; the user fixes it and re-runs), attempt 2 re-runs only that job
 * (`rerunFailed`: build, scan and sbom keep attempt 1's results and outputs; the artifacts attempt
 * 1 uploaded are still in the run) and succeeds without any clean-up, although a signature made
 * before the failure is already next to the image. Real: docker-registry, buildah, trivy 0.74,
 * cosign 3. Simulated: GitHub (the rehearsal and its loopback artifact service).
 */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.js';
import { BUSYBOX, bundlePredicates, hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'slack-notify', 'registry-login']);
if (!hasRealParts || missing.length)
  console.warn(`re-run rehearsal skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing'}`);

describe.skipIf(!hasRealParts || missing.length > 0)('build-sign-scan: a failed sign job re-run as attempt 2', () => {
  let lab: PipelineLab;
  let repo: string;
  let first: RunRecord;
  let second: RunRecord;
  let log1 = '';
  let log2 = '';
  const job = (r: RunRecord, name: string) => r.jobs.find((j) => j.name === name);
  const write = (add: (s: string) => void) => ({
    write: (s: string) => {
      add(s);
      if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
    },
  });

  beforeAll(async () => {
    lab = await startLab();
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const files: Record<string, string> = {
      '.github/workflows/image.yml': `name: image
on: push
permissions: {}
jobs:
  image:
    permissions: { contents: read, packages: write, security-events: write, actions: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@main
    with:
      image: ${lab.registry.host}/shop/api
      context: api
      file: api/Containerfile
      builder: buildah
      sign: key
      tlog: false  # no public Rekor here
      registry-insecure: true
      sbom-generator: trivy
      scanners: secret
    secrets: inherit
`,
      'api/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n',
      'api/www/index.html': 'hello\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    copyFileSync(BUSYBOX as string, join(repo, 'api/busybox'));
    const base = { workflow: '.github/workflows/image.yml', root: repo, event: 'push', ref: 'refs/heads/main', env: lab.env };
    const secrets = (password: string) => ({
      COSIGN_PRIVATE_KEY: lab.cosignKey,
      COSIGN_PASSWORD: password,
      SLACK_WEBHOOK_URL: lab.slackUrl,
    });
    first = await rehearse({
      ...base,
      secrets: secrets('not-the-password'),
      runDir: mkdtempSync(join(lab.dir, 'run-')),
      out: write((s) => (log1 += s)),
    });
    // Suppose attempt 1 had got as far as signing before it failed: a signature is already there.
    await lab.sign(job(first, 'image / build')!.outputs['image-ref']!);
    second = await rehearse({
      ...base,
      secrets: secrets(lab.cosignPassword),
      rerunFailed: first,
      runDir: mkdtempSync(join(lab.dir, 'run-')),
      out: write((s) => (log2 += s)),
    });
  }, 600_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('attempt 1 fails in sign only', () => {
    expect(first.status).toBe('failure');
    expect(job(first, 'image / sign')!.status, log1).toBe('failure');
    for (const j of ['image / build', 'image / scan', 'image / sbom']) expect(job(first, j)!.status, j).toBe('success');
  });

  it('attempt 2 re-runs only the failed jobs, in the same run, and succeeds without clean-up', () => {
    expect(second.status, log2).toBe('success');
    expect(second.runAttempt).toBe(2);
    expect(second.runId).toBe(first.runId);
    for (const j of ['image / build', 'image / scan', 'image / sbom']) expect(job(second, j)!.reusedFrom, j).toBe(1);
    expect(job(second, 'image / sign')!.status).toBe('success');
    expect(job(second, 'image / sign')!.reusedFrom).toBeUndefined();
    // The sign job of attempt 2 read what attempt 1's scan and sbom jobs uploaded.
    expect(job(second, 'image / sign')!.outputs.signed).toBe('true');
    expect(job(second, 'image / build')!.outputs['image-ref']).toBe(job(first, 'image / build')!.outputs['image-ref']);
  });

  it('the digest ends up signed (twice: the earlier signature stays) and attested with the SBOM and the scan report', async () => {
    const digest = job(first, 'image / build')!.outputs.digest!;
    const predicates = await bundlePredicates(lab, 'shop/api', digest);
    expect(predicates.filter((p) => p === 'https://sigstore.dev/cosign/sign/v1').length).toBe(2);
    expect(predicates).toEqual(expect.arrayContaining(['https://spdx.dev/Document', 'https://trivy.dev/report/json/v1']));
    const ref = job(first, 'image / build')!.outputs['image-ref']!;
    await lab.cosign(['verify', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', ref], { LAB_COSIGN_PUB: lab.cosignPub });
  });

  it('keeps one policy artifact for the image', () => {
    const names = [...lab.services.artifacts.keys()].filter((n) => n.startsWith('policy-'));
    expect(names).toHaveLength(1);
  });
});
