/**
 * A loopback Kubernetes API server that keeps Deployments and their ReplicaSets, for rehearsing
 * deploy-prod's kubectl mode with the REAL kubectl: `set image` (a strategic-merge PATCH),
 * `rollout status` (list by fieldSelector, then a watch), `rollout undo` (list ReplicaSets by the
 * deployment's selector, JSON-patch the template of the previous revision back). Like the
 * deployment controller, a new pod template gets a ReplicaSet with the next revision (an old
 * template gets its ReplicaSet back, renumbered), and the rollout completes at once. Objects are
 * shaped as a v1.32 API server returns them. Every request is recorded.
 */
import type { ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const REV = 'deployment.kubernetes.io/revision';

const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.end(JSON.stringify(body));
};
const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

const APPS_RESOURCES = {
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: 'apps/v1',
  resources: [
    { name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['deploy'], categories: ['all'], storageVersionHash: '8aSe+NMegvE=' },
    { name: 'deployments/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
    { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
    { name: 'replicasets', singularName: 'replicaset', namespaced: true, kind: 'ReplicaSet', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['rs'], categories: ['all'], storageVersionHash: 'P1RzHs8/mWQ=' },
  ],
};
const CORE_RESOURCES = { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list', 'watch'], shortNames: ['po'], categories: ['all'] }] };

/** RFC 7386-ish strategic merge for what `kubectl set image` sends: containers merge by name. */
function strategicMerge(target: Obj, patch: Obj): Obj {
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete target[k];
    else if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) {
      const list: Obj[] = Array.isArray(target[k]) ? target[k] : (target[k] = []);
      for (const c of v as Obj[]) {
        const cur = list.find((x) => x.name === c.name);
        if (cur) strategicMerge(cur, c);
        else list.push(c);
      }
    } else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) strategicMerge(target[k], v as Obj);
    else target[k] = v;
  }
  return target;
}

function jsonPatch(target: Obj, ops: Obj[]): Obj {
  for (const op of ops) {
    if (op.op !== 'replace' && op.op !== 'add') throw new Error(`unsupported JSON patch op ${op.op}`);
    const parts = String(op.path).split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur = target;
    for (const p of parts.slice(0, -1)) cur = cur[p] ??= {};
    cur[parts.at(-1) as string] = structuredClone(op.value);
  }
  return target;
}

/**
 * What makes two pod templates the same for the deployment controller here: labels (without
 * pod-template-hash) and each container's name and image. (A client re-encoding a template adds
 * defaults such as `creationTimestamp: null` or `resources: {}`; the API server would default
 * both sides alike.)
 */
const templateKey = (t: Obj) => {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels['pod-template-hash'];
  const containers = ((t.spec?.containers ?? []) as Obj[]).map((c) => [c.name, c.image]);
  return JSON.stringify([Object.entries(labels).sort(), containers]);
};

export interface KubeCluster {
  server: TestServer;
  /** The container image a deployment's current template runs. */
  image(ns: string, name: string, container: string): string | undefined;
  /** Revisions (ReplicaSets) of a deployment: revision → image of `container`. */
  history(ns: string, name: string, container: string): { revision: number; image: string }[];
  kubeconfig: string;
  /** The kubeconfig file's contents (deploy-prod's `kubeconfig` secret). */
  kubeconfigText: string;
  requests: () => RecordedRequest[];
  close(): Promise<void>;
}

/** Starts the API server with one Deployment `ns/name` running `image` in `container` (revision 1). */
export async function startKubeCluster(ns: string, name: string, container: string, image: string): Promise<KubeCluster> {
  let rv = 1000;
  const deployments = new Map<string, Obj>();
  const replicasets = new Map<string, Obj>();
  const uid = (s: string) => {
    const h = createHash('sha256').update(s).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };

  /** The deployment controller, instantly: the template's ReplicaSet gets the next revision and the rollout is complete. */
  function reconcile(d: Obj) {
    const key = templateKey(d.spec.template);
    const owned = [...replicasets.values()].filter((r) => r.metadata.namespace === d.metadata.namespace && r.metadata.ownerReferences?.[0]?.uid === d.metadata.uid);
    const maxRev = Math.max(0, ...owned.map((r) => Number(r.metadata.annotations[REV])));
    let rs: Obj | undefined = owned.find((r) => templateKey(r.spec.template) === key);
    const current = rs && Number(rs.metadata.annotations[REV]) === maxRev;
    if (!current) {
      if (!rs) {
        const hash = createHash('sha256').update(key).digest('hex').slice(0, 10).replace(/[^a-z0-9]/g, 'x');
        const template = structuredClone(d.spec.template);
        template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
        rs = {
          kind: 'ReplicaSet',
          apiVersion: 'apps/v1',
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            namespace: d.metadata.namespace,
            uid: uid(`${d.metadata.name}-${hash}`),
            labels: { ...d.spec.selector.matchLabels, 'pod-template-hash': hash },
            annotations: {},
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name, uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }],
            creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
          spec: { replicas: d.spec.replicas, selector: { matchLabels: { ...d.spec.selector.matchLabels, 'pod-template-hash': hash } }, template },
          status: {},
        };
        replicasets.set(`${d.metadata.namespace}/${rs.metadata.name}`, rs);
      }
      rs.metadata.annotations[REV] = String(maxRev + 1);
      d.metadata.annotations[REV] = String(maxRev + 1);
    }
    const live = rs as Obj; // found, or created just above
    for (const r of owned) if (r !== live) r.spec.replicas = 0;
    live.spec.replicas = d.spec.replicas;
    const n = d.spec.replicas;
    live.status = { replicas: n, fullyLabeledReplicas: n, readyReplicas: n, availableReplicas: n, observedGeneration: 1 };
    live.metadata.resourceVersion = String(++rv);
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
      conditions: [
        { type: 'Available', status: 'True', lastUpdateTime: '2026-11-30T10:01:12Z', lastTransitionTime: '2026-11-30T10:01:12Z', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
        { type: 'Progressing', status: 'True', lastUpdateTime: '2026-11-30T10:01:12Z', lastTransitionTime: '2026-11-30T10:00:00Z', reason: 'NewReplicaSetAvailable', message: `ReplicaSet "${live.metadata.name}" has successfully progressed.` },
      ],
    };
    d.metadata.resourceVersion = String(++rv);
  }

  const d0: Obj = {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: { name, namespace: ns, uid: uid(`deploy-${ns}-${name}`), generation: 1, creationTimestamp: '2026-11-02T09:14:31Z', labels: { app: name }, annotations: {} },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: container, image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
  reconcile(d0);
  deployments.set(`${ns}/${name}`, d0);

  let port = 0;
  const server = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname;
    if (req.method === 'GET' && p === '/version') return json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' });
    if (req.method === 'GET' && p === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] });
    if (req.method === 'GET' && p === '/apis')
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] });
    if (req.method === 'GET' && p === '/api/v1') return json(res, 200, CORE_RESOURCES);
    if (req.method === 'GET' && p === '/apis/apps/v1') return json(res, 200, APPS_RESOURCES);

    let m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|replicasets)$/.exec(p);
    if (m && req.method === 'GET') {
      const [kind, store] = m[2] === 'deployments' ? ['Deployment', deployments] : ['ReplicaSet', replicasets];
      if (u.searchParams.get('watch') === 'true') {
        // Rollouts here complete at once, so no event ever follows: an open, quiet watch.
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.write('');
        return;
      }
      const field = (u.searchParams.get('fieldSelector') ?? '').replace(/^metadata\.name=/, '');
      const labels = (u.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((t) => t.split('=') as [string, string]);
      const items = [...store.values()].filter(
        (o) => o.metadata.namespace === m![1] && (!field || o.metadata.name === field) && labels.every(([k, v]) => o.metadata.labels?.[k] === v),
      );
      return json(res, 200, { kind: `${kind}List`, apiVersion: 'apps/v1', metadata: { resourceVersion: String(rv) }, items: items.map((o) => ({ ...o, kind: undefined, apiVersion: undefined })) });
    }
    m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\/(deployments|replicasets)\/([^/]+)$/.exec(p);
    if (m) {
      const store = m[2] === 'deployments' ? deployments : replicasets;
      const o = store.get(`${m[1]}/${m[3]}`);
      if (!o) return json(res, 404, status(404, 'NotFound', `${m[2]}.apps "${m[3]}" not found`));
      if (req.method === 'GET') return json(res, 200, o);
      if (req.method === 'PATCH' && m[2] === 'deployments') {
        const type = String(req.headers['content-type'] ?? '');
        const before = templateKey(o.spec.template);
        try {
          const body = JSON.parse(req.text);
          if (type.startsWith('application/strategic-merge-patch+json') || type.startsWith('application/merge-patch+json')) strategicMerge(o, body);
          else if (type.startsWith('application/json-patch+json')) jsonPatch(o, body);
          else return json(res, 415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`));
        } catch (e) {
          return json(res, 422, status(422, 'Invalid', (e as Error).message));
        }
        if (u.searchParams.get('dryRun') !== 'All' && templateKey(o.spec.template) !== before) {
          o.metadata.generation += 1;
          reconcile(o);
        }
        return json(res, 200, o);
      }
    }
    return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  });
  port = server.port;
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const kubeconfigText = `apiVersion: v1\nkind: Config\nclusters:\n- name: loopback\n  cluster:\n    server: ${server.url}\ncontexts:\n- name: loopback\n  context:\n    cluster: loopback\n    user: deployer\n    namespace: default\ncurrent-context: loopback\nusers:\n- name: deployer\n  user:\n    token: kube-token-canary-2d8e41\n`;
  writeFileSync(kubeconfig, kubeconfigText, { mode: 0o600 });
  const containerImage = (t: Obj, c: string) => (t.spec.containers as Obj[]).find((x) => x.name === c)?.image as string | undefined;
  return {
    server,
    kubeconfig,
    kubeconfigText,
    image: (n, d, c) => {
      const o = deployments.get(`${n}/${d}`);
      return o ? containerImage(o.spec.template, c) : undefined;
    },
    history: (n, d, c) =>
      [...replicasets.values()]
        .filter((r) => r.metadata.namespace === n && r.metadata.ownerReferences?.[0]?.name === d)
        .map((r) => ({ revision: Number(r.metadata.annotations[REV]), image: containerImage(r.spec.template, c) ?? '' }))
        .sort((a, b) => a.revision - b.revision),
    requests: () => server.requests,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
