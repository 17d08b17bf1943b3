/**
 * The two reusable workflows chained the way workflows/deploy-main.yml chains them, rehearsed end
 * to end from one caller, every tool real (handed out by the rehearsal's setup-tools steps from
 * npm run tools): build-sign-scan (buildah → real registry digest, trivy 0.74 scanning and writing
 * the SBOM by digest, cosign 3 key signing + attestations into the registry without a
 * transparency log) → deploy-prod (the real `cosign verify` of that signature, the environment
 * gate, the real Helm 4 installing examples/chart by digest into the loopback Kubernetes API,
 * smoke test over real HTTP, Slack). Simulated: GitHub (the rehearsal), the Kubernetes API server
 * (test/rehearse/kube.ts) and Slack (a sink). Our actions are referenced as
 * `hallmark-dev/hallmark/actions/<name>@v1` inside the called workflows and run from dist/.
 */
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyTrail } from '@hallmark/audit/verify';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.js';
import { createTokenBook, oidcInterceptor } from '../../packages/rehearse/src/rules.js';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { realTools } from '../harness/tools.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { unzipEntries } from '../sbom-attach/setup.js';
import { BUSYBOX, bundlePredicates, hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const missing = missingBundles([
  'build-sign',
  'trivy-gate',
  'sbom-attach',
  'smoke-test',
  'slack-notify',
  'terraform-gated-apply',
  'audit-trail',
]);
if (!hasRealParts || missing.length)
  console.warn(
    `pipeline rehearsal skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing (docker-registry, buildah, busybox-static)'}`,
  );

describe.skipIf(!hasRealParts || missing.length > 0)('build-sign-scan → deploy-prod from one caller', () => {
  let lab: PipelineLab;
  let cluster: KubeCluster;
  let app: TestServer;
  let record: RunRecord;
  let log = '';
  const job = (name: string) => record.jobs.find((j) => j.name === name);
  /** The digest the Deployment helm rendered from examples/chart runs (release `api`, container `hello`). */
  const deployedDigest = (): string | undefined => cluster.image('shop', 'api', 'hello')?.split('@')[1];

  beforeAll(async () => {
    lab = await startLab();
    cluster = await startKubeCluster({ namespaces: ['shop'] });
    app = await startServer((_req, res) => {
      const up = deployedDigest() !== undefined;
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: up ? 'up' : 'down' }));
    });
    const repo = mkdtempSync(join(lab.dir, 'repo-'));
    const files: Record<string, string> = {
      '.github/workflows/ship.yml': `name: ship
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
    secrets:
      COSIGN_PRIVATE_KEY: \${{ secrets.COSIGN_KEY }}
      COSIGN_PASSWORD: \${{ secrets.COSIGN_PASSWORD }}
      SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}
  deploy:
    needs: image
    permissions: { contents: read, packages: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: staging
      image-ref: \${{ needs.image.outputs.image-ref }}
      working-directory: ''
      chart: ./charts/api
      release: api
      namespace: shop
      checks: smoke.yml
      tlog: false
      require-provenance: true  # build-sign-scan attests SLSA provenance by default; verify-image checks it
      audit-signing: key  # the audit trail signed with the image's key (no public Fulcio here)
    secrets:
      KUBE_CONFIG: \${{ secrets.KUBECONFIG }}
      COSIGN_PUBLIC_KEY: \${{ secrets.COSIGN_PUBLIC_KEY }}
      COSIGN_PRIVATE_KEY: \${{ secrets.COSIGN_KEY }}
      COSIGN_PASSWORD: \${{ secrets.COSIGN_PASSWORD }}
      SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}
`,
      'api/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n',
      'api/www/index.html': 'hello\n',
      'smoke.yml': `defaults: { retries: 2, interval: 50ms, timeout: 2s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n`,
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    copyFileSync(BUSYBOX as string, join(repo, 'api/busybox'));
    cpSync(join(ROOT, 'examples/chart'), join(repo, 'charts/api'), { recursive: true });
    // Each job's OIDC token names its own job_workflow_ref (the called workflow at the ref the
    // caller pinned): build-sign takes the provenance builder id from it, verify-image checks it.
    const book = createTokenBook();
    lab.services.intercept = oidcInterceptor(book);
    record = await rehearse({
      workflow: '.github/workflows/ship.yml',
      root: repo,
      event: 'push',
      tokenBook: book,
      secrets: {
        COSIGN_KEY: lab.cosignKey,
        COSIGN_PASSWORD: lab.cosignPassword,
        COSIGN_PUBLIC_KEY: lab.cosignPub,
        SLACK_WEBHOOK_URL: lab.slackUrl,
        KUBECONFIG: cluster.kubeconfigText,
      },
      approve: true,
      ref: 'refs/heads/main',
      env: lab.env,
      runDir: mkdtempSync(join(lab.dir, 'run-')),
      out: {
        write: (s: string) => {
          log += s;
          if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
        },
      },
    });
  }, 360_000); // two audit jobs and a part upload per job (issue 16): +40–90 s, mostly artifact-client children
  afterAll(async () => {
    await app?.close();
    await cluster?.close();
    await lab?.close();
  });

  it('goes green through every job of both workflows', () => {
    expect(record.status, log).toBe('success');
    for (const j of [
      'image / build',
      'image / scan',
      'image / sbom',
      'image / sign',
      'image / audit',
      'deploy / verify',
      'deploy / apply',
      'deploy / deploy',
      'deploy / smoke',
      'deploy / notify',
      'deploy / audit',
    ])
      expect(job(j)?.status, j).toBe('success');
    expect(job('image / notify')?.status).toBe('skipped');
    expect(job('deploy / rollback')?.status).toBe('skipped');
    // helm mode: the GitOps outputs are empty.
    expect(job('deploy')!.outputs).toEqual({
      deployed: 'true',
      'rolled-back': '',
      'gitops-commit-sha': '',
      'gitops-previous-digest': '',
      'gitops-pull-request-url': '',
    });
  });

  it('deploys exactly the digest it built, signed and attested, after verifying the signature', async () => {
    const { digest, 'image-ref': ref } = job('image / build')!.outputs;
    expect(ref).toBe(`${lab.registry.host}/shop/api@${digest}`);
    expect(job('image')!.outputs['image-ref']).toBe(ref);
    // cosign 3 bundles as OCI referrers: the signature, trivy's SPDX SBOM and the scan report.
    expect(await bundlePredicates(lab, 'shop/api', digest!)).toEqual([
      'https://sigstore.dev/cosign/sign/v1',
      'https://slsa.dev/provenance/v1',
      'https://spdx.dev/Document',
      'https://trivy.dev/report/json/v1',
    ]);
    // The real Helm rendered examples/chart by digest into the (simulated) API server.
    expect(cluster.image('shop', 'api', 'hello')).toBe(ref);
    const releases = cluster.releases('shop', 'api');
    expect(releases.map((r) => r.info.status)).toEqual(['deployed']);
    expect(releases[0]!.manifest).toContain(`image: "${ref}"`);
    expect(deployedDigest()).toBe(digest);
    const real = realTools();
    for (const t of ['cosign', 'trivy', 'helm'] as const)
      expect(record.realTools[t], t).toEqual({ version: real[t].version, path: real[t].path });
    expect(record.simulatedTools).toEqual([]);
    const verify = job('deploy / verify')!.steps;
    expect(verify.filter((s) => s.status !== 'skipped').map((s) => s.status)).toEqual(
      verify.filter((s) => s.status !== 'skipped').map(() => 'success'),
    );
    expect(verify.some((s) => /verify/i.test(s.name) && s.status === 'success')).toBe(true);
    expect(record.approvals).toEqual([{ job: 'deploy / apply', environment: 'staging', approved: true, by: '--approve' }]);
  });

  it('its critical path runs through the called workflows’ jobs', () => {
    const names = record.criticalPath.map((j) => j.name);
    expect(names[0]).toBe('image / build');
    expect(names).toContain('image / sign');
    expect(names.slice(-4)).toEqual(['deploy / deploy', 'deploy / smoke', 'deploy / notify', 'deploy / audit']);
  });

  it('keeps a signed audit trail that verifies offline and tells the whole story (issue 16)', async () => {
    const { digest } = job('image / build')!.outputs;
    const runId = String(record.runId ?? '');
    const names = [...lab.services.artifacts.keys()];
    // Every job that ran one of our actions uploaded its part; both audit jobs kept a trail.
    for (const part of ['bss-', 'deploy-staging__verify', 'deploy-staging__smoke', 'deploy-staging__notify'])
      expect(
        names.some((n) => n.startsWith('hallmark-audit-part-') && n.includes(part)),
        part,
      ).toBe(true);
    const trailName = names.find((n) => /^audit-\d+-1-staging$/.test(n));
    expect(trailName, names.join(', ')).toBeDefined();
    if (runId) expect(trailName).toBe(`audit-${runId}-1-staging`);
    expect(
      names.some((n) => /^audit-\d+-1-.*shop-api$/.test(n)),
      names.join(', '),
    ).toBe(true);
    const files = unzipEntries(lab.services.artifactBytes(trailName!)!);
    const dir = mkdtempSync(join(lab.dir, 'audit-'));
    for (const [n, b] of files) writeFileSync(join(dir, n), b);
    writeFileSync(join(dir, 'cosign.pub'), lab.cosignPub);
    const v = await verifyTrail(dir, { publicKey: join(dir, 'cosign.pub'), tlog: false });
    expect(v.problems).toEqual([]);
    // built (the digest) → scanned (verdict) → signed (who) → approved → deployed → smoke (result)
    expect(v.story).toMatch(new RegExp(`built\\s+\\S+@${digest}: passed`));
    expect(v.story).toMatch(/scanned\s+\S+: passed/);
    expect(v.story).toMatch(/signed\s+\S+: passed \(key/);
    expect(v.story).toMatch(/approved\s+environment staging/);
    expect(v.story).toMatch(/deployed\s+environment staging, namespace shop, mode helm: job deploy success/);
    expect(v.story).toMatch(/smoke\s+.*passed/);
    expect(v.story).not.toContain(lab.cosignPassword);
    if (process.env.AUDIT_STORY_OUT)
      writeFileSync(process.env.AUDIT_STORY_OUT, `$ npm run audit:verify -- ${trailName} --public-key cosign.pub --tlog false\n${v.story}`);
  });

  it('tells Slack once (the deploy), never with a secret', () => {
    const msgs = lab.slackMessages();
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/success/i);
    expect(msgs[0]!.text).toContain('staging');
    for (const m of msgs) expect(m.text).not.toContain(lab.cosignPassword);
    expect(log).not.toContain(lab.cosignPassword);
    expect(log).not.toContain(lab.cosignKey.split('\n')[1]!);
    expect(readFileSync(record.recordFile, 'utf8')).not.toContain(lab.cosignPassword);
  });
});
