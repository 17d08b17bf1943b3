/** smoke-test's kubectl argument lists and the reading of kubectl's answers (pure). */
import { describe, expect, it } from 'vitest';
import { countReady, interpret, kubectlError, kubectlRun } from '../../actions/smoke-test/src/kube.js';

describe('kubectl', () => {
  it('argument lists (no shell), with the deadline handed to kubectl', () => {
    expect(kubectlRun({ kind: 'rollout', resource: 'deployment/api', namespace: 'prod' }, 30_000, 'p').args).toEqual([
      '--namespace',
      'prod',
      'rollout',
      'status',
      'deployment/api',
      '--watch=true',
      '--timeout=30s',
    ]);
    expect(kubectlRun({ kind: 'pods-ready', selector: 'app=api', min: 2, context: 'c1' }, 1500, 'p').args).toEqual([
      '--context',
      'c1',
      'get',
      'pods',
      '--selector',
      'app=api',
      '--output',
      'json',
      '--request-timeout=2s',
    ]);
    const d = kubectlRun({ kind: 'denied', image: 'nginx:1.27', namespace: 'prod' }, 10_000, 'hallmark-smoke-1');
    expect(d.args).toContain('--dry-run=server');
    expect(JSON.parse(d.input!)).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'hallmark-smoke-1', namespace: 'prod' },
      spec: { containers: [{ image: 'nginx:1.27' }] },
    });
    // argocd-app: one GET of the Application's path (no discovery), the context kept, no --namespace.
    const rev = 'c'.repeat(40);
    expect(
      kubectlRun({ kind: 'argocd-app', app: 'demo', namespace: 'argocd', revision: rev, health: 'Healthy', context: 'ci' }, 5000, 'p').args,
    ).toEqual([
      '--context',
      'ci',
      'get',
      '--raw',
      '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/demo',
      '--request-timeout=5s',
    ]);
  });
  it('counts Ready pods (not Running ones, not terminating ones)', () => {
    const pod = (name: string, ready: boolean, extra: object = {}) => ({
      metadata: { name, ...extra },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    expect(
      countReady(
        JSON.stringify({ items: [pod('a', true), pod('b', false), pod('c', true, { deletionTimestamp: '2026-01-01T00:00:00Z' })] }),
      ),
    ).toEqual({ total: 3, ready: 1, notReady: ['b', 'c'] });
    expect(countReady('nope')).toBeUndefined();
  });
  const denied = { kind: 'denied' as const, image: 'nginx:1.27' };
  const out = (exitCode: number, stderr: string, stdout = '') => ({ exitCode, stderr, stdout, timedOut: false });
  it('denied passes only on an admission refusal', () => {
    expect(interpret(denied, out(0, '', 'pod/x created (server dry run)\n'), 1000)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^admitted: /),
    });
    expect(
      interpret(
        denied,
        out(
          1,
          'Error from server: error when creating "STDIN": admission webhook "mutate.kyverno.svc-fail" denied the request: \n\nblocked\n',
        ),
        1000,
      ),
    ).toMatchObject({ ok: true });
    expect(
      interpret(
        denied,
        out(
          1,
          `Error from server (Forbidden): error when creating "STDIN": pods "x" is forbidden: ValidatingAdmissionPolicy 'p' with binding 'b' denied request: unsigned\n`,
        ),
        1000,
      ).ok,
    ).toBe(true);
    // RBAC refusing the create is not admission: we learned nothing about the policy.
    expect(
      interpret(
        denied,
        out(
          1,
          'Error from server (Forbidden): error when creating "STDIN": pods is forbidden: User "ci" cannot create resource "pods" in API group "" in the namespace "prod"\n',
        ),
        1000,
      ),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/^could not test admission: /) });
    expect(
      interpret(
        denied,
        out(
          1,
          'E1130 18:22:49.242123 5056 memcache.go:265] noise\nThe connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n',
        ),
        1000,
      ),
    ).toMatchObject({
      ok: false,
      error: 'could not test admission: The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?',
    });
    expect(
      interpret(
        { ...denied, messageContains: 'signature' },
        out(1, 'Error from server: admission webhook "x" denied the request: latest tag\n'),
        1000,
      ),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/not for the expected reason/) });
  });
  it('klog noise is not the error', () => {
    expect(
      kubectlError(
        out(1, 'E1130 18:22:49.242123    5056 memcache.go:265] "Unhandled Error"\nerror: timed out waiting for the condition\n'),
      ),
    ).toBe('error: timed out waiting for the condition');
  });
});
