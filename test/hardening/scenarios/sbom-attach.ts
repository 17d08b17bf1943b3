/**
 * sbom-attach under the hardening suites, over real parts only: docker-registry with an image
 * built by buildah (test/sbom-attach/setup.ts), real syft 1.51.0 and real cosign 3.1.2 (key made by
 * `cosign generate-key-pair`; `tlog: false`, so nothing leaves the machine), the loopback artifact
 * service. `argvTracer` records the argv the action gives the real syft. Canaries: the cosign key
 * and its password, the registry password, the runtime token (only in the artifact service's
 * Authorization header). The uploaded artifact is scanned too.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fakeJwt, startGitHubServices, type GitHubServices } from '../../harness/github.js';
import { hasRegistry, startRegistry, type Registry } from '../../harness/registry.js';
import { runAction, runnerHome, type ActionResult } from '../../harness/runner.js';
import { startServer, type RecordedRequest, type TestServer } from '../../harness/server.js';
import { hasBuildah, pushTestImage, type PushedImage } from '../../sbom-attach/setup.js';
import { argvTracer, canary, readArgvLog, realToolsMissing, realToolsPath, toolPath } from '../lib.js';
import type { ActionHardening, Outcome } from './types.js';

let registry: Registry;
let authed: Registry;
let gh: GitHubServices;
let lab: string;
let bin: string;
let key: { privateKey: string; publicKey: string };
const KEY_PASSWORD = canary('cosign-password');
const REG_PASSWORD = canary('registry-password');
const basic = () => `Basic ${Buffer.from(`bot:${REG_PASSWORD}`).toString('base64')}`;
let n = 0;

const runtimeJwt = (c: string) => fakeJwt({ scp: 'Actions.GenericRead:0 Actions.Results:run-backend-1:job-backend-1', hardening: c });
const NO_OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

let toolsPath: string;

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...gh.env, ...NO_OIDC, PATH: toolsPath, ...extra };
}

async function sbom(
  inputs: Record<string, string>,
  e: Record<string, string | undefined> = {},
): Promise<{ r: ActionResult; requests: RecordedRequest[] }> {
  const mark = gh.requests.length;
  // Key mode without the transparency log: cosign talks to nothing but the registry.
  const r = await runAction('sbom-attach', {
    home: runnerHome('hallmark-hard-sbom-'),
    inputs: { 'registry-insecure': 'true', tlog: 'false', ...inputs },
    env: env(e),
    timeoutMs: 120_000,
  });
  return { r, requests: gh.requests.slice(mark) };
}

function outcome(r: ActionResult, requests: RecordedRequest[], c: Record<string, string>, artifact?: string): Outcome {
  const bytes = artifact ? gh.artifactBytes(artifact) : undefined;
  return {
    result: r,
    scan: [authed.dir],
    servers: [
      {
        name: 'github',
        requests: () => requests,
        allow: [{ label: 'env:ACTIONS_RUNTIME_TOKEN', header: 'authorization', path: /^\/twirp\// }],
      },
    ],
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

/** A path-mode run with the REAL syft behind an argv tracer; `setup` writes into the workspace first. */
async function withRealSyft(inputs: Record<string, string>, setup?: (workspace: string) => void): Promise<Outcome> {
  const log = join(lab, `argv-${++n}.jsonl`);
  const home = runnerHome('hallmark-hard-sbom-');
  setup?.(home.workspace);
  const r = await runAction('sbom-attach', {
    home,
    inputs: { upload: 'false', attach: 'none', ...inputs },
    env: { ...env(), PATH: `${bin}:${toolsPath}`, HARDENING_ARGV_LOG: log },
    timeoutMs: 60_000,
  });
  return { result: r, calls: readArgvLog(log) };
}

/**
 * A hostile registry on loopback: `/v2/` answers, every manifest request gets a 404 whose error
 * message is `message()`. Real syft prints that message in its error (go-containerregistry's
 * `MANIFEST_UNKNOWN: <message>`).
 */
let hostile: TestServer;
const LOCK = {
  name: 'inner',
  version: '1.2.3',
  lockfileVersion: 3,
  packages: {
    '': { name: 'inner', version: '1.2.3', dependencies: { ms: '2.1.3' } },
    'node_modules/ms': { version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', license: 'MIT' },
  },
};
let hostileMessage = '';

/** A proxy in front of the real registry that lets reads through and refuses every write (503). */
let readOnly: TestServer;

const hardening: ActionHardening = {
  action: 'sbom-attach',
  missing: () =>
    !hasRegistry
      ? 'docker-registry is not installed'
      : !hasBuildah
        ? 'buildah or busybox-static is not installed'
        : realToolsMissing(['syft', 'cosign']),
  async start() {
    lab = mkdtempSync(join(tmpdir(), 'hallmark-hard-sbom-'));
    bin = join(lab, 'bin');
    argvTracer(bin, 'syft');
    toolsPath = realToolsPath(['syft', 'cosign']);
    const bcrypt = (await import('bcryptjs')).default;
    const file = join(lab, 'htpasswd');
    writeFileSync(file, `bot:${bcrypt.hashSync(REG_PASSWORD, 5)}\n`);
    registry = await startRegistry();
    authed = await startRegistry({ htpasswd: file });
    gh = await startGitHubServices();
    const g = spawnSync(toolPath('cosign'), ['generate-key-pair'], {
      cwd: lab,
      env: { PATH: '/usr/bin:/bin', HOME: lab, COSIGN_PASSWORD: KEY_PASSWORD },
      encoding: 'utf8',
    });
    if (g.status !== 0) throw new Error(`cosign generate-key-pair: ${g.stderr}`);
    hostile = await startServer((req, res) => {
      if (req.path === '/v2/' || req.path === '/v2') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{}');
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: hostileMessage, detail: hostileMessage }] }));
    });
    readOnly = await startServer(async (req, res) => {
      if (!['GET', 'HEAD'].includes(req.method)) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'read-only maintenance' }] }));
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host') headers[k] = v;
      const up = await fetch(`${registry.url}${req.url}`, { method: req.method, headers, redirect: 'manual' });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (!['content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
      });
      res.writeHead(up.status, out);
      res.end(req.method === 'HEAD' ? undefined : Buffer.from(await up.arrayBuffer()));
    });
    key = { privateKey: readFileSync(join(lab, 'cosign.key'), 'utf8'), publicKey: readFileSync(join(lab, 'cosign.pub'), 'utf8') };
  },
  async stop() {
    await gh?.close();
    await hostile?.close();
    await readOnly?.close();
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
          {
            image: img.ref,
            'cosign-key': key.privateKey,
            'cosign-password': KEY_PASSWORD,
            'sign-blob': 'true',
            'registry-username': 'bot',
            'registry-password': REG_PASSWORD,
            'artifact-name': name,
          },
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
        expect(
          masks.some((m) => m.trim() === key.privateKey.trim()),
          'the key in SBOM_KEY is registered with ::add-mask::',
        ).toBe(true);
        const o = outcome(r, requests, c, name);
        o.values = {
          'env:SBOM_KEY': key.privateKey,
          'input:cosign-password': KEY_PASSWORD,
          'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string),
        };
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
          {
            image: img.ref,
            'cosign-key': key.privateKey,
            'cosign-password': c['input:cosign-password'] as string,
            'registry-username': 'bot',
            'registry-password': REG_PASSWORD,
            upload: 'false',
          },
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
          {
            image: img.ref,
            'registry-username': 'bot',
            'registry-password': c['input:registry-password'] as string,
            attach: 'referrer',
            upload: 'false',
          },
          { ACTIONS_RUNTIME_TOKEN: runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string) },
        );
        const o = outcome(r, requests, c);
        o.values = {
          'input:registry-password': c['input:registry-password'] as string,
          'env:ACTIONS_RUNTIME_TOKEN': runtimeJwt(c['env:ACTIONS_RUNTIME_TOKEN'] as string),
        };
        return o;
      },
    },
  ],

  injection: [
    {
      name: 'payload in the registry’s error, as real syft prints it (syft fails)',
      kind: 'workflow',
      serial: true,
      async run(p) {
        hostileMessage = p.payload;
        const ref = `${hostile.url.replace(/^http:\/\//, '')}/octo-org/shop@sha256:${'a'.repeat(64)}`;
        const r = await runAction('sbom-attach', {
          home: runnerHome('hallmark-hard-sbom-'),
          inputs: { image: ref, 'registry-insecure': 'true', attach: 'none', upload: 'false' },
          env: env(),
          timeoutMs: 60_000,
        });
        return { result: r };
      },
      check: (o, p) => {
        expect(o.result.outputs['failure-reason']).toBe('generate-failed');
        // Real syft did print the hostile registry's message (shown inert, inside stop-commands).
        if (p.payload.includes(p.tag)) expect(o.result.stdout).toContain(p.tag);
      },
    },
    {
      name: 'payload as a package’s version and licence in the scanned lock file (real syft writes it into the SBOM)',
      kind: 'workflow',
      run: (p) =>
        withRealSyft({ path: '.', format: 'spdx-json,cyclonedx-json' }, (ws) => {
          // A directory scan reads lock files (syft's declared-package catalogers), not bare package.json files.
          writeFileSync(
            join(ws, 'package-lock.json'),
            JSON.stringify({
              name: 'app',
              version: '1.0.0',
              lockfileVersion: 3,
              packages: {
                '': { name: 'app', version: '1.0.0', license: p.payload },
                'node_modules/evil': {
                  version: p.payload,
                  license: p.payload,
                  resolved: 'https://registry.npmjs.org/evil/-/evil-1.0.0.tgz',
                },
              },
            }),
          );
        }),
      check: (o, p) => {
        expect(o.result.outputs['failure-reason'] ?? '', o.result.stdout).toBe('');
        expect(o.calls?.map((c) => c.tool)).toEqual(['syft']);
        // The payload reached the SBOM files through real syft (and from there the summary's licence column).
        if (p.payload.includes(p.tag))
          for (const f of String(o.result.outputs.sbom ?? '').split('\n')) expect(readFileSync(f, 'utf8')).toContain(p.tag);
      },
    },
    {
      name: 'payload in service and artifact-name (refused as inputs)',
      kind: 'workflow',
      run: (p) => withRealSyft({ path: '.', service: p.payload }),
      check: (o) => {
        expect(o.result.outputs['failure-reason']).toBe('invalid-input');
        expect(o.calls).toEqual([]);
      },
    },
    {
      name: 'shell payload as the scanned path reaches the real syft as one argument',
      kind: 'shell',
      run: (p) =>
        withRealSyft({ path: `src/${p.payload}`, service: 'shop' }, (ws) => {
          mkdirSync(join(ws, 'src', p.payload), { recursive: true });
          // A directory scan reads lock files (syft's declared-package catalogers), not bare package.json files.
          writeFileSync(join(ws, 'src', p.payload, 'package-lock.json'), JSON.stringify(LOCK));
        }),
      check: (o, p) => {
        if (o.result.outputs['failure-reason'] === 'invalid-input') return expect(o.calls ?? []).toEqual([]);
        expect(o.result.outputs['failure-reason'] ?? '', o.result.stdout).toBe('');
        const syft = (o.calls ?? [])[0];
        expect(syft, o.result.stdout).toBeDefined();
        const abs = join(o.result.home.workspace, 'src', p.payload);
        expect(
          syft!.argv.some((a) => a === `dir:${abs}`),
          JSON.stringify(syft!.argv),
        ).toBe(true);
        // syft really read that directory: the lock file's two packages (the app and ms) are the SBOM's.
        expect(o.result.outputs['package-count']).toBe(String(Object.keys(LOCK.packages).length));
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
      name: 'a registry that serves reads but refuses writes (503): the referrer push is attach-failed, the SBOM kept',
      async run() {
        const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
        const ref = `${readOnly.url.replace(/^http:\/\//, '')}/${img.repo}@${img.digest}`;
        const { r } = await sbom({ image: ref, attach: 'referrer', upload: 'false' });
        expect(r.timedOut).toBe(false);
        expect(r.code).toBe(1);
        expect(r.outputs['failure-reason'], r.stdout).toBe('attach-failed');
        expect(r.errors[0]).toMatch(/503|UNAVAILABLE|read-only/);
        expect(String(r.outputs.sbom ?? '')).not.toBe('');
        expect((await fetch(`${registry.url}/v2/${img.repo}/manifests/${img.digest.replace(':', '-')}`)).status).toBe(404);
      },
    },
    {
      name: 'the same registry refusing cosign’s attestation push: attach-failed, nothing attached',
      async run() {
        const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
        const ref = `${readOnly.url.replace(/^http:\/\//, '')}/${img.repo}@${img.digest}`;
        const { r } = await sbom({ image: ref, 'cosign-key': key.privateKey, 'cosign-password': KEY_PASSWORD, upload: 'false' });
        expect(r.timedOut).toBe(false);
        expect(r.outputs['failure-reason'], r.stdout).toBe('attach-failed');
        expect(r.errors[0]).toMatch(/cosign attest \(spdxjson\) failed/);
        expect((await fetch(`${registry.url}/v2/${img.repo}/manifests/${img.digest.replace(':', '-')}`)).status).toBe(404);
      },
    },
  ],
};

export default hardening;
