/**
 * Kubernetes checks through the real `kubectl` (KUBECONFIG from the step's environment):
 * argument lists and the reading of kubectl's answers. Pure: running kubectl is the caller's job.
 */
import { oneLine } from '@hallmark/kit';
import type { K8sSpec } from './checks-file.js';

export interface KubectlRun {
  args: string[];
  /** Text for kubectl's stdin (the dry-run pod manifest). */
  input?: string;
}

export interface KubectlOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** What a check concluded: passed, failed with a reason; `final` when no later try can change it. */
export interface Verdict {
  ok: boolean;
  error?: string;
  detail?: string;
  final?: boolean;
}

function scope(spec: K8sSpec): string[] {
  return [...(spec.context ? ['--context', spec.context] : []), ...(spec.namespace ? ['--namespace', spec.namespace] : [])];
}

const seconds = (ms: number) => `${Math.max(1, Math.ceil(ms / 1000))}s`;

/** The Application's path on the API server (argoproj.io/v1alpha1, namespaced `applications`). */
export function applicationPath(namespace: string, name: string): string {
  return `/apis/argoproj.io/v1alpha1/namespaces/${namespace}/applications/${name}`;
}

export function kubectlRun(spec: K8sSpec, timeoutMs: number, podName: string): KubectlRun {
  // One GET of that exact path (`get --raw`: no discovery, so no need for the CRD's API group to be listed).
  if (spec.kind === 'argocd-app')
    return {
      args: [
        ...(spec.context ? ['--context', spec.context] : []),
        'get',
        '--raw',
        applicationPath(spec.namespace, spec.app),
        `--request-timeout=${seconds(timeoutMs)}`,
      ],
    };
  if (spec.kind === 'rollout')
    return { args: [...scope(spec), 'rollout', 'status', spec.resource, '--watch=true', `--timeout=${seconds(timeoutMs)}`] };
  if (spec.kind === 'pods-ready')
    return {
      args: [...scope(spec), 'get', 'pods', '--selector', spec.selector, '--output', 'json', `--request-timeout=${seconds(timeoutMs)}`],
    };
  return {
    args: [
      ...scope(spec),
      'create',
      '--filename',
      '-',
      '--dry-run=server',
      '--validate=false',
      '--output',
      'name',
      `--request-timeout=${seconds(timeoutMs)}`,
    ],
    input: JSON.stringify(deniedPod(spec.image, podName, spec.namespace)),
  };
}

/** The pod the admission test submits (server-side dry run: admission runs, nothing is stored). */
export function deniedPod(image: string, name: string, namespace?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'hallmark-smoke-test' } },
    spec: { restartPolicy: 'Never', containers: [{ name: 'probe', image }] },
  };
}

/** The last meaningful line of kubectl's error output (klog noise dropped). */
export function kubectlError(o: KubectlOutcome): string {
  const lines = `${o.stderr}\n${o.stdout}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^[IWE]\d{4} \d\d:\d\d:\d\d/.test(l));
  const at = lines.findIndex((l) => /^(error|Error from server)/.test(l));
  const text = (at >= 0 ? lines.slice(at) : lines.slice(-1)).join(' ').replace(/\s+/g, ' ');
  const err = text.length > 400 ? `${text.slice(0, 400)}…` : text;
  return err || `kubectl exited with ${o.exitCode}`;
}

interface PodList {
  items?: {
    metadata?: { name?: string; deletionTimestamp?: string };
    status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
  }[];
}

export function countReady(json: string): { total: number; ready: number; notReady: string[] } | undefined {
  let list: PodList;
  try {
    list = JSON.parse(json) as PodList;
  } catch {
    return undefined;
  }
  if (!list || !Array.isArray(list.items)) return undefined;
  let ready = 0;
  const notReady: string[] = [];
  for (const p of list.items) {
    const isReady =
      !p.metadata?.deletionTimestamp &&
      p.status?.phase === 'Running' &&
      (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    if (isReady) ready++;
    else notReady.push(p.metadata?.name ?? '?');
  }
  return { total: list.items.length, ready, notReady };
}

/** Admission refusals as the API server words them (webhook, ValidatingAdmissionPolicy, Pod Security). */
const ADMISSION_DENIAL = [
  /admission webhook "[^"]+" denied the request/,
  /ValidatingAdmissionPolicy '[^']+' with binding '[^']+' denied request/,
  /is forbidden: violates PodSecurity/,
  /denied the request/,
];

export function interpret(spec: K8sSpec, o: KubectlOutcome, timeoutMs: number): Verdict {
  if (o.timedOut) return { ok: false, error: `kubectl did not finish within ${seconds(timeoutMs)}` };
  if (spec.kind === 'rollout') {
    if (o.exitCode === 0) return { ok: true, detail: lastLine(o.stdout) };
    return { ok: false, error: kubectlError(o) };
  }
  if (spec.kind === 'argocd-app') {
    if (o.exitCode !== 0) {
      const err = kubectlError(o);
      if (/NotFound|not found/.test(err)) return { ok: false, error: `Application ${spec.namespace}/${spec.app} not found (${err})` };
      return { ok: false, error: err };
    }
    return argoVerdict(spec, o.stdout);
  }
  if (spec.kind === 'pods-ready') {
    if (o.exitCode !== 0) return { ok: false, error: kubectlError(o) };
    const c = countReady(o.stdout);
    if (!c) return { ok: false, error: 'kubectl get pods did not return a pod list' };
    const detail = `${c.ready}/${c.total} pods ready`;
    if (c.ready >= spec.min) return { ok: true, detail };
    return {
      ok: false,
      error: `${detail} for ${spec.selector}, need at least ${spec.min}${c.notReady.length ? ` (not ready: ${c.notReady.slice(0, 5).join(', ')}${c.notReady.length > 5 ? ', …' : ''})` : ''}`,
      detail,
    };
  }
  // denied: the dry-run must be refused by admission, and only by admission.
  if (o.exitCode === 0)
    return { ok: false, error: `admitted: a pod with ${spec.image} passed admission (server-side dry run), expected it to be denied` };
  const err = kubectlError(o);
  const all = `${o.stderr}\n${o.stdout}`;
  if (!ADMISSION_DENIAL.some((re) => re.test(all))) return { ok: false, error: `could not test admission: ${err}` };
  if (spec.messageContains && !all.includes(spec.messageContains))
    return { ok: false, error: `denied, but not for the expected reason (no ${JSON.stringify(spec.messageContains)} in: ${err})` };
  return { ok: true, detail: `denied: ${err.replace(/^Error from server( \([A-Za-z]+\))?: /, '')}` };
}

function lastLine(s: string): string {
  return s.trim().split(/\r?\n/).at(-1) ?? '';
}

/**
 * The parts of an Argo CD Application's status the check reads, as Argo CD v3.5.1 defines them
 * (argoproj/argo-cd pkg/apis/application/v1alpha1/types.go: ApplicationStatus.Sync (SyncStatus:
 * status, revision, revisions), .Health (AppHealthStatus: status), .OperationState (phase, message,
 * syncResult.revision(s), operation.sync.revision(s)); phases from gitops-engine
 * pkg/sync/common/types.go: Running, Terminating, Failed, Error, Succeeded).
 */
interface Application {
  kind?: string;
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string };
    operationState?: {
      phase?: string;
      message?: string;
      syncResult?: { revision?: string; revisions?: string[] };
      operation?: { sync?: { revision?: string; revisions?: string[] } };
    };
  };
}

const short = (rev: string | undefined) => (rev ? rev.slice(0, 12) : '(none)');
const hasRevision = (one: unknown, many: unknown, rev: string) => one === rev || (Array.isArray(many) && many.includes(rev));

export function argoVerdict(spec: Extract<K8sSpec, { kind: 'argocd-app' }>, json: string): Verdict {
  let app: Application;
  try {
    app = JSON.parse(json) as Application;
  } catch {
    return { ok: false, error: 'the API server did not return an Application (not JSON)' };
  }
  if (!app || typeof app !== 'object' || (app.kind !== undefined && app.kind !== 'Application'))
    return { ok: false, error: 'the API server did not return an Application' };
  const st = app.status ?? {};
  const sync = st.sync ?? {};
  const health = st.health?.status ?? 'Unknown';
  const op = st.operationState;
  const name = `${spec.namespace}/${spec.app}`;
  if (op && (op.phase === 'Failed' || op.phase === 'Error')) {
    const ours =
      hasRevision(op.syncResult?.revision, op.syncResult?.revisions, spec.revision) ||
      hasRevision(op.operation?.sync?.revision, op.operation?.sync?.revisions, spec.revision);
    if (ours)
      return {
        ok: false,
        final: true,
        error: `Argo CD's sync of ${name} to ${short(spec.revision)} ended ${op.phase}: ${oneLine(op.message ?? '(no message)', 300)}`,
      };
  }
  const at = hasRevision(sync.revision, sync.revisions, spec.revision);
  const seen = `${sync.status ?? 'Unknown'} at ${at ? short(spec.revision) : short(sync.revision ?? sync.revisions?.[0])}, health ${health}`;
  if (at && sync.status === 'Synced' && health === spec.health) return { ok: true, detail: `${name}: ${seen}` };
  const want = `Synced at ${short(spec.revision)}, health ${spec.health}`;
  return { ok: false, error: `${name} is ${oneLine(seen, 200)}; waiting for ${want}`, detail: oneLine(seen, 200) };
}
