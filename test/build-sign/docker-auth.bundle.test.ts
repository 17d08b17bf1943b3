/**
 * The `docker` builder for real (docker CLI → `podman system service` as the daemon, classic
 * builder, `docker push` reporting the digest), and registry login against a real registry with
 * htpasswd auth: the registry password is a canary that must not survive anywhere. Signing is
 * the real cosign 3 in key mode without a transparency log (no network here beyond the registries).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getManifest, hasRegistry, type Registry, startRegistry } from '../harness/registry.js';
import { runAction, visibleLog, type ActionResult } from '../harness/runner.js';
import { canaryKey, cosignCalls, hasBuildah, htpasswd, leaks, makeLab, startPodman, writeContext, type Lab } from '../harness/build-lab.js';
import { cleanupTracked, trackedHome } from '../harness/tracked.js';

const PASSWORD = `canary-key-pw-${randomBytes(6).toString('hex')}`;
const REG_PASSWORD = `canary-registry-pw-${randomBytes(6).toString('hex')}`;

let lab: Lab;
let open: Registry;
let authed: Registry;
let podman: Awaited<ReturnType<typeof startPodman>>;
let key: { privateKey: string; publicKey: string };

beforeAll(async () => {
  if (!hasRegistry) return;
  lab = makeLab();
  open = await startRegistry();
  authed = await startRegistry({ htpasswd: await htpasswd(lab, 'ci-bot', REG_PASSWORD) });
  podman = await startPodman(lab, [open.host, authed.host]);
  key = canaryKey(lab, PASSWORD);
});
afterAll(async () => {
  cleanupTracked();
  await podman?.stop();
  await open?.stop();
  await authed?.stop();
  lab?.cleanup();
});

const env = (extra: Record<string, string> = {}) => lab.env(extra);

function noLeak(r: ActionResult, needles: string[]): void {
  for (const n of needles) {
    expect(visibleLog(r)).not.toContain(n);
    expect(r.stderr).not.toContain(n);
    expect(r.summary).not.toContain(n);
    expect(JSON.stringify(r.outputs)).not.toContain(n);
  }
  // The whole runner home (temp, workspace, the docker config under HOME) and the registries.
  expect(leaks([r.home.root, open.dir, authed.dir], needles)).toEqual([]);
}

describe('docker builder through podman system service', () => {
  it('builds with docker build, takes the digest from docker push, signs and verifies it', async (ctx) => {
    if (!podman) ctx.skip();
    const home = trackedHome();
    writeContext(home.workspace);
    const nonce = randomBytes(8).toString('hex');
    const r = await runAction('build-sign', {
      home,
      inputs: {
        image: `${open.host}/octo-org/web`,
        builder: 'docker',
        context: 'app',
        file: 'app/Containerfile',
        tags: 'sha-4f1c6b9,v2',
        'build-args': `NONCE=${nonce}`,
        'registry-insecure': 'true',
        sign: 'key',
        'cosign-key': key.privateKey,
        'cosign-password': PASSWORD,
        tlog: 'false',
        platforms: 'linux/amd64',
      },
      env: env(podman!.env),
      timeoutMs: 45_000,
    });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const m = await getManifest(open.url, 'octo-org/web', 'sha-4f1c6b9');
    expect(r.outputs.digest).toBe(m.digest);
    expect((await getManifest(open.url, 'octo-org/web', 'v2')).digest).toBe(m.digest);
    expect(r.stdout).toMatch(/Pushing: docker push .*:sha-4f1c6b9/);
    expect(r.outputs.signed).toBe('true');
    // cosign 3 stores the signature bundle as a referrer: the referrers tag `sha256-<hex>` (no .sig tag).
    expect((await getManifest(open.url, 'octo-org/web', m.digest!.replace(':', '-'))).status).toBe(200);
    noLeak(r, [PASSWORD, ...key.privateKey.split('\n').filter((l) => l.length > 20)]);
  });
  // docker login through podman's compat API is not tested here: podman's /auth pings the registry
  // over HTTPS whatever registries.conf says, so it cannot log in to a plain-HTTP loopback registry
  // (dockerd treats 127.0.0.0/8 as insecure and would). The login/logout sequence is unit-tested.
});

describe('buildah with registry login', () => {
  it('pushes and signs through a 0600 auth file under RUNNER_TEMP that is gone afterwards', async (ctx) => {
    if (!hasBuildah) ctx.skip();
    const home = trackedHome();
    writeContext(home.workspace);
    const before = cosignCalls(lab).length;
    const r = await runAction('build-sign', {
      home,
      inputs: {
        image: `${authed.host}/octo-org/api`,
        builder: 'buildah',
        context: 'app',
        'build-args': `NONCE=${randomBytes(8).toString('hex')}`,
        'registry-insecure': 'true',
        sign: 'key',
        'cosign-key': key.privateKey,
        'cosign-password': PASSWORD,
        tlog: 'false',
        'registry-username': 'ci-bot',
        'registry-password': REG_PASSWORD,
      },
      env: env(),
      timeoutMs: 45_000,
    });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.signed).toBe('true');
    expect(
      cosignCalls(lab)
        .slice(before)
        .map((c) => c.cmd),
    ).toEqual(['version', 'public-key', 'sign', 'verify']);
    const { readdirSync, readFileSync } = await import('node:fs');
    // The credentials file is gone; what is left is this run's audit record, without a secret in it.
    expect(readdirSync(home.temp)).toEqual(['hallmark-audit.jsonl']);
    const records = readFileSync(`${home.temp}/hallmark-audit.jsonl`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toEqual([
      expect.objectContaining({
        action: 'build-sign',
        verdict: 'passed',
        subject: { image: `${authed.host}/octo-org/api`, digest: r.outputs.digest },
        facts: expect.objectContaining({
          builder: 'buildah',
          pushed: true,
          signed: true,
          'signing-mode': 'key',
          'signer-identity': r.outputs.identity,
          'cosign-version': 'v3.1.2',
          tlog: false,
        }),
      }),
    ]);
    noLeak(r, [REG_PASSWORD, Buffer.from(`ci-bot:${REG_PASSWORD}`).toString('base64'), PASSWORD]);
  });

  it('fails with push-failed on a wrong registry password', async () => {
    const home = trackedHome();
    writeContext(home.workspace);
    const r = await runAction('build-sign', {
      home,
      inputs: {
        image: `${authed.host}/octo-org/api`,
        builder: 'buildah',
        context: 'app',
        'registry-insecure': 'true',
        sign: 'none',
        'registry-username': 'ci-bot',
        'registry-password': 'wrong-password-xyz',
      },
      env: env(),
      timeoutMs: 45_000,
    });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('push-failed');
  });
});
