/**
 * SIMULATED: a Kubernetes API server (and, for Argo CD `Application` objects, what Argo CD's
 * controller writes into their status). A loopback server for the real `kubectl` client: it answers discovery
 * (`/version`, `/api`, `/apis`, `/api/v1`, `/apis/apps/v1`) and the calls smoke-test's checks make
 * — `rollout status` (list by fieldSelector, then a watch that stays open), `get pods -o json`,
 * and the server-side dry-run `create` of a pod — with API objects shaped exactly as a v1.32 API
 * server returns them (kinds, apiVersions, Status objects, the admission-webhook denial wording
 * from apiserver/pkg/admission/plugin/webhook/errors), and `GET` of an argoproj.io/v1alpha1
 * `Application` shaped as Argo CD v3.5.1 writes it (pkg/apis/application/v1alpha1/types.go:
 * status.sync, status.health, status.operationState). Every request is recorded.
 */
import type { ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

export interface KubeState {
  /** namespace/name → deployment status knobs */
  deployments: Record<string, { replicas: number; updated: number; available: number; ready?: number; deadlineExceeded?: boolean }>;
  /** namespace → pods: name, ready, phase */
  pods: Record<string, { name: string; labels: Record<string, string>; ready: boolean; phase?: string }[]>;
  /** How a dry-run pod create is answered. */
  admission: 'deny-webhook' | 'deny-vap' | 'admit' | 'rbac-forbidden';
  /**
   * namespace/name → the Application's status; a list is a sequence, one per GET (the last one
   * stays), for an Application that moves on between tries (Progressing → Healthy).
   */
  applications?: Record<string, AppStatus | AppStatus[]>;
}

/** What Argo CD's controller reports for an Application. */
export interface AppStatus {
  sync: 'Synced' | 'OutOfSync' | 'Unknown';
  /** status.sync.revision (single source). */
  revision?: string;
  /** status.sync.revisions (multi-source). */
  revisions?: string[];
  health: 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
  /** status.operationState: the last sync operation. */
  operation?: { phase: 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded'; message?: string; revision: string };
}

function application(ns: string, name: string, a: AppStatus) {
  const source = { repoURL: 'https://github.com/octo-org/deploy-config.git', path: 'envs/prod', targetRevision: 'main' };
  const op = a.operation;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name,
      namespace: ns,
      uid: '3c1f0e2d-7a6b-4c5d-9e8f-0a1b2c3d4e5f',
      resourceVersion: '90412',
      generation: 27,
      creationTimestamp: '2026-11-02T09:20:00Z',
    },
    spec: {
      project: 'default',
      source,
      destination: { server: 'https://kubernetes.default.svc', namespace: 'prod' },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
    status: {
      resources: [
        { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'prod', name: 'api', status: a.sync, health: { status: a.health } },
      ],
      sync: {
        status: a.sync,
        comparedTo: { source, destination: { server: 'https://kubernetes.default.svc', namespace: 'prod' } },
        ...(a.revision ? { revision: a.revision } : {}),
        ...(a.revisions ? { revisions: a.revisions } : {}),
      },
      health: { status: a.health, lastTransitionTime: '2026-11-30T10:01:30Z' },
      reconciledAt: '2026-11-30T10:01:30Z',
      sourceType: 'Kustomize',
      summary: { images: [`ghcr.io/octo-org/api@sha256:${'4'.repeat(64)}`] },
      controllerNamespace: 'argocd',
      ...(op
        ? {
            operationState: {
              operation: {
                sync: { revision: op.revision, syncStrategy: { hook: {} } },
                initiatedBy: { automated: true },
                retry: { limit: 5 },
              },
              phase: op.phase,
              ...(op.message !== undefined ? { message: op.message } : {}),
              syncResult: { resources: [], revision: op.revision, source },
              startedAt: '2026-11-30T10:01:00Z',
              ...(op.phase === 'Running' ? {} : { finishedAt: '2026-11-30T10:01:20Z' }),
            },
          }
        : {}),
    },
  };
}

export interface KubeApi {
  server: TestServer;
  state: KubeState;
  kubeconfig: string;
  /** Environment for a run: KUBECONFIG and a HOME of its own (kubectl writes its cache there). */
  env: Record<string, string>;
  requests: () => RecordedRequest[];
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-cache, private',
    'audit-id': 'c2a7e0d4-6c1b-4a5e-9b0e-4d7a1f3c9e21',
  });
  res.end(JSON.stringify(body));
};

const status = (code: number, reason: string, message: string, details?: object) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  ...(reason ? { reason } : {}),
  ...(details ? { details } : {}),
  code,
});

const VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const CORE_RESOURCES = {
  kind: 'APIResourceList',
  groupVersion: 'v1',
  resources: [
    {
      name: 'namespaces',
      singularName: 'namespace',
      namespaced: false,
      kind: 'Namespace',
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ns'],
      storageVersionHash: 'Q3oi5N2YM8M=',
    },
    {
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'],
      categories: ['all'],
      storageVersionHash: 'xPOwRZ+Yhw8=',
    },
    { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  ],
};

const APPS_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    {
      name: 'daemonsets',
      singularName: 'daemonset',
      namespaced: true,
      kind: 'DaemonSet',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['ds'],
      categories: ['all'],
      storageVersionHash: 'dd7pWHUlMKQ=',
    },
    {
      name: 'deployments',
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['deploy'],
      categories: ['all'],
      storageVersionHash: '8aSe+NMegvE=',
    },
    { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    {
      name: 'statefulsets',
      singularName: 'statefulset',
      namespaced: true,
      kind: 'StatefulSet',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['sts'],
      categories: ['all'],
      storageVersionHash: 'H+vl74LkKdo=',
    },
  ],
};

function deployment(ns: string, name: string, d: KubeState['deployments'][string]) {
  const progressing = d.deadlineExceeded
    ? {
        type: 'Progressing',
        status: 'False',
        lastUpdateTime: '2026-11-30T10:05:00Z',
        lastTransitionTime: '2026-11-30T10:05:00Z',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${name}-7c9d8f6b5d" has timed out progressing.`,
      }
    : {
        type: 'Progressing',
        status: 'True',
        lastUpdateTime: '2026-11-30T10:01:12Z',
        lastTransitionTime: '2026-11-30T10:00:00Z',
        reason: d.updated >= d.replicas ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
        message: `ReplicaSet "${name}-7c9d8f6b5d" is progressing.`,
      };
  return {
    metadata: {
      name,
      namespace: ns,
      uid: '0b5f1e9a-2f7c-4c1e-8a51-3f0f6d1c2b7e',
      resourceVersion: '48213',
      generation: 4,
      creationTimestamp: '2026-11-02T09:14:31Z',
      labels: { app: name },
      annotations: { 'deployment.kubernetes.io/revision': '4' },
    },
    spec: {
      replicas: d.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name, image: `ghcr.io/octo-org/${name}@sha256:${'4'.repeat(64)}` }] },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 4,
      replicas: Math.max(d.replicas, d.updated),
      updatedReplicas: d.updated,
      readyReplicas: d.ready ?? d.available,
      availableReplicas: d.available,
      conditions: [
        {
          type: 'Available',
          status: d.available >= d.replicas ? 'True' : 'False',
          lastUpdateTime: '2026-11-30T10:01:12Z',
          lastTransitionTime: '2026-11-30T10:01:12Z',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        progressing,
      ],
    },
  };
}

function pod(ns: string, p: KubeState['pods'][string][number]) {
  const phase = p.phase ?? 'Running';
  return {
    metadata: {
      name: p.name,
      generateName: `${p.name.replace(/-[a-z0-9]{5}$/, '')}-`,
      namespace: ns,
      uid: `6f1d2c3b-${p.name.length.toString(16).padStart(4, '0')}-4e5f-8a9b-0c1d2e3f4a5b`,
      resourceVersion: '48190',
      creationTimestamp: '2026-11-30T10:00:41Z',
      labels: p.labels,
    },
    spec: {
      containers: [
        { name: 'api', image: `ghcr.io/octo-org/api@sha256:${'4'.repeat(64)}`, ports: [{ containerPort: 8080, protocol: 'TCP' }] },
      ],
      restartPolicy: 'Always',
      nodeName: 'node-a',
    },
    status: {
      phase,
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-30T10:00:43Z' },
        { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-30T10:00:41Z' },
        {
          type: 'Ready',
          status: p.ready ? 'True' : 'False',
          lastProbeTime: null,
          lastTransitionTime: '2026-11-30T10:00:52Z',
          ...(p.ready ? {} : { reason: 'ContainersNotReady', message: 'containers with unready status: [api]' }),
        },
        { type: 'ContainersReady', status: p.ready ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: '2026-11-30T10:00:52Z' },
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-30T10:00:41Z' },
      ],
      containerStatuses: [
        {
          name: 'api',
          ready: p.ready,
          restartCount: 0,
          image: `ghcr.io/octo-org/api@sha256:${'4'.repeat(64)}`,
          started: phase === 'Running',
          state: { running: { startedAt: '2026-11-30T10:00:43Z' } },
        },
      ],
      qosClass: 'BestEffort',
    },
  };
}

function matches(labels: Record<string, string>, selector: string): boolean {
  return selector.split(',').every((term) => {
    const [k, v] = term.split('=') as [string, string | undefined];
    return v === undefined ? k in labels : labels[k] === v;
  });
}

export async function startKubeApi(state: KubeState): Promise<KubeApi> {
  let port = 0;
  const server = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname;
    if (req.method === 'GET' && p === '/version') return json(res, 200, VERSION);
    if (req.method === 'GET' && p === '/api')
      return json(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
      });
    if (req.method === 'GET' && p === '/apis')
      return json(res, 200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: 'apps',
            versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
            preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
          },
        ],
      });
    if (req.method === 'GET' && p === '/api/v1') return json(res, 200, CORE_RESOURCES);
    if (req.method === 'GET' && p === '/apis/apps/v1') return json(res, 200, APPS_RESOURCES);
    let m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p);
    if (m && req.method === 'GET') {
      if (!((m[1] as string) in state.pods))
        return json(res, 404, status(404, 'NotFound', `namespaces "${m[1]}" not found`, { name: m[1], kind: 'namespaces' }));
      return json(res, 200, {
        kind: 'Namespace',
        apiVersion: 'v1',
        metadata: {
          name: m[1],
          uid: '9d3e7a10-1f2b-4c3d-8e4f-5a6b7c8d9e0f',
          resourceVersion: '311',
          creationTimestamp: '2026-11-02T09:10:00Z',
          labels: { 'kubernetes.io/metadata.name': m[1] },
        },
        spec: { finalizers: ['kubernetes'] },
        status: { phase: 'Active' },
      });
    }
    m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments$/.exec(p);
    if (m && req.method === 'GET') {
      const ns = m[1] as string;
      const name = (u.searchParams.get('fieldSelector') ?? '').replace(/^metadata\.name=/, '');
      const d = state.deployments[`${ns}/${name}`];
      if (u.searchParams.get('watch') === 'true') {
        // A watch with no events: the rollout never moves on (kubectl's --timeout ends it).
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write('');
        return;
      }
      return json(res, 200, {
        kind: 'DeploymentList',
        apiVersion: 'apps/v1',
        metadata: { resourceVersion: '48213' },
        items: d ? [{ ...deployment(ns, name, d) }] : [],
      });
    }
    m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/deployments\/([^/]+)$/.exec(p);
    if (m && req.method === 'GET') {
      const d = state.deployments[`${m[1]}/${m[2]}`];
      if (!d)
        return json(
          res,
          404,
          status(404, 'NotFound', `deployments.apps "${m[2]}" not found`, { name: m[2], group: 'apps', kind: 'deployments' }),
        );
      return json(res, 200, { kind: 'Deployment', apiVersion: 'apps/v1', ...deployment(m[1] as string, m[2] as string, d) });
    }
    m = /^\/apis\/argoproj\.io\/v1alpha1\/namespaces\/([^/]+)\/applications\/([^/]+)$/.exec(p);
    if (m && req.method === 'GET') {
      const key = `${m[1]}/${m[2]}`;
      const entry = state.applications?.[key];
      if (!entry || (Array.isArray(entry) && entry.length === 0))
        return json(
          res,
          404,
          status(404, 'NotFound', `applications.argoproj.io "${m[2]}" not found`, {
            name: m[2],
            group: 'argoproj.io',
            kind: 'applications',
          }),
        );
      const now = Array.isArray(entry) ? (entry.length > 1 ? (entry.shift() as AppStatus) : (entry[0] as AppStatus)) : entry;
      return json(res, 200, application(m[1] as string, m[2] as string, now));
    }
    m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(p);
    if (m && req.method === 'GET') {
      const ns = m[1] as string;
      const sel = u.searchParams.get('labelSelector') ?? '';
      const items = (state.pods[ns] ?? []).filter((x) => matches(x.labels, sel)).map((x) => ({ ...pod(ns, x) }));
      return json(res, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: '48221' },
        items: items.map((i) => ({ apiVersion: 'v1', kind: 'Pod', ...i })),
      });
    }
    if (m && req.method === 'POST') {
      const ns = m[1] as string;
      let body: { metadata?: { name?: string }; spec?: { containers?: { image?: string }[] } } = {};
      try {
        body = JSON.parse(req.text);
      } catch {
        return json(res, 400, status(400, 'BadRequest', 'the body of the request was in an unknown format'));
      }
      const name = body.metadata?.name ?? '';
      const image = body.spec?.containers?.[0]?.image ?? '';
      if (u.searchParams.get('dryRun') !== 'All')
        return json(res, 500, status(500, 'InternalError', 'test API server: refusing a pod create that is not a dry run'));
      if (state.admission === 'rbac-forbidden')
        return json(
          res,
          403,
          status(
            403,
            'Forbidden',
            `pods is forbidden: User "system:serviceaccount:ci:deployer" cannot create resource "pods" in API group "" in the namespace "${ns}"`,
            { kind: 'pods' },
          ),
        );
      if (state.admission === 'deny-webhook')
        return json(
          res,
          400,
          status(
            400,
            '',
            `admission webhook "mutate.kyverno.svc-fail" denied the request: \n\nresource Pod/${ns}/${name} was blocked due to the following policies \n\nhallmark-verify-signature:\n  verify-signature: 'failed to verify image ${image}: .attestors[0].entries[0].keyless: no signatures found'\n`,
          ),
        );
      if (state.admission === 'deny-vap')
        return json(
          res,
          403,
          status(
            403,
            'Forbidden',
            `pods "${name}" is forbidden: ValidatingAdmissionPolicy 'require-signed-images' with binding 'require-signed-images-binding' denied request: image ${image} is not signed`,
            { name, kind: 'pods' },
          ),
        );
      return json(res, 201, { kind: 'Pod', apiVersion: 'v1', ...pod(ns, { name, labels: {}, ready: false, phase: 'Pending' }) });
    }
    return json(
      res,
      404,
      status(404, 'NotFound', 'the server could not find the requested resource', {
        causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found' }],
      }),
    );
  });
  port = server.port;
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: loopback\n  cluster:\n    server: ${server.url}\ncontexts:\n- name: loopback\n  context:\n    cluster: loopback\n    user: deployer\n    namespace: default\ncurrent-context: loopback\nusers:\n- name: deployer\n  user:\n    token: kube-token-canary-7f3a9c\n`,
    { mode: 0o600 },
  );
  return {
    server,
    state,
    kubeconfig,
    env: { KUBECONFIG: kubeconfig, HOME: dir },
    requests: () => server.requests,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
