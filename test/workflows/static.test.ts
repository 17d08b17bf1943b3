/**
 * Static checks of every workflow in .github/workflows and workflows/, and proof that each checker
 * catches the mistake it exists for (a deliberately bad workflow per checker).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  actionlint,
  actionlintAll,
  checkDeployConcurrency,
  checkLocalRefs,
  checkNoExprInRun,
  checkPermissions,
  checkPinned,
  checkSecretNames,
  expectedOwnRef,
  fromText,
  loadWorkflow,
  ROOT,
  workflowFiles,
} from './checks.js';
import { parserFindings } from './parser.js';

const files = workflowFiles();

describe('the workflow set', () => {
  it('has the two reusable workflows and a caller per seed shape plus the demo', () => {
    for (const f of [
      '.github/workflows/build-sign-scan.yml',
      '.github/workflows/deploy-prod.yml',
      'workflows/build-sign-scan-key.yml',
      'workflows/build-sign-scan-keyless.yml',
      'workflows/deploy-main.yml',
      'workflows/deploy-production.yml',
      'workflows/demo.yml',
    ])
      expect(files).toContain(f);
  });
});

// One actionlint run over every file (its WASM takes seconds to load), findings split per file.
let lint: Map<string, string[]> | undefined;
const lintOf = (file: string) => (lint ??= actionlintAll(files.map((f) => join(ROOT, f)))).get(file);

describe.each(files)('%s', (file) => {
  const wf = loadWorkflow(file);
  it('is actionlint clean', () => expect(lintOf(file)).toEqual([]), 120_000);
  it('pins every third-party action to a commit SHA with a version comment', () =>
    expect(checkPinned(wf, { ownRef: expectedOwnRef() })).toEqual([]));
  it('has no ${{ }} inside run: scripts', () => expect(checkNoExprInRun(wf)).toEqual([]));
  it('has permissions: {} at the top and minimal per job', () => expect(checkPermissions(wf)).toEqual([]));
  it('calls our actions and workflows with inputs, secrets and outputs that exist', () => expect(checkLocalRefs(wf)).toEqual([]));
  it('names only secrets GitHub can store', () => expect(checkSecretNames(wf)).toEqual([]));
  it('passes GitHub’s own workflow parser (including reusable-workflow calls)', async () =>
    expect(await parserFindings(file, wf.text)).toEqual([]));
});

describe('deploy-prod specifics', () => {
  const wf = loadWorkflow('.github/workflows/deploy-prod.yml');
  it('serialises deploys per environment without cancelling one in flight', () => expect(checkDeployConcurrency(wf)).toEqual([]));
  it('gates apply on the chosen environment and enforces the default branch for production', () => {
    const jobs = wf.doc.jobs as Record<string, Record<string, unknown>>;
    expect(jobs.apply?.environment).toBe('${{ inputs.environment }}');
    const verify = JSON.stringify(jobs.verify);
    expect(verify).toContain('github.event.repository.default_branch');
    expect(verify).toMatch(/production deploys only from the default branch/);
  });
  it('rolls back only when the rollout succeeded and smoke failed, and always notifies', () => {
    const jobs = wf.doc.jobs as Record<string, Record<string, unknown>>;
    expect(String(jobs.rollback?.if)).toMatch(/needs\.smoke\.result == 'failure'/);
    expect(jobs.notify?.if).toBe('always()');
  });
});

describe('deploy-prod reaches the cluster the same way in every job that needs it', () => {
  const wf = loadWorkflow('.github/workflows/deploy-prod.yml');
  const jobs = wf.doc.jobs as Record<string, { steps?: Record<string, unknown>[]; permissions?: Record<string, string> }>;
  const clusterSteps = (id: string) => (jobs[id]?.steps ?? []).filter((s) => String(s.name ?? '').startsWith('Cluster access · '));
  it('deploy, smoke and rollback hold the identical Cluster access block (no copy that could drift), each ending with the clean-up', () => {
    const deploy = clusterSteps('deploy');
    expect(deploy.map((s) => s.name)).toEqual([
      'Cluster access · kubeconfig from the KUBE_CONFIG secret',
      'Cluster access · Google Cloud through Workload Identity Federation (GitHub OIDC)',
      'Cluster access · GKE credentials',
      'Cluster access · AWS role through GitHub OIDC',
      'Cluster access · EKS kubeconfig',
      'Cluster access · Azure login through GitHub OIDC',
      'Cluster access · AKS kubeconfig',
      'Cluster access · remove the kubeconfig',
    ]);
    expect(clusterSteps('smoke')).toEqual(deploy);
    expect(clusterSteps('rollback')).toEqual(deploy);
  });
  it('the smoke job and the rollback re-check run after the Cluster access block, with kubectl installed', () => {
    const names = (id: string) => (jobs[id]?.steps ?? []).map((s) => String(s.name ?? s.uses ?? ''));
    const smoke = names('smoke');
    expect(smoke.indexOf('Smoke test the new release')).toBeGreaterThan(smoke.indexOf('Cluster access · AKS kubeconfig'));
    expect(JSON.stringify(jobs.smoke?.steps)).toMatch(/"tools":"\$\{\{ format\('kubectl, /);
    const rb = names('rollback');
    expect(rb.indexOf('Restore the previous release')).toBeGreaterThan(rb.indexOf('Cluster access · AKS kubeconfig'));
  });
  it('id-token: write only in the jobs that authenticate to a cloud; the three cloud actions pinned by SHA', () => {
    const holders = Object.entries(jobs)
      .filter(([, j]) => j.permissions?.['id-token'] === 'write')
      .map(([id]) => id);
    // …and the audit job, which signs the run's audit trail keyless (issue 16).
    expect(holders.sort()).toEqual(['audit', 'deploy', 'rollback', 'smoke']);
    for (const [uses, version] of [
      ['google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093', 'v3.0.0'],
      ['google-github-actions/get-gke-credentials@3da1e46a907576cefaa90c484278bb5b259dd395', 'v3.0.0'],
      ['aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c', 'v6.2.3'],
      ['azure/login@f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca', 'v3.0.1'],
    ])
      expect(wf.text).toContain(`uses: ${uses} # ${version}`);
  });
  it('says truthfully what concurrency does: never cancels a run in progress; a newer pending run replaces an older one', () => {
    expect(checkDeployConcurrency(wf)).toEqual([]);
    expect(wf.text).toMatch(/keeps at most ONE pending run per group: a newer dispatch replaces an older pending one/);
    expect(wf.text).not.toMatch(/queued runs wait/);
  });
});

describe('deploy-prod in GitOps mode', () => {
  const wf = loadWorkflow('.github/workflows/deploy-prod.yml');
  type Step = Record<string, unknown> & { with?: Record<string, string>; env?: Record<string, string> };
  const jobs = wf.doc.jobs as Record<
    string,
    { if?: string; needs?: string[]; steps?: Step[]; permissions?: Record<string, string>; outputs?: Record<string, string> }
  >;
  const names = (id: string) => (jobs[id]?.steps ?? []).map((s) => String(s.name ?? s.uses ?? ''));
  const step = (id: string, name: string) => (jobs[id]?.steps ?? []).find((s) => s.name === name) as Step;
  it('the gitops job replaces deploy after the same approval, with no job-token scope and no cluster credentials', () => {
    expect(jobs.gitops?.needs).toEqual(['verify', 'apply']);
    expect(jobs.deploy?.needs).toEqual(['verify', 'apply']);
    expect(jobs.gitops?.if).toBe("needs.verify.outputs.deploy-mode == 'gitops'");
    expect(jobs.deploy?.if).toBe("needs.verify.outputs.deploy-mode != 'gitops'");
    expect(jobs.gitops?.permissions).toEqual({});
    expect(names('gitops').some((n) => n.startsWith('Cluster access'))).toBe(false);
    expect(JSON.stringify(jobs.gitops)).not.toMatch(/KUBE_CONFIG|id-token/);
    const bump = step('gitops', 'Pin the digest in the config repository');
    expect(bump.uses).toBe('hallmark-dev/hallmark/actions/gitops-update@main');
    expect(bump.with).toMatchObject({
      'image-ref': '${{ inputs.image-ref }}',
      token: '${{ secrets.GITOPS_TOKEN }}',
      'source-commit': '${{ github.sha }}',
      mode: '${{ env.GITOPS_MODE }}',
      environment: '${{ inputs.environment }}',
    });
    expect(jobs.gitops?.outputs).toMatchObject({
      'commit-sha': '${{ steps.bump.outputs.commit-sha }}',
      'previous-digest': '${{ steps.bump.outputs.previous-digest }}',
    });
  });
  it('GITOPS_TOKEN is declared, and reaches only the two gitops-update steps (verify only asks whether it is set)', () => {
    const on = (wf.doc.on ?? (wf.doc as Record<string, unknown>).true) as {
      workflow_call: { secrets: Record<string, { required: boolean }> };
    };
    expect(on.workflow_call.secrets.GITOPS_TOKEN).toMatchObject({ required: false });
    const users = Object.entries(jobs).flatMap(([id, j]) =>
      (j.steps ?? []).filter((s) => JSON.stringify(s).includes('secrets.GITOPS_TOKEN')).map((s) => `${id}: ${String(s.name)}`),
    );
    expect(users).toEqual([
      'verify: Check the deploy mode and its inputs',
      'gitops: Pin the digest in the config repository',
      'rollback: Revert the bump in the config repository',
    ]);
    expect(step('verify', 'Check the deploy mode and its inputs').env?.GITOPS_TOKEN_SET).toBe("${{ secrets.GITOPS_TOKEN != '' }}");
  });
  it('smoke waits for the Application to report the bump commit (after the Cluster access block), then runs the smoke test', () => {
    const smoke = names('smoke');
    const wait = smoke.indexOf('Wait for Argo CD to sync the bump');
    expect(wait).toBeGreaterThan(smoke.indexOf('Cluster access · AKS kubeconfig'));
    expect(smoke.indexOf('Smoke test the new release')).toBeGreaterThan(wait);
    const w = step('smoke', 'Wait for Argo CD to sync the bump');
    expect(w.uses).toBe('hallmark-dev/hallmark/actions/smoke-test@main');
    expect(w.env).toEqual({ GITOPS_COMMIT: '${{ needs.gitops.outputs.commit-sha }}' });
    // The values reach the check file through the step's environment (smoke-test's ${NAME}), never spliced in as YAML.
    expect(w.with?.checks).toMatch(
      /argocd-app: \$\{ARGOCD_APPLICATION\}\n\s+namespace: \$\{ARGOCD_NAMESPACE\}\n\s+revision: \$\{GITOPS_COMMIT\}\n\s+health: Healthy/,
    );
    expect(w.with?.checks).not.toContain('${{');
    expect(w.with).toMatchObject({ retries: '${{ env.ARGOCD_RETRIES }}', interval: '${{ env.ARGOCD_INTERVAL }}' });
    expect(jobs.smoke?.needs).toEqual(['verify', 'deploy', 'gitops']);
    expect(String(jobs.smoke?.if)).toContain("needs.gitops.result == 'success' && needs.verify.outputs.gitops-mode == 'commit'");
  });
  it('rollback in GitOps mode reverts the bump commit, waits for the Application to report the revert, then re-checks', () => {
    expect(String(jobs.rollback?.if)).toContain("needs.gitops.result == 'success' && needs.gitops.outputs.changed == 'true'");
    const rb = names('rollback');
    const revert = rb.indexOf('Revert the bump in the config repository');
    expect(revert).toBeGreaterThan(rb.indexOf('Cluster access · AKS kubeconfig'));
    expect(rb.indexOf('Wait for Argo CD to sync the revert')).toBe(revert + 1);
    expect(rb.indexOf('Re-check the restored release')).toBe(revert + 2);
    expect(step('rollback', 'Revert the bump in the config repository').with).toMatchObject({
      'rollback-of': '${{ needs.gitops.outputs.commit-sha }}',
      token: '${{ secrets.GITOPS_TOKEN }}',
      mode: 'commit',
    });
    expect(step('rollback', 'Revert the bump in the config repository').with?.['image-ref']).toBeUndefined();
    expect(step('rollback', 'Wait for Argo CD to sync the revert').env).toEqual({
      GITOPS_COMMIT: '${{ steps.revert.outputs.commit-sha }}',
    });
    expect(step('rollback', 'Restore the previous release').if).toBe("needs.verify.outputs.deploy-mode != 'gitops'");
  });
});

describe('build-sign-scan specifics', () => {
  const wf = loadWorkflow('.github/workflows/build-sign-scan.yml');
  const jobs = wf.doc.jobs as Record<string, Record<string, unknown>>;
  it('asks for id-token: write and security-events: write in exactly one job each', () => {
    const holders = (scope: string) =>
      Object.entries(jobs)
        .filter(([, j]) => (j.permissions as Record<string, string> | undefined)?.[scope] === 'write')
        .map(([id]) => id);
    // sign (the image) and audit (the run's audit trail, issue 16), with the same identity.
    expect(holders('id-token')).toEqual(['sign', 'audit']);
    expect(holders('security-events')).toEqual(['scan']);
  });
  it('is three jobs deep on the critical path (build → scan ∥ sbom → sign)', () => {
    const needs = (id: string): string[] => {
      const n = jobs[id]?.needs;
      return Array.isArray(n) ? (n as string[]) : typeof n === 'string' ? [n] : [];
    };
    const depth = (id: string): number => 1 + Math.max(0, ...needs(id).map(depth));
    expect(depth('sign')).toBe(3);
    expect(needs('scan')).toEqual(['build']);
    expect(needs('sbom')).toEqual(['build']);
  });
});

// ------------------------------------------------------------------ the checkers can fail

const BAD = `name: bad
on: push
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions: write-all
    steps:
      - uses: actions/checkout@v4
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02
        with: { name: x, path: x }
      - id: gate
        uses: hallmark-dev/hallmark/actions/setup-tools@main
        with:
          tool: cosign
      - run: echo "\${{ github.event.head_commit.message }}"
        env:
          X: \${{ steps.gate.outputs.no-such-output }}
  scan:
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      security-events: write
    steps:
      - uses: ./actions/no-such-action
  call:
    permissions:
      contents: read
      issues: write
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@main
    with:
      imag: ghcr.io/acme/api
    secrets:
      cosign-keys: x
`;

describe('each checker catches a deliberately bad workflow', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-badwf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bad = fromText('bad.yml', BAD);

  it('actionlint', { timeout: 120_000 }, () => {
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    const f = join(dir, '.github', 'workflows', 'bad.yml');
    writeFileSync(
      f,
      'name: bad\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n        if: ${{ github.evnt_name == 1 }}\n        shell: bsh\n',
    );
    const findings = actionlint(f);
    expect(
      findings.some((x) => /^bad\.yml:8:\d+: .*evnt_name/.test(x)),
      findings.join('\n'),
    ).toBe(true);
    expect(
      findings.some((x) => /^bad\.yml:9:\d+: .*bsh/.test(x)),
      findings.join('\n'),
    ).toBe(true);
  });

  it('pinning', () => {
    const f = checkPinned(bad);
    expect(f.some((x) => /actions\/checkout' is pinned to 'v4'/.test(x))).toBe(true);
    expect(f.some((x) => /upload-artifact@ea165f8…' lacks a version comment/.test(x))).toBe(true);
    expect(f).toHaveLength(2);
    const own = (ref: string) =>
      checkPinned(fromText('x.yml', `jobs:\n  a:\n    steps:\n      - uses: hallmark-dev/hallmark/actions/setup-tools@${ref}\n`));
    expect(own('main')).toEqual([]);
    expect(own('v1')[0]).toMatch(/must say @main/);
    expect(own('a'.repeat(40))[0]).toMatch(/must say @main/);
  });

  it('${{ }} in run:', () => {
    const f = checkNoExprInRun(bad);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(/job 'build'.*inside run:/);
  });

  it('permissions', () => {
    const f = checkPermissions(bad);
    expect(f.some((x) => /no top-level 'permissions'/.test(x))).toBe(true);
    expect(f.some((x) => /job 'build' uses 'write-all'/.test(x))).toBe(true);
    expect(f.some((x) => /job 'scan' asks for 'contents: write'/.test(x))).toBe(true);
    expect(f.some((x) => /job 'scan' asks for 'security-events: write' but none of its steps uses it/.test(x))).toBe(true);
    expect(f.some((x) => /job 'call' grants 'issues: write'/.test(x))).toBe(true);
    expect(f).toHaveLength(5);
  });

  it('our actions and workflows: unknown input, missing required input, unknown output, missing action, unknown secret', () => {
    const f = checkLocalRefs(bad);
    expect(f).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/input 'tool' is not an input of actions\/setup-tools/),
        expect.stringMatching(/required input 'tools' of actions\/setup-tools is not passed/),
        expect.stringMatching(/steps\.gate\.outputs\.no-such-output/),
        expect.stringMatching(/\.\/actions\/no-such-action → actions\/no-such-action\/action\.yml does not exist/),
        expect.stringMatching(/input 'imag' is not an input of \.github\/workflows\/build-sign-scan\.yml/),
        expect.stringMatching(/required input 'image' of \.github\/workflows\/build-sign-scan\.yml is not passed/),
        expect.stringMatching(/secret 'cosign-keys' is not a secret/),
      ]),
    );
    expect(f).toHaveLength(7);
  });

  it('job outputs: needs.<job>.outputs.<x> must be declared, needs.<job> must be listed, workflow outputs must point at job outputs', () => {
    const wf = fromText(
      'o.yml',
      `on:
  workflow_call:
    outputs:
      digest: { value: '\${{ jobs.build.outputs.digest }}' }
      nope: { value: '\${{ jobs.build.outputs.missing }}' }
      gone: { value: '\${{ jobs.nosuch.outputs.x }}' }
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions: {}
    outputs:
      digest: \${{ steps.b.outputs.digest }}
    steps:
      - id: b
        run: echo "digest=x" >> "$GITHUB_OUTPUT"
  use:
    needs: build
    runs-on: ubuntu-24.04
    permissions: {}
    if: needs.build.result == 'success' && needs.other.result == 'success'
    steps:
      - env:
          A: \${{ needs.build.outputs.digest }}
          B: \${{ needs.build.outputs.passed }}
        run: echo "$A $B"
  other:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - run: 'true'
`,
    );
    const f = checkLocalRefs(wf);
    expect(f).toEqual([
      expect.stringMatching(/job 'use': needs\.other is used but 'other' is not in its needs:/),
      expect.stringMatching(/job 'use': needs\.build\.outputs\.passed: job 'build' has no output 'passed'/),
      expect.stringMatching(/workflow output 'nope': job 'build' has no output 'missing'/),
      expect.stringMatching(/workflow output 'gone': no job 'nosuch'/),
    ]);
  });

  it('an action.yml that is not valid YAML is a finding, not a crash', () => {
    const root = mkdtempSync(join(dir, 'root-'));
    mkdirSync(join(root, 'actions', 'broken'), { recursive: true });
    writeFileSync(join(root, 'actions', 'broken', 'action.yml'), 'name: x\ninputs:\n  a:\n    description: a: b: c\n');
    const wf = fromText(
      'b.yml',
      'on: push\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    permissions: {}\n    steps:\n      - uses: ./actions/broken\n',
    );
    const f = checkLocalRefs(wf, root);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatch(/actions\/broken\/action\.yml is not valid YAML/);
  });

  it('GitHub’s parser on a bad reusable-workflow call', async () => {
    const f = await parserFindings('bad.yml', BAD);
    expect(f.some((x) => /imag/.test(x))).toBe(true);
  });

  it('secret names GitHub cannot store: declared, passed to a called workflow, referenced', () => {
    const wf = fromText(
      's.yml',
      `on:
  workflow_call:
    secrets:
      cosign-public-key: { required: false }
      KUBE_CONFIG: { required: false }
      GITHUB_APP_KEY: { required: false }
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    permissions: {}
    steps:
      - env:
          K: \${{ secrets.slack-webhook-url }}
          T: \${{ secrets.GITHUB_TOKEN }}
          O: \${{ secrets.KUBE_CONFIG }}
        run: echo "$K"
  b:
    permissions: {}
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    secrets:
      1PASSWORD: x
`,
    );
    const f = checkSecretNames(wf);
    expect(f).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/on\.workflow_call\.secrets: secret name 'cosign-public-key' may hold only letters, digits and _/),
        expect.stringMatching(/on\.workflow_call\.secrets: secret name 'GITHUB_APP_KEY' must not start with GITHUB_/),
        expect.stringMatching(/jobs\.b\.secrets: secret name '1PASSWORD' must not start with a digit/),
        expect.stringMatching(/secret name 'slack-webhook-url' may hold only letters, digits and _/),
      ]),
    );
    expect(f).toHaveLength(4);
  });

  it('deploy concurrency', () => {
    const f = checkDeployConcurrency(fromText('d.yml', 'concurrency:\n  group: deploy\n  cancel-in-progress: true\njobs: {}\n'));
    expect(f).toHaveLength(2);
  });
});
