/**
 * Kubernetes checks through the real kubectl client (on PATH, KUBECONFIG from the step's
 * environment) against a loopback API server answering as a v1.32 API server does: rollout
 * status, Ready pods, and a server-side dry run that admission must refuse.
 */
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, runnerHome, runtimes } from '../harness/runner.js';
import { startKubeApi, type KubeApi } from './kube-api.js';

const hasKubectl = (process.env.PATH ?? '').split(':').some((d) => existsSync(`${d}/kubectl`));
if (!hasKubectl) console.warn('smoke-test kubectl tests skipped: no kubectl on PATH');

let kube: KubeApi;
beforeAll(async () => {
  if (!hasKubectl) return;
  kube = await startKubeApi({
    deployments: {
      'prod/api': { replicas: 2, updated: 2, available: 2 },
      'prod/worker': { replicas: 3, updated: 1, available: 1, deadlineExceeded: true },
      'prod/slow': { replicas: 3, updated: 2, available: 2 },
    },
    pods: {
      prod: [
        { name: 'api-7c9d8f6b5d-2xkqp', labels: { app: 'api' }, ready: true },
        { name: 'api-7c9d8f6b5d-9hzt4', labels: { app: 'api' }, ready: true },
        { name: 'worker-5f6d7c8b9a-abcde', labels: { app: 'worker' }, ready: true },
        { name: 'worker-5f6d7c8b9a-fghij', labels: { app: 'worker' }, ready: false },
      ],
    },
    admission: 'deny-webhook',
  });
});
afterAll(async () => {
  await kube?.close();
});

const CHECKS = `defaults: { retries: 0, interval: 10ms, timeout: 20s }
checks:
  - name: api rollout
    k8s: { rollout: deployment/api, namespace: prod }
  - name: worker rollout
    k8s: { rollout: deployment/worker, namespace: prod }
  - name: slow rollout
    k8s: { rollout: deployment/slow, namespace: prod }
    timeout: 1s
  - name: api pods ready
    k8s: { pods-ready: { selector: app=api, namespace: prod, min: 2 } }
  - name: worker pods ready
    k8s: { pods-ready: { selector: app=worker, namespace: prod, min: 2 } }
  - name: unsigned images are denied
    k8s: { denied: { image: docker.io/library/nginx:1.27, namespace: prod, message-contains: failed to verify image } }
`;

async function smoke(checks: string, runtime?: ReturnType<typeof runtimes>[number], env: Record<string, string> = {}) {
  const home = runnerHome('hallmark-smoke-k8s-');
  return runAction('smoke-test', { runtime, home, inputs: { checks }, env: { NO_COLOR: '1', ...kube.env, ...env }, timeoutMs: 40_000 });
}

function report(r: Awaited<ReturnType<typeof smoke>>) {
  return JSON.parse(readFileSync(r.outputs.report as string, 'utf8')) as {
    checks: { name: string; result: string; error?: string; detail?: string }[];
  };
}

describe.skipIf(!hasKubectl).each(runtimes())('smoke-test kubectl checks ($name)', (rt) => {
  it('rollout, ready pods and admission denial, read from the real kubectl', async () => {
    const before = kube.requests().length;
    const r = await smoke(CHECKS, rt);
    const rep = report(r);
    const got = Object.fromEntries(rep.checks.map((c) => [c.name, [c.result, c.error ?? c.detail]]));
    expect(got['api rollout']).toEqual(['pass', 'deployment "api" successfully rolled out']);
    expect(got['worker rollout']).toEqual(['fail', 'error: deployment "worker" exceeded its progress deadline']);
    expect(got['slow rollout']![0]).toBe('fail');
    expect(got['slow rollout']![1]).toMatch(/timed out waiting for the condition/);
    expect(got['api pods ready']).toEqual(['pass', '2/2 pods ready']);
    expect(got['worker pods ready']).toEqual([
      'fail',
      '1/2 pods ready for app=worker, need at least 2 (not ready: worker-5f6d7c8b9a-fghij)',
    ]);
    expect(got['unsigned images are denied']![0]).toBe('pass');
    expect(got['unsigned images are denied']![1]).toMatch(
      /^denied: error when creating "STDIN": admission webhook "mutate\.kyverno\.svc-fail" denied the request: .*failed to verify image docker\.io\/library\/nginx:1\.27/,
    );
    expect(r.code).toBe(1);
    expect(r.outputs).toMatchObject({ passed: 'false', 'passed-count': '3', 'failed-count': '3', 'failure-reason': 'checks-failed' });
    // What kubectl asked the API server.
    const seen = kube.requests().slice(before);
    const creates = seen.filter((q) => q.method === 'POST');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.url).toMatch(/^\/api\/v1\/namespaces\/prod\/pods\?dryRun=All&/);
    expect(JSON.parse(creates[0]!.text)).toMatchObject({ kind: 'Pod', spec: { containers: [{ image: 'docker.io/library/nginx:1.27' }] } });
    expect(seen.some((q) => q.url.startsWith('/api/v1/namespaces/prod/pods?labelSelector=app%3Dapi'))).toBe(true);
    expect(seen.some((q) => q.url.startsWith('/apis/apps/v1/namespaces/prod/deployments?fieldSelector=metadata.name%3Dapi'))).toBe(true);
  });
});

describe.skipIf(!hasKubectl)('smoke-test kubectl checks: admission that must not count as a denial', () => {
  const denied = `checks:\n  - name: denied\n    k8s: { denied: { image: docker.io/library/nginx:1.27, namespace: prod } }\n    retries: 0\n`;
  it('an admitted pod fails the check', async () => {
    kube.state.admission = 'admit';
    const r = await smoke(denied);
    expect(report(r).checks[0]).toMatchObject({
      result: 'fail',
      error: 'admitted: a pod with docker.io/library/nginx:1.27 passed admission (server-side dry run), expected it to be denied',
    });
  });
  it('RBAC refusing the create is not an admission denial', async () => {
    kube.state.admission = 'rbac-forbidden';
    const r = await smoke(denied);
    expect(report(r).checks[0]!.error).toMatch(
      /^could not test admission: Error from server \(Forbidden\): .*cannot create resource "pods"/,
    );
  });
  it('a ValidatingAdmissionPolicy denial passes', async () => {
    kube.state.admission = 'deny-vap';
    const r = await smoke(denied);
    expect(r.code, r.stdout).toBe(0);
    expect(report(r).checks[0]!.detail).toMatch(/ValidatingAdmissionPolicy 'require-signed-images'/);
  });
  it('no kubectl on PATH is said plainly', async () => {
    const r = await smoke(denied, undefined, { PATH: '/nonexistent' });
    expect(report(r).checks[0]!.error).toBe('kubectl is not on PATH (install it, e.g. with hallmark setup-tools)');
  });
});
