/**
 * SIMULATED: a stand-in for Argo CD's application controller (no Argo CD can run here), for the
 * GitOps rehearsals of deploy-prod. It does what an auto-synced Application does, through the same
 * interfaces the real one uses, so the workflow under test sees only real protocol:
 * - it polls the config repository over HTTP with the real git (`git ls-remote`, then a shallow
 *   `git fetch` of the tracked branch) from the loopback `git http-backend` of
 *   test/gitops-update/lab.ts, authenticated as a repository credential would be;
 * - on a new commit it reads the image from the file (a kustomization's `images:` entry whose
 *   `newName`, else `name`, is the image repository: `<repository>@<digest>`), and syncs: the
 *   Application's `status.operationState` goes Running → Succeeded, the Deployment's container
 *   image is patched through the loopback Kubernetes API (test/rehearse/kube.ts, whose instant
 *   deployment controller then rolls it out, or never gets pods of a `failingImages` image ready),
 *   and `status.sync` becomes `{ status: Synced, revision: <commit> }` with `status.health`
 *   `Progressing`;
 * - `progressingMs` later it assesses the Deployment as Argo CD does (gitops-engine
 *   pkg/health/health_deployment.go: `ProgressDeadlineExceeded` → Degraded; fewer updated or
 *   available replicas than wanted → Progressing; else Healthy) and writes `status.health`.
 * The Application's shape follows argo-cd pkg/apis/application/v1alpha1/types.go (ApplicationStatus:
 * sync, health, operationState, history, summary.images, reconciledAt) and the CRD
 * (manifests/crds/application-crd.yaml: no status subresource, so the object itself is patched).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { KubeCluster } from './kube.js';

const execFileAsync = promisify(execFile);
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ArgoCdSimOptions {
  kube: KubeCluster;
  /** The config repository's clone URL (`<git server>/<owner>/<repo>.git`). */
  repoURL: string;
  /** The repository credential (sent as `basic x-access-token:<token>`, as the lab's server wants). */
  token: string;
  /** The tracked branch (`spec.source.targetRevision`), default main. */
  branch?: string;
  /** The kustomization file whose `images:` entry the controller reads. */
  path: string;
  /** The image repository of that entry (its `newName`, else `name`). */
  image: string;
  /** The Application's name and namespace (default argocd). */
  application: string;
  namespace?: string;
  /** What the Application deploys: the Deployment and container whose image the sync sets. */
  destination: { namespace: string; deployment: string; container: string };
  /** How often the repository is polled (default 400 ms). */
  pollMs?: number;
  /** How long the Application stays Progressing after a sync before its health is assessed (default 300 ms). */
  progressingMs?: number;
}

export interface SyncRecord {
  revision: string;
  image: string;
  health: string;
}

export interface ArgoCdSim {
  /** Every sync, in order: the commit, the image it rolled out, the health assessed afterwards. */
  syncs: SyncRecord[];
  /** Errors of polls or syncs (a poll that failed is retried at the next interval). */
  errors: string[];
  /** The Application as the API server holds it now. */
  application(): Obj | undefined;
  /** Resolves once a commit has been synced and assessed (or rejects after `timeoutMs`). */
  waitFor(revision: string, timeoutMs?: number): Promise<SyncRecord>;
  close(): Promise<void>;
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Argo CD's health of an apps/v1 Deployment (gitops-engine pkg/health/health_deployment.go, getAppsv1DeploymentHealth). */
export function deploymentHealth(d: Obj): { status: string; message?: string } {
  if (d.spec?.paused) return { status: 'Suspended', message: 'Deployment is paused' };
  const st = d.status ?? {};
  if ((d.metadata?.generation ?? 0) > (st.observedGeneration ?? 0))
    return { status: 'Progressing', message: 'Waiting for rollout to finish: observed deployment generation less then desired generation' };
  const progressing = ((st.conditions ?? []) as Obj[]).find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded')
    return { status: 'Degraded', message: `Deployment "${d.metadata.name}" exceeded its progress deadline` };
  const want = d.spec?.replicas;
  if (want !== undefined && (st.updatedReplicas ?? 0) < want)
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${st.updatedReplicas ?? 0} out of ${want} new replicas have been updated...`,
    };
  if ((st.replicas ?? 0) > (st.updatedReplicas ?? 0))
    return { status: 'Progressing', message: 'Waiting for rollout to finish: old replicas are pending termination...' };
  if ((st.availableReplicas ?? 0) < (st.updatedReplicas ?? 0))
    return {
      status: 'Progressing',
      message: `Waiting for rollout to finish: ${st.availableReplicas ?? 0} of ${st.updatedReplicas ?? 0} updated replicas are available...`,
    };
  return { status: 'Healthy' };
}

/** `<repository>@<digest>` from a kustomization's `images:` entry for `image` (newName, else name). */
export function kustomizeImage(text: string, image: string): string {
  const doc = parseYaml(text) as Obj;
  const entry = ((doc?.images ?? []) as Obj[]).find((e) => (e.newName ?? e.name) === image);
  if (!entry) throw new Error(`no images: entry for ${image}`);
  if (typeof entry.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(entry.digest))
    throw new Error(`the images: entry for ${image} has no digest`);
  return `${image}@${entry.digest}`;
}

export async function startArgoCdSim(o: ArgoCdSimOptions): Promise<ArgoCdSim> {
  const branch = o.branch ?? 'main';
  const ns = o.namespace ?? 'argocd';
  const pollMs = o.pollMs ?? 400;
  const progressingMs = o.progressingMs ?? 300;
  const work = mkdtempSync(join(tmpdir(), 'hallmark-argocd-sim-'));
  const server = new URL(o.repoURL).origin;
  const gitEnv = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `http.${server}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${o.token}`).toString('base64')}`,
  };
  // Async on purpose: the git server answering these requests runs in this same process.
  const git = async (args: string[]) => (await execFileAsync('git', args, { cwd: work, env: gitEnv, maxBuffer: 16 << 20 })).stdout;
  await git(['init', '--quiet']);

  const api = o.kube.server.url;
  const appPath = `/apis/argoproj.io/v1alpha1/namespaces/${ns}/applications/${o.application}`;
  const deployPath = `/apis/apps/v1/namespaces/${o.destination.namespace}/deployments/${o.destination.deployment}`;
  const kube = async (method: string, path: string, body?: unknown, type = 'application/merge-patch+json'): Promise<Obj> => {
    const r = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: 'Bearer argocd-application-controller',
        accept: 'application/json',
        ...(body ? { 'content-type': type } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as Obj;
  };
  const source = {
    repoURL: o.repoURL,
    path: o.path.includes('/') ? o.path.slice(0, o.path.lastIndexOf('/')) : '.',
    targetRevision: branch,
  };
  const destination = { server: 'https://kubernetes.default.svc', namespace: o.destination.namespace };
  await kube(
    'POST',
    `/apis/argoproj.io/v1alpha1/namespaces/${ns}/applications`,
    {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: o.application, namespace: ns },
      spec: { project: 'default', source, destination, syncPolicy: { automated: { prune: true, selfHeal: true } } },
    },
    'application/json',
  );

  const syncs: SyncRecord[] = [];
  const errors: string[] = [];
  const history: Obj[] = [];
  const waiters: { revision: string; resolve: (s: SyncRecord) => void }[] = [];
  let synced = '';
  let stopped = false;

  async function sync(revision: string, file: string): Promise<void> {
    const image = kustomizeImage(file, o.image);
    const startedAt = now();
    const operation = { sync: { revision }, initiatedBy: { automated: true }, retry: { limit: 5 } };
    await kube('PATCH', appPath, {
      status: {
        sync: { status: 'OutOfSync', revision: synced || undefined, comparedTo: { source, destination } },
        operationState: { operation, phase: 'Running', message: 'one or more tasks are running', startedAt },
      },
    });
    // The sync: apply the rendered Deployment's new image (kube.ts rolls it out at once).
    await kube(
      'PATCH',
      deployPath,
      { spec: { template: { spec: { containers: [{ name: o.destination.container, image }] } } } },
      'application/strategic-merge-patch+json',
    );
    history.push({ id: history.length, revision, deployStartedAt: startedAt, deployedAt: now(), source, initiatedBy: { automated: true } });
    await kube('PATCH', appPath, {
      status: {
        sync: { status: 'Synced', revision, comparedTo: { source, destination } },
        health: { status: 'Progressing', lastTransitionTime: now() },
        operationState: {
          operation,
          phase: 'Succeeded',
          message: 'successfully synced (all tasks run)',
          syncResult: {
            revision,
            source,
            resources: [
              {
                group: 'apps',
                version: 'v1',
                kind: 'Deployment',
                namespace: o.destination.namespace,
                name: o.destination.deployment,
                status: 'Synced',
                message: `deployment.apps/${o.destination.deployment} configured`,
                hookPhase: 'Running',
                syncPhase: 'Sync',
              },
            ],
          },
          startedAt,
          finishedAt: now(),
        },
        history,
        reconciledAt: now(),
        summary: { images: [image] },
        sourceType: 'Kustomize',
      },
    });
    synced = revision;
    await sleep(progressingMs);
    const health = deploymentHealth(await kube('GET', deployPath));
    await kube('PATCH', appPath, {
      status: {
        health: { status: health.status, lastTransitionTime: now() },
        resources: [
          {
            group: 'apps',
            version: 'v1',
            kind: 'Deployment',
            namespace: o.destination.namespace,
            name: o.destination.deployment,
            status: 'Synced',
            health: { status: health.status, ...(health.message ? { message: health.message } : {}) },
          },
        ],
        reconciledAt: now(),
      },
    });
    const rec = { revision, image, health: health.status };
    syncs.push(rec);
    for (const w of waiters.filter((x) => x.revision === revision)) w.resolve(rec);
  }

  async function poll(): Promise<void> {
    const line = (await git(['ls-remote', o.repoURL, `refs/heads/${branch}`])).trim();
    const head = line.split(/\s+/)[0] ?? '';
    if (!/^[0-9a-f]{40}$/.test(head) || head === synced) return;
    await git(['fetch', '--quiet', '--no-tags', '--depth', '1', o.repoURL, `refs/heads/${branch}`]);
    const fetched = (await git(['rev-parse', 'FETCH_HEAD'])).trim();
    if (fetched === synced) return;
    await sync(fetched, await git(['show', `FETCH_HEAD:${o.path}`]));
  }

  await poll();
  const loop = (async () => {
    while (!stopped) {
      await sleep(pollMs);
      if (stopped) break;
      try {
        await poll();
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
  })();

  return {
    syncs,
    errors,
    application: () => o.kube.get('applications', ns, o.application),
    waitFor(revision, timeoutMs = 30_000) {
      const done = syncs.find((s) => s.revision === revision);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`argocd-sim: ${revision} not synced within ${timeoutMs} ms (errors: ${errors.slice(-3).join(' | ')})`)),
          timeoutMs,
        );
        waiters.push({
          revision,
          resolve: (s) => {
            clearTimeout(t);
            resolve(s);
          },
        });
      });
    },
    async close() {
      stopped = true;
      await loop;
      rmSync(work, { recursive: true, force: true });
    },
  };
}
