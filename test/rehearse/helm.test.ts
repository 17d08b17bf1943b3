/**
 * deploy-prod's helm path with the REAL Helm 4.2.4 (toolPath('helm'), the default setup-tools
 * installs) and the REAL Helm 3.19.5 (toolPath('helm3'), which a user may pin), built by
 * `npm run tools`:
 * - examples/chart lints and renders with both; its Deployment runs `<repository>@sha256:<hex>`
 *   and rendering refuses a tag, a missing digest and a tagged repository;
 * - deploy-prod.yml's own `Roll out by digest` and `Restore the previous release` scripts, run by
 *   bash exactly as written, detect the major version from `helm version --template` and pass each
 *   helm the flags it accepts. The real helm runs them against the loopback API server
 *   (./kube.ts, SIMULATED: no Kubernetes can run here): it stores its releases there as Secrets,
 *   and `helm history` / `helm get values` read them back.
 * Flags read at the tags: helm v4.2.4 pkg/cmd/upgrade.go (`--rollback-on-failure`, `--atomic`
 * deprecated), pkg/cmd/flags.go AddWaitFlag (`--wait` takes watcher|hookOnly|legacy, alone it
 * means watcher), pkg/kube/statuswait.go (a Failed resource ends the wait at once); helm v3.19.5
 * cmd/helm/upgrade.go (`--atomic`, boolean `--wait`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../harness/runner.js';
import { scratchDir, toolPath, type ToolName } from '../harness/tools.js';
import { startKubeCluster, type KubeCluster } from './kube.js';

const execFileAsync = promisify(execFile);
const CHART = join(ROOT, 'examples/chart');
const REPO = '127.0.0.1:5000/shop/api';
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** The `run:` script of one step of deploy-prod.yml, as the runner would execute it. */
function stepScript(job: string, name: string): string {
  const wf = parse(readFileSync(join(ROOT, '.github/workflows/deploy-prod.yml'), 'utf8')) as {
    jobs: Record<string, { steps: { name?: string; run?: string }[] }>;
  };
  const run = wf.jobs[job]?.steps.find((s) => s.name === name)?.run;
  if (!run) throw new Error(`deploy-prod.yml: no step '${name}' with a run: script in job '${job}'`);
  return run;
}

const HELMS: { tool: ToolName; major: 3 | 4 }[] = [
  { tool: 'helm', major: 4 },
  { tool: 'helm3', major: 3 },
];

describe.each(HELMS)('real $tool (Helm $major)', ({ tool, major }) => {
  const helmBin = toolPath(tool);
  const home = scratchDir(`hallmark-helm${major}-home-`);
  const helm = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(helmBin, args, {
      encoding: 'utf8',
      env: {
        PATH: '/usr/bin:/bin',
        HOME: home,
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
        ...env,
      },
    });
  const values = (d: string, repo = REPO) => ['--set-string', `image.repository=${repo}`, '--set-string', `image.digest=${d}`];

  it('reports its major version through `helm version --template {{.Version}}`, the string the workflow switches on', () => {
    const r = helm(['version', '--template', '{{.Version}}']);
    expect(r.status, r.stderr).toBe(0);
    // A go-install build of v4.2.4 says `v4.2` (internal/version/version.go; release builds add .4 by ldflags).
    expect(r.stdout).toMatch(major === 4 ? /^v4\.2(\.4)?$/ : /^v3\.19(\.5)?$/);
  });

  it('lints examples/chart (--strict) with a digest', () => {
    const r = helm(['lint', '--strict', CHART, ...values(digest('a'))]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('renders the Deployment with <repository>@sha256:<digest>, never a tag', () => {
    const r = helm(['template', 'api', CHART, '--namespace', 'shop', ...values(digest('c'))]);
    expect(r.status, r.stderr).toBe(0);
    const docs = parseAllDocuments(r.stdout)
      .map((d) => d.toJS() as Record<string, any>)
      .filter(Boolean); // eslint-disable-line @typescript-eslint/no-explicit-any
    const deployments = docs.filter((d) => d.kind === 'Deployment');
    expect(deployments).toHaveLength(1);
    const images = (deployments[0]!.spec.template.spec.containers as { image: string }[]).map((c) => c.image);
    expect(images).toEqual([`${REPO}@${digest('c')}`]);
  });

  it.each([
    ['a tag as the digest', values('v1.2.3'), /image\.digest must be sha256:<64 lowercase hex>, got "v1\.2\.3"/],
    ['`latest`', values('latest'), /image\.digest must be sha256:<64 lowercase hex>, got "latest"/],
    ['a short digest', values('sha256:abc'), /image\.digest must be sha256/],
    ['an upper-case digest', values(`sha256:${'A'.repeat(64)}`), /image\.digest must be sha256/],
    ['no digest at all', ['--set-string', `image.repository=${REPO}`], /image\.digest is required/],
    ['a tagged repository', values(digest('d'), `${REPO}:v1`), /image\.repository must name the repository only/],
    ['no repository', ['--set-string', `image.digest=${digest('d')}`], /image\.repository is required/],
  ])('refuses to render %s', (_what, args, message) => {
    const r = helm(['template', 'api', CHART, ...args]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).not.toMatch(/kind: Deployment/);
  });

  it(`lists the flags the workflow passes to Helm ${major} in upgrade --help and rollback --help, and refuses the other major's`, () => {
    const up = helm(['upgrade', '--help']).stdout;
    const back = helm(['rollback', '--help']).stdout;
    if (major === 4) {
      expect(up).toMatch(/--rollback-on-failure\s/);
      expect(up).toMatch(/--wait WaitStrategy\[=watcher\]/);
      expect(back).toMatch(/--wait WaitStrategy\[=watcher\]/);
      expect(up).not.toMatch(/--atomic/); // deprecated, so hidden from help
      expect(helm(['upgrade', 'x', CHART, '--wait=maybe']).stderr).toMatch(/invalid wait input "maybe"/);
    } else {
      expect(up).toMatch(/--atomic\s/);
      expect(up).not.toMatch(/--rollback-on-failure/);
      // Helm 3 has no --rollback-on-failure and no wait strategies: the version switch is required.
      expect(helm(['upgrade', 'x', CHART, '--rollback-on-failure']).stderr).toMatch(/unknown flag: --rollback-on-failure/);
      expect(helm(['rollback', 'x', '--wait=watcher']).stderr).toMatch(/invalid argument "watcher" for "--wait"/);
    }
    for (const help of [up, back]) expect(help).toMatch(/--timeout duration/);
  });

  describe("deploy-prod.yml's rollout and rollback steps, run by bash with the real helm against the loopback API server", () => {
    let cluster: KubeCluster;
    let dir: string;
    let argvLog: string;
    const broken = `${REPO}@${digest('f')}`;

    beforeAll(async () => {
      cluster = await startKubeCluster({ namespaces: ['shop'], failingImages: [broken] });
      dir = scratchDir(`hallmark-helm${major}-steps-`);
      // An argv recorder in front of the REAL helm (it runs the real binary with the same arguments
      // and returns its exit code): the test reads back exactly what the workflow's script passed.
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      argvLog = join(dir, 'argv.jsonl');
      writeFileSync(
        join(bin, 'helm'),
        `#!${process.execPath}\nconst { appendFileSync } = require('node:fs');\nconst { spawnSync } = require('node:child_process');\nappendFileSync(${JSON.stringify(argvLog)}, JSON.stringify(process.argv.slice(2)) + '\\n');\nconst r = spawnSync(${JSON.stringify(helmBin)}, process.argv.slice(2), { stdio: 'inherit' });\nprocess.exit(r.status ?? 1);\n`,
      );
      chmodSync(join(bin, 'helm'), 0o755);
      // The caller's checkout holds the chart (deploy-prod's `chart: ./charts/api`).
      cpSync(CHART, join(dir, 'work/charts/api'), { recursive: true });
    });
    afterAll(async () => {
      await cluster?.close();
    });

    async function runStep(job: string, name: string, env: Record<string, string>) {
      const n = Math.random().toString(36).slice(2, 8);
      const script = join(dir, `step-${n}.sh`);
      writeFileSync(script, stepScript(job, name));
      const [output, summary, temp] = [join(dir, `output-${n}`), join(dir, `summary-${n}`), join(dir, `temp-${n}`)];
      writeFileSync(output, '');
      mkdirSync(temp);
      const before = existsSync(argvLog) ? readFileSync(argvLog, 'utf8').split('\n').filter(Boolean).length : 0;
      let code = 0;
      let stdout = '';
      let stderr = '';
      try {
        // The runner's shell for `run:` (bash --noprofile --norc -eo pipefail {0}); asynchronous
        // because the API server helm talks to runs in this process.
        ({ stdout, stderr } = await execFileAsync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
          cwd: join(dir, 'work'),
          env: {
            PATH: `${join(dir, 'bin')}:/usr/bin:/bin`,
            HOME: home,
            RUNNER_TEMP: temp,
            GITHUB_OUTPUT: output,
            GITHUB_STEP_SUMMARY: summary,
            // The job's "Cluster access" steps leave KUBECONFIG in GITHUB_ENV for the rollout steps.
            KUBECONFIG: cluster.kubeconfig,
            NAMESPACE: 'shop',
            RELEASE: 'api',
            DEPLOYMENT: '',
            CONTAINER: '',
            // deploy-prod's workflow-level env: the mode the verify job resolved
            DEPLOY_MODE: 'helm',
            ...env,
          },
        }));
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        code = err.code ?? 1;
        stdout = err.stdout ?? '';
        stderr = err.stderr ?? '';
      }
      const argv = readFileSync(argvLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(before)
        .map((l) => JSON.parse(l) as string[]);
      return { code, stdout, stderr, argv, outputs: readFileSync(output, 'utf8') };
    }
    const rollout = (imageRef: string) => runStep('deploy', 'Roll out by digest', { IMAGE_REF: imageRef, CHART: './charts/api' });
    const rollback = () => runStep('rollback', 'Restore the previous release', { METHOD: 'helm' });
    const upgradeFlags =
      major === 4 ? ['--rollback-on-failure', '--wait=watcher', '--timeout', '5m'] : ['--atomic', '--wait', '--timeout', '5m'];
    const rollbackFlags = major === 4 ? ['--wait=watcher', '--timeout', '5m'] : ['--wait', '--timeout', '5m'];
    /** helm reading the release back from the API server (asynchronously: that server runs in this process). */
    const readBack = async (args: string[]) => {
      const { stdout } = await execFileAsync(helmBin, [...args, '--namespace', 'shop', '--kubeconfig', cluster.kubeconfig], {
        env: { PATH: '/usr/bin:/bin', HOME: home },
      });
      return JSON.parse(stdout) as unknown;
    };

    it('installs, then upgrades, by digest with the Helm-specific flags; helm stores real release Secrets', async () => {
      const first = await rollout(`${REPO}@${digest('a')}`);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).not.toMatch(/deprecated/i); // Helm 4 warns on --atomic and --wait=true
      expect(first.outputs).toContain('method=helm');
      const upgrade = [
        'upgrade',
        '--install',
        'api',
        './charts/api',
        '--namespace',
        'shop',
        ...upgradeFlags,
        '--set-string',
        `image.repository=${REPO}`,
        '--set-string',
        `image.digest=${digest('a')}`,
      ];
      expect(first.argv).toEqual([['version', '--template', '{{.Version}}'], upgrade]);
      expect(cluster.image('shop', 'api', 'hello')).toBe(`${REPO}@${digest('a')}`);

      const second = await rollout(`${REPO}@${digest('b')}`);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/Release "api" has been upgraded/);
      expect(cluster.image('shop', 'api', 'hello')).toBe(`${REPO}@${digest('b')}`);

      // The release Secrets are helm's own objects: type helm.sh/release.v1, labelled, with the values and manifest.
      const rels = cluster.releases('shop', 'api');
      expect(rels.map((r) => [r.version, r.info.status, r.labels.status, r.labels.owner, r.secretType])).toEqual([
        [1, 'superseded', 'superseded', 'helm', 'helm.sh/release.v1'],
        [2, 'deployed', 'deployed', 'helm', 'helm.sh/release.v1'],
      ]);
      expect(rels[1]!.config).toEqual({ image: { repository: REPO, digest: digest('b') } });
      expect(rels[1]!.manifest).toContain(`image: "${REPO}@${digest('b')}"`);
      expect(rels[1]!.chart.metadata).toMatchObject({ name: 'hello', version: '0.1.0' });
      expect(cluster.get('secrets', 'shop', 'sh.helm.release.v1.api.v2')?.metadata.labels).toMatchObject({
        name: 'api',
        owner: 'helm',
        status: 'deployed',
        version: '2',
      });

      // How each helm wrote the Deployment and waited for it.
      const reqs = cluster.requests();
      const patches = reqs
        .filter((r) => r.method === 'PATCH' && r.path === '/apis/apps/v1/namespaces/shop/deployments/api')
        .map((r) => String(r.headers['content-type']).split(';')[0]);
      const watched = reqs.some((r) => r.path === '/apis/apps/v1/namespaces/shop/deployments' && /[?&]watch=(true|1)/.test(r.url));
      if (major === 4) {
        // Server-side apply (install and upgrade), and the kstatus watcher's watch on Deployments.
        expect(patches).toEqual(['application/apply-patch+yaml', 'application/apply-patch+yaml']);
        expect(watched).toBe(true);
      } else {
        // A three-way strategic merge patch for the upgrade (install is a POST), and the legacy
        // waiter polls the Deployment and its ReplicaSets instead of watching.
        expect(patches).toEqual(['application/strategic-merge-patch+json']);
        expect(reqs.some((r) => r.method === 'POST' && r.path === '/apis/apps/v1/namespaces/shop/deployments')).toBe(true);
        expect(watched).toBe(false);
      }
    });

    it('the rollback step restores the previous digest; helm history and helm get values read it back', async () => {
      const seen = cluster.requests().length;
      const undo = await rollback();
      // Helm 4 waits for the rollback with the kstatus watcher (a watch on Deployments); Helm 3's --wait polls.
      const watchedNow = cluster
        .requests()
        .slice(seen)
        .some((r) => r.path === '/apis/apps/v1/namespaces/shop/deployments' && /[?&]watch=(true|1)/.test(r.url));
      expect(watchedNow).toBe(major === 4);
      expect(undo.code, undo.stderr).toBe(0);
      expect(undo.outputs).toContain('rolled-back=true');
      expect(undo.argv).toEqual([
        ['version', '--template', '{{.Version}}'],
        ['rollback', 'api', '--namespace', 'shop', ...rollbackFlags],
      ]);
      expect(cluster.image('shop', 'api', 'hello')).toBe(`${REPO}@${digest('a')}`);
      const history = (await readBack(['history', 'api', '-o', 'json'])) as { revision: number; status: string; description: string }[];
      expect(history.map((h) => [h.revision, h.status, h.description])).toEqual([
        [1, 'superseded', 'Install complete'],
        [2, 'superseded', 'Upgrade complete'],
        [3, 'deployed', 'Rollback to 1'],
      ]);
      expect(await readBack(['get', 'values', 'api', '-o', 'json'])).toEqual({ image: { repository: REPO, digest: digest('a') } });
      expect(await readBack(['get', 'values', 'api', '--revision', '2', '-o', 'json'])).toEqual({
        image: { repository: REPO, digest: digest('b') },
      });
      expect(cluster.releases('shop', 'api').at(-1)!.manifest).toContain(`image: "${REPO}@${digest('a')}"`);
    });

    it('a tag never reaches the cluster: the chart refuses it and nothing is stored', async () => {
      const secrets = cluster.releases('shop', 'api').length;
      const r = await runStep('deploy', 'Roll out by digest', { IMAGE_REF: `${REPO}@latest`, CHART: './charts/api' });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/image\.digest must be sha256/);
      expect(cluster.releases('shop', 'api')).toHaveLength(secrets);
      expect(cluster.image('shop', 'api', 'hello')).toBe(`${REPO}@${digest('a')}`);
    });

    if (major === 4)
      it('--rollback-on-failure: a rollout whose Deployment fails is rolled back by helm itself, and the step fails', async () => {
        const r = await rollout(broken);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/UPGRADE FAILED: release api failed, and has been rolled back due to rollback-on-failure being set/);
        expect(r.stderr).toMatch(/Deployment\/shop\/api not ready\. status: Failed/);
        expect(cluster.image('shop', 'api', 'hello')).toBe(`${REPO}@${digest('a')}`);
        const history = (await readBack(['history', 'api', '-o', 'json'])) as { revision: number; status: string; description: string }[];
        expect(history.slice(-2).map((h) => [h.revision, h.status])).toEqual([
          [4, 'failed'],
          [5, 'deployed'],
        ]);
        expect(history.at(-2)!.description).toMatch(/^Upgrade "api" failed: .*status: Failed/);
        expect(history.at(-1)!.description).toBe('Rollback to 3');
        expect(await readBack(['get', 'values', 'api', '-o', 'json'])).toEqual({ image: { repository: REPO, digest: digest('a') } });
      });
  });
});
