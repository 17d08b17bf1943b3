/**
 * build-sign-scan, then deploy-prod, rehearsed end to end against a REAL docker-registry that
 * requires a login (htpasswd, Basic auth), with GitHub's isolation: every job has its own HOME,
 * RUNNER_TEMP, container storage and no login carried over from another job (the rehearsal
 * enforces it, packages/rehearse/src/isolation.ts). So each job that touches the registry must log
 * in itself: registry-login with the REGISTRY_USERNAME / REGISTRY_PASSWORD secrets, into one config
 * under RUNNER_TEMP that buildah, trivy, syft and cosign all read, removed by its post step.
 * Then the same pipeline with ONE login removed, for each job that has one: it must fail in that
 * job, where GitHub would. Real: docker-registry, buildah, trivy 0.74, syft, cosign 3, helm 4,
 * kubectl. Simulated: GitHub (the rehearsal and its loopback services), Slack (a sink) and the
 * Kubernetes API server (./kube.ts).
 */
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.js';
import { startRegistryGate } from '../../packages/rehearse/src/registry-gate.js';
import { createTokenBook } from '../../packages/rehearse/src/rules.js';
import { startRegistry } from '../harness/registry.js';
import { ROOT } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { BUSYBOX, hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'smoke-test', 'slack-notify', 'registry-login', 'verify-image']);
if (!hasRealParts || missing.length)
  console.warn(
    `htpasswd rehearsal skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing (docker-registry, buildah, busybox-static)'}`,
  );

const USER = 'ci-bot';
/** Callers pin the reusable workflows by commit SHA, as SECURITY.md tells them to (the rehearsal maps any ref to this checkout). */
const PIN = execFileSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
const PASSWORD = `canary-registry-pw-${randomBytes(6).toString('hex')}`;

/** A hallmark root whose reusable workflows are copies with the registry-login step of `job` removed (actions and dist are this checkout's). */
function rootWithoutLogin(dir: string, workflow: string, job: string): string {
  const root = mkdtempSync(join(dir, `no-login-${job}-`));
  symlinkSync(join(ROOT, 'actions'), join(root, 'actions'));
  symlinkSync(join(ROOT, 'dist'), join(root, 'dist'));
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  for (const f of readdirSync(join(ROOT, '.github', 'workflows')))
    copyFileSync(join(ROOT, '.github', 'workflows', f), join(root, '.github', 'workflows', f));
  const file = join(root, '.github', 'workflows', workflow);
  const doc = parseDocument(readFileSync(file, 'utf8'));
  const steps = doc.getIn(['jobs', job, 'steps']) as { items: { get(k: string): unknown }[] };
  const before = steps.items.length;
  steps.items = steps.items.filter((s) => !String(s.get('uses') ?? '').includes('/actions/registry-login@'));
  if (steps.items.length !== before - 1) throw new Error(`${workflow}: job ${job} has no registry-login step to remove`);
  writeFileSync(file, doc.toString());
  return root;
}

describe.skipIf(!hasRealParts || missing.length > 0)(
  'a registry with htpasswd auth: every job logs in itself (callers pinned @<sha>)',
  () => {
    let lab: PipelineLab;
    let cluster: KubeCluster;
    let app: TestServer;
    let repo: string;
    let record: RunRecord;
    let log = '';
    let htDir: string;
    const job = (name: string) => record.jobs.find((j) => j.name === name);

    const secrets = () => ({
      REGISTRY_USERNAME: USER,
      REGISTRY_PASSWORD: PASSWORD,
      COSIGN_PRIVATE_KEY: lab.cosignKey,
      COSIGN_PASSWORD: lab.cosignPassword,
      COSIGN_PUBLIC_KEY: lab.cosignPub,
      SLACK_WEBHOOK_URL: lab.slackUrl,
      KUBE_CONFIG: cluster.kubeconfigText,
    });

    async function run(workflow: string, opts: { hallmarkRoot?: string; inputs?: Record<string, string>; event?: string } = {}) {
      let out = '';
      const r = await rehearse({
        workflow,
        root: repo,
        event: opts.event ?? 'push',
        ...(opts.inputs ? { inputs: opts.inputs } : {}),
        secrets: secrets(),
        approve: true,
        ref: 'refs/heads/main',
        env: lab.env,
        ...(opts.hallmarkRoot ? { hallmarkRoot: opts.hallmarkRoot } : {}),
        runDir: mkdtempSync(join(lab.dir, 'run-')),
        out: {
          write: (s: string) => {
            out += s;
            if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
          },
        },
      });
      return { record: r, log: out };
    }

    beforeAll(async () => {
      const bcrypt = (await import('bcryptjs')).default;
      htDir = mkdtempSync(join(tmpdir(), 'hallmark-htpasswd-'));
      const ht = join(htDir, 'htpasswd');
      writeFileSync(ht, `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
      lab = await startLab({ registry: await startRegistry({ htpasswd: ht }) });
      cluster = await startKubeCluster({ namespaces: ['shop'] });
      app = await startServer((_req, res) => {
        const up = cluster.image('shop', 'api', 'hello') !== undefined;
        res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: up ? 'up' : 'down' }));
      });
      repo = mkdtempSync(join(lab.dir, 'repo-'));
      const image = (name = 'api') => `image:
    permissions: { contents: read, packages: write, security-events: write, actions: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@${PIN}
    with:
      image: ${lab.registry.host}/shop/${name}
      context: api
      file: api/Containerfile
      builder: buildah
      sign: key
      tlog: false  # no public Rekor here
      registry-insecure: true
      sbom-generator: trivy
      scanners: secret
    # The names build-sign-scan declares are the names GitHub stores: inherit passes them as they are.
    secrets: inherit`;
      const files: Record<string, string> = {
        '.github/workflows/ship.yml': `name: ship
on: push
permissions: {}
jobs:
  ${image()}
  deploy:
    needs: image
    permissions: { contents: read, packages: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@${PIN}
    with:
      environment: staging
      image-ref: \${{ needs.image.outputs.image-ref }}
      working-directory: ''
      chart: ./charts/api
      release: api
      namespace: shop
      checks: smoke.yml
      tlog: false
    secrets: inherit
`,
        // One image per variant below: artifact names are per image, and the lab's artifact service outlives a run.
        ...Object.fromEntries(
          ['build', 'scan', 'sbom', 'sign'].map((j) => [
            `.github/workflows/image-${j}.yml`,
            `name: image\non: push\npermissions: {}\njobs:\n  ${image(`no-login-${j}`)}\n`,
          ]),
        ),
        '.github/workflows/deploy.yml': `name: deploy
on:
  workflow_dispatch:
    inputs:
      image-ref: { type: string, required: true }
permissions: {}
jobs:
  deploy:
    permissions: { contents: read, packages: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: staging
      image-ref: \${{ inputs.image-ref }}
      working-directory: ''
      chart: ./charts/api
      release: api
      namespace: shop
      checks: smoke.yml
      tlog: false
    secrets: inherit
`,
        'api/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n',
        'api/www/index.html': 'hello\n',
        'smoke.yml': `defaults: { retries: 2, interval: 50ms, timeout: 5s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200, json: { path: status, equals: up } }\n  - name: api rollout\n    k8s: { rollout: deployment/api, namespace: shop }\n`,
      };
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(dirname(join(repo, p)), { recursive: true });
        writeFileSync(join(repo, p), text);
      }
      copyFileSync(BUSYBOX as string, join(repo, 'api/busybox'));
      cpSync(join(ROOT, 'examples/chart'), join(repo, 'charts/api'), { recursive: true });
      ({ record, log } = await run('.github/workflows/ship.yml'));
    }, 600_000);
    afterAll(async () => {
      await app?.close();
      await cluster?.close();
      await lab?.close();
      if (htDir) rmSync(htDir, { recursive: true, force: true });
    });

    it('the registry really asks for a login', async () => {
      expect((await fetch(`${lab.registry.url}/v2/`)).status).toBe(401);
      expect(
        (
          await fetch(`${lab.registry.url}/v2/`, {
            headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}` },
          })
        ).status,
      ).toBe(200);
    });

    it('goes green through every job, each logging in once and logging out at its end', () => {
      expect(record.status, log).toBe('success');
      for (const j of [
        'image / build',
        'image / scan',
        'image / sbom',
        'image / sign',
        'deploy / verify',
        'deploy / deploy',
        'deploy / smoke',
        'deploy / notify',
      ])
        expect(job(j)?.status, j).toBe('success');
      for (const j of ['image / build', 'image / scan', 'image / sbom', 'image / sign', 'deploy / verify']) {
        const steps = job(j)!.steps;
        const login = steps.filter((s) => s.uses?.includes('/actions/registry-login@') && !s.post);
        expect(
          login.map((s) => [s.status, s.outputs?.['logged-in']]),
          j,
        ).toEqual([['success', 'true']]);
        // The post step ran at the job's end and removed the config.
        expect(
          steps.filter((s) => s.post && /registry/.test(s.name)).map((s) => s.status),
          j,
        ).toEqual(['success']);
      }
      expect(job('deploy')!.outputs.deployed).toBe('true');
    });

    it('leaves no registry credentials behind in any job directory, and prints the password nowhere', () => {
      const left: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.name === 'hallmark-registry-login') left.push(p);
          else if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
        }
      };
      walk(record.runDir);
      expect(left).toEqual([]);
      expect(log).not.toContain(PASSWORD);
      expect(log).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
      expect(readFileSync(record.recordFile, 'utf8')).not.toContain(PASSWORD);
    });

    it('signed and attested the digest in the authenticated registry (the real cosign verifies it with a login of its own)', async () => {
      const ref = job('image / build')!.outputs['image-ref']!;
      const cfg = mkdtempSync(join(lab.dir, 'verify-auth-'));
      writeFileSync(
        join(cfg, 'config.json'),
        JSON.stringify({ auths: { [lab.registry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
      );
      const out = JSON.parse(
        await lab.cosign(['verify', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', ref], {
          LAB_COSIGN_PUB: lab.cosignPub,
          DOCKER_CONFIG: cfg,
        }),
      ) as { critical: { image: { 'docker-manifest-digest': string } } }[];
      expect(out[0]!.critical.image['docker-manifest-digest']).toBe(job('image / build')!.outputs.digest);
      await expect(
        lab.cosign(['verify', '--key', 'env://LAB_COSIGN_PUB', '--insecure-ignore-tlog=true', ref], {
          LAB_COSIGN_PUB: lab.cosignPub,
          DOCKER_CONFIG: mkdtempSync(join(lab.dir, 'no-auth-')),
        }),
      ).rejects.toThrow();
      expect(cluster.image('shop', 'api', 'hello')).toBe(ref);
    });

    // Removing one job's login: that job fails, where GitHub would (nothing carries over from the job
    // before it), and what depends on it does not run.
    it.each([
      ['build-sign-scan.yml', 'build', 'image / build', ['image / scan', 'image / sbom', 'image / sign']],
      ['build-sign-scan.yml', 'scan', 'image / scan', ['image / sign']],
      ['build-sign-scan.yml', 'sbom', 'image / sbom', ['image / sign']],
      ['build-sign-scan.yml', 'sign', 'image / sign', []],
    ])('without the login in %s job %s, %s fails', { timeout: 600_000 }, async (wf, jobId, failing, skipped) => {
      const r = await run(`.github/workflows/image-${jobId}.yml`, { hallmarkRoot: rootWithoutLogin(lab.dir, wf, jobId) });
      const j = (n: string) => r.record.jobs.find((x) => x.name === n);
      expect(r.record.status).toBe('failure');
      expect(j(failing)?.status, r.log).toBe('failure');
      // ...because the registry refused an anonymous client, not for any other reason.
      expect(r.log).toMatch(/401|unauthori[sz]ed|authentication required/i);
      for (const s of skipped) expect(j(s)?.status, s).toBe('skipped');
      for (const other of ['image / build', 'image / scan', 'image / sbom'].filter((n) => n !== failing && !skipped.includes(n)))
        expect(j(other)?.status, other).toBe('success');
      expect(r.log).not.toContain(PASSWORD);
    });

    it('without the login in deploy-prod’s verify job, verify fails and nothing is deployed', { timeout: 600_000 }, async () => {
      const ref = job('image / build')!.outputs['image-ref']!;
      const releases = cluster.releases('shop', 'api').length;
      const r = await run('.github/workflows/deploy.yml', {
        event: 'workflow_dispatch',
        inputs: { 'image-ref': ref },
        hallmarkRoot: rootWithoutLogin(lab.dir, 'deploy-prod.yml', 'verify'),
      });
      const j = (n: string) => r.record.jobs.find((x) => x.name === n);
      expect(j('deploy / verify')?.status, r.log).toBe('failure');
      expect(r.log).toMatch(/401|unauthori[sz]ed|authentication required/i);
      for (const n of ['deploy / plan', 'deploy / apply', 'deploy / deploy', 'deploy / smoke']) expect(j(n)?.status, n).toBe('skipped');
      expect(cluster.releases('shop', 'api')).toHaveLength(releases);
    });
  },
);

/**
 * The GHCR path: no registry secret at all; every job logs in with `github.actor` and its own job
 * token, which the registry accepts for pulls with `packages: read` and pushes with `packages:
 * write`. GHCR's token check is SIMULATED (packages/rehearse/src/registry-gate.ts, in front of the
 * REAL htpasswd registry, which only the gate can log in to); the jobs' tokens and permissions are
 * the rehearsal's (rehearse({ tokenBook })).
 */
describe.skipIf(!hasRealParts || missing.length > 0)('GHCR-style: the job token with the job’s packages permission', () => {
  let lab: PipelineLab;
  let gate: Awaited<ReturnType<typeof startRegistryGate>>;
  let repo: string;
  let book: ReturnType<typeof createTokenBook>;
  let htDir: string;

  beforeAll(async () => {
    const bcrypt = (await import('bcryptjs')).default;
    htDir = mkdtempSync(join(tmpdir(), 'hallmark-htpasswd-'));
    writeFileSync(join(htDir, 'htpasswd'), `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
    const upstream = await startRegistry({ htpasswd: join(htDir, 'htpasswd') });
    book = createTokenBook();
    gate = await startRegistryGate({ upstream: upstream.url, auth: { username: USER, password: PASSWORD }, book });
    lab = await startLab({
      registry: {
        host: gate.host,
        url: gate.url,
        dir: upstream.dir,
        stop: async () => {
          await gate.close();
          await upstream.stop();
        },
      },
    });
    repo = mkdtempSync(join(lab.dir, 'repo-'));
    const files: Record<string, string> = {
      '.github/workflows/image.yml': `name: image
on: push
permissions: {}
jobs:
  image:
    permissions: { contents: read, packages: write, security-events: write, actions: read, id-token: write }
    uses: hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@${PIN}
    with:
      image: ${gate.host}/shop/api
      github-registry: ${gate.host}  # "GHCR" here is the loopback gate
      context: api
      file: api/Containerfile
      builder: buildah
      sign: key
      tlog: false
      registry-insecure: true
      sbom-generator: trivy
      scanners: secret
    secrets:
      COSIGN_PRIVATE_KEY: \${{ secrets.COSIGN_PRIVATE_KEY }}
      COSIGN_PASSWORD: \${{ secrets.COSIGN_PASSWORD }}
`,
      'api/Containerfile': 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n',
      'api/www/index.html': 'hello\n',
    };
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, p)), { recursive: true });
      writeFileSync(join(repo, p), text);
    }
    copyFileSync(BUSYBOX as string, join(repo, 'api/busybox'));
  }, 300_000);
  afterAll(async () => {
    await lab?.close();
    if (htDir) rmSync(htDir, { recursive: true, force: true });
  });

  async function run(hallmarkRoot?: string) {
    let log = '';
    const record = await rehearse({
      workflow: '.github/workflows/image.yml',
      root: repo,
      event: 'push',
      secrets: { COSIGN_PRIVATE_KEY: lab.cosignKey, COSIGN_PASSWORD: lab.cosignPassword },
      ref: 'refs/heads/main',
      env: lab.env,
      tokenBook: book,
      ...(hallmarkRoot ? { hallmarkRoot } : {}),
      runDir: mkdtempSync(join(lab.dir, 'run-')),
      out: {
        write: (s: string) => {
          log += s;
          if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
        },
      },
    });
    return { record, log, job: (n: string) => record.jobs.find((j) => j.name === n) };
  }

  it('builds, scans, writes the SBOM and signs with each job’s own token: pushes only from the jobs with packages: write', {
    timeout: 600_000,
  }, async () => {
    const seenBefore = gate.seen.length;
    const { record, log, job } = await run();
    expect(record.status, log).toBe('success');
    for (const j of ['image / build', 'image / scan', 'image / sbom', 'image / sign']) {
      const login = job(j)!.steps.find((s) => s.uses?.includes('/actions/registry-login@') && !s.post);
      expect(login?.outputs?.['logged-in'], j).toBe('true');
    }
    const seen = gate.seen.slice(seenBefore).filter((e) => e.status !== undefined && e.status < 400);
    const writers = [...new Set(seen.filter((e) => ['PUT', 'POST', 'PATCH'].includes(String(e.method))).map((e) => e.job))].sort();
    expect(writers).toEqual(['image / build', 'image / sign']);
    const readers = new Set(seen.filter((e) => ['GET', 'HEAD'].includes(String(e.method)) && e.path !== '/v2/').map((e) => e.job));
    for (const j of ['image / scan', 'image / sbom']) expect(readers.has(j), j).toBe(true);
    // The job tokens are masked: none reaches the log.
    for (const token of book.keys()) expect(log).not.toContain(token);
  });

  it('a build job granted only packages: read cannot push: GHCR answers 403 and the build fails', { timeout: 600_000 }, async () => {
    const root = mkdtempSync(join(lab.dir, 'read-only-build-'));
    symlinkSync(join(ROOT, 'actions'), join(root, 'actions'));
    symlinkSync(join(ROOT, 'dist'), join(root, 'dist'));
    mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
    const doc = parseDocument(readFileSync(join(ROOT, '.github', 'workflows', 'build-sign-scan.yml'), 'utf8'));
    doc.setIn(['jobs', 'build', 'permissions', 'packages'], 'read');
    writeFileSync(join(root, '.github', 'workflows', 'build-sign-scan.yml'), doc.toString());
    const seenBefore = gate.seen.length;
    const { record, log, job } = await run(root);
    expect(record.status).toBe('failure');
    expect(job('image / build')!.status, log).toBe('failure');
    expect(gate.seen.slice(seenBefore).some((e) => e.job === 'image / build' && e.status === 403)).toBe(true);
    for (const j of ['image / scan', 'image / sbom', 'image / sign']) expect(job(j)!.status, j).toBe('skipped');
  });
});
