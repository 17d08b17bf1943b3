/**
 * deploy-prod's verify job with `require-provenance: true`, rehearsed from a caller (octo-org/shop)
 * with the same YAML and dist/ bundles: verify-image runs the REAL cosign 3.1.2 against images the
 * real cosign signed AND attested (`cosign attest --type slsaprovenance1`, key mode, no transparency
 * log: no Rekor is reachable) in a real loopback registry; then the real kubectl rolls the good one
 * out to the loopback Kubernetes API server (./kube.ts, SIMULATED) and smoke-test checks it over
 * real HTTP. GitHub itself and Slack are simulated (lab.ts).
 *
 * The provenance predicates are written here in build-sign's format (test/verify-image/lab.ts
 * `provenance()`), until build-sign attaches its own in the rehearsed pipeline.
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rehearse } from '../../packages/rehearse/src/engine.js';
import { startServer, type TestServer } from '../harness/server.js';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';
import { provenance, SHA, token } from '../verify-image/lab.js';
import { startKubeCluster, type KubeCluster } from './kube.js';
import { COSIGN_NO_TLOG, hasRealParts, missingBundles, startLab, type PipelineLab } from './lab.js';

const needed = ['verify-image', 'smoke-test', 'slack-notify'];
const missing = missingBundles(needed);
if (!hasRealParts || missing.length)
  console.warn(
    `deploy-prod provenance rehearsal skipped: ${!hasRealParts ? 'real parts missing (docker-registry, buildah, busybox-static)' : `not built yet: ${missing.join(', ')}`}`,
  );

const CALLER = 'octo-org/shop';
const BUILDER = 'https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml';

describe.skipIf(!hasRealParts || missing.length > 0)(
  'deploy-prod admits only what build-sign-scan built for the caller (SLSA provenance)',
  () => {
    let lab: PipelineLab;
    let app: TestServer;
    let kube: KubeCluster;
    let repo: string;
    let before: string;
    let sigstore: LoopbackSigstore;
    const images: Record<string, string> = {};

    async function attest(ref: string, predicate: unknown): Promise<void> {
      const f = join(mkdtempSync(join(lab.dir, 'pred-')), 'provenance.json');
      writeFileSync(f, JSON.stringify(predicate));
      await lab.cosign(
        ['attest', '--yes', '--type', 'slsaprovenance1', '--predicate', f, '--key', 'env://LAB_COSIGN_KEY', ...COSIGN_NO_TLOG, ref],
        { LAB_COSIGN_KEY: lab.cosignKey, COSIGN_PASSWORD: lab.cosignPassword },
      );
    }

    beforeAll(async () => {
      lab = await startLab();
      before = lab.buildImage('shop/api', { 'version.txt': 'before\n' });
      const cases: Record<string, Parameters<typeof provenance>[0] | undefined> = {
        good: { builder: `${BUILDER}@${SHA}`, repository: CALLER },
        foreignRepo: { builder: `${BUILDER}@refs/tags/v1`, repository: 'evil-org/shop' },
        foreignBuilder: { builder: 'https://github.com/evil-org/ci/.github/workflows/build.yml@refs/heads/main', repository: CALLER },
        featureBranch: { builder: `${BUILDER}@refs/tags/v1.2.3`, repository: CALLER, ref: 'refs/heads/feature' },
        none: undefined,
      };
      for (const [name, pred] of Object.entries(cases)) {
        const ref = lab.buildImage('shop/api', { 'version.txt': `${name}\n` });
        await lab.sign(ref);
        if (pred) await attest(ref, provenance(pred));
        images[name] = ref;
      }
      // Keyless, as build-sign-scan signs: the loopback Sigstore (test/harness/sigstore.ts) issues
      // the certificate for the job_workflow_ref and repository claims of a token made here.
      sigstore = await startSigstore(mkdtempSync(join(lab.dir, 'sigstore-')));
      const keyless = ['--signing-config', sigstore.signingConfigPath, '--trusted-root', sigstore.trustedRootPath];
      for (const [name, jwr] of [
        ['keylessSha', `hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@${SHA}`],
        ['keylessFork', `evil-org/hallmark/.github/workflows/build-sign-scan.yml@${SHA}`],
      ] as const) {
        const ref = lab.buildImage('shop/api', { 'version.txt': `${name}\n` });
        const env = { SIGSTORE_ID_TOKEN: token({ job_workflow_ref: jwr, repository: CALLER }) };
        await lab.cosign(['sign', '--yes', ...keyless, ref], env);
        const f = join(mkdtempSync(join(lab.dir, 'pred-')), 'provenance.json');
        writeFileSync(f, JSON.stringify(provenance({ builder: `https://github.com/${jwr}`, repository: CALLER })));
        await lab.cosign(['attest', '--yes', '--type', 'slsaprovenance1', '--predicate', f, ...keyless, ref], env);
        images[name] = ref;
      }
      kube = await startKubeCluster({ deployment: { namespace: 'shop', name: 'api', container: 'api', image: before } });
      app = await startServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'up' }));
      });
      repo = mkdtempSync(join(lab.dir, 'repo-'));
      const files: Record<string, string> = {
        '.github/workflows/deploy.yml': `name: deploy
on:
  workflow_dispatch:
    inputs:
      image-ref: { type: string, required: true }
      require-provenance: { type: string, default: 'true' }
      tlog: { type: string, default: 'false' }
      trusted-root: { type: string, default: '' }
permissions: {}
jobs:
  deploy:
    permissions:
      contents: read
      packages: read
      id-token: write
    uses: hallmark-dev/hallmark/.github/workflows/deploy-prod.yml@main
    with:
      environment: staging
      image-ref: \${{ inputs.image-ref }}
      working-directory: ''
      deployment: api
      container: api
      namespace: shop
      checks: smoke.yml
      # The lab signs and attests in key mode without a transparency log (keyless: the loopback Rekor).
      tlog: \${{ inputs.tlog == 'true' }}
      trusted-root: \${{ inputs.trusted-root }}
      require-provenance: \${{ inputs.require-provenance == 'true' }}
      require-default-branch: true
    secrets: inherit
`,
        'sigstore/trusted_root.json': readFileSync(sigstore.trustedRootPath, 'utf8'),
        'smoke.yml': `defaults: { retries: 1, interval: 50ms, timeout: 2s }\nchecks:\n  - name: api health\n    http:\n      url: ${app.url}/healthz\n      expect: { status: 200 }\n`,
      };
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(dirname(join(repo, p)), { recursive: true });
        writeFileSync(join(repo, p), text);
      }
    }, 240_000);
    afterAll(async () => {
      await app?.close();
      await kube?.close();
      await sigstore?.close();
      await lab?.close();
    });

    async function deploy(imageRef: string, inputs: Record<string, string> = {}, keyless = false) {
      let log = '';
      const runDir = mkdtempSync(join(lab.dir, 'run-'));
      const record = await rehearse({
        workflow: '.github/workflows/deploy.yml',
        root: repo,
        repository: CALLER,
        event: 'workflow_dispatch',
        inputs: { 'image-ref': imageRef, ...inputs },
        secrets: {
          ...(keyless ? {} : { COSIGN_PUBLIC_KEY: lab.cosignPub }),
          SLACK_WEBHOOK_URL: lab.slackUrl,
          KUBE_CONFIG: kube.kubeconfigText,
        },
        approve: true,
        // Every step's log (verify-image's own lines are asserted, also on success).
        verbose: true,
        ref: 'refs/heads/main',
        defaultBranch: 'main',
        env: lab.env,
        runDir,
        out: {
          write: (s: string) => {
            log += s;
            if (process.env.REHEARSE_LOG) appendFileSync(process.env.REHEARSE_LOG, s);
          },
        },
      });
      const job = (id: string) => record.jobs.find((j) => j.name === `deploy / ${id}`);
      rmSync(runDir, { recursive: true, force: true });
      return { record, log, job };
    }

    it('good provenance (build-sign-scan @<sha>, built for octo-org/shop from main): verified, rolled out by digest, smoke-tested', async () => {
      const { record, log, job } = await deploy(images.good!);
      expect(record.status, log).toBe('success');
      expect(job('verify')!.status).toBe('success');
      expect(job('verify')!.steps.find((s) => s.id === 'verified')?.status).toBe('success');
      expect(log).toContain(`Provenance verified: built by ${BUILDER}@${SHA} from ${CALLER} at refs/heads/main (${SHA})`);
      expect(record.realTools.cosign?.version).toBeTruthy();
      expect(kube.image('shop', 'api', 'api')).toBe(images.good);
      expect(job('smoke')!.status).toBe('success');
    });

    it.each([
      ['foreignRepo', 'buildDefinition.externalParameters.workflow.repository'],
      ['foreignBuilder', 'runDetails.builder.id'],
      ['featureBranch', 'buildDefinition.externalParameters.workflow.ref'],
      ['none', 'attestation'],
    ])('%s: signed, but stopped at verify with provenance-rejected (%s); nothing rolled out', async (name, field) => {
      const running = kube.image('shop', 'api', 'api');
      const { record, log, job } = await deploy(images[name]!);
      expect(record.status).toBe('failure');
      expect(job('verify')!.status).toBe('failure');
      // The verify-image step (by its id `verified`) is the one that failed.
      expect(job('verify')!.steps.find((s) => s.id === 'verified')?.status).toBe('failure');
      expect(log).toMatch(/verify-image: .*provenance/);
      if (field === 'attestation') expect(log).toContain('no SLSA provenance attestation verifies in the signer policy');
      else expect(log).toContain(`provenance ${field} is `);
      for (const j of ['plan', 'apply', 'deploy', 'smoke', 'rollback']) expect(job(j)!.status).toBe('skipped');
      expect(job('notify')!.status).toBe('success');
      expect(kube.image('shop', 'api', 'api')).toBe(running);
    });

    it('require-provenance: false deploys the same signed image that has no provenance (the knob is real)', async () => {
      const { record, log, job } = await deploy(images.none!, { 'require-provenance': 'false' });
      expect(record.status, log).toBe('success');
      expect(job('verify')!.status).toBe('success');
      expect(log).not.toContain('Provenance verified');
      expect(kube.image('shop', 'api', 'api')).toBe(images.none);
    });

    describe('keyless, as build-sign-scan signs (loopback Fulcio and Rekor, trusted-root from the caller’s repository)', () => {
      const KEYLESS = { tlog: 'true', 'trusted-root': 'sigstore/trusted_root.json' };
      it('a caller that pins build-sign-scan @<sha>: signature and provenance verify in the default policy, and it deploys', async () => {
        const { record, log, job } = await deploy(images.keylessSha!, KEYLESS, true);
        expect(record.status, log).toBe('success');
        expect(job('verify')!.steps.find((s) => s.id === 'verified')?.status).toBe('success');
        expect(log).toContain(`Provenance verified: built by ${BUILDER}@${SHA} from ${CALLER} at refs/heads/main`);
        expect(kube.image('shop', 'api', 'api')).toBe(images.keylessSha);
      });
      it('the same workflow file from a fork: identity-rejected at verify, nothing rolled out', async () => {
        const running = kube.image('shop', 'api', 'api');
        const { record, log, job } = await deploy(images.keylessFork!, KEYLESS, true);
        expect(record.status).toBe('failure');
        expect(job('verify')!.steps.find((s) => s.id === 'verified')?.status).toBe('failure');
        expect(log).toContain('verify-image: the signature is not from the allowed signer');
        expect(job('deploy')!.status).toBe('skipped');
        expect(kube.image('shop', 'api', 'api')).toBe(running);
      });
    });
  },
);
