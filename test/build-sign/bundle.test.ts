/**
 * build-sign bundle tests over real parts: a docker-registry on loopback, buildah building FROM
 * scratch and pushing with --digestfile, the cosign stand-in signing for real (ECDSA key mode;
 * keyless through sigstore-js against @sigstore/mock on loopback with the fake GitHub OIDC token)
 * and pushing/reading cosign's `sha256-<hex>.sig` layout in that registry.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { fixtureJson, hasFixtures } from '../harness/fixtures.js';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { startRegistry, hasRegistry, type Registry } from '../harness/registry.js';
import { runAction, runtimes, visibleLog, type ActionResult, type RunnerHome } from '../harness/runner.js';
import { startSigstore, type LoopbackSigstore } from './sigstore.js';
import { canaryKey, cosignCalls, dockerCli, getBlob, getManifest, hasBuildah, leaks, makeLab, writeContext, type Lab, cleanupTracked, trackedHome } from './setup.js';

const real = hasRegistry && hasBuildah;
const describeReal = real ? describe : describe.skip;

const PASSWORD = `canary-pw-${randomBytes(6).toString('hex')}`;

let registry: Registry;
let lab: Lab;
let sigstore: LoopbackSigstore;
let gh: GitHubServices;
let key: { privateKey: string; publicKey: string };

beforeAll(async () => {
  if (!real) return;
  lab = makeLab();
  registry = await startRegistry();
  sigstore = await startSigstore(lab.dir);
  gh = await startGitHubServices();
  key = canaryKey(lab, PASSWORD);
});

afterAll(async () => {
  cleanupTracked();
  await gh?.close();
  await sigstore?.close();
  await registry?.stop();
  lab?.cleanup();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return lab.env({ COSIGN_STANDIN_SIGSTORE_URL: sigstore.url, COSIGN_STANDIN_TRUSTED_ROOT: sigstore.trustedRootPath, ...extra });
}

async function build(inputs: Record<string, string>, opts: { env?: Record<string, string>; runtime?: ReturnType<typeof runtimes>[number]; home?: RunnerHome } = {}): Promise<ActionResult & { nonce: string }> {
  const home = opts.home ?? trackedHome();
  writeContext(home.workspace);
  const nonce = randomBytes(8).toString('hex');
  const r = await runAction('build-sign', {
    runtime: opts.runtime,
    home,
    inputs: { image: `${registry.host}/octo-org/shop`, builder: 'buildah', context: 'app', 'registry-insecure': 'true', 'build-args': `NONCE=${nonce}`, ...inputs },
    env: env(opts.env),
    timeoutMs: 45_000,
  });
  return Object.assign(r, { nonce });
}

function assertNoLeak(r: ActionResult, secrets: string[]): void {
  const lines = secrets.flatMap((s) => [s, ...s.split('\n').map((l) => l.trim()).filter((l) => l.length > 20)]);
  for (const s of lines) {
    expect(visibleLog(r).includes(s), 'secret in the visible log').toBe(false);
    expect(r.stderr.includes(s), 'secret on stderr').toBe(false);
    expect(r.summary.includes(s), 'secret in the summary').toBe(false);
    expect(JSON.stringify(r.outputs).includes(s), 'secret in outputs').toBe(false);
  }
  expect(leaks([r.home.temp, r.home.workspace, registry.dir], lines)).toEqual([]);
}

describeReal.each(runtimes())('build-sign over a real registry and buildah ($name)', (rt) => {
  it('key mode: builds, pushes, signs the pushed digest, verifies it, writes the policy — and the key never leaks', async () => {
    const r = await build({ sign: 'key', 'cosign-key': key.privateKey, 'cosign-password': PASSWORD, tags: 'sha-4f1c6b9, v1.2.3' }, { runtime: rt });
    if (process.env.SHOW) console.log(r.stdout, r.stderr, r.summary, readFileSync(r.outputs.policy as string, 'utf8'));
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    // The digest is the registry's: both tags resolve to exactly it.
    const byTag = await getManifest(registry.url, 'octo-org/shop', 'sha-4f1c6b9');
    const byTag2 = await getManifest(registry.url, 'octo-org/shop', 'v1.2.3');
    expect(byTag.status).toBe(200);
    expect(r.outputs.digest).toBe(byTag.digest);
    expect(byTag2.digest).toBe(byTag.digest);
    expect(r.outputs['image-ref']).toBe(`${registry.host}/octo-org/shop@${byTag.digest}`);
    expect(JSON.parse(r.outputs.tags ?? '[]')).toEqual([`${registry.host}/octo-org/shop:sha-4f1c6b9`, `${registry.host}/octo-org/shop:v1.2.3`]);
    expect(r.outputs.signed).toBe('true');
    // The nonce label proves this run's build made that manifest.
    const manifest = byTag.json as { config: { digest: string } };
    const config = JSON.parse((await getBlob(registry.url, 'octo-org/shop', manifest.config.digest)).toString()) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels['dev.hallmark.test.nonce']).toBe(r.nonce);

    // The signature sits in cosign's layout next to the digest, and its payload names that digest.
    const sig = await getManifest(registry.url, 'octo-org/shop', `${(r.outputs.digest as string).replace(':', '-')}.sig`);
    expect(sig.status).toBe(200);
    const layers = (sig.json as { layers: { digest: string; mediaType: string; annotations: Record<string, string> }[] }).layers;
    expect(layers).toHaveLength(1);
    expect(layers[0]?.mediaType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    const payload = JSON.parse((await getBlob(registry.url, 'octo-org/shop', layers[0]!.digest)).toString());
    expect(payload.critical.image['docker-manifest-digest']).toBe(r.outputs.digest);
    // ... and it verifies with the public key outside the action, by Node's own crypto.
    const { createVerify } = await import('node:crypto');
    const ok = createVerify('sha256').update(await getBlob(registry.url, 'octo-org/shop', layers[0]!.digest)).verify(key.publicKey, Buffer.from(layers[0]!.annotations['dev.cosignproject.cosign/signature']!, 'base64'));
    expect(ok).toBe(true);

    // cosign was given the key by reference only; key and password travelled in its environment.
    const calls = cosignCalls(lab).filter((c) => c.argv.includes(r.outputs['image-ref'] as string));
    expect(calls.map((c) => c.cmd)).toEqual(['sign', 'verify']);
    const sign = calls[0]!;
    expect(sign.argv).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--allow-http-registry', r.outputs['image-ref']]);
    expect(sign.env).toEqual(expect.arrayContaining(['COSIGN_KEY', 'COSIGN_PASSWORD']));
    expect(calls[1]!.argv).toEqual(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', '--allow-http-registry', '--output', 'json', r.outputs['image-ref']]);

    // The policy embeds exactly the public key that verifies.
    const policyPath = r.outputs.policy as string;
    expect(policyPath).toBe(`${r.home.workspace}/hallmark-policy.yaml`);
    const policy = parseYaml(readFileSync(policyPath, 'utf8'));
    const vi = policy.spec.rules[0].verifyImages[0];
    expect(vi.imageReferences).toEqual([`${registry.host}/octo-org/shop*`]);
    expect(vi.attestors[0].entries[0].keys.publicKeys.trim()).toBe(key.publicKey.trim());
    expect(policy.metadata.annotations['hallmark.dev/signed-digest']).toBe(r.outputs.digest);

    // Summary: image@digest, tags, identity, verify, policy path.
    expect(r.summary).toContain(r.outputs['image-ref']);
    expect(r.summary).toContain('sha-4f1c6b9');
    expect(r.summary).toContain(r.outputs.identity);
    expect(r.summary).toContain('passed');
    expect(r.summary).toContain('hallmark-policy.yaml');

    assertNoLeak(r, [key.privateKey, PASSWORD]);
  });
});

describeReal.each(runtimes())('build-sign keyless over loopback Sigstore ($name)', (rt) => {
  it('signs as the job_workflow_ref of the OIDC token (a reusable workflow, not GITHUB_WORKFLOW_REF), verifies that exact identity, and writes a keyless policy for it', async () => {
    const reusable = 'octo-org/platform/.github/workflows/build-sign-scan.yml@refs/tags/v1.4.0';
    gh.oidcClaims.job_workflow_ref = reusable;
    const r = await build({ tags: 'sha-4f1c6b9' }, { runtime: rt, env: { ...gh.env, GITHUB_WORKFLOW_REF: 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main' } });
    if (process.env.SHOW) console.log(r.stdout, r.stderr);
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const identity = `https://github.com/${reusable}`;
    expect(r.outputs.identity).toBe(identity);
    expect(r.outputs.signed).toBe('true');
    // Fulcio really issued a certificate for that identity, and the signature layer carries it.
    expect(sigstore.issued).toContain(identity);
    const sig = await getManifest(registry.url, 'octo-org/shop', `${(r.outputs.digest as string).replace(':', '-')}.sig`);
    const layer = (sig.json as { layers: { annotations: Record<string, string> }[] }).layers[0]!;
    const { X509Certificate } = await import('node:crypto');
    expect(new X509Certificate(layer.annotations['dev.sigstore.cosign/certificate']!).subjectAltName).toBe(`URI:${identity}`);
    expect(JSON.parse(layer.annotations['dev.sigstore.cosign/bundle']!).Payload.logIndex).toEqual(expect.any(Number));
    // Same layout as a real keyless cosign signature manifest (recorded with crane).
    if (hasFixtures) {
      const real = fixtureJson<{ mediaType: string; config: { mediaType: string }; layers: { mediaType: string; annotations: Record<string, string> }[] }>('cosign', 'sig-manifest-keyless.json');
      const mine = sig.json as typeof real;
      expect(mine.mediaType).toBe(real.mediaType);
      expect(mine.config.mediaType).toBe(real.config.mediaType);
      expect(mine.layers.map((l) => l.mediaType)).toEqual(real.layers.map((l) => l.mediaType));
      expect(Object.keys(layer.annotations).sort()).toEqual(Object.keys(real.layers[0]!.annotations).sort());
      expect(Object.keys(JSON.parse(layer.annotations['dev.sigstore.cosign/bundle']!)).sort()).toEqual(Object.keys(JSON.parse(real.layers[0]!.annotations['dev.sigstore.cosign/bundle']!)).sort());
    }
    // The OIDC token was requested for the sigstore audience.
    expect(gh.requests.some((q) => q.path === '/oidc/token' && q.url.includes('audience=sigstore'))).toBe(true);
    // verify named the exact identity and issuer: no regexp anywhere.
    const verify = cosignCalls(lab).find((c) => c.cmd === 'verify' && c.argv.includes(r.outputs['image-ref'] as string))!;
    expect(verify.argv).toEqual(['verify', '--certificate-identity', identity, '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', '--allow-http-registry', '--output', 'json', r.outputs['image-ref']]);
    expect(cosignCalls(lab).some((c) => c.argv.some((a) => a.includes('regexp')))).toBe(false);
    // The policy's attestor is that same identity, exactly.
    const policy = parseYaml(readFileSync(r.outputs.policy as string, 'utf8'));
    const entry = policy.spec.rules[0].verifyImages[0].attestors[0].entries[0];
    expect(entry.keyless).toEqual({ subject: identity, issuer: 'https://token.actions.githubusercontent.com', rekor: { url: 'https://rekor.sigstore.dev' } });
    expect(r.summary).toContain(identity);
    expect(r.summary).toContain(`cosign verify --certificate-identity ${identity} --certificate-oidc-issuer https://token.actions.githubusercontent.com ${r.outputs['image-ref']}`);
    expect(r.stdout).toContain('called from octo-org/shop/.github/workflows/ci.yml@refs/heads/main');
  });

  it('fails with verify-failed when the expected identity differs from the one that signed', async () => {
    gh.oidcClaims.job_workflow_ref = 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main';
    const expected = 'https://github.com/octo-org/platform/.github/workflows/release.yml@refs/heads/main';
    const r = await build({ identity: expected }, { runtime: rt, env: gh.env });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('verify-failed');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^build-sign: cosign verify rejected .*@sha256:[a-f0-9]{64} for identity https:\/\/github\.com\/octo-org\/platform/);
    // cosign itself said why: the certificate names the job that really signed.
    expect(r.errors[0]).toContain('no matching signatures: none of the expected identities matched');
    expect(r.errors[0]).toContain('https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main');
    // It did sign (as the real job identity), so the signature exists — but nothing claims it verified.
    expect(r.outputs.signed).toBe('false');
    expect(r.outputs.policy).toBe('');
    expect(r.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.summary).toContain('verify-failed');
    expect(r.summary).toContain('❌ failed');
  });
});

describeReal('build-sign: more real-registry paths', () => {
  it('signs an existing digest without building (digest input), refusing nothing pushed by tag', async () => {
    const first = await build({ sign: 'none', tags: 'sha-4f1c6b9' });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.signed).toBe('false');
    expect(first.outputs.policy).toBe('');
    const digest = first.outputs.digest as string;
    const before = cosignCalls(lab).length;
    const r = await runAction('build-sign', {
      home: trackedHome(),
      inputs: { image: `${registry.host}/octo-org/shop`, digest, sign: 'key', 'cosign-key': 'env://MY_COSIGN_KEY', 'cosign-password': PASSWORD, 'registry-insecure': 'true' },
      env: env({ MY_COSIGN_KEY: key.privateKey }),
      timeoutMs: 45_000,
    });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.outputs.digest).toBe(digest);
    expect(r.outputs.tags).toBe('[]');
    const calls = cosignCalls(lab).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['public-key', 'sign', 'verify']);
    expect(calls[1]!.argv).toContain('env://MY_COSIGN_KEY');
    expect(r.stdout).not.toContain('buildah');
    assertNoLeak(r, [key.privateKey, PASSWORD]);
  });

  it('fails with sign-failed when the key password is wrong — before building or pushing anything — and leaves no key material behind', async () => {
    const r = await build({ sign: 'key', 'cosign-key': key.privateKey, 'cosign-password': 'not-the-password', tags: 'wrong-password' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('sign-failed');
    expect(r.errors[0]).toMatch(/cosign could not read the signing key/);
    expect(r.stdout).not.toContain('Building:');
    expect((await getManifest(registry.url, 'octo-org/shop', 'wrong-password')).status).toBe(404);
    assertNoLeak(r, [key.privateKey, PASSWORD]);
  });

  it('push: false with sign: none builds only: no digest, no image-ref, nothing in the registry', async () => {
    const r = await build({ push: 'false', sign: 'none', tags: 'local-only' });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.stdout).toContain('Building: buildah build');
    expect(r.outputs.digest).toBe('');
    expect(r.outputs['image-ref']).toBe('');
    expect(r.summary).toContain('built (not pushed)');
    expect((await getManifest(registry.url, 'octo-org/shop', 'local-only')).status).toBe(404);
  });

  it('says how to install cosign when it is not on PATH (sign-failed), before building', async () => {
    const r = await build({ sign: 'key', 'cosign-key': key.privateKey, 'cosign-password': PASSWORD, tags: 'no-cosign' }, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(r.outputs['failure-reason']).toBe('sign-failed');
    expect(r.errors).toEqual(['build-sign: cosign was not found on PATH: add hallmark-dev/hallmark/actions/setup-tools with `tools: cosign` before this step']);
    expect((await getManifest(registry.url, 'octo-org/shop', 'no-cosign')).status).toBe(404);
  });

  it('fails with sign-failed when keyless signing has no OIDC token (no id-token: write), without pushing an unsigned image', async () => {
    const r = await build({ tags: 'no-oidc' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('sign-failed');
    expect(r.errors[0]).toMatch(/id-token: write/);
    expect(r.stdout).not.toContain('Building:');
    expect((await getManifest(registry.url, 'octo-org/shop', 'no-oidc')).status).toBe(404);
  });

  it('fails with build-failed on a broken Containerfile, and with push-failed when the registry is gone', async () => {
    const home = trackedHome();
    writeContext(home.workspace);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${home.workspace}/app/Containerfile`, 'FROM scratch\nCOPY does-not-exist /x\n');
    const r = await runAction('build-sign', { home, inputs: { image: `${registry.host}/octo-org/shop`, builder: 'buildah', context: 'app', 'registry-insecure': 'true', sign: 'none' }, env: env(), timeoutMs: 45_000 });
    expect(r.outputs['failure-reason']).toBe('build-failed');
    expect(r.code).toBe(1);
    const gone = await runAction('build-sign', { inputs: { image: '127.0.0.1:9/octo-org/shop', builder: 'buildah', context: 'app', 'registry-insecure': 'true', sign: 'none' }, home: (() => { const h = trackedHome(); writeContext(h.workspace); return h; })(), env: env(), timeoutMs: 45_000 });
    expect(gone.outputs['failure-reason']).toBe('push-failed');
  });
});

describe.skipIf(!real || !dockerCli)('build-sign with the buildx builder (real docker CLI, buildx plugin stand-in building with buildah)', () => {
  it('takes the digest from the buildx metadata file of a multi-platform push, and signs that index', async () => {
    const home = trackedHome();
    const { mkdirSync, symlinkSync } = await import('node:fs');
    mkdirSync(`${home.root}/.docker/cli-plugins`, { recursive: true });
    symlinkSync(`${process.cwd()}/test/stand-ins/docker-buildx`, `${home.root}/.docker/cli-plugins/docker-buildx`);
    gh.oidcClaims.job_workflow_ref = 'octo-org/shop/.github/workflows/release.yml@refs/tags/v3.0.0';
    const buildxLog = `${lab.dir}/buildx-calls.jsonl`;
    const r = await build({ builder: 'buildx', platforms: 'linux/amd64,linux/arm64', tags: 'v3.0.0' }, { home, env: { ...gh.env, DOCKER_BUILDX_STANDIN_LOG: buildxLog } });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const index = await getManifest(registry.url, 'octo-org/shop', 'v3.0.0');
    expect(index.digest).toBe(r.outputs.digest);
    const platforms = ((index.json as { manifests: { platform: { architecture: string } }[] }).manifests ?? []).map((m) => m.platform.architecture).sort();
    expect(platforms).toEqual(['amd64', 'arm64']);
    const argv = JSON.parse(readFileSync(buildxLog, 'utf8').trim().split('\n').pop() as string) as string[];
    expect(argv).toEqual(expect.arrayContaining(['--metadata-file', '--push', '--platform', 'linux/amd64,linux/arm64']));
    expect(r.outputs.identity).toBe('https://github.com/octo-org/shop/.github/workflows/release.yml@refs/tags/v3.0.0');
    expect(r.outputs.signed).toBe('true');
    expect((await getManifest(registry.url, 'octo-org/shop', `${(r.outputs.digest as string).replace(':', '-')}.sig`)).status).toBe(200);
  });
});

describeReal('build-sign buildah multi-platform', () => {
  it('builds a manifest list, pushes it --all with --digestfile, and reports the index digest the registry stored', async () => {
    const r = await build({ platforms: 'linux/amd64,linux/arm64/v8', tags: 'multi-1', sign: 'none' });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const index = await getManifest(registry.url, 'octo-org/shop', 'multi-1');
    expect(r.outputs.digest).toBe(index.digest);
    const ms = (index.json as { manifests: { platform: { architecture: string; variant?: string } }[] }).manifests;
    expect(ms.map((m) => `${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}`).sort()).toEqual(['amd64', 'arm64/v8']);
    expect(r.summary).toContain('built (not signed)');
  });
});
