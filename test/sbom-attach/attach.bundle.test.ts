/**
 * sbom-attach bundle tests, run as the runner runs them, over real parts only:
 * - a docker-registry on loopback (distribution 2.8: no referrers API) holding an image built by
 *   buildah FROM scratch (setup.ts: busybox, an apk database, a node_modules tree);
 * - real syft 1.51.0 reading that image from the registry by digest, and real cosign 3.1.2
 *   attesting it (`cosign attest`) and signing the files (`cosign sign-blob`); the test then asks
 *   real `cosign verify-attestation --type spdxjson|cyclonedx` and `cosign verify-blob` whether
 *   they accept what the action stored (upstream: sigstore/cosign v3.1.2
 *   cmd/cosign/cli/options/{attest,signblob,verify}.go, pkg/oci/remote/write.go);
 * - real trivy 0.74.0 as the other generator;
 * - the loopback GitHub artifact service behind the real @actions/artifact, and a loopback
 *   Sigstore (@sigstore/mock Fulcio + Rekor) that real cosign is pointed at with the action's
 *   signing-config and trusted-root inputs.
 * Package counts are computed from what setup.ts wrote into the image, never by our SBOM reader.
 */
import { spawnSync } from 'node:child_process';
import { createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { getBlob, getManifest, hasRegistry, type Registry, startRegistry } from '../harness/registry.js';
import { runAction, runtimes, visibleLog, type ActionResult, type Runtime, type RunnerHome } from '../harness/runner.js';
import { binDir, toolPath } from '../harness/tools.js';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';
import { secretsFound } from '../harness/build-lab.js';
import { cleanupTracked, trackedDir, trackedHome } from '../harness/tracked.js';
import {
  APK_PACKAGES,
  BUSYBOX_VERSION,
  EXPECTED_PACKAGES,
  hasBuildah,
  NPM_PACKAGES,
  pushTestImage,
  unzipEntries,
  type PushedImage,
} from './setup.js';

const real = hasRegistry && hasBuildah;
const describeReal = real ? describe : describe.skip;
const PASSWORD = `canary-pw-${randomBytes(6).toString('hex')}`;
const BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

let registry: Registry;
let gh: GitHubServices;
let sigstore: LoopbackSigstore;
let lab: string;
let key: { privateKey: string; publicKey: string; pubFile: string };
let bin: string;

/** Runs the real cosign 3 from the test (verify-attestation, verify-blob, generate-key-pair). */
function cosign(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(toolPath('cosign'), args, {
    cwd: lab,
    env: { PATH: '/usr/bin:/bin', HOME: lab, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!real) return;
  lab = trackedDir('hallmark-sbom-lab-');
  registry = await startRegistry();
  gh = await startGitHubServices();
  sigstore = await startSigstore(lab);
  const g = cosign(['generate-key-pair'], { COSIGN_PASSWORD: PASSWORD });
  if (g.code !== 0) throw new Error(`cosign generate-key-pair: ${g.stderr}`);
  key = {
    privateKey: readFileSync(join(lab, 'cosign.key'), 'utf8'),
    publicKey: readFileSync(join(lab, 'cosign.pub'), 'utf8'),
    pubFile: join(lab, 'cosign.pub'),
  };
  // Real syft, cosign 3 and trivy under the names the action calls.
  bin = binDir(['syft', 'cosign', 'trivy']);
});

afterAll(async () => {
  await gh?.close();
  await sigstore?.close();
  await registry?.stop();
  cleanupTracked();
});

function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...gh.env, PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, ...extra };
}

const NO_OIDC = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };

async function image(repo = 'octo-org/shop'): Promise<PushedImage> {
  return pushTestImage(registry, repo, randomBytes(6).toString('hex'));
}

async function sbomAttach(
  inputs: Record<string, string>,
  opts: { env?: Record<string, string | undefined>; runtime?: Runtime; home?: RunnerHome } = {},
): Promise<ActionResult> {
  return runAction('sbom-attach', {
    runtime: opts.runtime,
    home: opts.home ?? trackedHome(),
    inputs: { 'registry-insecure': 'true', ...inputs },
    env: env(opts.env),
    timeoutMs: 90_000,
  });
}

function assertNoLeak(r: ActionResult, secrets: string[]): void {
  expect(secretsFound(r, secrets, [r.home.temp, r.home.workspace, registry.dir])).toEqual([]);
  const lines = secrets.flatMap((s) => [
    s,
    ...s
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 20),
  ]);
  for (const a of gh.artifacts.values())
    for (const s of lines) expect(a.content?.includes(s) ?? false, `secret in artifact ${a.name}`).toBe(false);
}

/** An in-toto DSSE envelope verifies with `publicKey` (the PAE over the statement). */
function dsseVerifies(envelope: { payloadType: string; payload: string; signatures: { sig: string }[] }, publicKey: string): boolean {
  const statement = Buffer.from(envelope.payload, 'base64');
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${envelope.payloadType.length} ${envelope.payloadType} ${statement.length} `), statement]);
  return createVerify('sha256').update(pae).verify(createPublicKey(publicKey), Buffer.from(envelope.signatures[0]!.sig, 'base64'));
}

/** `cosign verify-attestation --output json` prints one DSSE envelope per accepted attestation. */
function statements(
  stdout: string,
): { predicateType: string; subject: { name: string; digest: { sha256: string } }[]; predicate: unknown }[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(Buffer.from((JSON.parse(l) as { payload: string }).payload, 'base64').toString('utf8')));
}

/** The Sigstore bundle referrers of `img`, read with plain fetch from the sha256-<hex> tag (the referrers tag schema). */
async function bundleReferrers(img: PushedImage): Promise<{ digest: string; json: Record<string, any> }[]> {
  const idx = await getManifest(registry.url, img.repo, img.digest.replace(':', '-'));
  expect(idx.json?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  const out: { digest: string; json: Record<string, any> }[] = [];
  for (const m of (idx.json?.manifests ?? []) as { digest: string; artifactType?: string }[]) {
    if (m.artifactType !== BUNDLE_TYPE) continue;
    const man = await getManifest(registry.url, img.repo, m.digest);
    out.push({ digest: m.digest, json: man.json! });
  }
  return out;
}

const licenceCount = (l: string) => [...APK_PACKAGES, ...NPM_PACKAGES].filter((p) => p.license === l).length;

describeReal.each(runtimes())('sbom-attach with real syft over a real registry ($name)', (rt) => {
  it('both formats: syft finds every package we put in the image, the SBOMs name the digest, one artifact, OCI referrers (tag fallback)', async () => {
    const img = await image();
    const r = await sbomAttach({ image: img.ref, format: 'spdx-json, cyclonedx-json', attach: 'referrer' }, { runtime: rt });
    if (process.env.SHOW) console.log(r.stdout, r.stderr, r.summary);
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const paths = (r.outputs.sbom as string).split('\n');
    expect(paths).toEqual([
      join(r.home.temp, 'sbom-attach', 'sbom-shop-4f1c6b9.spdx.json'),
      join(r.home.temp, 'sbom-attach', 'sbom-shop-4f1c6b9.cdx.json'),
    ]);

    // What real syft wrote for registry:<repo>@<digest> (syft v1.51.0 spdxhelpers toRootPackage,
    // cyclonedxhelpers toBomDescriptorComponent): the root is the repository, its version the
    // digest; SPDX adds the fetched manifest digest as checksum and in the pkg:oci purl.
    const spdx = JSON.parse(readFileSync(paths[0]!, 'utf8'));
    const root = spdx.packages.find((p: { SPDXID: string }) => p.SPDXID.startsWith('SPDXRef-DocumentRoot-Image-'));
    expect(root).toMatchObject({ name: `${registry.host}/${img.repo}`, versionInfo: img.digest, primaryPackagePurpose: 'CONTAINER' });
    expect(root.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: img.digest.slice(7) }]);
    expect(root.externalRefs[0].referenceLocator).toContain(`@sha256%3A${img.digest.slice(7)}`);
    expect(spdx.relationships).toContainEqual({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relatedSpdxElement: root.SPDXID,
      relationshipType: 'DESCRIBES',
    });
    const cdx = JSON.parse(readFileSync(paths[1]!, 'utf8'));
    expect(cdx.metadata.component).toMatchObject({ type: 'container', name: `${registry.host}/${img.repo}`, version: img.digest });

    // Every package we put in the image, and nothing else: apk records, package.json files, the busybox binary.
    const found = spdx.packages
      .filter((p: { SPDXID: string }) => p !== root)
      .map((p: { name: string; versionInfo: string }) => `${p.name}@${p.versionInfo}`)
      .sort();
    expect(found).toEqual(EXPECTED_PACKAGES.map((p) => `${p.name}@${p.version}`).sort());
    expect(BUSYBOX_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.outputs['package-count']).toBe(String(EXPECTED_PACKAGES.length));
    // The audit record: the image by digest, the formats, how it was attached, the package count.
    const records = readFileSync(join(r.home.temp, 'hallmark-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toEqual([
      expect.objectContaining({
        action: 'sbom-attach',
        verdict: 'passed',
        subject: { image: `${registry.host}/${img.repo}`, digest: img.digest },
        facts: expect.objectContaining({
          format: 'spdx-json,cyclonedx-json',
          attached: 'referrer',
          attested: false,
          'package-count': EXPECTED_PACKAGES.length,
          'attachment-count': 2,
        }),
      }),
    ]);
    // CycloneDX lists the same packages (syft adds the OS and one `file` component per file it read).
    expect(
      cdx.components
        .filter((c: { type: string }) => c.type === 'library' || c.type === 'application')
        .map((c: { name: string; version: string }) => `${c.name}@${c.version}`)
        .sort(),
    ).toEqual(found);
    expect(r.stdout).toContain(`cyclonedx-json: CycloneDX ${cdx.specVersion}, ${EXPECTED_PACKAGES.length} package(s)`);

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
    expect(idx.json?.manifests.map((m: { digest: string }) => `${registry.host}/${img.repo}@${m.digest}`).sort()).toEqual(
      [...attachments].sort(),
    );
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
    expect(r.summary).toContain(`| **Packages** | ${EXPECTED_PACKAGES.length} |`);
    expect(r.summary).toContain(`MIT (${licenceCount('MIT')})`);
    expect(r.summary).toContain('syft');
  });

  it('key mode, tlog: false (air-gapped): real cosign attests both SBOMs as referrers, verify-attestation accepts each type, sign-blob bundles verify, the key never leaks', async () => {
    const img = await image();
    const r = await sbomAttach(
      {
        image: img.ref,
        format: 'spdx-json,cyclonedx-json',
        'cosign-key': key.privateKey,
        'cosign-password': PASSWORD,
        'sign-blob': 'true',
        tlog: 'false',
        'artifact-name': `sbom-key-${rt.name}`,
      },
      { runtime: rt, env: NO_OIDC },
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.attached).toBe('attest');
    const paths = (r.outputs.sbom as string).split('\n');

    // Where cosign 3 put them: two Sigstore bundle referrers (no .att tag), subject = the image.
    expect((await getManifest(registry.url, img.repo, `${img.digest.replace(':', '-')}.att`)).status).toBe(404);
    const refs = await bundleReferrers(img);
    expect(refs).toHaveLength(2);
    expect(JSON.parse(r.outputs.attachments as string).sort()).toEqual(refs.map((m) => `${registry.host}/${img.repo}@${m.digest}`).sort());
    expect(refs.map((m) => m.json.annotations['dev.sigstore.bundle.predicateType']).sort()).toEqual([
      'https://cyclonedx.org/bom',
      'https://spdx.dev/Document',
    ]);
    for (const m of refs) {
      expect(m.json.subject).toEqual({ mediaType: img.mediaType, digest: img.digest, size: img.size });
      const bundle = JSON.parse((await getBlob(registry.url, img.repo, m.json.layers[0].digest)).toString());
      // Key mode with tlog off: no Rekor entry in the bundle.
      expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
      expect(dsseVerifies(bundle.dsseEnvelope, key.publicKey)).toBe(true);
    }

    // Real cosign verify-attestation accepts each type, and the predicate is the file we wrote.
    for (const [type, file, predicateType] of [
      ['spdxjson', paths[0]!, 'https://spdx.dev/Document'],
      ['cyclonedx', paths[1]!, 'https://cyclonedx.org/bom'],
    ] as const) {
      const v = cosign([
        'verify-attestation',
        '--type',
        type,
        '--key',
        key.pubFile,
        '--insecure-ignore-tlog=true',
        '--allow-http-registry',
        '--output',
        'json',
        img.ref,
      ]);
      expect(v.code, v.stderr).toBe(0);
      const st = statements(v.stdout);
      expect(st).toHaveLength(1);
      expect(st[0]!.predicateType).toBe(predicateType);
      expect(st[0]!.subject).toEqual([{ name: `${registry.host}/${img.repo}`, digest: { sha256: img.digest.slice(7) } }]);
      expect(st[0]!.predicate).toEqual(JSON.parse(readFileSync(file, 'utf8')));
    }
    // …and refuses them under another key, or for a type that was never attested.
    const other = join(trackedDir('hallmark-sbom-otherkey-'), 'x');
    mkdirSync(other, { recursive: true });
    expect(
      spawnSync(toolPath('cosign'), ['generate-key-pair'], {
        cwd: other,
        env: { PATH: '/usr/bin:/bin', HOME: other, COSIGN_PASSWORD: 'x' },
      }).status,
    ).toBe(0);
    expect(
      cosign([
        'verify-attestation',
        '--type',
        'spdxjson',
        '--key',
        join(other, 'cosign.pub'),
        '--insecure-ignore-tlog=true',
        '--allow-http-registry',
        img.ref,
      ]).code,
    ).not.toBe(0);
    const vuln = cosign([
      'verify-attestation',
      '--type',
      'vuln',
      '--key',
      key.pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      img.ref,
    ]);
    expect(vuln.code).not.toBe(0);
    expect(vuln.stderr).toMatch(/none of the attestations matched the predicate type: vuln/);

    // A Sigstore bundle next to each SBOM, uploaded with it; real cosign verify-blob accepts it.
    const bundles = (r.outputs.bundles as string).split('\n');
    expect(bundles).toEqual(paths.map((p) => `${p}.sigstore.json`));
    for (const [i, b] of bundles.entries()) {
      const v = cosign(['verify-blob', '--key', key.pubFile, '--bundle', b, '--insecure-ignore-tlog=true', paths[i]!]);
      expect(v.code, v.stderr).toBe(0);
    }
    writeFileSync(join(lab, 'tampered.json'), readFileSync(paths[0]!, 'utf8').replace('"SPDX-2.3"', '"SPDX-2.2"'));
    expect(
      cosign(['verify-blob', '--key', key.pubFile, '--bundle', bundles[0]!, '--insecure-ignore-tlog=true', join(lab, 'tampered.json')])
        .code,
    ).not.toBe(0);
    const entries = unzipEntries(gh.artifacts.get(`sbom-key-${rt.name}`)!.content!);
    expect(entries.size).toBe(4);
    assertNoLeak(r, [key.privateKey, PASSWORD]);
    // The private work directory (docker config, nothing else) is gone.
    expect(readdirSync(r.home.temp).filter((n) => n.startsWith('hallmark-sbom-attach-'))).toEqual([]);
  });
});

describeReal('sbom-attach: more paths (node24)', () => {
  it('key mode with the loopback Sigstore (signing-config, trusted-root): the attestation is logged in its Rekor and verifies against its root', async () => {
    const img = await image('octo-org/private-sigstore');
    const home = trackedHome();
    mkdirSync(join(home.workspace, '.sigstore'));
    copyFileSync(sigstore.signingConfigPath, join(home.workspace, '.sigstore', 'signing_config.json'));
    copyFileSync(sigstore.trustedRootPath, join(home.workspace, '.sigstore', 'trusted_root.json'));
    const logged = sigstore.logged.length;
    const r = await sbomAttach(
      {
        image: img.ref,
        'cosign-key': key.privateKey,
        'cosign-password': PASSWORD,
        'signing-config': '.sigstore/signing_config.json',
        'trusted-root': '.sigstore/trusted_root.json',
        upload: 'false',
      },
      { env: NO_OIDC, home },
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(sigstore.logged.length).toBe(logged + 1);
    const v = cosign([
      'verify-attestation',
      '--type',
      'spdxjson',
      '--key',
      key.pubFile,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      img.ref,
    ]);
    expect(v.code, v.stderr).toBe(0);
    expect(statements(v.stdout)).toHaveLength(1);
  });

  it('keyless attest against the loopback Fulcio/Rekor: the certificate names the job_workflow_ref identity and verify-attestation accepts exactly it', async () => {
    const img = await image('octo-org/keyless');
    const home = trackedHome();
    copyFileSync(sigstore.signingConfigPath, join(home.workspace, 'signing_config.json'));
    copyFileSync(sigstore.trustedRootPath, join(home.workspace, 'trusted_root.json'));
    // Real cosign asks GitHub for the token with `Authorization: bearer …` in lower case
    // (sigstore/cosign v3.1.2 pkg/providers/github/github.go); the loopback GitHub accepts the
    // scheme case-insensitively, as github.com does.
    const r = await sbomAttach(
      { image: img.ref, 'signing-config': 'signing_config.json', 'trusted-root': 'trusted_root.json', upload: 'false' },
      { home },
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.attached).toBe('attest');
    const identity = 'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main';
    expect(sigstore.issued).toContain(identity);
    const refs = await bundleReferrers(img);
    expect(refs).toHaveLength(1);
    const args = (id: string) => [
      'verify-attestation',
      '--type',
      'spdxjson',
      '--certificate-identity',
      id,
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--trusted-root',
      sigstore.trustedRootPath,
      '--insecure-ignore-sct=true',
      '--allow-http-registry',
      img.ref,
    ];
    const v = cosign(args(identity));
    expect(v.code, v.stderr).toBe(0);
    expect(cosign(args(identity.replace('main', 'evil'))).code).not.toBe(0);
  });

  it('tlog: false with keyless signing is refused as an input', async () => {
    const img = await image('octo-org/keyless-notlog');
    const r = await sbomAttach({ image: img.ref, tlog: 'false', upload: 'false' });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toEqual([expect.stringMatching(/input 'tlog' must stay true for keyless signing/)]);
  });

  it('signing-config and trusted-root are checked before anything runs: a missing file, a log named while tlog is false', async () => {
    const img = await image('octo-org/badfiles');
    const home = trackedHome();
    copyFileSync(sigstore.signingConfigPath, join(home.workspace, 'with-rekor.json'));
    const run = (inputs: Record<string, string>) =>
      sbomAttach(
        { image: img.ref, 'cosign-key': key.privateKey, 'cosign-password': PASSWORD, upload: 'false', ...inputs },
        { env: NO_OIDC, home },
      );
    const missing = await run({ 'trusted-root': 'nope.json' });
    expect(missing.outputs['failure-reason']).toBe('invalid-input');
    expect(missing.errors).toEqual([expect.stringMatching(/input 'trusted-root' must name an existing file/)]);
    const withLog = await run({ 'signing-config': 'with-rekor.json', tlog: 'false' });
    expect(withLog.errors).toEqual([
      expect.stringMatching(/input 'signing-config' names a transparency log \(http[^)]*\) but tlog is false/),
    ]);
    // The same file without its Rekor is what an air-gapped private Sigstore looks like: accepted, nothing logged.
    const sc = JSON.parse(readFileSync(sigstore.signingConfigPath, 'utf8'));
    writeFileSync(join(home.workspace, 'no-rekor.json'), JSON.stringify({ ...sc, rekorTlogUrls: [] }));
    const logged = sigstore.logged.length;
    const ok = await run({ 'signing-config': 'no-rekor.json', tlog: 'false' });
    expect(ok.errors, ok.stdout).toEqual([]);
    expect(sigstore.logged.length).toBe(logged);
    const v = cosign([
      'verify-attestation',
      '--type',
      'spdxjson',
      '--key',
      key.pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      img.ref,
    ]);
    expect(v.code, v.stderr).toBe(0);
  });

  it('real trivy 0.74: SPDX and CycloneDX straight from the registry, every apk and npm package found', async () => {
    const img = await image('octo-org/trivy-app');
    const r = await sbomAttach(
      { image: img.ref, generator: 'trivy', format: 'spdx-json,cyclonedx-json', upload: 'false' },
      { env: NO_OIDC },
    );
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs.attached).toBe('none');
    expect(r.outputs['artifact-name']).toBe('');
    expect(r.commands.some((c) => c.command === 'notice' && /no signing is configured/.test(c.value))).toBe(true);
    const [spdxPath, cdxPath] = (r.outputs.sbom as string).split('\n');
    const spdx = JSON.parse(readFileSync(spdxPath!, 'utf8'));
    expect(spdx.name).toBe(img.ref);
    const cdx = JSON.parse(readFileSync(cdxPath!, 'utf8'));
    // trivy has no binary classifier: the apk records and package.json files we wrote.
    const want = [...APK_PACKAGES, ...NPM_PACKAGES].map((p) => `${p.name}@${p.version}`).sort();
    expect(
      cdx.components
        .filter((c: { type: string }) => c.type === 'library')
        .map((c: { name: string; version: string }) => `${c.name}@${c.version}`)
        .sort(),
    ).toEqual(want);
    expect(r.outputs['package-count']).toBe(String(want.length));
    expect(r.summary).toContain(`MIT (${licenceCount('MIT')})`);
    expect(r.summary).toMatch(/trivy/);
  });

  it('path mode: a directory SBOM made by real syft is uploaded, not attached, and named after the service; a second upload collides unless overwrite', async () => {
    const home = trackedHome();
    writeFileSync(join(home.workspace, 'package.json'), '{"name":"app","version":"0.1.0","license":"MIT"}');
    mkdirSync(join(home.workspace, 'node_modules', 'ms'), { recursive: true });
    writeFileSync(join(home.workspace, 'node_modules', 'ms', 'package.json'), '{"name":"ms","version":"2.1.3","license":"MIT"}');
    writeFileSync(
      join(home.workspace, 'package-lock.json'),
      JSON.stringify({
        name: 'app',
        version: '0.1.0',
        lockfileVersion: 3,
        packages: {
          '': { name: 'app', version: '0.1.0', dependencies: { ms: '2.1.3' } },
          'node_modules/ms': { version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', license: 'MIT' },
        },
      }),
    );
    const r = await runAction('sbom-attach', {
      home,
      inputs: { path: '.', format: 'cyclonedx-json', 'output-dir': 'sboms' },
      env: env(),
      timeoutMs: 60_000,
    });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const [file] = (r.outputs.sbom as string).split('\n');
    expect(file).toBe(join(home.workspace, 'sboms', 'sbom-shop-4f1c6b9.cdx.json'));
    expect(r.outputs.attached).toBe('none');
    const cdx = JSON.parse(readFileSync(file!, 'utf8'));
    // --source-name shop: the root component carries the service name, not the runner's path.
    expect(cdx.metadata.component.name).toBe('shop');
    expect(cdx.components.filter((c: { type: string }) => c.type === 'library').map((c: { name: string }) => c.name)).toContain('ms');
    expect(gh.artifacts.get('sbom-shop-4f1c6b9')?.finalized).toBe(true);
    // A second run with the same name collides: the step says which input to set.
    const again = await runAction('sbom-attach', { home, inputs: { path: '.', format: 'cyclonedx-json' }, env: env(), timeoutMs: 60_000 });
    expect(again.outputs['failure-reason']).toBe('upload-failed');
    expect(again.errors[0]).toMatch(/set 'service' or 'artifact-name' per leg/);
    // overwrite: true (what a re-run attempt of build-sign-scan's sbom job sets) replaces it instead:
    // the real @actions/artifact client deletes this run's artifact of that name, then uploads anew.
    const oldId = gh.artifacts.get('sbom-shop-4f1c6b9')!.id;
    const replaced = await runAction('sbom-attach', {
      home,
      inputs: { path: '.', format: 'cyclonedx-json', overwrite: 'true' },
      env: env(),
      timeoutMs: 60_000,
    });
    expect(replaced.errors, replaced.stdout + replaced.stderr).toEqual([]);
    expect(gh.artifacts.get('sbom-shop-4f1c6b9')?.finalized).toBe(true);
    expect(gh.artifacts.get('sbom-shop-4f1c6b9')!.id).not.toBe(oldId);
    gh.artifacts.delete('sbom-shop-4f1c6b9');
    // ...and with nothing to replace, it simply uploads.
    const fresh = await runAction('sbom-attach', {
      home,
      inputs: { path: '.', format: 'cyclonedx-json', overwrite: 'true' },
      env: env(),
      timeoutMs: 60_000,
    });
    expect(fresh.errors, fresh.stdout + fresh.stderr).toEqual([]);
    expect(gh.artifacts.get('sbom-shop-4f1c6b9')?.finalized).toBe(true);
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
      const r = await sbomAttach(
        { image: img.ref, attach: 'referrer', 'registry-username': 'bot', 'registry-password': pw, upload: 'false' },
        { env: NO_OIDC },
      );
      expect(r.errors, r.stdout + r.stderr).toEqual([]);
      expect(r.outputs['package-count']).toBe(String(EXPECTED_PACKAGES.length));
      const idx = await getManifest(authReg.url, img.repo, img.digest.replace(':', '-'), basic);
      expect(idx.json?.manifests).toHaveLength(1);
      assertNoLeak(r, [pw, Buffer.from(`bot:${pw}`).toString('base64')]);
      // Without the login real syft is refused by the registry.
      const denied = await sbomAttach({ image: img.ref, attach: 'referrer', upload: 'false' }, { env: NO_OIDC });
      expect(denied.outputs['failure-reason']).toBe('generate-failed');
      expect(denied.errors[0]).toMatch(/UNAUTHORIZED|unauthorized|401/);
      // The runner's existing login (docker/login-action writes ~/.docker/config.json) is used by syft and by the referrer push.
      const img2 = await pushTestImage(authReg, 'octo-org/private', randomBytes(6).toString('hex'), basic);
      const home = trackedHome();
      mkdirSync(join(home.root, '.docker'));
      writeFileSync(
        join(home.root, '.docker', 'config.json'),
        JSON.stringify({ auths: { [authReg.host]: { auth: Buffer.from(`bot:${pw}`).toString('base64') } } }),
      );
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
