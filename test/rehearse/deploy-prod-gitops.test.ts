/**
 * deploy-prod in GitOps mode (`deploy-mode: gitops`, commit mode), rehearsed end to end from a
 * caller with the same YAML and dist/ bundles: the real cosign verifies the key-signed digest →
 * the environment gate → gitops-update (dist/) clones and pushes the config repository with the
 * REAL git over HTTPS to the REAL `git http-backend` (test/gitops-update/lab.ts, token checked by
 * the server) →
 * a stand-in Argo CD controller (./argocd-sim.ts, SIMULATED) syncs the commit into the loopback
 * Kubernetes API (./kube.ts, SIMULATED) and writes the Application's status → smoke-test waits
 * for the Application with the REAL kubectl (argocd-app check), then smoke-tests over real HTTP →
 * on failure, a revert commit of the bump (gitops-update rollback-of), the same wait, a re-check.
 * Two rehearsal runs in all: one green, one that rolls back.
 *
 * "This GitHub server" (GITHUB_SERVER_URL, where gitops-update clones and pushes) is
 * https://git.localhost:<port>: an HTTPS front (a certificate made by openssl for git.localhost,
 * trusted through GIT_SSL_CAINFO) that forwards every request to the lab's git http-backend. git
 * (curl) resolves *.localhost to loopback; verify-image accepts only an https:// server URL; and
 * @actions/artifact does not take *.localhost for GHES.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { verifyTrail } from '@hallmark/audit/verify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse } from '../../packages/rehearse/src/engine.js';
import { git, HTTP_BACKEND, REPOSITORY, startGitopsLab, TOKEN, type GitopsLab } from '../gitops-update/lab.js';
import { startServer, type TestServer } from '../harness/server.js';
import { unzipEntries } from '../sbom-attach/setup.js';
import { startArgoCdSim, type ArgoCdSim } from './argocd-sim.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const missing = missingBundles(['gitops-update', 'smoke-test', 'slack-notify', 'audit-trail']);
const ready = hasRealParts && missing.length === 0 && existsSync(HTTP_BACKEND);
if (!ready)
  console.warn(
    `deploy-prod GitOps rehearsal skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing (docker-registry, buildah, busybox-static, git-http-backend)'}`,
  );

const FILE = 'envs/prod/kustomization.yaml';
const APP = 'shop-api';

/** An HTTPS server for git.localhost that forwards each request, bytes unchanged, to `target` (http). */
async function httpsFront(dir: string, target: string): Promise<{ server: TestServer; url: string; caFile: string }> {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'git-key.pem'),
      '-out',
      join(dir, 'git-cert.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=git.localhost',
      '-addext',
      'subjectAltName=DNS:git.localhost',
    ],
    { stdio: 'pipe' },
  );
  const t = new URL(target);
  const server = await startServer(
    (req, res) =>
      new Promise<void>((done) => {
        const headers = { ...req.headers, host: t.host, 'content-length': String(req.body.length) };
        delete headers['transfer-encoding'];
        const fwd = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          up.on('end', () => done());
        });
        fwd.on('error', (e) => {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end(String(e));
          done();
        });
        fwd.end(req.body);
      }),
    { tls: { key: readFileSync(join(dir, 'git-key.pem'), 'utf8'), cert: readFileSync(join(dir, 'git-cert.pem'), 'utf8') } },
  );
  return { server, url: `https://git.localhost:${server.port}`, caFile: join(dir, 'git-cert.pem') };
}

describe.skipIf(!ready)('deploy-prod in GitOps mode, rehearsed from a caller', () => {
  let lab: PipelineLab;
  let config: GitopsLab;
  let front: { server: TestServer; url: string; caFile: string };
  let kube: KubeCluster;
  let sim: ArgoCdSim;
  let app: TestServer;
  let repo: string;
  let image: string;
  let good: string;
  let next: string;
  let bad: string;
  /** The config repository's file pinning `digest` (comments and order are what gitops-update must keep). */
  const kustomization = (digest: string) => `# prod overlay — deploy-prod bumps the digest below, nothing else
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: shop
resources:
  - ../../base   # Deployment api, Service api
images:
  - name: api                     # the name the base manifests use
    newName: ${image}
    digest: ${digest}
labels:
  - pairs: { app.kubernetes.io/part-of: shop }
`;
  const digestOf = (ref: string) => ref.split('@')[1] as string;

  beforeAll(async () => {
    lab = await startLab();
    image = `${lab.registry.host}/shop/api`;
    good = lab.buildImage('shop/api', { 'version.txt': 'good\n' });
    next = lab.buildImage('shop/api', { 'version.txt': 'next\n' });
    bad = lab.buildImage('shop/api', { 'version.txt': 'crashloop\n' });
    for (const ref of [good, next, bad]) await lab.sign(ref);
    // The cluster runs `good`; pods of `bad` never get ready (ProgressDeadlineExceeded → Argo CD: Degraded).
    kube = await startKubeCluster({
      namespaces: ['argocd'],
      deployment: { namespace: 'shop', name: 'api', container: 'api', image: good },
      failingImages: [bad],
    });
    config = await startGitopsLab({
      [FILE]: kustomization(digestOf(good)),
      'base/kustomization.yaml': 'resources: [deployment.yaml, service.yaml]\n',
    });
    front = await httpsFront(lab.dir, config.gitUrl);
    sim = await startArgoCdSim({
      kube,
      repoURL: `${config.gitUrl}/${REPOSITORY}.git`,
      token: TOKEN,
      path: FILE,
      image,
      application: APP,
      destination: { namespace: 'shop', deployment: 'api', container: 'api' },
    });
    app = await startServer((_req, res) => {
      const up = kube.image('shop', 'api', 'api') !== bad;
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: up ? 'up' : 'down' }));
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
      packages: read
      id-token: write
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: \${{ inputs.environment }}
      image-ref: \${{ inputs.image-ref }}
      tlog: false  # the lab signs in key mode without a transparency log
      working-directory: ''
      deploy-mode: gitops
      gitops-repository: ${REPOSITORY}
      gitops-file: ${FILE}
      gitops-kind: kustomize
      argocd-application: ${APP}
      argocd-retries: '5'
      argocd-interval: 1s
      scan-verdict: passed (0 CRITICAL, 0 HIGH)
      checks: smoke.yml
      audit-signing: key  # the audit trail signed with the image's key (no public Fulcio here)
    secrets:
      KUBE_CONFIG: \${{ secrets.KUBE_CONFIG }}
      COSIGN_PUBLIC_KEY: \${{ secrets.COSIGN_PUBLIC_KEY }}
      SLACK_WEBHOOK_URL: \${{ secrets.SLACK_WEBHOOK_URL }}
      GITOPS_TOKEN: \${{ secrets.GITOPS_TOKEN }}
      COSIGN_PRIVATE_KEY: \${{ secrets.COSIGN_PRIVATE_KEY }}
      COSIGN_PASSWORD: \${{ secrets.COSIGN_PASSWORD }}
`,
      'smoke.yml': `defaults: { retries: 2, interval: 50ms, timeout: 5s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n  - name: api rollout\n    k8s: { rollout: deployment/api, namespace: shop }\n`,
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
  }, 180_000);
  afterAll(async () => {
    await sim?.close();
    await front?.server.close();
    await app?.close();
    await kube?.close();
    await config?.close();
    await lab?.close();
  });

  async function deploy(imageRef: string, environment: 'production' | 'staging') {
    let log = '';
    const runDir = mkdtempSync(join(lab.dir, 'run-'));
    const record = await rehearse({
      workflow: '.github/workflows/deploy.yml',
      root: repo,
      event: 'workflow_dispatch',
      inputs: { 'image-ref': imageRef, environment },
      secrets: {
        COSIGN_PUBLIC_KEY: lab.cosignPub,
        SLACK_WEBHOOK_URL: lab.slackUrl,
        KUBE_CONFIG: kube.kubeconfigText,
        GITOPS_TOKEN: TOKEN,
        COSIGN_PRIVATE_KEY: lab.cosignKey,
        COSIGN_PASSWORD: lab.cosignPassword,
      },
      approve: true,
      ref: 'refs/heads/main',
      defaultBranch: 'main',
      // The config repository lives on "this GitHub server" (see the header).
      env: { ...lab.env, GITHUB_SERVER_URL: front.url, GIT_SSL_CAINFO: front.caFile },
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

  /** The run's audit trail (artifact `audit-<run id>-<attempt>-<environment>`), verified offline with the lab's public key. */
  async function trail(runId: string, environment: string) {
    const name = `audit-${runId}-1-${environment}`;
    const bytes = lab.services.artifactBytes(name);
    expect(bytes, [...lab.services.artifacts.keys()].join(', ')).toBeDefined();
    const dir = mkdtempSync(join(lab.dir, 'audit-'));
    for (const [n, b] of unzipEntries(bytes as Buffer)) writeFileSync(join(dir, n), b);
    writeFileSync(join(dir, 'cosign.pub'), lab.cosignPub);
    return verifyTrail(dir, { publicKey: join(dir, 'cosign.pub'), tlog: false });
  }

  const steps = (j: { steps: { name: string; status: string; post?: boolean }[] } | undefined) =>
    Object.fromEntries((j?.steps ?? []).filter((s) => !s.post).map((s) => [s.name, s.status]));

  it('pins the new digest in the config repository (only that value changes), Argo CD reports the bump commit, the smoke test passes', async () => {
    const before = config.head('main');
    const fileBefore = config.show('main', FILE) as string;
    const slackBefore = lab.slackMessages().length;
    const kubeBefore = kube.requests().length;
    const { record, log, job } = await deploy(next, 'production');
    expect(record.status, log).toBe('success');
    expect(record.approvals).toEqual([{ job: 'deploy / apply', environment: 'production', approved: true, by: '--approve' }]);
    // The GitOps job replaced the rollout job; nothing rolled back.
    expect(job('deploy')!.status).toBe('skipped');
    expect(job('rollback')!.status).toBe('skipped');
    const bump = config.head('main');
    expect(bump).not.toBe(before);
    expect(job('gitops')!.outputs).toMatchObject({ changed: 'true', 'commit-sha': bump, 'previous-digest': digestOf(good) });
    // One commit on top of the old head, changing one line of one file: the digest.
    expect(git(config.bare, ['rev-parse', `${bump}^`]).trim()).toBe(before);
    const after = config.show('main', FILE) as string;
    expect(after).toBe(fileBefore.replace(digestOf(good), digestOf(next)));
    const changed = after.split('\n').filter((l, i) => l !== fileBefore.split('\n')[i]);
    expect(changed).toEqual([`    digest: ${digestOf(next)}`]);
    expect(git(config.bare, ['diff', '--name-only', before, bump]).trim()).toBe(FILE);
    const message = git(config.bare, ['log', '-1', '--format=%B', bump]);
    expect(message).toContain(next);
    expect(message).toContain('Scan verdict: passed (0 CRITICAL, 0 HIGH)');
    // Argo CD (the stand-in) synced exactly that commit; the smoke job's wait read it with kubectl.
    expect(await sim.waitFor(bump)).toEqual({ revision: bump, image: next, health: 'Healthy' });
    expect(kube.get('applications', 'argocd', APP)?.status).toMatchObject({
      sync: { status: 'Synced', revision: bump },
      health: { status: 'Healthy' },
    });
    expect(kube.image('shop', 'api', 'api')).toBe(next);
    expect(job('smoke')!.status, log).toBe('success');
    expect(steps(job('smoke'))).toMatchObject({ 'Wait for Argo CD to sync the bump': 'success', 'Smoke test the new release': 'success' });
    const reads = kube
      .requests()
      .filter(
        (r) =>
          r.method === 'GET' &&
          r.path === `/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/${APP}` &&
          String(r.headers['user-agent'] ?? '').startsWith('kubectl'),
      );
    expect(reads.length).toBeGreaterThan(0);
    expect(job('smoke')!.summary ?? '').toContain('Argo CD synced the bump');
    // The workflow never wrote to the cluster: every write the API server saw came from Argo CD (the stand-in).
    const writes = kube
      .requests()
      .slice(kubeBefore)
      .filter((r) => r.method !== 'GET');
    expect(writes.length).toBeGreaterThan(0);
    expect(
      writes
        .filter((r) => r.headers.authorization !== 'Bearer argocd-application-controller')
        .map((r) => `${r.method} ${r.path} ${String(r.headers['user-agent'])}`),
    ).toEqual([]);
    // The token reached git only as a header: never the log, the config repository, or a URL git asked for.
    expect(log).not.toContain(TOKEN);
    expect(config.allObjects()).not.toContain(TOKEN);
    for (const q of config.git.requests) expect(q.url).not.toContain(TOKEN);
    const msgs = lab.slackMessages().slice(slackBefore);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.text).toMatch(/success/i);
    expect(msgs[0]!.text).toContain('success (gitops)');
    // The audit trail verifies and says who deployed what where: the digest, by GitOps, at the bump commit.
    expect(job('audit')!.status, log).toBe('success');
    const v = await trail(String(record.runId), 'production');
    expect(v.problems).toEqual([]);
    expect(v.story).toMatch(
      new RegExp(
        `deployed\\s+environment production, mode gitops \\(commit\\): \\S*${digestOf(next)}\\S* in ${REPOSITORY} at ${bump}: passed`,
      ),
    );
    expect(v.story).toMatch(/smoke\s+.*passed/);
    expect(JSON.stringify(v.records)).not.toContain(TOKEN);
    if (process.env.AUDIT_STORY_OUT)
      writeFileSync(
        process.env.AUDIT_STORY_OUT,
        `$ npm run audit:verify -- audit-${record.runId}-1-production --public-key cosign.pub --tlog false\n${v.story}`,
      );
  }, 240_000);

  it('a digest Argo CD reports Degraded fails the wait; rollback reverts the bump commit, waits for the revert, re-checks, and the file is back byte for byte', async () => {
    const before = config.head('main');
    const fileBefore = config.show('main', FILE) as string;
    // Staging: the loopback artifact service is one store for every run of the lab, and the audit
    // parts are named per environment, so this run's parts do not meet the first run's.
    const { record, log, job } = await deploy(bad, 'staging');
    expect(record.status, log).toBe('failure');
    const bump = job('gitops')!.outputs['commit-sha'] as string;
    expect(bump).toMatch(/^[0-9a-f]{40}$/);
    expect(git(config.bare, ['rev-parse', `${bump}^`]).trim()).toBe(before);
    expect((await sim.waitFor(bump)).health).toBe('Degraded');
    // The wait failed (Synced at the bump, but Degraded), so the smoke test itself never ran.
    expect(job('smoke')!.status).toBe('failure');
    expect(job('smoke')!.outputs['failure-reason']).toBe('checks-failed');
    expect(steps(job('smoke'))).toMatchObject({ 'Wait for Argo CD to sync the bump': 'failure', 'Smoke test the new release': 'skipped' });
    expect(log).toMatch(/health Degraded/);
    // Rollback: a revert commit on top of the bump, synced and Healthy, re-checked.
    expect(job('rollback')!.status, log).toBe('success');
    expect(steps(job('rollback'))).toMatchObject({
      'Restore the previous release': 'skipped',
      'Revert the bump in the config repository': 'success',
      'Wait for Argo CD to sync the revert': 'success',
      'Re-check the restored release': 'success',
    });
    const revert = config.head('main');
    expect(job('rollback')!.outputs).toMatchObject({ 'rolled-back': 'true', 'revert-commit-sha': revert });
    expect(git(config.bare, ['rev-parse', `${revert}^`]).trim()).toBe(bump);
    expect(git(config.bare, ['log', '-1', '--format=%s', revert])).toMatch(/^Revert/);
    expect(config.show('main', FILE)).toBe(fileBefore);
    expect(await sim.waitFor(revert)).toEqual({ revision: revert, image: next, health: 'Healthy' });
    expect(kube.get('applications', 'argocd', APP)?.status).toMatchObject({
      sync: { status: 'Synced', revision: revert },
      health: { status: 'Healthy' },
    });
    expect(kube.image('shop', 'api', 'api')).toBe(next);
    expect(log).not.toContain(TOKEN);
    const msgs = lab.slackMessages();
    expect(msgs.at(-1)!.text).toMatch(/failure/i);
    // The trail of a rolled-back run verifies too, and records both commits: the bump and its revert.
    const v = await trail(String(record.runId), 'staging');
    expect(v.problems).toEqual([]);
    expect(v.story).toContain(bump);
    expect(v.story).toContain(revert);
    expect(JSON.stringify(v.records)).not.toContain(TOKEN);
  }, 240_000);
});
