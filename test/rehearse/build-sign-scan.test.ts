/**
 * build-sign-scan rehearsed end to end from a caller that fans out with a matrix (one clean image,
 * one with a leaked key), with the same YAML and dist/ bundles and the real tools the rehearsal
 * hands out at each setup-tools step (npm run tools): buildah → real registry digest, trivy 0.74
 * scanning by digest against a DB built here and served by the loopback registry, syft's SBOM,
 * cosign 3 signing and attesting only what passed (key mode, `tlog: false`: no public Rekor here),
 * judged afterwards by the real `cosign verify` / `verify-attestation`; artifacts through the
 * loopback artifact service, SARIF to the local code-scanning equivalent, Slack on failure.
 * Simulated: GitHub (the rehearsal and its loopback services) and Slack (a sink).
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.js';
import { realTools } from '../harness/tools.js';
import { BUSYBOX, bundlePredicates, hasRealParts, missingBundles, startLab, tags, type PipelineLab } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'slack-notify']);
const why = !hasRealParts ? 'real parts missing (docker-registry, buildah, busybox-static)' : `not built yet: ${missing.join(', ')}`;
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
    const trivyDb = await lab.trivyDb();
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
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@main
    with:
      image: ${lab.registry.host}/shop/\${{ matrix.service }}
      context: \${{ matrix.service }}
      file: \${{ matrix.service }}/Containerfile
      builder: buildah
      sign: key
      tlog: false  # no public Rekor here
      registry-insecure: true
      sbom-generator: syft
      severity: HIGH
      scanners: vuln,secret
      db-repository: ${trivyDb}
    secrets:
      COSIGN_PRIVATE_KEY: \${{ secrets.COSIGN_KEY }}
      COSIGN_PASSWORD: \${{ secrets.COSIGN_PASSWORD }}
      SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}
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
      ref: 'refs/heads/main',
      env: lab.env,
      runDir,
      out: {
        write: (s: string) => {
          log += s;
          if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
        },
      },
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

  it('ran the real tools npm run tools built, and simulated no tool', () => {
    const real = realTools();
    expect(record.simulatedTools).toEqual([]);
    for (const t of ['cosign', 'syft', 'trivy'] as const)
      expect(record.realTools[t], t).toEqual({ version: real[t].version, path: real[t].path });
  });

  it('signs and attests only the image that passed, as cosign 3 bundles the real cosign verifies', async () => {
    const digest = (svc: string) => job(`image (${svc}) / build`)!.outputs.digest!;
    const ref = (svc: string) => job(`image (${svc}) / build`)!.outputs['image-ref']!;
    expect(job('image (api) / sign')!.outputs.signed).toBe('true');
    // cosign 3 stores Sigstore bundles as OCI referrers, not the legacy .sig/.att tags.
    expect(await bundlePredicates(lab, 'shop/api', digest('api'))).toEqual([
      'https://sigstore.dev/cosign/sign/v1',
      'https://slsa.dev/provenance/v1',
      'https://spdx.dev/Document',
      'https://trivy.dev/report/json/v1',
    ]);
    expect((await tags(lab, 'shop/api')).filter((t) => t.endsWith('.sig') || t.endsWith('.att'))).toEqual([]);
    expect(await bundlePredicates(lab, 'shop/worker', digest('worker'))).toEqual([]);
    expect((await tags(lab, 'shop/worker')).filter((t) => t.startsWith('sha256-'))).toEqual([]);
    // The tool's own verdict, with the lab's public key and no transparency log (tlog: false).
    const pub = { LAB_COSIGN_PUB: lab.cosignPub };
    const verified = JSON.parse(
      await lab.cosign(['verify', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', ref('api')], pub),
    ) as { critical: { image: { 'docker-manifest-digest': string } } }[];
    expect(verified.length).toBeGreaterThan(0);
    for (const v of verified) expect(v.critical.image['docker-manifest-digest']).toBe(digest('api'));
    await expect(
      lab.cosign(['verify', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', ref('worker')], pub),
    ).rejects.toThrow();
    // The SBOM attestation holds syft's SPDX document of this very digest.
    const att = (
      await lab.cosign(
        ['verify-attestation', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', '--type', 'spdxjson', ref('api')],
        pub,
      )
    )
      .trim()
      .split('\n');
    const statement = JSON.parse(Buffer.from((JSON.parse(att[0]!) as { payload: string }).payload, 'base64').toString('utf8')) as {
      subject: { digest: { sha256: string } }[];
      predicate: { creationInfo: { creators: string[] }; packages: { name: string; versionInfo?: string }[] };
    };
    expect(statement.subject.map((x) => `sha256:${x.digest.sha256}`)).toEqual([digest('api')]);
    // syft wrote it (built from the module proxy it reports `syft-[not provided]`: its version is an ldflag).
    expect(statement.predicate.creationInfo.creators.some((c) => c.startsWith('Tool: syft-'))).toBe(true);
    // ...by cataloguing the image: the static busybox it recognises, and the image itself by digest.
    const pkgs = statement.predicate.packages;
    expect(pkgs.map((p) => p.name)).toContain('busybox');
    expect(pkgs).toContainEqual(expect.objectContaining({ name: `${lab.registry.host}/shop/api`, versionInfo: digest('api') }));
  });

  it('keeps per-leg artifacts that never collide: SBOMs, scan reports (even for the failed gate), the policy', () => {
    const names = [...lab.services.artifacts.keys()].sort();
    const key = (svc: string) => `${lab.registry.host}-shop-${svc}`.replace(/[^A-Za-z0-9._-]/g, '-');
    expect(names).toEqual(
      expect.arrayContaining([
        `sbom-${key('api')}`,
        `scan-${key('api')}`,
        `policy-${key('api')}`,
        `sbom-${key('worker')}`,
        `scan-${key('worker')}`,
      ]),
    );
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
