/**
 * sbom-attach under the hardening suites, over the real parts of test/sbom-attach (docker-registry
 * with a real image, the syft and cosign stand-ins, the loopback artifact service). Canaries: the
 * cosign key (a real encrypted key) and its password, the registry password, the runtime token
 * (only in the artifact service's Authorization header). The uploaded artifact is scanned too.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fakeJwt, startGitHubServices, type GitHubServices } from '../../harness/github.js';
import { hasFixtures } from '../../harness/fixtures.js';
import { hasRegistry, startRegistry, type Registry } from '../../harness/registry.js';
import { runAction, runnerHome, type ActionResult } from '../../harness/runner.js';
import type { RecordedRequest } from '../../harness/server.js';
import { startSigstore, type LoopbackSigstore } from '../../build-sign/sigstore.js';
import { pushTestImage, STAND_INS, type PushedImage } from '../../sbom-attach/setup.js';
import { argvStandIn, canary, readArgvLog } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let registry: Registry;
let authed: Registry;
let gh: GitHubServices;
let sigstore: LoopbackSigstore;
let lab: string;
let bin: string;
let key: { privateKey: string; publicKey: string };
const KEY_PASSWORD = canary('cosign-password');
const REG_PASSWORD = canary('registry-password');
const basic = () => `Basic ${Buffer.from(`bot:${REG_PASSWORD}`).toString('base64')}`;
let n = 0;

const runtimeJwt = (c: string) => fakeJwt({ scp: 'Actions.GenericRead:0 Actions.Results:run-backend-1:job-backend-1', hardening: c });
const NO_OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...gh.env,
    ...NO_OIDC,
    PATH: `${STAND_INS}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    COSIGN_STANDIN_SIGSTORE_URL: sigstore.url,
    COSIGN_STANDIN_TRUSTED_ROOT: sigstore.trustedRootPath,
    ...extra,
  };
}

async function sbom(inputs: Record<string, string>, e: Record<string, string | undefined> = {}): Promise<{ r: ActionResult; requests: RecordedRequest[] }> {
  const mark = gh.requests.length;
  const r = await runAction('sbom-attach', { home: runnerHome('hallmark-hard-sbom-'), inputs: { 'registry-insecure': 'true', ...inputs }, env: env(e), timeoutMs: 90_000 });
  return { r, requests: gh.requests.slice(mark) };
}

function outcome(r: ActionResult, requests: RecordedRequest[], c: Record<string, string>, artifact?: string): Outcome {
  const bytes = artifact ? gh.artifactBytes(artifact) : undefined;
  return {
    result: r,
    scan: [authed.dir],
    servers: [{ name: 'github', requests: () => requests, allow: [{ label: 'env:ACTIONS_RUNTIME_TOKEN', header: 'authorization', path: /^\/twirp\// }] }],
    blobs: bytes ? [{ name: `artifact ${artifact}`, data: bytes }] : [],
    values: {
      'input:cosign-key': key.privateKey,
      'input:cosign-password': KEY_PASSWORD,
      'input:registry-password': REG_PASSWORD,
      'auth:basic': Buffer.from(`bot:${REG_PASSWORD}`).toString('base64'),
      ...(c['env:ACTIONS_RUNTIME_TOKEN'] ? { 'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN']) } : {}),
    },
  };
}

const privateImage = (): Promise<PushedImage> => pushTestImage(authed, 'octo-org/private', randomBytes(6).toString('hex'), basic());
const LABELS = ['input:cosign-key', 'input:cosign-password', 'input:registry-password', 'env:ACTIONS_RUNTIME_TOKEN'];

/** A run with an argv-recording `syft` that prints what the test asks (hostile generator output). */
async function withFakeSyft(inputs: Record<string, string>, e: Record<string, string>, setup?: (workspace: string) => void): Promise<Outcome> {
  const log = join(lab, `argv-${++n}.jsonl`);
  const home = runnerHome('hallmark-hard-sbom-');
  setup?.(home.workspace);
  const r = await runAction('sbom-attach', {
    home,
    inputs: { upload: 'false', attach: 'none', ...inputs },
    env: { ...env(), PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HARDENING_ARGV_LOG: log, ...e },
    timeoutMs: 30_000,
  });
  return { result: r, calls: readArgvLog(log) };
}

const hardening: ActionHardening = {
  action: 'sbom-attach',
  missing: () => (!hasRegistry ? 'docker-registry is not installed' : !hasFixtures ? 'the recorded syft outputs (../shared/fixtures) are absent' : undefined),
  async start() {
    lab = mkdtempSync(join(tmpdir(), 'hallmark-hard-sbom-'));
    bin = join(lab, 'bin');
    argvStandIn(bin, 'syft');
    const bcrypt = (await import('bcryptjs')).default;
    const file = join(lab, 'htpasswd');
    writeFileSync(file, `bot:${bcrypt.hashSync(REG_PASSWORD, 5)}\n`);
    registry = await startRegistry();
    authed = await startRegistry({ htpasswd: file });
    gh = await startGitHubServices();
    sigstore = await startSigstore(lab);
    execFileSync(process.execPath, [join(STAND_INS, 'cosign'), 'generate-key-pair'], { cwd: lab, env: { PATH: process.env.PATH, COSIGN_PASSWORD: KEY_PASSWORD }, stdio: 'pipe' });
    key = { privateKey: readFileSync(join(lab, 'cosign.key'), 'utf8'), publicKey: readFileSync(join(lab, 'cosign.pub'), 'utf8') };
  },
  async stop() {
    await gh?.close();
    await sigstore?.close();
    await registry?.stop();
    await authed?.stop();
    if (lab) rmSync(lab, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'private image: SBOM generated with the login, attested and sign-blob’d with the key, uploaded',
      labels: LABELS,
      expect: { code: 0 },
      async run(c) {
        const img = await privateImage();
        const name = `sbom-canary-${++n}`;
        const { r, requests } = await sbom(
          { image: img.ref, 'cosign-key': key.privateKey, 'cosign-password': KEY_PASSWORD, 'sign-blob': 'true', 'registry-username': 'bot', 'registry-password': REG_PASSWORD, 'artifact-name': name },
          { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        expect(gh.artifacts.get(name)?.finalized, r.stdout).toBe(true);
        return outcome(r, requests, c, name);
      },
    },
    {
      name: 'key given as env://SBOM_KEY: the variable is masked and its key printed nowhere',
      labels: ['env:SBOM_KEY', 'env:ACTIONS_RUNTIME_TOKEN'],
      expect: { code: 0 },
      async run(c) {
        const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
        const name = `sbom-envkey-${++n}`;
        const { r, requests } = await sbom(
          { image: img.ref, 'cosign-key': 'env://SBOM_KEY', 'cosign-password': KEY_PASSWORD, 'sign-blob': 'true', 'artifact-name': name },
          { SBOM_KEY: key.privateKey, ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        expect(r.code, r.stdout).toBe(0);
        const masks = r.commands.filter((x) => x.command === 'add-mask').map((x) => x.value);
        expect(masks.some((m) => m.trim() === key.privateKey.trim()), 'the key in SBOM_KEY is registered with ::add-mask::').toBe(true);
        const o = outcome(r, requests, c, name);
        o.values = { 'env:SBOM_KEY': key.privateKey, 'input:cosign-password': KEY_PASSWORD, 'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) };
        return o;
      },
    },
    {
      name: 'wrong key password: the attestation fails (attach-failed) after the SBOM was generated',
      labels: LABELS,
      expect: { code: 1, reason: 'attach-failed' },
      async run(c) {
        const img = await privateImage();
        const { r, requests } = await sbom(
          { image: img.ref, 'cosign-key': key.privateKey, 'cosign-password': c['input:cosign-password'] as string, 'registry-username': 'bot', 'registry-password': REG_PASSWORD, upload: 'false' },
          { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        const o = outcome(r, requests, c);
        o.values = { ...o.values, 'input:cosign-password': c['input:cosign-password'] as string };
        return o;
      },
    },
    {
      name: 'wrong registry password: generate-failed (the registry refuses)',
      labels: ['input:registry-password', 'env:ACTIONS_RUNTIME_TOKEN'],
      expect: { code: 1, reason: 'generate-failed' },
      async run(c) {
        const img = await privateImage();
        const { r, requests } = await sbom(
          { image: img.ref, 'registry-username': 'bot', 'registry-password': c['input:registry-password'] as string, attach: 'referrer', upload: 'false' },
          { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        const o = outcome(r, requests, c);
        o.values = { 'input:registry-password': c['input:registry-password'] as string, 'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) };
        return o;
      },
    },
  ],

  injection: [
    {
      name: 'payload in the generator’s output and error (syft fails)',
      kind: 'workflow',
      run: (p) => withFakeSyft({ path: '.' }, { HARDENING_STDOUT: p.payload, HARDENING_STDERR: p.payload, HARDENING_EXIT: '1' }),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('generate-failed'),
    },
    {
      name: 'payload as an SBOM file the generator wrote (bad-sbom)',
      kind: 'workflow',
      run: (p) =>
        withFakeSyft({ path: '.' }, {
          HARDENING_SYFT_SCRIPT: `for (const a of argv) { const m = /=(\\/.*)$/.exec(a) || (a.startsWith('/') && a.endsWith('.json') ? [0, a] : null); if (m) try { fs.writeFileSync(m[1], env.HARDENING_PAYLOAD); } catch {} }`,
          HARDENING_PAYLOAD: p.payload,
        }),
    },
    {
      name: 'payload in service and artifact-name (refused as inputs)',
      kind: 'workflow',
      run: (p) => withFakeSyft({ path: '.', service: p.payload }, {}),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('invalid-input'),
    },
    {
      name: 'shell payload as the scanned path reaches syft as one argument',
      kind: 'shell',
      run: (p) => withFakeSyft({ path: `src/${p.payload}`, service: 'shop' }, { HARDENING_EXIT: '1' }, (ws) => mkdirSync(join(ws, 'src', p.payload), { recursive: true })),
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        expect(o.result.outputs['failure-reason']).toBe('generate-failed');
        const syft = (o.calls ?? [])[0];
        expect(syft, o.result.stdout).toBeDefined();
        const abs = join(o.result.home.workspace, 'src', p.payload);
        expect(syft!.argv.some((a) => a === abs || a === `dir:${abs}`), JSON.stringify(syft!.argv)).toBe(true);
      },
    },
  ],

  faults: [
    {
      name: 'artifact service failing on upload (5xx): upload-failed, bounded',
      async run() {
        const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
        let hits = 0;
        gh.intercept = (req, res) => {
          if (!req.path.startsWith('/twirp/')) return false;
          hits++;
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'unavailable', msg: 'artifact service down' }));
          return true;
        };
        try {
          const { r } = await sbom({ image: img.ref, attach: 'none', 'artifact-name': `sbom-fault-${++n}` });
          expect(r.timedOut).toBe(false);
          expect(r.code).toBe(1);
          expect(r.outputs['failure-reason']).toBe('upload-failed');
          expect(hits).toBeGreaterThan(0);
          expect(hits).toBeLessThanOrEqual(10);
          // The SBOM itself was still written (reports survive a failed upload).
          expect(String(r.outputs.sbom ?? '')).not.toBe('');
        } finally {
          gh.intercept = undefined;
        }
      },
    },
    {
      name: 'the registry gone mid-run (referrer push refused): attach-failed, the SBOM kept',
      async run() {
        const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
        const reg2 = await startRegistry();
        try {
          const copy = await pushTestImage(reg2, 'octo-org/shop', randomBytes(6).toString('hex'));
          void img;
          // Stop the registry once the generator is done: syft is a stand-in that reads first, so stop after it starts.
          const run = sbom({ image: copy.ref, attach: 'referrer', upload: 'false' }, { SYFT_STANDIN_LOG: join(lab, `syft-${++n}.jsonl`) });
          const logFile = join(lab, `syft-${n}.jsonl`);
          for (let i = 0; i < 200; i++) {
            try {
              if (readFileSync(logFile, 'utf8').length > 0) break;
            } catch {
              /* not yet */
            }
            await new Promise((res) => setTimeout(res, 50));
          }
          await reg2.stop();
          const { r } = await run;
          expect(r.timedOut).toBe(false);
          expect(r.code).toBe(1);
          expect(['attach-failed', 'generate-failed']).toContain(r.outputs['failure-reason']);
        } finally {
          await reg2.stop();
        }
      },
    },
  ],
};

export default hardening;
