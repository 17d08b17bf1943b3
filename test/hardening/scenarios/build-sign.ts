/**
 * build-sign under the hardening suites.
 * - Canary: the real parts of test/build-sign (docker-registry with htpasswd, buildah on vfs, the
 *   real cosign 3 — key mode without a transparency log, keyless against the loopback Sigstore
 *   with GitHub OIDC), with canaries as the cosign key (a real encrypted key), its password, the
 *   registry password, the OIDC request token and runner tokens.
 * - Injection: argv-recording stand-ins for buildah and docker (lib.ts `argvStandIn`), so hostile
 *   builder output can be fed and the exact argv checked; the real cosign (behind
 *   test/build-sign's recorder), fed hostile text by a loopback registry's error answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { startGitHubServices, type GitHubServices } from '../../harness/github.js';
import { startServer, type TestServer } from '../../harness/server.js';
import { hasRegistry, startRegistry, type Registry } from '../../harness/registry.js';
import { runAction, runnerHome, type RunnerHome } from '../../harness/runner.js';
import { startSigstore, type LoopbackSigstore } from '../../harness/sigstore.js';
import { BUSYBOX, canaryKey, cosignCalls, hasBuildah, htpasswd, makeLab, writeContext, type Lab } from '../../harness/build-lab.js';
import { argvStandIn, auditRecordsIn, canary, readArgvLog, runnerTempLeftovers } from '../lib.js';
import type { ActionHardening, InjectionInput, Outcome } from './types.js';

let lab: Lab;
let open: Registry;
let authed: Registry;
let sigstore: LoopbackSigstore;
let gh: GitHubServices;
let key: { privateKey: string; publicKey: string };
let bin: string;
let scratch: string;
const KEY_PASSWORD = canary('cosign-password');
const REG_PASSWORD = canary('registry-password');
const DIGEST = `sha256:${'b'.repeat(64)}`;

const homes: RunnerHome[] = [];
const home = () => {
  const h = runnerHome('hallmark-hard-bs-');
  homes.push(h);
  return h;
};

/** Runner tokens the action never needs: they must not surface anywhere either. */
const ENV_CANARIES = ['env:GITHUB_TOKEN', 'env:ACTIONS_RUNTIME_TOKEN'];
const envOf = (c: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(c)
      .filter(([k]) => k.startsWith('env:'))
      .map(([k, v]) => [k.slice(4), v]),
  );

function realEnv(extra: Record<string, string> = {}): Record<string, string> {
  return lab.env(extra);
}
/** Key mode as an air-gapped runner signs: no transparency log (nothing here reaches a public Rekor). */
const NO_TLOG = { tlog: 'false' };
/** Keyless: real cosign 3 finds the loopback Fulcio/Rekor through these files. */
const loopbackSigstore = () => ({ 'signing-config': sigstore.signingConfigPath, 'trusted-root': sigstore.trustedRootPath });
/** PATH with the argv-recording buildah/docker first, then the real cosign (recorded in the lab's log). */
const standInPath = () => `${bin}:${realEnv().PATH}`;

/** A loopback "registry" answering every request 404 with `message` in its OCI error body, which cosign quotes. */
async function hostileRegistry(message: string): Promise<TestServer> {
  return startServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message }] }));
  });
}

/** A run over the argv-recording stand-ins: buildah writes its --digestfile, docker push prints a digest line; cosign is real. */
async function standIn(
  inputs: Record<string, string>,
  o: { env?: Record<string, string>; setup?: (ws: string) => void } = {},
): Promise<Outcome> {
  const h = home();
  writeContext(h.workspace);
  o.setup?.(h.workspace);
  const log = join(h.root, 'argv.jsonl');
  const r = await runAction('build-sign', {
    home: h,
    inputs: { image: 'ghcr.io/octo-org/shop', builder: 'buildah', context: 'app', sign: 'none', tags: 'sha-4f1c6b9', ...inputs },
    env: {
      PATH: standInPath(),
      HARDENING_ARGV_LOG: log,
      HARDENING_BUILDAH_SCRIPT: `const i = argv.indexOf('--digestfile'); if (i >= 0) fs.writeFileSync(argv[i + 1], ${JSON.stringify(DIGEST)});`,
      HARDENING_DOCKER_SCRIPT: `if (argv[0] === 'push') process.stdout.write(argv[1].split(':').pop() + ': digest: ${DIGEST} size: 528\\n');`,
      ...o.env,
    },
    timeoutMs: 30_000,
  });
  return { result: r, calls: readArgvLog(log) };
}

const refusedOr = (o: Outcome, ok: () => void) => {
  if (o.result.code === 1 && o.result.outputs['failure-reason'] === 'invalid-input') {
    expect(o.calls ?? [], 'nothing ran before the input was refused').toEqual([]);
    return;
  }
  ok();
};

const hardening: ActionHardening = {
  action: 'build-sign',
  missing: () =>
    !hasRegistry
      ? 'docker-registry is not installed'
      : !hasBuildah
        ? 'buildah is not installed'
        : !BUSYBOX
          ? 'busybox-static is not installed'
          : undefined,
  async start() {
    lab = makeLab();
    scratch = mkdtempSync(join(tmpdir(), 'hallmark-hard-bs-'));
    bin = join(scratch, 'bin');
    for (const t of ['buildah', 'docker']) argvStandIn(bin, t);
    open = await startRegistry();
    authed = await startRegistry({ htpasswd: await htpasswd(lab, 'ci-bot', REG_PASSWORD) });
    sigstore = await startSigstore(lab.dir);
    gh = await startGitHubServices();
    key = canaryKey(lab, KEY_PASSWORD);
  },
  async stop() {
    await gh?.close();
    await sigstore?.close();
    await open?.stop();
    await authed?.stop();
    lab?.cleanup();
    for (const h of homes.splice(0)) {
      try {
        rmSync(h.root, { recursive: true, force: true });
      } catch {
        /* vfs leftovers */
      }
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  },

  canary: [
    {
      name: 'key mode with a registry login: build, push, sign, verify, policy',
      labels: ['input:cosign-key', 'input:cosign-password', 'input:registry-password', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${authed.host}/octo-org/api`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'build-args': `NONCE=${randomBytes(6).toString('hex')}`,
            'registry-insecure': 'true',
            sign: 'key',
            'cosign-key': key.privateKey,
            'cosign-password': KEY_PASSWORD,
            ...NO_TLOG,
            'registry-username': 'ci-bot',
            'registry-password': REG_PASSWORD,
          },
          env: realEnv(envOf(c)),
          timeoutMs: 60_000,
        });
        expect(r.outputs.signed, r.stdout).toBe('true');
        // The 0600 auth file under RUNNER_TEMP is gone at the end; only the job's audit record stays.
        expect(runnerTempLeftovers(h.temp)).toEqual([]);
        expect(auditRecordsIn(h.temp).map((x) => [x.action, x.verdict])).toEqual([['build-sign', 'passed']]);
        return {
          result: r,
          scan: [authed.dir],
          values: {
            'input:cosign-key': key.privateKey,
            'input:cosign-password': KEY_PASSWORD,
            'input:registry-password': REG_PASSWORD,
            'auth:basic': Buffer.from(`ci-bot:${REG_PASSWORD}`).toString('base64'),
          },
        };
      },
    },
    {
      name: 'key mode with a wrong key password, after the registry login',
      labels: ['input:cosign-key', 'input:cosign-password', 'input:registry-password', ...ENV_CANARIES],
      expect: { code: 1, reason: 'sign-failed' },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${authed.host}/octo-org/api`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'registry-insecure': 'true',
            sign: 'key',
            'cosign-key': key.privateKey,
            'cosign-password': c['input:cosign-password'] as string,
            ...NO_TLOG,
            'registry-username': 'ci-bot',
            'registry-password': REG_PASSWORD,
          },
          env: realEnv(envOf(c)),
          timeoutMs: 60_000,
        });
        expect(runnerTempLeftovers(h.temp)).toEqual([]);
        expect(auditRecordsIn(h.temp).map((x) => [x.verdict, x.failureReason])).toEqual([['failed', 'sign-failed']]);
        return { result: r, scan: [authed.dir], values: { 'input:cosign-key': key.privateKey, 'input:registry-password': REG_PASSWORD } };
      },
    },
    {
      name: 'key mode with a wrong registry password',
      labels: ['input:cosign-key', 'input:cosign-password', 'input:registry-password', ...ENV_CANARIES],
      expect: { code: 1, reason: 'push-failed' },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${authed.host}/octo-org/api`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'registry-insecure': 'true',
            sign: 'key',
            'cosign-key': key.privateKey,
            'cosign-password': KEY_PASSWORD,
            ...NO_TLOG,
            'registry-username': 'ci-bot',
            'registry-password': c['input:registry-password'] as string,
          },
          env: realEnv(envOf(c)),
          timeoutMs: 60_000,
        });
        return { result: r, scan: [authed.dir], values: { 'input:cosign-key': key.privateKey, 'input:cosign-password': KEY_PASSWORD } };
      },
    },
    {
      name: 'key given as env://SIGNING_KEY: the variable is masked and its key printed nowhere',
      labels: ['env:SIGNING_KEY', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${open.host}/octo-org/shop`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'build-args': `NONCE=${randomBytes(6).toString('hex')}`,
            'registry-insecure': 'true',
            sign: 'key',
            'cosign-key': 'env://SIGNING_KEY',
            'cosign-password': KEY_PASSWORD,
            ...NO_TLOG,
          },
          env: realEnv({ ...envOf(c), SIGNING_KEY: key.privateKey }),
          timeoutMs: 60_000,
        });
        expect(r.outputs.signed, r.stdout).toBe('true');
        const masks = r.commands.filter((x) => x.command === 'add-mask').map((x) => x.value);
        expect(
          masks.some((m) => m.trim() === key.privateKey.trim()),
          'the key in SIGNING_KEY is registered with ::add-mask::',
        ).toBe(true);
        return { result: r, scan: [open.dir], values: { 'env:SIGNING_KEY': key.privateKey, 'input:cosign-password': KEY_PASSWORD } };
      },
    },
    {
      name: 'keyless: the OIDC request token goes only to the OIDC endpoint, in its Authorization header',
      labels: ['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN', ...ENV_CANARIES],
      expect: { code: 0 },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        gh.oidcRequestToken = c['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN'] as string;
        const mark = gh.requests.length;
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${open.host}/octo-org/shop`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'build-args': `NONCE=${randomBytes(6).toString('hex')}`,
            'registry-insecure': 'true',
            ...loopbackSigstore(),
          },
          env: realEnv({ ...gh.env, ...envOf(c) }),
          timeoutMs: 60_000,
        });
        expect(r.outputs.signed, r.stdout).toBe('true');
        const seen = gh.requests.slice(mark);
        expect(seen.some((q) => q.path === '/oidc/token')).toBe(true);
        return {
          result: r,
          scan: [open.dir],
          servers: [
            {
              name: 'github',
              requests: () => seen,
              allow: [{ label: 'env:ACTIONS_ID_TOKEN_REQUEST_TOKEN', header: 'authorization', path: /^\/oidc\/token$/ }],
            },
          ],
        };
      },
    },
    {
      name: 'keyless with an identity the token does not have (verify-failed)',
      labels: ['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN', ...ENV_CANARIES],
      expect: { code: 1, reason: 'verify-failed' },
      async run(c) {
        const h = home();
        writeContext(h.workspace);
        gh.oidcRequestToken = c['env:ACTIONS_ID_TOKEN_REQUEST_TOKEN'] as string;
        const mark = gh.requests.length;
        const r = await runAction('build-sign', {
          home: h,
          inputs: {
            image: `${open.host}/octo-org/shop`,
            builder: 'buildah',
            context: 'app',
            tags: 'sha-4f1c6b9',
            'build-args': `NONCE=${randomBytes(6).toString('hex')}`,
            'registry-insecure': 'true',
            identity: 'https://github.com/octo-org/other/.github/workflows/release.yml@refs/heads/main',
            ...loopbackSigstore(),
          },
          env: realEnv({ ...gh.env, ...envOf(c) }),
          timeoutMs: 60_000,
        });
        const seen = gh.requests.slice(mark);
        return {
          result: r,
          scan: [open.dir],
          servers: [
            {
              name: 'github',
              requests: () => seen,
              allow: [{ label: 'env:ACTIONS_ID_TOKEN_REQUEST_TOKEN', header: 'authorization', path: /^\/oidc\/token$/ }],
            },
          ],
        };
      },
    },
    {
      name: 'a tool that prints the registry password in pieces while the build streams (build-failed)',
      labels: ['input:registry-password', ...ENV_CANARIES],
      expect: { code: 1, reason: 'build-failed' },
      async run(c) {
        const pw = c['input:registry-password'] as string;
        // As a verbose or compromised builder could: the secret flushed in two writes, 300ms apart.
        const o = await standIn(
          { 'registry-username': 'ci-bot', 'registry-password': pw },
          {
            env: {
              HARDENING_BUILDAH_SCRIPT: `const s = env.HARDENING_SECRET; process.stdout.write('auth ' + s.slice(0, 12)); const t = Date.now() + 300; while (Date.now() < t); process.stdout.write(s.slice(12) + '\\n'); process.exitCode = 1;`,
              HARDENING_BUILDAH_EXIT: '1',
              HARDENING_SECRET: pw,
            },
          },
        );
        return o;
      },
    },
  ],

  injection: [
    {
      name: 'payload in build output, streamed while the build succeeds',
      kind: 'workflow',
      run: (p) => standIn({}, { env: { HARDENING_STDOUT: `step 1\n${p.payload}\n`, HARDENING_STDERR: `${p.payload}` } }),
      check: (o) => expect(o.result.code, o.result.stdout).toBe(0),
    },
    {
      name: 'payload in the stderr of a failing build (quoted in the error)',
      kind: 'workflow',
      run: (p) => standIn({}, { env: { HARDENING_STDERR: `${p.payload}\n`, HARDENING_BUILDAH_EXIT: '1' } }),
      check: (o) => {
        expect(o.result.outputs['failure-reason']).toBe('build-failed');
        expect(o.result.errors).toHaveLength(1);
      },
    },
    {
      name: 'payload in the real cosign sign error (quoted from a hostile registry answer)',
      kind: 'workflow',
      async run(p) {
        const hostile = await hostileRegistry(p.payload);
        try {
          const r = await runAction('build-sign', {
            home: home(),
            inputs: {
              image: `${hostile.url.replace(/^http:\/\//, '')}/octo-org/shop`,
              digest: DIGEST,
              'registry-insecure': 'true',
              sign: 'key',
              'cosign-key': key.privateKey,
              'cosign-password': KEY_PASSWORD,
              ...NO_TLOG,
            },
            env: realEnv(),
            timeoutMs: 60_000,
          });
          return { result: r };
        } finally {
          await hostile.close();
        }
      },
      check: (o, p) => {
        expect(o.result.outputs['failure-reason']).toBe('sign-failed');
        expect(o.result.errors).toHaveLength(1);
        expect(o.result.errors[0]).toContain('MANIFEST_UNKNOWN');
        // The hostile text did travel through real cosign into the log (inert).
        if (p.payload.includes(p.tag)) expect(o.result.stdout).toContain(p.tag);
      },
    },
    {
      name: 'payload in tags and image (refused as inputs)',
      kind: 'workflow',
      run: (p) => standIn({ tags: `v1,${p.payload}` }),
      check: (o) => expect(o.result.outputs['failure-reason']).toBe('invalid-input'),
    },
    {
      name: 'payload as a build-arg value',
      kind: 'workflow',
      run: (p) => standIn({ 'build-args': `NOTE=${p.payload}` }),
    },
    {
      name: 'shell payload as a build-arg value reaches buildah as one --build-arg',
      kind: 'shell',
      run: (p: InjectionInput) => standIn({ 'build-args': `NOTE=${p.payload}` }),
      check: (o, p) =>
        refusedOr(o, () => {
          const build = (o.calls ?? []).find((c) => c.tool === 'buildah' && c.argv[0] === 'build');
          expect(build, o.result.stdout).toBeDefined();
          const i = build!.argv.indexOf(`NOTE=${p.payload}`);
          expect(i, `argv ${JSON.stringify(build!.argv)}`).toBeGreaterThan(0);
          expect(build!.argv[i - 1]).toBe('--build-arg');
        }),
    },
    {
      name: 'shell payload as the context directory reaches buildah as one absolute path',
      kind: 'shell',
      run: (p: InjectionInput) =>
        standIn(
          { context: `ctx/${p.payload}`, file: 'app/Containerfile' },
          { setup: (ws) => mkdirSync(join(ws, 'ctx', p.payload), { recursive: true }) },
        ),
      check: (o, p) =>
        refusedOr(o, () => {
          const build = (o.calls ?? []).find((c) => c.tool === 'buildah' && c.argv[0] === 'build');
          expect(build, o.result.stdout).toBeDefined();
          expect(build!.argv.at(-1)).toBe(resolve(o.result.home.workspace, 'ctx', p.payload));
        }),
    },
    {
      name: 'shell payload as the Containerfile path reaches buildah as one --file argument',
      kind: 'shell',
      run: (p: InjectionInput) =>
        standIn(
          { file: `files/${p.payload}` },
          {
            setup: (ws) => {
              const f = join(ws, 'files', p.payload);
              mkdirSync(join(f, '..'), { recursive: true });
              writeFileSync(f, 'FROM scratch\n');
            },
          },
        ),
      check: (o, p) =>
        refusedOr(o, () => {
          const build = (o.calls ?? []).find((c) => c.tool === 'buildah' && c.argv[0] === 'build');
          expect(build, o.result.stdout).toBeDefined();
          const i = build!.argv.indexOf('--file');
          expect(build!.argv[i + 1]).toBe(resolve(o.result.home.workspace, 'files', p.payload));
        }),
    },
    {
      name: 'shell payload as the registry user (docker builder) is refused or one --username argument',
      kind: 'shell',
      run: (p: InjectionInput) => standIn({ builder: 'docker', 'registry-username': p.payload, 'registry-password': 'hardening-pw-1234' }),
      check: (o, p) =>
        refusedOr(o, () => {
          const login = (o.calls ?? []).find((c) => c.tool === 'docker' && c.argv[0] === 'login');
          expect(login).toBeDefined();
          expect(login!.argv.slice(1, 3)).toEqual(['--username', p.payload]);
        }),
    },
    {
      name: 'shell payload as tags is refused before any tool runs',
      kind: 'shell',
      run: (p: InjectionInput) => standIn({ tags: p.payload }),
      check: (o) => refusedOr(o, () => expect.fail(`a tag ${JSON.stringify(o.result.outputs.tags)} was accepted`)),
    },
  ],

  faults: [
    {
      name: 'the builder killed mid-build (connection to the daemon lost): build-failed, nothing signed, credentials file gone',
      async run() {
        const o = await standIn(
          { 'registry-username': 'ci-bot', 'registry-password': 'hardening-pw-5678' },
          { env: { HARDENING_STDERR: 'error: connection reset by peer\n', HARDENING_BUILDAH_EXIT: '137' } },
        );
        expect(o.result.outputs['failure-reason']).toBe('build-failed');
        expect((o.calls ?? []).some((c) => c.tool === 'cosign')).toBe(false);
        expect(runnerTempLeftovers(o.result.home.temp)).toEqual([]);
        expect(auditRecordsIn(o.result.home.temp).map((x) => [x.verdict, x.failureReason])).toEqual([['failed', 'build-failed']]);
      },
    },
    {
      name: 'push reports no digest (registry cut the upload): push-failed, nothing signed',
      async run() {
        const before = cosignCalls(lab).length;
        const o = await standIn(
          { sign: 'key', 'cosign-key': key.privateKey, 'cosign-password': KEY_PASSWORD, ...NO_TLOG },
          { env: { HARDENING_BUILDAH_SCRIPT: '/* writes no digest file */' } },
        );
        expect(o.result.outputs['failure-reason']).toBe('push-failed');
        // The real cosign was asked its version and the public key, and never to sign.
        expect(
          cosignCalls(lab)
            .slice(before)
            .map((c) => c.cmd),
        ).toEqual(['version', 'public-key']);
      },
    },
    {
      name: 'OIDC endpoint failing with 500s (keyless): sign-failed before anything is built',
      async run() {
        const h = home();
        writeContext(h.workspace);
        const log = join(h.root, 'argv.jsonl');
        gh.intercept = (req, res) => {
          if (req.path !== '/oidc/token') return false;
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('oidc down');
          return true;
        };
        try {
          const r = await runAction('build-sign', {
            home: h,
            inputs: { image: 'ghcr.io/octo-org/shop', builder: 'buildah', context: 'app', tags: 'sha-4f1c6b9' },
            env: { ...gh.env, PATH: standInPath(), HARDENING_ARGV_LOG: log },
            timeoutMs: 60_000,
          });
          expect(r.timedOut).toBe(false);
          expect(r.code).toBe(1);
          expect(r.outputs['failure-reason']).toBe('sign-failed');
          expect(r.errors[0]).toContain('id-token: write');
          expect(readArgvLog(log), 'nothing built or pushed').toEqual([]);
        } finally {
          gh.intercept = undefined;
        }
      },
    },
  ],
};

export default hardening;
