/**
 * deploy-prod's cloud `cluster-auth` modes (gke, eks, aks) rehearsed: no KUBE_CONFIG secret is given,
 * so the only way the deploy and smoke jobs reach the cluster is through the pinned cloud sign-in
 * actions, exchanging each job's own GitHub OIDC token. Those actions are SIMULATED here
 * (packages/rehearse/src/equivalents/cloud.ts: they check their inputs, really request the job's
 * OIDC token — whose claims the rehearsal mints per job (rules.ts oidcClaims) — apply the cloud's
 * trust condition "ref == refs/heads/main", and hand out a kubeconfig of the loopback Kubernetes API
 * server, ./kube.ts, SIMULATED too). Real: cosign 3 (verify), kubectl (set image, rollout status,
 * smoke-test's rollout check), docker-registry and buildah for the images.
 */
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse } from '../../packages/rehearse/src/engine.js';
import { createTokenBook, oidcInterceptor } from '../../packages/rehearse/src/rules.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const missing = missingBundles(['smoke-test', 'slack-notify', 'registry-login', 'verify-image']);
if (!hasRealParts || missing.length)
  console.warn(`deploy-prod cloud rehearsal skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing'}`);

const SETTINGS = {
  'cluster-name': 'shop-prod',
  'gke-location': 'europe-west1',
  'gcp-workload-identity-provider': 'projects/123456789/locations/global/workloadIdentityPools/github/providers/acme-shop',
  'gcp-service-account': 'deployer@acme-prod.iam.gserviceaccount.com',
  'aws-role-arn': 'arn:aws:iam::123456789012:role/hallmark-deploy',
  'aws-region': 'eu-west-1',
  'azure-client-id': '11111111-2222-3333-4444-555555555555',
  'azure-tenant-id': '66666666-7777-8888-9999-000000000000',
  'azure-subscription-id': 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
  'azure-resource-group': 'shop',
};

describe.skipIf(!hasRealParts || missing.length > 0)('deploy-prod reaches the cluster through GitHub OIDC (gke, eks, aks)', () => {
  let lab: PipelineLab;
  let cluster: KubeCluster;
  let repo: string;
  let kubeconfigFile: string;
  const images: Record<string, string> = {};

  beforeAll(async () => {
    lab = await startLab();
    for (const m of ['start', 'gke', 'eks', 'aks', 'branch', 'bad']) {
      images[m] = lab.buildImage('shop/api', { 'version.txt': `${m}\n` });
      await lab.sign(images[m]!);
    }
    cluster = await startKubeCluster({ deployment: { namespace: 'shop', name: 'api', container: 'api', image: images.start! } });
    kubeconfigFile = join(lab.dir, 'cloud-cluster.kubeconfig');
    writeFileSync(kubeconfigFile, cluster.kubeconfigText, { mode: 0o600 });
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const settings = Object.keys(SETTINGS)
      .map((k) => `      ${k}: \${{ inputs.${k} }}`)
      .join('\n');
    const files: Record<string, string> = {
      '.github/workflows/deploy.yml': `name: deploy
on:
  workflow_dispatch:
    inputs:
      image-ref: { type: string, required: true }
      cluster-auth: { type: string, required: true }
${Object.entries(SETTINGS)
  .map(([k, v]) => `      ${k}: { type: string, default: '${v}' }`)
  .join('\n')}
permissions: {}
jobs:
  deploy:
    permissions: { contents: read, packages: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: staging
      image-ref: \${{ inputs.image-ref }}
      working-directory: ''
      deployment: api
      container: api
      namespace: shop
      checks: smoke.yml
      tlog: false
      cluster-auth: \${{ inputs.cluster-auth }}
${settings}
    secrets:
      COSIGN_PUBLIC_KEY: \${{ secrets.COSIGN_PUBLIC_KEY }}
`,
      'smoke.yml':
        'defaults: { retries: 2, interval: 50ms, timeout: 5s }\nchecks:\n  - name: api rollout\n    k8s: { rollout: deployment/api, namespace: shop }\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
  }, 300_000);
  afterAll(async () => {
    await cluster?.close();
    await lab?.close();
  });

  async function deploy(mode: string, image: string, opts: { ref?: string; inputs?: Record<string, string> } = {}) {
    let log = '';
    const book = createTokenBook();
    lab.services.intercept = oidcInterceptor(book);
    try {
      const record = await rehearse({
        workflow: '.github/workflows/deploy.yml',
        root: repo,
        event: 'workflow_dispatch',
        inputs: { 'image-ref': image, 'cluster-auth': mode, ...opts.inputs },
        secrets: { COSIGN_PUBLIC_KEY: lab.cosignPub },
        approve: true,
        ref: opts.ref ?? 'refs/heads/main',
        defaultBranch: 'main',
        tokenBook: book,
        // The simulated cloud: its cluster (the loopback API server) and its trust condition (WIF
        // principal / role trust / federated credential restricted to refs/heads/main).
        env: { ...lab.env, HALLMARK_SIMULATED_CLUSTER_KUBECONFIG: kubeconfigFile, HALLMARK_SIMULATED_CLOUD_REF: 'refs/heads/main' },
        runDir: mkdtempSync(join(lab.dir, 'run-')),
        out: {
          write: (s: string) => {
            log += s;
            if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
          },
        },
      });
      const job = (id: string) => record.jobs.find((j) => j.name === `deploy / ${id}`);
      const ran = (id: string) =>
        job(id)!
          .steps.filter((s) => s.name.startsWith('Cluster access · ') && s.status !== 'skipped')
          .map((s) => [s.name.replace('Cluster access · ', ''), s.status]);
      return { record, log, job, ran };
    } finally {
      lab.services.intercept = undefined;
    }
  }

  const STEPS: Record<string, string[]> = {
    gke: ['Google Cloud through Workload Identity Federation (GitHub OIDC)', 'GKE credentials'],
    eks: ['AWS role through GitHub OIDC', 'EKS kubeconfig'],
    aks: ['Azure login through GitHub OIDC', 'AKS kubeconfig'],
  };

  it.each(['gke', 'eks', 'aks'])(
    '%s: deploy and smoke sign in with their own OIDC token and reach the cluster; no kubeconfig secret exists',
    { timeout: 300_000 },
    async (mode) => {
      const before = cluster.requests().length;
      const { record, log, job, ran } = await deploy(mode, images[mode]!);
      expect(record.status, log).toBe('success');
      for (const j of ['deploy', 'smoke'])
        expect(ran(j), j).toEqual([...STEPS[mode]!.map((n) => [n, 'success']), ['remove the kubeconfig', 'success']]);
      // kubectl set image in deploy, then smoke-test's rollout check in smoke: both through the cloud's kubeconfig.
      expect(cluster.image('shop', 'api', 'api')).toBe(images[mode]);
      expect(job('smoke')!.status).toBe('success');
      const kubectl = cluster
        .requests()
        .slice(before)
        .filter((r) => String(r.headers['user-agent'] ?? '').startsWith('kubectl'));
      expect(kubectl.filter((r) => r.method === 'PATCH')).toHaveLength(1);
      expect(
        kubectl.filter((r) => r.method === 'GET' && r.path.startsWith('/apis/apps/v1/namespaces/shop/deployments')).length,
      ).toBeGreaterThan(1);
      expect(log).not.toContain('kube-token-canary-2d8e41');
    },
  );

  it('the cloud refuses a token from another branch (trust restricted to refs/heads/main): deploy fails at sign-in, nothing changes', {
    timeout: 300_000,
  }, async () => {
    const now = cluster.image('shop', 'api', 'api');
    const { record, log, job } = await deploy('gke', images.branch!, { ref: 'refs/heads/feature' });
    expect(record.status).toBe('failure');
    expect(job('deploy')!.steps.find((s) => s.name.includes('Google Cloud'))!.status).toBe('failure');
    expect(log).toContain('the trust condition requires ref refs/heads/main, the token says refs/heads/feature');
    expect(job('smoke')!.status).toBe('skipped');
    expect(cluster.image('shop', 'api', 'api')).toBe(now);
  });

  it('a malformed provider is refused by the plan job, before anything is applied or deployed', { timeout: 300_000 }, async () => {
    const { record, log, job } = await deploy('gke', images.bad!, { inputs: { 'gcp-workload-identity-provider': 'github-pool' } });
    expect(record.status).toBe('failure');
    expect(job('plan')!.status).toBe('failure');
    expect(log).toContain(
      "input 'gcp-workload-identity-provider' must be projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>",
    );
    for (const j of ['apply', 'deploy', 'smoke']) expect(job(j)!.status, j).toBe('skipped');
  });

  it('an unknown cluster-auth is refused by the plan job too', { timeout: 300_000 }, async () => {
    const { record, log, job } = await deploy('openshift', images.bad!);
    expect(record.status).toBe('failure');
    expect(log).toContain("input 'cluster-auth' must be one of kubeconfig, gke, eks, aks");
    expect(job('deploy')!.status).toBe('skipped');
  });
});
