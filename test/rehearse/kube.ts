/**
 * SIMULATED: a loopback Kubernetes API server (a real one cannot run here). The REAL kubectl and
 * the REAL helm (4.2.4 and 3.19.5) talk to it through a kubeconfig, so what it keeps is what those
 * clients wrote:
 * - discovery (`/version`, `/api`, `/apis`, the group resource lists) and an OpenAPI v3 index that
 *   says every PATCH accepts `fieldValidation`, so clients leave schema validation to the server
 *   (as against a v1.32 server) instead of downloading OpenAPI v2;
 * - namespaced objects (Secrets, ConfigMaps, Services, Pods, Deployments, ReplicaSets) with list
 *   (label and field selectors), watch (newline-delimited JSON events), get, create, update,
 *   delete, and patch in all four types: strategic merge (kubectl set image, Helm 3's three-way
 *   merge), JSON patch (kubectl rollout undo), merge patch, and server-side apply
 *   (`application/apply-patch+yaml`, Helm 4's default), creating the object when it is missing;
 * - the deployment controller, instantly: a new pod template gets a ReplicaSet with the next
 *   revision (an old template gets its ReplicaSet back, renumbered), and the rollout completes
 *   at once with the status fields kstatus (Helm 4's watcher) and Helm 3's legacy wait read.
 * - Argo CD's `Application` custom resource (argoproj.io/v1alpha1, namespaced, short names `app`
 *   and `apps`; manifests/crds/application-crd.yaml at argo-cd master: `subresources: {}`, so there
 *   is no /status subresource and the controller patches the object itself): discovery, get, list,
 *   watch, create and the same patches. Nothing here acts on an Application: test/rehearse/
 *   argocd-sim.ts (SIMULATED Argo CD controller) writes its status.
 * Helm keeps its releases as Secrets `sh.helm.release.v1.<name>.v<revision>` (base64 of gzipped
 * JSON inside the Secret's data): `releases()` decodes them, so a test reads back exactly what helm
 * stored. Objects are shaped as a v1.32 API server returns them. Every request is recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const REV = 'deployment.kubernetes.io/revision';
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

const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  res.end(JSON.stringify(body));
};
const status = (code: number, reason: string, message: string, details?: Obj) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  ...(details ? { details } : {}),
  code,
});

interface Kind {
  group: string; // '' for core
  /** 'v1' unless said otherwise (argoproj.io serves v1alpha1). */
  version?: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  short?: string[];
}
const KINDS: Kind[] = [
  { group: '', resource: 'namespaces', kind: 'Namespace', namespaced: false, short: ['ns'] },
  { group: '', resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, short: ['cm'] },
  { group: '', resource: 'services', kind: 'Service', namespaced: true, short: ['svc'] },
  { group: '', resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, short: ['sa'] },
  { group: '', resource: 'pods', kind: 'Pod', namespaced: true, short: ['po'] },
  { group: 'apps', resource: 'deployments', kind: 'Deployment', namespaced: true, short: ['deploy'] },
  { group: 'apps', resource: 'replicasets', kind: 'ReplicaSet', namespaced: true, short: ['rs'] },
  { group: 'argoproj.io', version: 'v1alpha1', resource: 'applications', kind: 'Application', namespaced: true, short: ['app', 'apps'] },
];
/** The API groups besides core, with their one served version. */
const GROUPS = [...new Set(KINDS.filter((k) => k.group).map((k) => k.group))].map((g) => ({
  name: g,
  version: KINDS.find((k) => k.group === g)?.version ?? 'v1',
}));
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const gv = (k: Kind) => (k.group ? `${k.group}/${k.version ?? 'v1'}` : 'v1');
const versionOf = (group: string) => GROUPS.find((g) => g.name === group)?.version ?? 'v1';
const resourceList = (group: string) => ({
  kind: 'APIResourceList',
  apiVersion: 'v1',
  groupVersion: group ? `${group}/${versionOf(group)}` : 'v1',
  resources: KINDS.filter((k) => k.group === group).flatMap((k) => [
    {
      name: k.resource,
      singularName: k.kind.toLowerCase(),
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: VERBS,
      ...(k.short ? { shortNames: k.short } : {}),
    },
    ...(k.resource === 'deployments'
      ? [
          {
            name: 'deployments/scale',
            singularName: '',
            namespaced: true,
            group: 'autoscaling',
            version: 'v1',
            kind: 'Scale',
            verbs: ['get', 'patch', 'update'],
          },
          { name: 'deployments/status', singularName: '', namespaced: true, kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
        ]
      : []),
  ]),
});
/**
 * OpenAPI v3 for one group version: only what clients read from it here, namely that each kind's
 * PATCH takes the `fieldValidation` query parameter (k8s.io/cli-runtime
 * pkg/resource/query_param_verifier_v3.go reads the x-kubernetes-group-version-kind extension and
 * the parameter list of the PATCH operation).
 */
const openapiV3 = (group: string) => ({
  openapi: '3.0.0',
  info: { title: 'Kubernetes', version: VERSION.gitVersion },
  paths: Object.fromEntries(
    KINDS.filter((k) => k.group === group).map((k) => [
      `/${group ? `apis/${group}` : 'api'}/${versionOf(group)}/${k.namespaced ? 'namespaces/{namespace}/' : ''}${k.resource}/{name}`,
      {
        patch: {
          operationId: `patch${k.namespaced ? 'Namespaced' : ''}${k.kind}`,
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': { group: k.group, version: k.version ?? 'v1', kind: k.kind },
          parameters: ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
            name,
            in: 'query',
            schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
          })),
          responses: { '200': { description: 'OK' } },
        },
      },
    ]),
  ),
  components: { schemas: {} },
});

/** Strategic merge (what kubectl set image and Helm 3's three-way patches send): lists of named things merge by name. */
function strategicMerge(target: Obj, patch: Obj): Obj {
  const MERGE_KEYS: Record<string, string> = {
    containers: 'name',
    initContainers: 'name',
    ports: 'containerPort',
    env: 'name',
    volumes: 'name',
    volumeMounts: 'mountPath',
  };
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete target[k];
    else if (MERGE_KEYS[k] && Array.isArray(v)) {
      const key = MERGE_KEYS[k] as string;
      const list: Obj[] = Array.isArray(target[k]) ? target[k] : (target[k] = []);
      for (const c of v as Obj[]) {
        if (c.$patch === 'delete') {
          const i = list.findIndex((x) => x[key] === c[key]);
          if (i >= 0) list.splice(i, 1);
          continue;
        }
        const cur = list.find((x) => x[key] === c[key]);
        if (cur) strategicMerge(cur, c);
        else list.push(c);
      }
      const order = patch[`$setElementOrder/${k}`] as Obj[] | undefined;
      if (Array.isArray(order)) list.sort((a, b) => order.findIndex((o) => o[key] === a[key]) - order.findIndex((o) => o[key] === b[key]));
    } else if (
      typeof v === 'object' &&
      !Array.isArray(v) &&
      typeof target[k] === 'object' &&
      target[k] !== null &&
      !Array.isArray(target[k])
    )
      strategicMerge(target[k], v as Obj);
    else target[k] = structuredClone(v);
  }
  return target;
}

/** RFC 7386 merge patch. */
function mergePatch(target: Obj, patch: Obj): Obj {
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null && !Array.isArray(target[k]))
      mergePatch(target[k], v as Obj);
    else target[k] = structuredClone(v);
  }
  return target;
}

function jsonPatch(target: Obj, ops: Obj[]): Obj {
  for (const op of ops) {
    const parts = String(op.path)
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let cur = target;
    for (const p of parts.slice(0, -1)) cur = cur[p] ??= {};
    const last = parts.at(-1) as string;
    if (op.op === 'replace' || op.op === 'add') cur[last] = structuredClone(op.value);
    else if (op.op === 'remove') delete cur[last];
    else if (op.op === 'test') {
      if (JSON.stringify(cur[last]) !== JSON.stringify(op.value)) throw new Error(`the test op failed at ${String(op.path)}`);
    } else throw new Error(`unsupported JSON patch op ${op.op}`);
  }
  return target;
}

/**
 * Server-side apply with one field manager: the applied configuration owns the labels and
 * annotations it sets and the whole spec (fields it no longer sets are dropped, as SSA drops
 * fields a manager stops owning); status and the server's metadata stay.
 */
function serverSideApply(live: Obj, applied: Obj): Obj {
  const out = structuredClone(live);
  out.metadata.labels = { ...(live.metadata.labels ?? {}), ...(applied.metadata?.labels ?? {}) };
  out.metadata.annotations = { ...(live.metadata.annotations ?? {}), ...(applied.metadata?.annotations ?? {}) };
  for (const [k, v] of Object.entries(applied))
    if (k !== 'metadata' && k !== 'status' && k !== 'apiVersion' && k !== 'kind') out[k] = structuredClone(v);
  return out;
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

/** Equality-based label selectors (`a=b,c==d,e!=f,g,!h`), as helm and kubectl send them. */
function matchesLabels(selector: string, labels: Obj = {}): boolean {
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .every((t) => {
      let m = /^([^!=]+)!=(.*)$/.exec(t);
      if (m) return labels[m[1]!.trim()] !== m[2]!.trim();
      m = /^([^!=]+)==?(.*)$/.exec(t);
      if (m) return labels[m[1]!.trim()] === m[2]!.trim();
      if (t.startsWith('!')) return !(t.slice(1) in labels);
      return t in labels;
    });
}
function matchesFields(selector: string, o: Obj): boolean {
  return selector
    .split(',')
    .filter(Boolean)
    .every((t) => {
      const [k, v] = t.split('=') as [string, string];
      const actual = k === 'metadata.name' ? o.metadata.name : k === 'metadata.namespace' ? o.metadata.namespace : undefined;
      return actual === v;
    });
}

// ------------------------------------------------------------------ protobuf request bodies
// client-go 0.36 (Helm 4.2) sends built-in types as protobuf by default (rest/request.go
// UseProtobufAsDefault): `k8s\0` + runtime.Unknown{typeMeta, raw}. Helm's typed client writes only
// its release Secrets, so only Secret (k8s.io/api core/v1 generated.proto) is decoded here.

type Fields = Map<number, (Buffer | bigint)[]>;
function pbFields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let r = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated protobuf varint');
      r |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return r;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const [field, wire] = [tag >>> 3, tag & 7];
    let v: Buffer | bigint;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const n = Number(varint());
      v = buf.subarray(i, i + n);
      i += n;
    } else if (wire === 1) {
      v = buf.readBigUInt64LE(i);
      i += 8;
    } else if (wire === 5) {
      v = BigInt(buf.readUInt32LE(i));
      i += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), v]);
  }
  return out;
}
const pbStr = (f: Fields, n: number) => (f.get(n)?.[0] as Buffer | undefined)?.toString('utf8');
const pbMap = (f: Fields, n: number, asBase64: boolean) =>
  Object.fromEntries(
    ((f.get(n) ?? []) as Buffer[]).map((e) => {
      const kv = pbFields(e);
      const v = (kv.get(2)?.[0] as Buffer | undefined) ?? Buffer.alloc(0);
      return [pbStr(kv, 1) ?? '', asBase64 ? v.toString('base64') : v.toString('utf8')];
    }),
  );
function pbObjectMeta(buf: Buffer): Obj {
  const f = pbFields(buf);
  const m: Obj = {};
  for (const [n, k] of [
    [1, 'name'],
    [2, 'generateName'],
    [3, 'namespace'],
    [5, 'uid'],
    [6, 'resourceVersion'],
  ] as const)
    if (pbStr(f, n)) m[k] = pbStr(f, n);
  const labels = pbMap(f, 11, false);
  const annotations = pbMap(f, 12, false);
  if (Object.keys(labels).length) m.labels = labels;
  if (Object.keys(annotations).length) m.annotations = annotations;
  return m;
}
/** A protobuf request body (`application/vnd.kubernetes.protobuf`) as the JSON object it encodes. */
function decodeProtobuf(body: Buffer): Obj {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('protobuf body without the k8s\\0 magic prefix');
  const unknown = pbFields(body.subarray(4));
  const typeMeta = pbFields((unknown.get(1)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));
  const [apiVersion, kind] = [pbStr(typeMeta, 1), pbStr(typeMeta, 2)];
  const raw = pbFields((unknown.get(2)?.[0] as Buffer | undefined) ?? Buffer.alloc(0));
  if (apiVersion !== 'v1' || kind !== 'Secret')
    throw new Error(`protobuf decoding of ${apiVersion}/${kind} is not implemented in the loopback API server`);
  const o: Obj = { apiVersion, kind, metadata: pbObjectMeta((raw.get(1)?.[0] as Buffer | undefined) ?? Buffer.alloc(0)) };
  const data = pbMap(raw, 2, true);
  const stringData = pbMap(raw, 4, false);
  if (Object.keys(data).length) o.data = data;
  if (Object.keys(stringData).length)
    o.data = {
      ...(o.data ?? {}),
      ...Object.fromEntries(Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    };
  if (pbStr(raw, 3)) o.type = pbStr(raw, 3);
  if (raw.get(5)?.[0] === 1n) o.immutable = true;
  return o;
}
const bodyOf = (req: RecordedRequest): Obj =>
  String(req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf')
    ? decodeProtobuf(req.body)
    : (JSON.parse(req.text) as Obj);

/** One Helm release revision as helm stored it (helm.sh/helm pkg/release/v1 Release, JSON). */
export interface HelmRelease {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; description: string; first_deployed?: string; last_deployed?: string };
  chart: { metadata: { name: string; version: string; apiVersion?: string } };
  config?: Obj;
  manifest: string;
  /** The Secret's labels (name, owner, status, version, createdAt/modifiedAt). */
  labels: Record<string, string>;
  /** The Secret's `type`. */
  secretType: string;
}

export interface KubeCluster {
  server: TestServer;
  /** The container image a deployment's current template runs. */
  image(ns: string, name: string, container: string): string | undefined;
  /** Revisions (ReplicaSets) of a deployment: revision → image of `container`. */
  history(ns: string, name: string, container: string): { revision: number; image: string }[];
  /** One stored object (plural resource name, e.g. 'deployments', 'secrets'). */
  get(resource: string, ns: string, name: string): Obj | undefined;
  /** Helm's release Secrets for `release` in `ns`, decoded, by revision. */
  releases(ns: string, release: string): HelmRelease[];
  kubeconfig: string;
  /** The kubeconfig file's contents (deploy-prod's `kubeconfig` secret). */
  kubeconfigText: string;
  requests: () => RecordedRequest[];
  close(): Promise<void>;
}

export interface KubeSeed {
  /** Namespaces that exist (`default` always does). */
  namespaces?: string[];
  /** A Deployment that runs `image` in `container` (revision 1), for kubectl mode. */
  deployment?: { namespace: string; name: string; container: string; image: string };
  /**
   * Images whose pods never become ready: a rollout to one of them ends as the deployment
   * controller ends it after progressDeadlineSeconds (Progressing=False, ProgressDeadlineExceeded).
   */
  failingImages?: string[];
}

/** Starts the API server; creating into a namespace that does not exist fails as on a real server. */
export async function startKubeCluster(seed: KubeSeed = {}): Promise<KubeCluster> {
  let rv = 1000;
  /** resource → "<ns>/<name>" (or "<name>" when cluster-scoped) → object */
  const store = new Map<string, Map<string, Obj>>(KINDS.map((k) => [k.resource, new Map()]));
  const watchers = new Set<{ resource: string; ns?: string; labels: string; fields: string; res: ServerResponse }>();
  const uid = (s: string) => {
    const h = createHash('sha256').update(s).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const keyOf = (k: Kind, ns: string | undefined, name: string) => (k.namespaced ? `${ns}/${name}` : name);
  const shaped = (k: Kind, o: Obj) => ({ kind: k.kind, apiVersion: gv(k), ...o });
  const notify = (k: Kind, type: 'ADDED' | 'MODIFIED' | 'DELETED', o: Obj) => {
    for (const w of watchers) {
      if (w.resource !== k.resource || (w.ns && w.ns !== o.metadata.namespace)) continue;
      if (!matchesLabels(w.labels, o.metadata.labels) || !matchesFields(w.fields, o)) continue;
      w.res.write(`${JSON.stringify({ type, object: shaped(k, o) })}\n`);
    }
  };
  const kindOf = (resource: string) => KINDS.find((k) => k.resource === resource) as Kind;
  const put = (k: Kind, o: Obj, type: 'ADDED' | 'MODIFIED') => {
    o.metadata.resourceVersion = String(++rv);
    store.get(k.resource)!.set(keyOf(k, o.metadata.namespace, o.metadata.name), o);
    notify(k, type, o);
  };

  /**
   * The ReplicaSet controller and kubelet, instantly: `n` pods of the live ReplicaSet's template
   * (its labels, pod-template-hash included), Ready as the image allows; pods of other ReplicaSets
   * of the same deployment are gone. What `kubectl get pods --selector` (smoke-test's pods-ready) reads.
   */
  function syncPods(live: Obj, n: number, ready: boolean) {
    const pods = store.get('pods')!;
    const ns = live.metadata.namespace;
    const owner = live.metadata.ownerReferences?.[0]?.uid;
    for (const [key, p] of [...pods.entries()]) {
      const rsOwner = [...store.get('replicasets')!.values()].find((r) => r.metadata.uid === p.metadata.ownerReferences?.[0]?.uid);
      if (p.metadata.namespace === ns && rsOwner?.metadata.ownerReferences?.[0]?.uid === owner && rsOwner !== live) {
        pods.delete(key);
        notify(kindOf('pods'), 'DELETED', p);
      }
    }
    const condition = (type: string) => ({
      type,
      status: ready ? 'True' : 'False',
      lastTransitionTime: now(),
      ...(ready ? {} : { reason: 'ContainersNotReady' }),
    });
    for (let i = 0; i < n; i++) {
      const name = `${live.metadata.name}-${createHash('sha256').update(`${live.metadata.uid}/${i}`).digest('hex').slice(0, 5)}`;
      put(
        kindOf('pods'),
        {
          metadata: {
            name,
            namespace: ns,
            uid: uid(`${ns}/${name}`),
            labels: { ...(live.spec.template.metadata?.labels ?? {}) },
            creationTimestamp: now(),
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: 'ReplicaSet',
                name: live.metadata.name,
                uid: live.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          spec: structuredClone(live.spec.template.spec ?? {}),
          status: {
            phase: 'Running',
            conditions: [
              condition('Initialized'),
              condition('Ready'),
              condition('ContainersReady'),
              { type: 'PodScheduled', status: 'True', lastTransitionTime: now() },
            ],
          },
        },
        pods.has(`${ns}/${name}`) ? 'MODIFIED' : 'ADDED',
      );
    }
  }

  /** The deployment controller, instantly: the template's ReplicaSet gets the next revision and the rollout is complete. */
  function reconcile(d: Obj) {
    const replicasets = store.get('replicasets')!;
    d.metadata.annotations ??= {};
    const key = templateKey(d.spec.template);
    const owned = [...replicasets.values()].filter(
      (r) => r.metadata.namespace === d.metadata.namespace && r.metadata.ownerReferences?.[0]?.uid === d.metadata.uid,
    );
    const maxRev = Math.max(0, ...owned.map((r) => Number(r.metadata.annotations[REV])));
    let rs: Obj | undefined = owned.find((r) => templateKey(r.spec.template) === key);
    const current = rs && Number(rs.metadata.annotations[REV]) === maxRev;
    const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
    // The ReplicaSet carries the deployment's template exactly (plus pod-template-hash): Helm 3's
    // wait finds the new ReplicaSet by comparing the two (k8s.io/kubectl deployment util EqualIgnoreHash).
    const template = structuredClone(d.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash } };
    if (!rs) {
      rs = {
        metadata: {
          name: `${d.metadata.name}-${hash}`,
          namespace: d.metadata.namespace,
          uid: uid(`${d.metadata.namespace}/${d.metadata.name}-${hash}`),
          labels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
          annotations: {},
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name: d.metadata.name,
              uid: d.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
          generation: 1,
          creationTimestamp: now(),
        },
        spec: {
          replicas: d.spec.replicas,
          selector: { matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
          template,
        },
        status: {},
      };
    }
    rs.spec.template = template;
    if (!current) {
      rs.metadata.annotations[REV] = String(maxRev + 1);
      d.metadata.annotations[REV] = String(maxRev + 1);
    }
    const live = rs;
    for (const r of owned) {
      if (r === live || r.spec.replicas === 0) continue;
      r.spec.replicas = 0;
      r.status = { replicas: 0, observedGeneration: r.metadata.generation };
      put(kindOf('replicasets'), r, 'MODIFIED');
    }
    const n = d.spec.replicas ?? 1;
    live.spec.replicas = n;
    const failing = ((d.spec.template.spec?.containers ?? []) as Obj[]).some((c) => seed.failingImages?.includes(c.image));
    syncPods(live, n, !failing);
    if (failing) {
      live.status = {
        replicas: n,
        fullyLabeledReplicas: n,
        readyReplicas: 0,
        availableReplicas: 0,
        observedGeneration: live.metadata.generation,
      };
      put(kindOf('replicasets'), live, owned.includes(live) ? 'MODIFIED' : 'ADDED');
      d.status = {
        observedGeneration: d.metadata.generation,
        replicas: n,
        updatedReplicas: n,
        readyReplicas: 0,
        availableReplicas: 0,
        unavailableReplicas: n,
        conditions: [
          {
            type: 'Available',
            status: 'False',
            lastUpdateTime: now(),
            lastTransitionTime: now(),
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.',
          },
          {
            type: 'Progressing',
            status: 'False',
            lastUpdateTime: now(),
            lastTransitionTime: now(),
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${live.metadata.name}" has timed out progressing.`,
          },
        ],
      };
      return;
    }
    live.status = {
      replicas: n,
      fullyLabeledReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
      observedGeneration: live.metadata.generation,
    };
    put(kindOf('replicasets'), live, owned.includes(live) ? 'MODIFIED' : 'ADDED');
    d.status = {
      observedGeneration: d.metadata.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: now(),
          lastTransitionTime: now(),
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          lastUpdateTime: now(),
          lastTransitionTime: now(),
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${live.metadata.name}" has successfully progressed.`,
        },
      ],
    };
  }

  /** What the API server fills in on create: server metadata and (for Deployments) defaults. */
  function admit(k: Kind, o: Obj, ns: string | undefined): Obj {
    const obj = structuredClone(o);
    delete obj.kind;
    delete obj.apiVersion;
    obj.metadata = { ...(obj.metadata ?? {}) };
    if (k.namespaced) obj.metadata.namespace = ns;
    obj.metadata.uid = uid(`${k.resource}/${ns}/${obj.metadata.name}/${rv}`);
    obj.metadata.creationTimestamp = now();
    if (k.resource === 'deployments' || k.resource === 'replicasets' || k.resource === 'applications') obj.metadata.generation = 1;
    if (k.resource === 'deployments') {
      obj.spec = {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        ...obj.spec,
      };
      reconcile(obj);
    }
    if (k.resource === 'secrets') obj.type ??= 'Opaque';
    if (k.resource === 'namespaces') obj.status = { phase: 'Active' };
    return obj;
  }

  /** After an update of a Deployment: a changed spec is a new generation, reconciled at once. */
  function updated(k: Kind, before: Obj, after: Obj): Obj {
    after.metadata.uid = before.metadata.uid;
    after.metadata.creationTimestamp = before.metadata.creationTimestamp;
    if (k.namespaced) after.metadata.namespace = before.metadata.namespace;
    if (k.resource === 'deployments') {
      after.metadata.generation = before.metadata.generation;
      after.status = before.status;
      if (JSON.stringify(after.spec) !== JSON.stringify(before.spec)) {
        after.metadata.generation += 1;
        reconcile(after);
      }
    }
    return after;
  }

  const nsExists = (ns: string) => store.get('namespaces')!.has(ns);
  for (const ns of new Set(['default', 'kube-system', ...(seed.namespaces ?? []), ...(seed.deployment ? [seed.deployment.namespace] : [])]))
    put(kindOf('namespaces'), admit(kindOf('namespaces'), { metadata: { name: ns } }, undefined), 'ADDED');
  if (seed.deployment) {
    const { namespace, name, container, image } = seed.deployment;
    const d = admit(
      kindOf('deployments'),
      {
        metadata: { name, labels: { app: name }, annotations: {} },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { containers: [{ name: container, image, ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
          },
        },
      },
      namespace,
    );
    put(kindOf('deployments'), d, 'ADDED');
  }

  let port = 0;
  const server = await startServer((req, res, raw: IncomingMessage) => {
    const u = new URL(req.url, 'http://x');
    const p = u.pathname.replace(/\/+$/, '');
    const q = u.searchParams;
    if (req.method === 'GET') {
      if (p === '/version') return json(res, 200, VERSION);
      if (p === '/api')
        return json(res, 200, {
          kind: 'APIVersions',
          versions: ['v1'],
          serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
        });
      if (p === '/apis')
        return json(res, 200, {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: GROUPS.map((g) => ({
            name: g.name,
            versions: [{ groupVersion: `${g.name}/${g.version}`, version: g.version }],
            preferredVersion: { groupVersion: `${g.name}/${g.version}`, version: g.version },
          })),
        });
      if (p === '/api/v1') return json(res, 200, resourceList(''));
      for (const g of GROUPS) if (p === `/apis/${g.name}/${g.version}`) return json(res, 200, resourceList(g.name));
      if (p === '/openapi/v3')
        return json(res, 200, {
          paths: {
            'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=C0RE' },
            ...Object.fromEntries(
              GROUPS.map((g) => [
                `apis/${g.name}/${g.version}`,
                { serverRelativeURL: `/openapi/v3/apis/${g.name}/${g.version}?hash=${g.name.replace(/\W/g, '').toUpperCase()}` },
              ]),
            ),
          },
        });
      if (p === '/openapi/v3/api/v1') return json(res, 200, openapiV3(''));
      for (const g of GROUPS) if (p === `/openapi/v3/apis/${g.name}/${g.version}`) return json(res, 200, openapiV3(g.name));
    }

    // /api/v1[/namespaces/<ns>]/<resource>[/<name>]  and  /apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>]
    const m = /^\/(?:api\/v1|apis\/([a-z0-9.-]+)\/([a-z0-9]+))(?:\/namespaces\/([^/]+))?\/([a-z]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(p);
    let group = m?.[1] ?? '';
    const version = m?.[2] ?? 'v1';
    let ns = m?.[3];
    let resource = m?.[4] ?? '';
    let name = m?.[5];
    // `/api/v1/namespaces/<name>` is the Namespace itself.
    if (
      m &&
      !group &&
      ns &&
      resource &&
      !name &&
      !KINDS.some((k) => k.resource === resource && k.namespaced) &&
      /^\/api\/v1\/namespaces\/[^/]+$/.test(p)
    ) {
      name = ns;
      ns = undefined;
      resource = 'namespaces';
    }
    if (m && resource === 'namespaces' && p === '/api/v1/namespaces') ns = undefined;
    const k = KINDS.find((x) => x.group === group && x.resource === resource && (x.version ?? 'v1') === version);
    // The Application CRD declares no status subresource (`subresources: {}`): …/status is not served.
    if (!m || !k || (k.namespaced && name && !ns) || (m[6] && k.resource === 'applications'))
      return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    group = k.group;
    const objects = store.get(k.resource)!;
    const dryRun = q.getAll('dryRun').includes('All');
    const notFound = () =>
      json(
        res,
        404,
        status(404, 'NotFound', `${k.resource}${k.group ? `.${k.group}` : ''} "${name}" not found`, {
          name,
          group: k.group,
          kind: k.resource,
        }),
      );

    if (!name) {
      if (req.method === 'GET') {
        const labels = q.get('labelSelector') ?? '';
        const fields = q.get('fieldSelector') ?? '';
        if (q.get('watch') === 'true' || q.get('watch') === '1') {
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked', 'cache-control': 'no-cache, private' });
          res.write('');
          if (q.get('sendInitialEvents') === 'true') {
            // WatchList (client-go 0.35+ informers): the current objects as ADDED events, then a
            // bookmark marking the end of the initial state (k8s.io/initial-events-end).
            for (const o of objects.values())
              if ((!ns || o.metadata.namespace === ns) && matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o))
                res.write(`${JSON.stringify({ type: 'ADDED', object: shaped(k, o) })}\n`);
            res.write(
              `${JSON.stringify({ type: 'BOOKMARK', object: { kind: k.kind, apiVersion: gv(k), metadata: { resourceVersion: String(rv), annotations: { 'k8s.io/initial-events-end': 'true' } } } })}\n`,
            );
          }
          const w = { resource: k.resource, ns, labels, fields, res };
          watchers.add(w);
          raw.on('close', () => watchers.delete(w));
          res.on('close', () => watchers.delete(w));
          return;
        }
        const items = [...objects.values()].filter(
          (o) => (!ns || o.metadata.namespace === ns) && matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o),
        );
        return json(res, 200, { kind: `${k.kind}List`, apiVersion: gv(k), metadata: { resourceVersion: String(rv) }, items });
      }
      if (req.method === 'POST') {
        let body: Obj;
        try {
          body = bodyOf(req);
        } catch (e) {
          return json(res, 400, status(400, 'BadRequest', (e as Error).message));
        }
        name = String(body.metadata?.name ?? '');
        if (!name)
          return json(
            res,
            422,
            status(422, 'Invalid', `${k.kind} "" is invalid: metadata.name: Required value: name or generateName is required`),
          );
        if (k.namespaced && !nsExists(ns as string))
          return json(res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
        if (objects.has(keyOf(k, ns, name)))
          return json(
            res,
            409,
            status(409, 'AlreadyExists', `${k.resource}${k.group ? `.${k.group}` : ''} "${name}" already exists`, {
              name,
              group: k.group,
              kind: k.resource,
            }),
          );
        const o = admit(k, body, ns);
        if (!dryRun) put(k, o, 'ADDED');
        return json(res, 201, shaped(k, o));
      }
      return json(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }

    const key = keyOf(k, ns, name);
    const cur = objects.get(key);
    if (req.method === 'GET') return cur ? json(res, 200, shaped(k, cur)) : notFound();
    if (req.method === 'DELETE') {
      if (!cur) return notFound();
      if (!dryRun) {
        objects.delete(key);
        notify(k, 'DELETED', cur);
      }
      return json(res, 200, shaped(k, cur));
    }
    if (req.method === 'PUT') {
      if (!cur) return notFound();
      let body: Obj;
      try {
        body = bodyOf(req);
      } catch (e) {
        return json(res, 400, status(400, 'BadRequest', (e as Error).message));
      }
      const want = body.metadata?.resourceVersion;
      if (want && want !== cur.metadata.resourceVersion)
        return json(
          res,
          409,
          status(
            409,
            'Conflict',
            `Operation cannot be fulfilled on ${k.resource} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
          ),
        );
      const after = updated(k, cur, { ...structuredClone(body), kind: undefined, apiVersion: undefined });
      delete after.kind;
      delete after.apiVersion;
      if (!dryRun) put(k, after, 'MODIFIED');
      return json(res, 200, shaped(k, after));
    }
    if (req.method === 'PATCH') {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim();
      let after: Obj;
      try {
        if (type === 'application/apply-patch+yaml') {
          const applied = parseYaml(req.text) as Obj;
          if (!cur) {
            if (k.namespaced && !nsExists(ns as string))
              return json(res, 404, status(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
            const o = admit(k, { ...applied, metadata: { ...(applied.metadata ?? {}), name } }, ns);
            if (!dryRun) put(k, o, 'ADDED');
            return json(res, 201, shaped(k, o));
          }
          after = serverSideApply(cur, applied);
        } else {
          if (!cur) return notFound();
          const body = JSON.parse(req.text);
          if (type === 'application/strategic-merge-patch+json') after = strategicMerge(structuredClone(cur), body as Obj);
          else if (type === 'application/merge-patch+json') after = mergePatch(structuredClone(cur), body as Obj);
          else if (type === 'application/json-patch+json') after = jsonPatch(structuredClone(cur), body as Obj[]);
          else
            return json(
              res,
              415,
              status(
                415,
                'UnsupportedMediaType',
                `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
              ),
            );
        }
      } catch (e) {
        return json(res, 422, status(422, 'Invalid', (e as Error).message));
      }
      after = updated(k, cur, after);
      if (dryRun) return json(res, 200, shaped(k, after));
      put(k, after, 'MODIFIED');
      return json(res, 200, shaped(k, after));
    }
    return json(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
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
      const o = store.get('deployments')!.get(`${n}/${d}`);
      return o ? containerImage(o.spec.template, c) : undefined;
    },
    history: (n, d, c) =>
      [...store.get('replicasets')!.values()]
        .filter((r) => r.metadata.namespace === n && r.metadata.ownerReferences?.[0]?.name === d)
        .map((r) => ({ revision: Number(r.metadata.annotations[REV]), image: containerImage(r.spec.template, c) ?? '' }))
        .sort((a, b) => a.revision - b.revision),
    get: (resource, n, name) => {
      const o = store.get(resource)?.get(keyOf(kindOf(resource), n, name));
      return o ? structuredClone(o) : undefined;
    },
    releases: (n, release) =>
      [...store.get('secrets')!.values()]
        .filter((s) => s.metadata.namespace === n && s.metadata.labels?.owner === 'helm' && s.metadata.labels?.name === release)
        .map((s) => {
          // helm.sh/helm pkg/storage/driver/util.go encodeRelease: JSON → gzip → base64, stored as the Secret's data.release (itself base64 on the wire).
          const inner = Buffer.from(String(s.data.release), 'base64').toString('utf8');
          const rel = JSON.parse(gunzipSync(Buffer.from(inner, 'base64')).toString('utf8')) as HelmRelease;
          return { ...rel, labels: s.metadata.labels, secretType: s.type };
        })
        .sort((a, b) => a.version - b.version),
    requests: () => server.requests,
    close: async () => {
      for (const w of watchers) w.res.end();
      watchers.clear();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
