/**
 * The `argocd-app` check: the check file's keys, and the check itself run through the real kubectl
 * (`kubectl get --raw` of the Application's path) against the loopback API server of kube-api.ts
 * (SIMULATED: the Application's status is what Argo CD's controller would write). The verdict is
 * read from what the server answered and how many GETs it saw.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckFileError, DEFAULTS, parseChecks, type Check } from '../../actions/smoke-test/src/checks-file.js';
import { runCheck } from '../../actions/smoke-test/src/flow.js';
import { argoVerdict } from '../../actions/smoke-test/src/kube.js';
import { probeFor } from '../../actions/smoke-test/src/probes.js';
import { startKubeApi, type AppStatus, type KubeApi } from './kube-api.js';

const REV = `${'a'.repeat(39)}1`;
const OLD = `${'b'.repeat(39)}2`;

function parse(text: string, env: Record<string, string> = {}) {
  return parseChecks(text, { ...DEFAULTS }, env);
}

function parseError(text: string): string {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof CheckFileError) return e.message;
    throw e;
  }
  throw new Error('expected a CheckFileError');
}

describe('argocd-app in the check file', () => {
  it('reads the contract form, with ${VAR} for the revision and the defaults for namespace and health', () => {
    const p = parse(
      `checks:\n  - name: argo-cd synced\n    k8s:\n      argocd-app: hallmark-demo\n      revision: \${GITOPS_COMMIT}\n    retries: 60\n    interval: 5s\n  - name: staging\n    k8s: { argocd-app: demo-staging, namespace: gitops, revision: ${OLD}, health: Progressing, context: kind-ci }\n`,
      { GITOPS_COMMIT: REV },
    );
    expect(p.checks.map((c) => [c.name, c.type, c.retries, c.intervalMs, c.k8s])).toEqual([
      [
        'argo-cd synced',
        'k8s',
        60,
        5000,
        { kind: 'argocd-app', app: 'hallmark-demo', namespace: 'argocd', revision: REV, health: 'Healthy' },
      ],
      [
        'staging',
        'k8s',
        3,
        5000,
        { kind: 'argocd-app', app: 'demo-staging', namespace: 'gitops', revision: OLD, health: 'Progressing', context: 'kind-ci' },
      ],
    ]);
  });

  it('names the line and key of each mistake', () => {
    expect(parseError('checks:\n  - k8s: { argocd-app: demo }\n')).toBe(
      'line 2: checks[0].k8s.revision is required with argocd-app (the config repository commit, 40 hex, Argo CD must report as synced)',
    );
    expect(parseError(`checks:\n  - k8s: { argocd-app: demo, revision: ${REV.slice(0, 12)} }\n`)).toBe(
      `line 2: checks[0].k8s.revision must be a full 40-hex lowercase commit SHA (got ${REV.slice(0, 12)})`,
    );
    expect(parseError(`checks:\n  - k8s: { argocd-app: demo, revision: ${REV.toUpperCase()} }\n`)).toMatch(
      /^line 2: checks\[0\]\.k8s\.revision must be a full 40-hex lowercase/,
    );
    expect(parseError(`checks:\n  - k8s: { argocd-app: demo, revision: ${REV}, health: healthy }\n`)).toBe(
      'line 2: checks[0].k8s.health must be one of Healthy, Progressing, Degraded, Suspended, Missing, Unknown (got healthy)',
    );
    expect(parseError(`checks:\n  - k8s: { argocd-app: Demo_App, revision: ${REV} }\n`)).toMatch(
      /^line 2: checks\[0\]\.k8s\.argocd-app must be an Application name/,
    );
    expect(parseError(`checks:\n  - k8s: { rollout: deployment/api, revision: ${REV} }\n`)).toBe(
      'line 2: checks[0].k8s.revision applies only to argocd-app',
    );
    expect(parseError(`checks:\n  - k8s: { argocd-app: demo, rollout: deployment/api, revision: ${REV} }\n`)).toBe(
      'line 2: checks[0].k8s must have exactly one of rollout, pods-ready, denied, argocd-app',
    );
  });
});

describe('argocd-app verdict (pure)', () => {
  const spec = { kind: 'argocd-app' as const, app: 'demo', namespace: 'argocd', revision: REV, health: 'Healthy' as const };
  it('a Failed operation for another revision does not end the wait; for ours it does', () => {
    const app = (rev: string) =>
      JSON.stringify({
        kind: 'Application',
        status: {
          sync: { status: 'OutOfSync', revision: OLD },
          health: { status: 'Healthy' },
          operationState: { phase: 'Failed', message: 'boom', syncResult: { revision: rev } },
        },
      });
    const other = argoVerdict(spec, app(OLD));
    expect(other.ok).toBe(false);
    expect(other.final).toBeUndefined();
    expect(other.error).toBe(
      `argocd/demo is OutOfSync at ${OLD.slice(0, 12)}, health Healthy; waiting for Synced at ${REV.slice(0, 12)}, health Healthy`,
    );
    expect(argoVerdict(spec, app(REV))).toMatchObject({
      ok: false,
      final: true,
      error: `Argo CD's sync of argocd/demo to ${REV.slice(0, 12)} ended Failed: boom`,
    });
  });
  it('something that is not an Application is a failed try', () => {
    expect(argoVerdict(spec, '<html>')).toEqual({ ok: false, error: 'the API server did not return an Application (not JSON)' });
    expect(argoVerdict(spec, '{"kind":"Status"}')).toEqual({ ok: false, error: 'the API server did not return an Application' });
  });
});

const hasKubectl = (process.env.PATH ?? '').split(':').some((d) => existsSync(`${d}/kubectl`));
if (!hasKubectl) console.warn('smoke-test argocd-app kubectl tests skipped: no kubectl on PATH');

let kube: KubeApi;
beforeAll(async () => {
  if (!hasKubectl) return;
  kube = await startKubeApi({ deployments: {}, pods: {}, admission: 'admit', applications: {} });
});
afterAll(async () => {
  await kube?.close();
});

/** Runs one check through the real kubectl, the way the action does, and counts the GETs the server saw. */
async function check(app: string, status: AppStatus | AppStatus[] | undefined, extra = '', retries = 2) {
  if (status) kube.state.applications![`argocd/${app}`] = status;
  const parsed = parse(
    `checks:\n  - name: argo\n    k8s: { argocd-app: ${app}, revision: ${REV}${extra} }\n    retries: ${retries}\n    interval: 10ms\n    timeout: 10s\n`,
  );
  const before = kube.requests().length;
  const probe = probeFor({
    cwd: process.cwd(),
    podName: () => 'unused',
    exec: (tool, args, o) =>
      new Promise((resolve) => {
        const child = spawn(tool, args, { env: { PATH: process.env.PATH, ...kube.env } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr, timedOut: false }));
        if (o.input) child.stdin.end(o.input);
        else child.stdin.end();
      }),
  });
  const r = await runCheck(parsed.checks[0] as Check, {
    probe,
    sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
    now: () => performance.now(),
  });
  const gets = kube
    .requests()
    .slice(before)
    .filter((q) => q.url.startsWith('/apis/argoproj.io/'));
  return { r, gets };
}

describe.skipIf(!hasKubectl)('argocd-app through kubectl against the loopback API server', () => {
  it('passes on Synced at the revision and Healthy, with one GET of the Application path', async () => {
    const { r, gets } = await check('demo', {
      sync: 'Synced',
      revision: REV,
      health: 'Healthy',
      operation: { phase: 'Succeeded', message: 'successfully synced (all tasks run)', revision: REV },
    });
    expect(r.outcome).toBe('pass');
    expect(r.detail).toBe(`argocd/demo: Synced at ${REV.slice(0, 12)}, health Healthy`);
    expect(gets.map((g) => [g.method, g.url.replace(/\?.*$/, '')])).toEqual([
      ['GET', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/demo'],
    ]);
  });

  it('a multi-source Application passes when status.sync.revisions holds the revision', async () => {
    const { r } = await check('multi', { sync: 'Synced', revisions: [OLD, REV], health: 'Healthy' });
    expect(r.outcome).toBe('pass');
  });

  it('Synced at another revision fails after every try', async () => {
    const { r, gets } = await check('wrong-rev', { sync: 'Synced', revision: OLD, health: 'Healthy' });
    expect(r.outcome).toBe('fail');
    expect(r.attempts).toHaveLength(3);
    expect(gets).toHaveLength(3);
    expect(r.error).toBe(
      `argocd/wrong-rev is Synced at ${OLD.slice(0, 12)}, health Healthy; waiting for Synced at ${REV.slice(0, 12)}, health Healthy`,
    );
  });

  it('Degraded at the revision fails (and keeps trying until the tries run out)', async () => {
    const { r, gets } = await check('degraded', { sync: 'Synced', revision: REV, health: 'Degraded' });
    expect(r.outcome).toBe('fail');
    expect(gets).toHaveLength(3);
    expect(r.error).toMatch(/health Degraded; waiting for .*health Healthy$/);
  });

  it('health: Degraded is what the check waits for when asked', async () => {
    const { r } = await check('want-degraded', { sync: 'Synced', revision: REV, health: 'Degraded' }, ', health: Degraded');
    expect(r.outcome).toBe('pass');
  });

  it('OutOfSync → Synced/Progressing → Synced/Healthy passes on the third try', async () => {
    const { r, gets } = await check(
      'rolling',
      [
        {
          sync: 'OutOfSync',
          revision: OLD,
          health: 'Healthy',
          operation: { phase: 'Running', message: 'one or more tasks are running', revision: REV },
        },
        { sync: 'Synced', revision: REV, health: 'Progressing', operation: { phase: 'Succeeded', revision: REV } },
        { sync: 'Synced', revision: REV, health: 'Healthy', operation: { phase: 'Succeeded', revision: REV } },
      ],
      '',
      5,
    );
    expect(r.outcome).toBe('pass');
    expect(r.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(gets).toHaveLength(3);
    expect(r.attempts[1]!.error).toMatch(/is Synced at .*, health Progressing; waiting/);
  });

  it("a Failed sync of that revision fails at once, with Argo CD's message on one line", async () => {
    const message = 'one or more objects failed to apply, reason: Deployment.apps "api" is invalid\n::error::injected';
    const { r, gets } = await check(
      'failed',
      { sync: 'OutOfSync', revision: OLD, health: 'Healthy', operation: { phase: 'Failed', message, revision: REV } },
      '',
      5,
    );
    expect(r.outcome).toBe('fail');
    expect(gets).toHaveLength(1);
    expect(r.attempts).toHaveLength(1);
    expect(r.error).toBe(
      `Argo CD's sync of argocd/failed to ${REV.slice(0, 12)} ended Failed: one or more objects failed to apply, reason: Deployment.apps "api" is invalid ⏎ ::error::injected`,
    );
    expect(r.error).not.toContain('\n');
  });

  it('an Error phase for that revision also ends the wait', async () => {
    const { r, gets } = await check(
      'errored',
      {
        sync: 'Unknown',
        health: 'Unknown',
        operation: { phase: 'Error', message: 'rpc error: code = Unknown desc = repository not accessible', revision: REV },
      },
      '',
      5,
    );
    expect(gets).toHaveLength(1);
    expect(r.error).toMatch(/ended Error: rpc error/);
  });

  it('a 404 says the Application is not there', async () => {
    const { r, gets } = await check('absent', undefined, '', 1);
    expect(r.outcome).toBe('fail');
    expect(gets).toHaveLength(2);
    expect(r.error).toMatch(/^Application argocd\/absent not found \(Error from server \(NotFound\): /);
  });
});
