/**
 * deploy-prod rehearsed end to end from a caller workflow, with the same YAML and dist/ bundles and
 * the REAL tools its setup-tools steps hand out (npm run tools): real cosign 3.1.2 verifies
 * signatures the real cosign made in a real loopback registry (key mode, no transparency log:
 * `tlog: false`) → real terraform (or OpenTofu) plan/apply behind an environment gate → real
 * Helm 4.2.4 installs examples/chart by digest into the loopback Kubernetes API server (./kube.ts,
 * SIMULATED: no cluster can run here), which keeps helm's release Secrets → smoke-test over real
 * HTTP against a service whose health follows the digest the Deployment runs → `helm rollback`
 * when smoke fails → slack-notify to a loopback sink (SIMULATED Slack). kubectl mode runs the real
 * kubectl against the same API server.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse } from '../../packages/rehearse/src/engine.js';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { realTools } from '../harness/tools.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const needed = ['terraform-gated-apply', 'smoke-test', 'slack-notify'];
const missing = missingBundles(needed);
if (!hasRealParts || missing.length)
  console.warn(
    `deploy-prod rehearsal skipped: ${!hasRealParts ? 'real parts missing (docker-registry, buildah, busybox-static)' : `not built yet: ${missing.join(', ')}`}`,
  );

/**
 * Step name → status; the verification step (H7's verify-image) is `verify`, the rollback's
 * re-check (the smoke-test step after the restore) is `re-check`. Post steps are left out.
 */
function stepStatus(j: { steps: { name: string; status: string; uses?: string; post?: boolean }[] }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of j.steps) {
    if (s.post) continue;
    if (s.name.startsWith('Verify the signature')) out.verify = s.status;
    else if (s.uses?.includes('/actions/smoke-test@')) out['re-check'] = s.status;
    else out[s.name] = s.status;
  }
  return out;
}

/** The chart's container (examples/chart: the chart name). */
const CONTAINER = 'hello';

describe.skipIf(!hasRealParts || missing.length > 0)('deploy-prod rehearsed from a caller', () => {
  let lab: PipelineLab;
  let app: TestServer;
  let cluster: KubeCluster;
  let sigstore: LoopbackSigstore;
  let repo: string;
  let good: string;
  let bad: string;
  let unsigned: string;
  let foreign: string;
  let broken: string;
  let healthy: () => boolean;
  /** The digest the helm-deployed Deployment runs now (what the real helm applied to the API server). */
  const deployed = (): string | undefined => cluster.image('shop', 'api', CONTAINER)?.split('@')[1];
  const release = () => cluster.releases('shop', 'api');

  beforeAll(async () => {
    lab = await startLab();
    sigstore = await startSigstore(mkdtempSync(join(lab.dir, 'sigstore-')));
    good = lab.buildImage('shop/api', { 'version.txt': 'good\n' });
    bad = lab.buildImage('shop/api', { 'version.txt': 'bad\n' });
    unsigned = lab.buildImage('shop/api', { 'version.txt': 'unsigned\n' });
    foreign = lab.buildImage('shop/api', { 'version.txt': 'foreign\n' });
    broken = lab.buildImage('shop/api', { 'version.txt': 'crashloop\n' });
    // The API server's deployment controller never gets pods of `broken` ready (ProgressDeadlineExceeded).
    cluster = await startKubeCluster({ namespaces: ['shop'], failingImages: [broken] });
    await lab.sign(good);
    await lab.sign(bad);
    await lab.sign(broken);
    await lab.sign(foreign, await lab.keyPair()); // signed, but by someone else's key
    // The "cluster": healthy exactly when the Deployment runs the good digest.
    healthy = () => deployed() === good.split('@')[1];
    app = await startServer((_req, res) => {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'up' : 'down' }));
    });
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const caller = (name: string, extra: string) => `name: ${name}
on:
  workflow_dispatch:
    inputs:
      environment: { type: choice, options: [staging, production], default: production }
      image-ref: { type: string, required: true }
      tlog: { type: string, default: 'false' }
      trusted-root: { type: string, default: '' }
      tools: { type: string, default: '' }
permissions: {}
jobs:
  deploy:
    # deploy-prod's verify reads signatures with the job token (packages: read); deploy, smoke and
    # rollback ask for id-token: write (cloud cluster-auth), which the calling job must grant.
    permissions:
      contents: read
      packages: read
      id-token: write
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: \${{ inputs.environment }}
      image-ref: \${{ inputs.image-ref }}
      # The lab signs in key mode without a transparency log (no Rekor is reachable here).
      tlog: \${{ inputs.tlog == 'true' }}
      trusted-root: \${{ inputs.trusted-root }}
      tools: \${{ inputs.tools }}
${extra}
    secrets:
      KUBE_CONFIG: \${{ secrets.KUBE_CONFIG }}
      COSIGN_PUBLIC_KEY: \${{ secrets.COSIGN_PUBLIC_KEY }}
      SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}
`;
    const files: Record<string, string> = {
      '.github/workflows/deploy.yml': caller(
        'deploy',
        '      working-directory: infra\n      chart: ./charts/api\n      release: api\n      namespace: shop\n      checks: smoke.yml',
      ),
      '.github/workflows/deploy-kubectl.yml': caller(
        'deploy (kubectl)',
        "      working-directory: ''\n      deployment: api\n      container: api\n      namespace: shop\n      checks: smoke-kubectl.yml",
      ),
      // terraform_data is built into Terraform/OpenTofu: the real CLI plans it offline.
      'infra/main.tf': 'resource "terraform_data" "api" {\n  input = "shop"\n}\n',
      // smoke-test's Kubernetes checks run the real kubectl in the smoke job against the loopback
      // API server, reached only through the cluster: block's kubeconfig (KUBE_CONFIG).
      'smoke.yml': `defaults: { retries: 2, interval: 50ms, timeout: 5s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n  - name: api rollout\n    k8s: { rollout: deployment/api, namespace: shop }\n  - name: api pods ready\n    k8s: { pods-ready: { selector: app.kubernetes.io/instance=api, namespace: shop, min: 2 } }\n`,
      'smoke-kubectl.yml': `defaults: { retries: 2, interval: 50ms, timeout: 5s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n  - name: api rollout\n    k8s: { rollout: deployment/api, namespace: shop }\n  - name: api pods ready\n    k8s: { pods-ready: { selector: app=api, namespace: shop, min: 1 } }\n`,
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    // The caller's chart is hallmark's example chart (renders <repository>@<digest>, refuses tags).
    cpSync(join(ROOT, 'examples/chart'), join(repo, 'charts/api'), { recursive: true });
    // A private Sigstore's trusted root, checked into the caller's repository.
    cpSync(sigstore.trustedRootPath, join(repo, 'sigstore/trusted_root.json'));
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await cluster?.close();
    await sigstore?.close();
    await lab?.close();
  });

  async function deploy(
    imageRef: string,
    opts: {
      ref?: string;
      approve?: boolean;
      environment?: string;
      kubectl?: KubeCluster;
      inputs?: Record<string, string>;
      keyless?: boolean;
      tools?: Record<string, { version: string; path: string }>;
    } = {},
  ) {
    let log = '';
    const runDir = mkdtempSync(join(lab.dir, 'run-'));
    const record = await rehearse({
      workflow: opts.kubectl ? '.github/workflows/deploy-kubectl.yml' : '.github/workflows/deploy.yml',
      root: repo,
      event: 'workflow_dispatch',
      inputs: { 'image-ref': imageRef, environment: opts.environment ?? (opts.kubectl ? 'staging' : 'production'), ...opts.inputs },
      secrets: {
        ...(opts.keyless ? {} : { COSIGN_PUBLIC_KEY: lab.cosignPub }),
        SLACK_WEBHOOK_URL: lab.slackUrl,
        KUBE_CONFIG: (opts.kubectl ?? cluster).kubeconfigText,
      },
      approve: opts.approve ?? true,
      ref: opts.ref ?? 'refs/heads/main',
      defaultBranch: 'main',
      env: lab.env,
      ...(opts.tools ? { tools: opts.tools } : {}),
      runDir,
      out: {
        write: (s: string) => {
          log += s;
          if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
        },
      },
    });
    const job = (id: string) => record.jobs.find((j) => j.name === `deploy / ${id}`);
    rmSync(runDir, { recursive: true, force: true });
    return { record, log, job };
  }

  it('deploys a signed digest behind the approval with the real helm 4, smoke-tests it (HTTP, rollout, pods ready) and reports success', async () => {
    const before = lab.slackMessages().length;
    const before0 = cluster.requests().length;
    const { record, log, job } = await deploy(good);
    expect(record.status, log).toBe('success');
    // Nothing simulated but GitHub itself: cosign, terraform and helm are the real ones.
    expect(record.simulatedTools).toEqual([]);
    expect(record.realTools.cosign?.version).toBe(realTools().cosign.version);
    expect(record.realTools.helm?.version).toBe(realTools().helm.version);
    expect(record.realTools.helm?.path).toBe(realTools().helm.path);
    expect(record.realTools.terraform?.path).toBe(realTools().terraform.path);
    expect(record.approvals).toEqual([{ job: 'deploy / apply', environment: 'production', approved: true, by: '--approve' }]);
    expect(job('plan')!.outputs['plan-sha256']).toMatch(/^[a-f0-9]{64}$/);
    expect(job('deploy')!.outputs.method).toBe('helm');
    // The Deployment the real helm applied runs the image by digest; helm's release Secret holds it too.
    expect(cluster.image('shop', 'api', CONTAINER)).toBe(good);
    expect(release().at(-1)).toMatchObject({
      version: 1,
      info: { status: 'deployed', description: 'Install complete' },
      config: { image: { repository: good.split('@')[0], digest: good.split('@')[1] } },
    });
    expect(job('rollback')!.status).toBe('skipped');
    // smoke-test's Kubernetes checks ran in the smoke job with the real kubectl against the loopback
    // API server, found only through the kubeconfig the Cluster access block wrote from KUBE_CONFIG:
    // `kubectl rollout status deployment/api` and `kubectl get pods --selector` (the helm deploy
    // job itself runs no kubectl).
    expect(job('smoke')!.status, log).toBe('success');
    const viaKubectl = cluster
      .requests()
      .slice(before0)
      .filter((r) => String(r.headers['user-agent'] ?? '').startsWith('kubectl'));
    expect(
      viaKubectl.some((r) => r.method === 'GET' && r.path.startsWith('/apis/apps/v1/namespaces/shop/deployments') && r.url.includes('api')),
      JSON.stringify(viaKubectl.map((r) => r.url)),
    ).toBe(true);
    expect(
      viaKubectl.some(
        (r) =>
          r.method === 'GET' &&
          r.path === '/api/v1/namespaces/shop/pods' &&
          decodeURIComponent(r.url).includes('labelSelector=app.kubernetes.io/instance=api'),
      ),
      JSON.stringify(viaKubectl.map((r) => r.url)),
    ).toBe(true);
    expect(job('smoke')!.summary ?? '').toMatch(/api pods ready/);
    expect(job('smoke')!.summary ?? '').toMatch(/api rollout/);
    // The token in the kubeconfig secret never reaches the log.
    expect(log).not.toContain('kube-token-canary-2d8e41');
    const msgs = lab.slackMessages().slice(before);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/success/i);
  });

  it('a failing smoke test makes the real helm roll back to the previous release, re-checks it, and notifies the failure', async () => {
    const before = lab.slackMessages().length;
    const { record, log, job } = await deploy(bad);
    expect(record.status, log).toBe('failure');
    expect(job('deploy')!.status).toBe('success');
    expect(job('smoke')!.status).toBe('failure');
    expect(job('smoke')!.outputs['failure-reason']).toBe('checks-failed');
    expect(job('rollback')!.status, log).toBe('success');
    expect(stepStatus(job('rollback')!)).toMatchObject({
      'Cluster access · kubeconfig from the KUBE_CONFIG secret': 'success',
      'Restore the previous release': 'success',
      're-check': 'success',
      'Cluster access · remove the kubeconfig': 'success',
    });
    // helm's own history, read from its Secrets: install(good) → upgrade(bad) → rollback to 1.
    expect(deployed()).toBe(good.split('@')[1]);
    const revs = release();
    expect(revs.map((r) => [r.version, r.info.status, r.config?.image?.digest])).toEqual([
      [1, 'superseded', good.split('@')[1]],
      [2, 'superseded', bad.split('@')[1]],
      [3, 'deployed', good.split('@')[1]],
    ]);
    expect(revs.at(-1)!.info.description).toBe('Rollback to 1');
    const msgs = lab.slackMessages().slice(before);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/failure/i);
    expect(msgs[0]!.text).toContain('smoke failure');
  });

  it('a rollout whose pods never get ready fails the deploy job; Helm 4 rolls itself back (--rollback-on-failure) and the rollback job does not run', async () => {
    const revsBefore = release().length;
    const { record, log, job } = await deploy(broken);
    expect(record.status).toBe('failure');
    expect(job('deploy')!.status).toBe('failure');
    expect(log).toMatch(/UPGRADE FAILED: release api failed, and has been rolled back due to rollback-on-failure being set/);
    for (const j of ['smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
    expect(deployed()).toBe(good.split('@')[1]);
    const revs = release().slice(revsBefore);
    expect(revs.map((r) => [r.info.status, r.config?.image?.digest])).toEqual([
      ['failed', broken.split('@')[1]],
      ['deployed', good.split('@')[1]],
    ]);
    expect(revs[1]!.info.description).toBe(`Rollback to ${revsBefore}`);
  });

  it('an unsigned image stops at verify: nothing planned, applied or deployed', async () => {
    const revsBefore = release().length;
    const { record, log, job } = await deploy(unsigned);
    expect(record.status).toBe('failure');
    expect(job('verify')!.status).toBe('failure');
    expect(log).toMatch(/no signatures found/);
    for (const j of ['plan', 'apply', 'deploy', 'smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
    expect(job('notify')!.status).toBe('success');
    expect(release()).toHaveLength(revsBefore);
  });

  it('an image signed by a foreign key stops at verify too', async () => {
    const revsBefore = release().length;
    const { record, log, job } = await deploy(foreign);
    expect(record.status).toBe('failure');
    expect(job('verify')!.status).toBe('failure');
    expect(stepStatus(job('verify')!)).toMatchObject({
      'Production only from the default branch; image by digest only': 'success',
      verify: 'failure',
    });
    // cosign 3 reads the bundle (an OCI referrer) as an attestation: "no matching attestations".
    expect(log).toMatch(/no matching attestations: failed to verify signature/);
    for (const j of ['plan', 'apply', 'deploy', 'smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
    expect(release()).toHaveLength(revsBefore);
  });

  it('tlog: true (the default) refuses a signature that was never logged, judged against the trusted-root from the caller’s repository', async () => {
    const { record, log, job } = await deploy(good, { inputs: { tlog: 'true', 'trusted-root': 'sigstore/trusted_root.json' } });
    expect(record.status).toBe('failure');
    // The checkout ran (the trusted root is read from the caller's repository) and cosign refused.
    expect(stepStatus(job('verify')!)).toMatchObject({
      'Run actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683': 'success',
      verify: 'failure',
    });
    expect(log).toMatch(/not enough verified log entries from transparency log: 0 < 1/);
    expect(log).not.toMatch(/unknown flag/);
    expect(job('deploy')!.status).toBe('skipped');
  });

  it('tlog: false with the trusted-root accepts the key-signed digest (cosign --insecure-ignore-tlog=true --trusted-root)', async () => {
    const { record, log, job } = await deploy(good, { environment: 'staging', inputs: { 'trusted-root': 'sigstore/trusted_root.json' } });
    expect(job('verify')!.status, log).toBe('success');
    expect(record.status, log).toBe('success');
  });

  it('keyless verification requires the transparency log: tlog: false without the public key is refused before cosign runs', async () => {
    const { record, log, job } = await deploy(good, { keyless: true });
    expect(record.status).toBe('failure');
    expect(job('verify')!.steps[0]!.status).toBe('failure');
    expect(
      job('verify')!
        .steps.slice(1)
        // the audit-part upload runs `if: always()`: a failed job's records are kept too
        .filter((s) => !s.post && !/audit records/.test(s.name ?? ''))
        .every((s) => s.status === 'skipped'),
    ).toBe(true);
    expect(job('verify')!.steps.find((s) => /audit records/.test(s.name ?? ''))?.status).toBe('success');
    expect(log).toContain(
      "input 'tlog' may be false only with the COSIGN_PUBLIC_KEY secret (keyless verification requires the transparency log)",
    );
    expect(job('deploy')!.status).toBe('skipped');
  });

  it.each([
    [{ 'trusted-root': '../outside.json' }, "input 'trusted-root' must be a path inside the repository"],
    [{ 'trusted-root': '/etc/passwd' }, "input 'trusted-root' must be a path inside the repository"],
    [{ 'trusted-root': 'sigstore/missing.json' }, "input 'trusted-root': no such file in the repository"],
  ])('refuses %o before cosign runs', async (inputs, message) => {
    const { record, log, job } = await deploy(good, { inputs });
    expect(record.status).toBe('failure');
    expect(job('verify')!.status).toBe('failure');
    expect(log).toContain(message);
    expect(job('deploy')!.status).toBe('skipped');
  });

  it('production refuses a run from a branch other than the default one', async () => {
    const { record, log, job } = await deploy(good, { ref: 'refs/heads/feature' });
    expect(record.status).toBe('failure');
    expect(job('verify')!.steps[0]!.status).toBe('failure');
    expect(log).toContain('production deploys only from the default branch (refs/heads/main); this run is on refs/heads/feature');
    expect(job('apply')!.status).toBe('skipped');
  });

  it('without --approve and without a terminal, the environment gate stops before apply', async () => {
    const { record, job } = await deploy(good, { approve: false });
    expect(record.status).toBe('failure');
    expect(job('apply')!.error).toMatch(/waits for approval of environment 'production'.*--approve/);
    expect(job('deploy')!.status).toBe('skipped');
  });

  it('with Helm 3 pinned (the real helm 3.19.5), the same workflow deploys with --atomic --wait', async () => {
    const tools = realTools();
    const helm3 = await startKubeCluster({ namespaces: ['shop'] });
    const saved = cluster;
    cluster = helm3;
    try {
      // Pinned the way a caller pins it: deploy-prod's `tools` input, handed to setup-tools.
      const { record, log, job } = await deploy(good, { environment: 'staging', inputs: { tools: `helm@${tools.helm3.version}` } });
      expect(record.status, log).toBe('success');
      // The rehearsal's mirror served the real helm 3 for helm@3.19.5 (recorded under its npm run tools entry).
      expect(record.realTools.helm3?.version, JSON.stringify(record.realTools)).toBe(tools.helm3.version);
      expect(job('deploy')!.outputs.method).toBe('helm');
      expect(helm3.image('shop', 'api', CONTAINER)).toBe(good);
      expect(helm3.releases('shop', 'api').map((r) => [r.version, r.info.status])).toEqual([[1, 'deployed']]);
      // Helm 3 creates with a POST (Helm 4 applies server-side) and never watches under the legacy --wait.
      expect(helm3.requests().some((r) => r.method === 'POST' && r.path === '/apis/apps/v1/namespaces/shop/deployments')).toBe(true);
      expect(
        helm3.requests().some((r) => r.method === 'PATCH' && String(r.headers['content-type']).startsWith('application/apply-patch+yaml')),
      ).toBe(false);
    } finally {
      cluster = saved;
      await helm3.close();
    }
  });

  it('kubectl mode (the real kubectl, a loopback API server): set image + rollout status, then rollout undo when smoke fails', async () => {
    const kube = await startKubeCluster({ deployment: { namespace: 'shop', name: 'api', container: 'api', image: good } });
    try {
      healthy = () => kube.image('shop', 'api', 'api') === good;
      const before = lab.slackMessages().length;
      const { record, log, job } = await deploy(bad, { kubectl: kube });
      expect(record.status, log).toBe('failure');
      expect(record.simulatedTools).not.toContain('kubectl');
      expect(job('deploy')!.outputs.method).toBe('kubectl');
      expect(job('smoke')!.status).toBe('failure');
      expect(job('rollback')!.status, log).toBe('success');
      expect(stepStatus(job('rollback')!)).toMatchObject({
        'Cluster access · kubeconfig from the KUBE_CONFIG secret': 'success',
        'Restore the previous release': 'success',
        're-check': 'success',
      });
      // revision 1 ran the good image, 2 the bad one; the undo brought the good template back as revision 3.
      expect(kube.history('shop', 'api', 'api')).toEqual([
        { revision: 2, image: bad },
        { revision: 3, image: good },
      ]);
      expect(kube.image('shop', 'api', 'api')).toBe(good);
      const verbs = kube
        .requests()
        .filter((r) => r.method === 'PATCH')
        .map((r) => String(r.headers['content-type']).split(';')[0]);
      expect(verbs).toEqual(['application/strategic-merge-patch+json', 'application/json-patch+json']);
      // kubectl found this API server only through the kubeconfig secret; the secret stays out of the log.
      expect(kube.requests().length).toBeGreaterThan(0);
      expect(log).not.toContain('kube-token-canary-2d8e41');
      const msgs = lab.slackMessages().slice(before);
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.text).toMatch(/failure/i);
    } finally {
      healthy = () => deployed() === good.split('@')[1];
      await kube.close();
    }
  });
});
