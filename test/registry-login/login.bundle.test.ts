/**
 * registry-login's bundle, run as the runner runs it, against a REAL docker-registry with htpasswd
 * (Basic) auth, and the REAL tools reading the config it writes: cosign 3, syft, trivy 0.74
 * (DOCKER_CONFIG, go-containerregistry's keychain), buildah and skopeo (REGISTRY_AUTH_FILE,
 * containers-auth.json). Each tool is also run with only the OTHER variable, to record which one it
 * honours (the reason the action exports both). The post step runs the same bundle with the state
 * the main step saved. The password is a canary that must appear nowhere but the config file.
 * Nothing simulated but GitHub's runner (test/harness/runner.ts); a recording loopback server stands
 * for a registry that must never see the job token.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistry, htpasswdFile, startRegistry, type Registry } from '../harness/registry.js';
import { runAction, runtimes, visibleLog, type ActionResult } from '../harness/runner.js';
import { startServer, type TestServer } from '../harness/server.js';
import { toolPath } from '../harness/tools.js';

const run = promisify(execFile);
const PASSWORD = `canary-registry-pw-${randomBytes(6).toString('hex')}`;
const TOKEN = `ghs_canary${randomBytes(10).toString('hex')}`;
const hasBuildah = existsSync('/usr/bin/buildah') && existsSync('/usr/bin/skopeo');

let dir: string;
let registry: Registry;
let ghcr: Registry;
let sink: TestServer;
let image: string;
let storageEnv: Record<string, string>;

beforeAll(async () => {
  if (!hasRegistry || !hasBuildah) return;
  dir = mkdtempSync(join(tmpdir(), 'hallmark-registry-login-'));
  registry = await startRegistry({ htpasswd: await htpasswdFile(dir, 'ci-bot', PASSWORD) });
  // "GHCR": a registry that accepts github.actor with the job token.
  ghcr = await startRegistry({ htpasswd: await htpasswdFile(dir, 'octocat', TOKEN) });
  sink = await startServer((_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
    res.end();
  });
  const conf = join(dir, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${join(dir, 'storage/root')}"\nrunroot = "${join(dir, 'storage/run')}"\n`);
  storageEnv = { CONTAINERS_STORAGE_CONF: conf, BUILDAH_ISOLATION: 'chroot' };
  // One small image in the authenticated registry, pushed with an auth file of the test's own.
  const ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(join(ctx, 'hello.txt'), 'hello\n');
  writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
  const auth = join(dir, 'seed-auth.json');
  writeFileSync(auth, JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`ci-bot:${PASSWORD}`).toString('base64') } } }));
  const env = { ...process.env, ...storageEnv, HOME: dir };
  const tag = `${registry.host}/octo-org/app:seed`;
  await run('buildah', ['bud', '--format', 'oci', '-f', join(ctx, 'Containerfile'), '-t', tag, ctx], { env });
  await run('buildah', ['push', '--tls-verify=false', '--authfile', auth, '--digestfile', join(dir, 'digest'), tag, `docker://${tag}`], {
    env,
  });
  image = `${registry.host}/octo-org/app@${readFileSync(join(dir, 'digest'), 'utf8').trim()}`;
}, 120_000);
afterAll(async () => {
  await registry?.stop();
  await ghcr?.stop();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function noLeak(r: ActionResult, needles: string[]): void {
  for (const n of needles) {
    expect(visibleLog(r)).not.toContain(n);
    expect(r.stderr).not.toContain(n);
    expect(r.summary).not.toContain(n);
    expect(JSON.stringify(r.outputs)).not.toContain(n);
    expect(JSON.stringify(r.env)).not.toContain(n);
    expect(JSON.stringify(r.state)).not.toContain(n);
  }
}

/** The post step: the same bundle, with the main step's saved state as STATE_* (what the runner passes). */
function post(r: ActionResult, extra: Record<string, string> = {}) {
  const state = Object.fromEntries(Object.entries({ ...r.state, ...extra }).map(([k, v]) => [`STATE_${k}`, v]));
  return runAction('registry-login', { home: r.home, env: state });
}

/** A real tool with the job's environment after the login (or parts of it). */
async function tool(bin: string, args: string[], env: Record<string, string | undefined>): Promise<{ ok: boolean; out: string }> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: mkdtempSync(join(dir, 'home-')), ...storageEnv };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  try {
    const r = await run(bin, args, { env: base, timeout: 120_000, maxBuffer: 64 << 20 });
    return { ok: true, out: `${r.stdout}${r.stderr}` };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${x.stdout ?? ''}${x.stderr ?? ''}` };
  }
}

const skip = !hasRegistry || !hasBuildah;
if (skip) console.warn('registry-login bundle tests skipped: docker-registry, buildah or skopeo missing');

describe.skipIf(skip).each(runtimes())('registry-login on $name', (rt) => {
  it('checks the password with the registry, writes a 0600 config under RUNNER_TEMP, exports both variables, prints no secret', async () => {
    const r = await runAction('registry-login', {
      runtime: rt,
      inputs: {
        image: `${registry.host}/octo-org/app:seed`,
        username: 'ci-bot',
        password: PASSWORD,
        insecure: 'true',
        'github-token': TOKEN,
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    const cfgDir = join(r.home.temp, 'hallmark-registry-login');
    expect(r.env).toEqual({ DOCKER_CONFIG: cfgDir, REGISTRY_AUTH_FILE: join(cfgDir, 'config.json') });
    expect(r.outputs).toMatchObject({ registry: registry.host, 'logged-in': 'true', 'docker-config': cfgDir });
    expect(statSync(cfgDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(cfgDir, 'config.json')).mode & 0o777).toBe(0o600);
    const auths = (JSON.parse(readFileSync(join(cfgDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    expect(Object.keys(auths)).toEqual([registry.host]);
    expect(Buffer.from(auths[registry.host]!.auth, 'base64').toString()).toBe(`ci-bot:${PASSWORD}`);
    // The password and its base64 form are masked; the job token was not used for this registry.
    const masks = r.commands.filter((c) => c.command === 'add-mask').map((c) => c.value);
    expect(masks).toEqual(expect.arrayContaining([PASSWORD, auths[registry.host]!.auth]));
    noLeak(r, [PASSWORD, auths[registry.host]!.auth, TOKEN]);
    expect(r.summary).toContain('Basic auth');
    // The post step removes it; running it again is harmless.
    const p = await post(r);
    expect(p.code).toBe(0);
    expect(existsSync(cfgDir)).toBe(false);
    expect((await post(r)).code).toBe(0);
    // One audit record, the main step's (the post steps write none): the registry and the kind of
    // credentials, never the user name or the password.
    const audit = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8');
    const records = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'registry-login',
      verdict: 'passed',
      facts: { registry: registry.host, credentials: 'explicit', 'logged-in': true, checked: 'basic', verify: true },
    });
    for (const n of [PASSWORD, 'ci-bot', TOKEN]) expect(audit).not.toContain(n);
  });

  it('a wrong password fails with login-failed and writes nothing', async () => {
    const r = await runAction('registry-login', {
      runtime: rt,
      inputs: { registry: registry.host, username: 'ci-bot', password: `${PASSWORD}-wrong`, insecure: 'true' },
    });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('login-failed');
    expect(r.errors).toEqual([`registry-login: ${registry.host} refused the credentials of 'ci-bot' (HTTP 401)`]);
    expect(existsSync(join(r.home.temp, 'hallmark-registry-login'))).toBe(false);
    expect(r.env).toEqual({});
    const [record] = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(record).toMatchObject({
      verdict: 'failed',
      failureReason: 'login-failed',
      facts: { registry: registry.host, credentials: 'explicit' },
    });
    expect(record.facts['logged-in']).toBeUndefined();
  });
});

describe.skipIf(skip)('the job token', () => {
  it('logs in to GitHub’s registry as github.actor with the job token', async () => {
    const r = await runAction('registry-login', {
      inputs: { image: `${ghcr.host}/octo-org/app`, insecure: 'true', 'github-token': TOKEN, 'github-registry': ghcr.host },
    });
    expect(r.errors).toEqual([]);
    expect(r.outputs['logged-in']).toBe('true');
    const auths = (JSON.parse(readFileSync(r.env.REGISTRY_AUTH_FILE!, 'utf8')) as { auths: Record<string, { auth: string }> }).auths;
    expect(Buffer.from(auths[ghcr.host]!.auth, 'base64').toString()).toBe(`octocat:${TOKEN}`);
    noLeak(r, [TOKEN]);
  });

  it('never offers the job token to another registry: no credentials, no request, nothing exported', async () => {
    const host = sink.url.replace(/^http:\/\//, '');
    const r = await runAction('registry-login', { inputs: { registry: host, insecure: 'true', 'github-token': TOKEN } });
    expect(r.code).toBe(0);
    expect(r.outputs['logged-in']).toBe('false');
    expect(r.env).toEqual({});
    expect(sink.requests).toHaveLength(0);
    expect(existsSync(join(r.home.temp, 'hallmark-registry-login'))).toBe(false);
  });
});

describe.skipIf(skip)('the real tools read the config it writes', () => {
  let login: ActionResult;
  beforeAll(async () => {
    // No `insecure`: a loopback registry that does not speak https is tried over plain HTTP, as docker and cosign do.
    login = await runAction('registry-login', { inputs: { registry: registry.host, username: 'ci-bot', password: PASSWORD } });
    expect(login.errors).toEqual([]);
    expect(login.code).toBe(0);
  });

  // Which variable each tool honours, read from the tool itself: with both (what the action exports),
  // with only DOCKER_CONFIG, with only REGISTRY_AUTH_FILE, and with neither (must be refused: proves
  // the registry really asks for the login).
  const variants = (e: Record<string, string>) => ({
    both: e,
    'DOCKER_CONFIG only': { DOCKER_CONFIG: e.DOCKER_CONFIG },
    'REGISTRY_AUTH_FILE only': { REGISTRY_AUTH_FILE: e.REGISTRY_AUTH_FILE },
    neither: {},
  });
  const verdicts = async (cmd: (env: Record<string, string | undefined>) => Promise<{ ok: boolean; out: string }>) => {
    const out: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(variants(login.env))) out[k] = (await cmd(v)).ok;
    return out;
  };

  // Read from the tools (not what we expected): go-containerregistry's default keychain (cosign,
  // syft, trivy) falls back to the podman auth file (REGISTRY_AUTH_FILE), and containers/image
  // (buildah, skopeo, podman) falls back to $DOCKER_CONFIG/config.json. Each honours either
  // variable; the action exports both so a tool that knows only one still finds the login.
  it('cosign 3 (go-containerregistry keychain) reads either variable', async () => {
    const v = await verdicts((env) => tool(toolPath('cosign'), ['tree', '--allow-http-registry', image], env));
    expect(v).toEqual({ both: true, 'DOCKER_CONFIG only': true, 'REGISTRY_AUTH_FILE only': true, neither: false });
  }, 120_000);

  it('syft reads either variable', async () => {
    const v = await verdicts((env) =>
      tool(toolPath('syft'), ['scan', `registry:${image}`, '-o', 'spdx-json', '-q'], {
        ...env,
        SYFT_REGISTRY_INSECURE_USE_HTTP: 'true',
        SYFT_CHECK_FOR_APP_UPDATE: 'false',
      }),
    );
    expect(v).toEqual({ both: true, 'DOCKER_CONFIG only': true, 'REGISTRY_AUTH_FILE only': true, neither: false });
  }, 180_000);

  it('skopeo (containers/image) reads either variable', async () => {
    const v = await verdicts((env) => tool('skopeo', ['inspect', '--tls-verify=false', `docker://${image}`], env));
    expect(v).toEqual({ both: true, 'DOCKER_CONFIG only': true, 'REGISTRY_AUTH_FILE only': true, neither: false });
  }, 120_000);

  it('trivy 0.74 reads either variable', async () => {
    const cache = mkdtempSync(join(dir, 'trivy-cache-'));
    const v = await verdicts((env) =>
      tool(
        toolPath('trivy'),
        [
          'image',
          '--scanners',
          'secret',
          '--skip-db-update',
          '--skip-check-update',
          '--cache-dir',
          cache,
          '--insecure',
          '--quiet',
          '--format',
          'json',
          image,
        ],
        { ...env, TRIVY_NO_PROGRESS: 'true', TRIVY_DISABLE_TELEMETRY: 'true' },
      ),
    );
    expect(v).toEqual({ both: true, 'DOCKER_CONFIG only': true, 'REGISTRY_AUTH_FILE only': true, neither: false });
  }, 180_000);

  it('buildah (containers/image) reads either variable', async () => {
    const v = await verdicts((env) => tool('buildah', ['pull', '--policy', 'always', '--tls-verify=false', '--quiet', image], env));
    expect(v).toEqual({ both: true, 'DOCKER_CONFIG only': true, 'REGISTRY_AUTH_FILE only': true, neither: false });
  }, 180_000);
});
