/**
 * The parts deploy-prod's GitOps rehearsal stands on, checked on their own (fast, no workflow run):
 * the loopback Kubernetes API server (./kube.ts, SIMULATED) serves Argo CD's Application resource
 * to the REAL kubectl (discovery of argoproj.io/v1alpha1, short name `app`, get, patch), and the
 * stand-in Argo CD controller (./argocd-sim.ts, SIMULATED) follows a config repository served by
 * the REAL `git http-backend` (test/gitops-update/lab.ts): a new commit rolls the Deployment out
 * to the digest the file pins and the Application reports that commit, Progressing then Healthy,
 * or Degraded when the pods never get ready; a revert commit brings the old digest back.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPOSITORY, startGitopsLab, TOKEN, git, HTTP_BACKEND, type GitopsLab } from '../gitops-update/lab.js';
import { deploymentHealth, kustomizeImage, startArgoCdSim, type ArgoCdSim } from './argocd-sim.js';
import { startKubeCluster, type KubeCluster } from './kube.js';

const execFileAsync = promisify(execFile);
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));
const ready = KUBECTL !== undefined && existsSync(HTTP_BACKEND);
if (!ready) console.warn('argocd-sim checks skipped: kubectl or git-http-backend missing');

const IMAGE = 'registry.example/shop/api';
const D = (c: string) => `sha256:${c.repeat(64)}`;
const [GOOD, NEXT, BROKEN] = [D('a'), D('b'), D('c')];
const FILE = 'envs/prod/kustomization.yaml';
const kustomization = (digest: string) => `# prod overlay: only the digest below is bumped by deploy-prod
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: api            # the name the base manifests use
    newName: ${IMAGE}
    digest: ${digest}
`;

describe.skipIf(!ready)('the Argo CD stand-in and the Application resource', () => {
  let lab: GitopsLab;
  let kube: KubeCluster;
  let sim: ArgoCdSim;
  let initial: string;

  beforeAll(async () => {
    lab = await startGitopsLab({ [FILE]: kustomization(GOOD) });
    initial = lab.head('main');
    kube = await startKubeCluster({
      namespaces: ['argocd'],
      deployment: { namespace: 'shop', name: 'api', container: 'api', image: `${IMAGE}@${GOOD}` },
      failingImages: [`${IMAGE}@${BROKEN}`],
    });
    sim = await startArgoCdSim({
      kube,
      repoURL: `${lab.gitUrl}/${REPOSITORY}.git`,
      token: TOKEN,
      path: FILE,
      image: IMAGE,
      application: 'shop-api',
      destination: { namespace: 'shop', deployment: 'api', container: 'api' },
      pollMs: 100,
      progressingMs: 200,
    });
  }, 60_000);
  afterAll(async () => {
    await sim?.close();
    await kube?.close();
    await lab?.close();
  });

  const kubectl = async (args: string[]) => (await execFileAsync(KUBECTL as string, ['--kubeconfig', kube.kubeconfig, ...args])).stdout;

  it('the real kubectl finds the Application through discovery and reads the first sync', async () => {
    await sim.waitFor(initial);
    const byGroup = JSON.parse(await kubectl(['get', 'applications.argoproj.io', 'shop-api', '--namespace', 'argocd', '--output', 'json']));
    expect(byGroup).toMatchObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'shop-api', namespace: 'argocd' },
      status: { sync: { status: 'Synced', revision: initial }, health: { status: 'Healthy' } },
    });
    // The CRD's short name, and the raw path smoke-test may read.
    const byShort = JSON.parse(await kubectl(['get', 'app', 'shop-api', '-n', 'argocd', '-o', 'json']));
    expect(byShort.status.sync.revision).toBe(initial);
    const raw = JSON.parse(await kubectl(['get', '--raw', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop-api']));
    expect(raw.status.operationState).toMatchObject({ phase: 'Succeeded', syncResult: { revision: initial } });
    // No status subresource on the CRD: …/status is not served.
    await expect(kubectl(['get', '--raw', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/shop-api/status'])).rejects.toThrow(
      /NotFound|not found/i,
    );
  });

  it('a bump commit is rolled out: the Deployment runs the new digest and the Application reports that commit, Progressing then Healthy', async () => {
    const bump = lab.commit('main', { [FILE]: kustomization(NEXT) }, 'bump api');
    const seen: string[] = [];
    const watching = (async () => {
      for (let i = 0; i < 200 && !sim.syncs.some((s) => s.revision === bump); i++) {
        const a = kube.get('applications', 'argocd', 'shop-api');
        if (a?.status?.sync?.revision === bump) seen.push(a.status.health.status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const rec = await sim.waitFor(bump);
    await watching;
    expect(rec).toEqual({ revision: bump, image: `${IMAGE}@${NEXT}`, health: 'Healthy' });
    expect(seen).toContain('Progressing');
    expect(kube.image('shop', 'api', 'api')).toBe(`${IMAGE}@${NEXT}`);
    expect(kube.get('applications', 'argocd', 'shop-api')?.status).toMatchObject({
      sync: { status: 'Synced', revision: bump },
      health: { status: 'Healthy' },
      summary: { images: [`${IMAGE}@${NEXT}`] },
    });
    // The controller patched the Deployment through the API, as a sync applies manifests.
    expect(kube.requests().some((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/shop/deployments/api')).toBe(true);
  });

  it('a digest whose pods never get ready ends Degraded; reverting the commit brings the previous digest back, Healthy', async () => {
    const before = lab.head('main');
    const bad = lab.commit('main', { [FILE]: kustomization(BROKEN) }, 'bump api to a broken build');
    expect((await sim.waitFor(bad)).health).toBe('Degraded');
    expect(kube.get('applications', 'argocd', 'shop-api')?.status?.health?.status).toBe('Degraded');
    // A revert made with the real git, pushed as someone else would.
    const revertText = git(lab.bare, ['show', `${before}:${FILE}`]);
    const revert = lab.commit('main', { [FILE]: revertText }, `Revert "bump api to a broken build"`);
    expect(await sim.waitFor(revert)).toEqual({ revision: revert, image: `${IMAGE}@${NEXT}`, health: 'Healthy' });
    // The deployment controller's revisions: NEXT's ReplicaSet came back as the newest one.
    expect(kube.history('shop', 'api', 'api').map((h) => h.image)).toEqual([`${IMAGE}@${GOOD}`, `${IMAGE}@${BROKEN}`, `${IMAGE}@${NEXT}`]);
    expect(sim.syncs.map((s) => s.health)).toEqual(['Healthy', 'Healthy', 'Degraded', 'Healthy']);
    expect(sim.errors).toEqual([]);
  });

  it('reads health and images as Argo CD does', () => {
    const d = (status: object, generation = 1) => ({
      metadata: { name: 'api', generation },
      spec: { replicas: 2 },
      status: { observedGeneration: 1, ...status },
    });
    expect(deploymentHealth(d({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 })).status).toBe('Healthy');
    expect(deploymentHealth(d({ replicas: 2, updatedReplicas: 1, availableReplicas: 1 })).status).toBe('Progressing');
    expect(deploymentHealth(d({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 })).status).toBe('Progressing');
    expect(deploymentHealth(d({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 2)).status).toBe('Progressing');
    expect(
      deploymentHealth(
        d({ replicas: 2, updatedReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
      ),
    ).toEqual({ status: 'Degraded', message: 'Deployment "api" exceeded its progress deadline' });
    expect(kustomizeImage(kustomization(NEXT), IMAGE)).toBe(`${IMAGE}@${NEXT}`);
    expect(() => kustomizeImage(kustomization(NEXT), 'other/image')).toThrow(/no images: entry/);
  });
});
