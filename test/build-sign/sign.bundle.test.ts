/**
 * build-sign bundle tests over real parts: a docker-registry on loopback, buildah building FROM
 * scratch and pushing with --digestfile, and the REAL cosign — 3.1.2 (what setup-tools installs)
 * and 2.6.4 (what a user may pin) — signing and verifying in that registry; keyless against a
 * loopback Fulcio/Rekor (@sigstore/mock, test/harness/sigstore.ts) that real cosign 3 is
 * pointed at with `--signing-config` and `--trusted-root`.
 *
 * Where cosign puts what, as read in sigstore/cosign at the tags we run:
 * - v3.1.2 pkg/oci/remote/write.go (WriteAttestationNewBundleFormat → WriteReferrer): the Sigstore
 *   bundle is one layer (application/vnd.dev.sigstore.bundle.v0.3+json) of an OCI manifest whose
 *   `subject` is the signed digest. docker-registry 2.8 has no referrers API, so go-containerregistry
 *   v0.21.7 (cosign 3.1.2's; pkg/v1/remote/write.go commitSubjectReferrers, referrers.go fallbackTag)
 *   keeps the OCI "referrers tag schema" fallback: an index under the tag `sha256-<hex>` listing them. No `.sig` tag is written.
 * - v2.6.4 pkg/oci/remote/write.go (WriteSignatures): the legacy `sha256-<hex>.sig` manifest with
 *   one simplesigning layer.
 * - v3.1.2 cmd/cosign/cli/verify/verify.go (transformOutput): `verify --output json` reports the
 *   in-toto predicate type as `critical.type` and every verified bundle on the image, attestations
 *   included.
 */
import { execFile } from 'node:child_process';
import { createVerify, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUNDLE_SIGNATURE_TYPE, checkVerified, LEGACY_SIGNATURE_TYPE, parseVerifyOutput, type VerifiedSignature } from '@hallmark/oci';
import type { GitHubServices } from '../harness/github.js';
import { getBlob, getManifest, hasRegistry, type Registry } from '../harness/registry.js';
import { runAction, runtimes, type ActionResult, type RunnerHome } from '../harness/runner.js';
import { toolPath } from '../harness/tools.js';
import type { LoopbackSigstore } from '../harness/sigstore.js';
import {
  canaryKey,
  cosignCalls,
  dockerCli,
  hasBuildah,
  writeContext,
  type CosignVersion,
  type Lab,
  startSigningLab,
  type SigningLab,
  secretsFound,
} from '../harness/build-lab.js';
import { cleanupTracked, trackedHome } from '../harness/tracked.js';

const real = hasRegistry && hasBuildah;
const describeReal = real ? describe : describe.skip;
const run = promisify(execFile);

const PASSWORD = `canary-pw-${randomBytes(6).toString('hex')}`;
const ISSUER = 'https://token.actions.githubusercontent.com';

let registry: Registry;
let lab: Lab;
let sigstore: LoopbackSigstore;
let gh: GitHubServices;
let key: { privateKey: string; publicKey: string };
let pubFile: string;

let signing: SigningLab | undefined;

beforeAll(async () => {
  if (!real) return;
  signing = await startSigningLab(PASSWORD);
  ({ lab, registry, sigstore, gh, key, pubFile } = signing);
});

afterAll(async () => {
  cleanupTracked();
  await signing?.stop();
});

async function build(
  inputs: Record<string, string>,
  opts: { env?: Record<string, string>; runtime?: ReturnType<typeof runtimes>[number]; home?: RunnerHome; cosign?: CosignVersion } = {},
): Promise<ActionResult & { nonce: string }> {
  const home = opts.home ?? trackedHome();
  writeContext(home.workspace);
  const nonce = randomBytes(8).toString('hex');
  const r = await runAction('build-sign', {
    runtime: opts.runtime,
    home,
    inputs: {
      image: `${registry.host}/octo-org/shop`,
      builder: 'buildah',
      context: 'app',
      'registry-insecure': 'true',
      'build-args': `NONCE=${nonce}`,
      ...inputs,
    },
    env: lab.env(opts.env, opts.cosign),
    timeoutMs: 60_000,
  });
  return Object.assign(r, { nonce });
}

/** Key mode with no transparency log: what a GHES or air-gapped runner does (no network here beyond the registry). */
const keyInputs = (extra: Record<string, string> = {}) => ({
  sign: 'key',
  'cosign-key': key.privateKey,
  'cosign-password': PASSWORD,
  tlog: 'false',
  ...extra,
});
/** Keyless against the loopback Sigstore: cosign 3 finds it through these two files. */
const keylessInputs = (extra: Record<string, string> = {}) => ({
  'signing-config': sigstore.signingConfigPath,
  'trusted-root': sigstore.trustedRootPath,
  ...extra,
});

/** The real cosign, run by the test itself (not through the action). */
async function cosign(
  which: CosignVersion,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(toolPath(which), args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: lab.dir, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

async function tags(repo: string): Promise<string[]> {
  const r = await fetch(`${registry.url}/v2/${repo}/tags/list`);
  return ((await r.json()) as { tags: string[] | null }).tags ?? [];
}

interface ReferrerManifest {
  artifactType?: string;
  config: { mediaType: string; artifactType?: string };
  layers: { mediaType: string; digest: string }[];
  subject?: { digest: string };
  annotations?: Record<string, string>;
}

/** The referrers-tag-schema index `sha256-<hex>` and the manifests it lists. */
async function referrers(repo: string, digest: string): Promise<{ status: number; manifests: ReferrerManifest[] }> {
  const idx = await getManifest(registry.url, repo, digest.replace(':', '-'));
  if (idx.status !== 200) return { status: idx.status, manifests: [] };
  const list = (idx.json as { mediaType?: string; manifests?: { digest: string }[] }).manifests ?? [];
  expect((idx.json as { mediaType: string }).mediaType).toBe('application/vnd.oci.image.index.v1+json');
  const manifests: ReferrerManifest[] = [];
  for (const m of list) manifests.push((await getManifest(registry.url, repo, m.digest)).json as unknown as ReferrerManifest);
  return { status: 200, manifests };
}

interface Bundle {
  mediaType: string;
  verificationMaterial: {
    publicKey?: { hint: string };
    certificate?: { rawBytes: string };
    tlogEntries?: { kindVersion: { kind: string } }[];
  };
  dsseEnvelope: { payload: string; payloadType: string; signatures: { sig: string }[] };
}

/** DSSE pre-authentication encoding (what the signature is over). */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

function assertNoLeak(r: ActionResult, secrets: string[]): void {
  expect(secretsFound(r, secrets, [r.home.temp, r.home.workspace, registry.dir])).toEqual([]);
}

/** The rule build-sign had before cosign 3: every entry must be a legacy image signature. */
function legacyOnlyCheck(sigs: VerifiedSignature[], digest: string): boolean {
  return sigs.length > 0 && sigs.every((s) => s.type === LEGACY_SIGNATURE_TYPE && s.digest === digest);
}

describeReal.each(runtimes())('build-sign with real cosign 3.1.2, key mode, no transparency log ($name)', (rt) => {
  it('builds, pushes, signs the pushed digest as a Sigstore bundle in an OCI referrer (no .sig tag), verifies it, and real cosign verify agrees', async () => {
    const before = cosignCalls(lab).length;
    const r = await build(keyInputs({ tags: 'sha-4f1c6b9, v1.2.3' }), { runtime: rt });
    if (process.env.SHOW) console.log(r.stdout, r.stderr, r.summary, readFileSync(r.outputs.policy as string, 'utf8'));
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs['cosign-version']).toBe('v3.1.2');
    const digest = r.outputs.digest as string;
    const ref = r.outputs['image-ref'] as string;
    // The digest is the registry's: both tags resolve to exactly it, and this run's build made it.
    const byTag = await getManifest(registry.url, 'octo-org/shop', 'sha-4f1c6b9');
    expect(byTag.digest).toBe(digest);
    expect((await getManifest(registry.url, 'octo-org/shop', 'v1.2.3')).digest).toBe(digest);
    expect(ref).toBe(`${registry.host}/octo-org/shop@${digest}`);
    const config = JSON.parse(
      (await getBlob(registry.url, 'octo-org/shop', (byTag.json as { config: { digest: string } }).config.digest)).toString(),
    ) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels['dev.hallmark.test.nonce']).toBe(r.nonce);
    expect(r.outputs.signed).toBe('true');

    // Where cosign 3 put it: the referrers tag `sha256-<hex>`, never the legacy `.sig` tag.
    const hex = digest.slice('sha256:'.length);
    const all = await tags('octo-org/shop');
    expect(all).toContain(`sha256-${hex}`);
    expect(all).not.toContain(`sha256-${hex}.sig`);
    const refs = await referrers('octo-org/shop', digest);
    expect(refs.manifests).toHaveLength(1);
    const m = refs.manifests[0]!;
    expect(m.subject?.digest).toBe(digest);
    expect(m.artifactType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(m.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
    expect(m.annotations?.['dev.sigstore.bundle.predicateType']).toBe(BUNDLE_SIGNATURE_TYPE);
    expect(m.layers.map((l) => l.mediaType)).toEqual(['application/vnd.dev.sigstore.bundle.v0.3+json']);
    // The bundle: a DSSE envelope over an in-toto statement naming the digest, signed by our key,
    // and no transparency-log entry (tlog: false uploaded nothing).
    const bundle = JSON.parse((await getBlob(registry.url, 'octo-org/shop', m.layers[0]!.digest)).toString()) as Bundle;
    expect(bundle.verificationMaterial.tlogEntries ?? []).toEqual([]);
    expect(bundle.verificationMaterial.publicKey?.hint).toEqual(expect.any(String));
    const body = Buffer.from(bundle.dsseEnvelope.payload, 'base64');
    const statement = JSON.parse(body.toString()) as { predicateType: string; subject: { digest: { sha256: string } }[] };
    expect(statement.predicateType).toBe(BUNDLE_SIGNATURE_TYPE);
    expect(statement.subject.map((s) => s.digest.sha256)).toEqual([hex]);
    const sigOk = createVerify('sha256')
      .update(pae(bundle.dsseEnvelope.payloadType, body))
      .verify(key.publicKey, Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64'));
    expect(sigOk, 'the DSSE signature verifies with the public key, by Node crypto').toBe(true);
    expect(sigstore.logged).toEqual([]);

    // Real cosign, outside the action, accepts it with the key and without a log...
    const v = await cosign('cosign', [
      'verify',
      '--key',
      pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(v.code, v.stderr).toBe(0);
    const sigs = parseVerifyOutput(v.stdout);
    expect(sigs).toEqual([
      expect.objectContaining({ type: BUNDLE_SIGNATURE_TYPE, kind: 'signature', digest, dockerReference: ref, optional: {} }),
    ]);
    // ...and rejects it for another key.
    const otherKey = canaryKey(lab, 'other-pw');
    const otherPub = join(lab.dir, 'other.pub');
    writeFileSync(otherPub, otherKey.publicKey);
    const wrong = await cosign('cosign', [
      'verify',
      '--key',
      otherPub,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(wrong.code).not.toBe(0);

    // What the action asked cosign: the key by reference only, the tlog turned off the way cosign 3 accepts.
    const calls = cosignCalls(lab).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['version', 'public-key', 'sign', 'verify']);
    expect(calls[2]!.argv).toEqual([
      'sign',
      '--yes',
      '--key',
      'env://COSIGN_KEY',
      '--use-signing-config=false',
      '--tlog-upload=false',
      '--allow-http-registry',
      ref,
    ]);
    expect(calls[2]!.env).toEqual(expect.arrayContaining(['COSIGN_KEY', 'COSIGN_PASSWORD']));
    expect(calls[3]!.argv).toEqual([
      'verify',
      '--key',
      'env://COSIGN_PUBLIC_KEY',
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);

    // The policy: the bundle verifier, the exact public key, no log required.
    const policyPath = r.outputs.policy as string;
    expect(policyPath).toBe(`${r.home.workspace}/hallmark-policy.yaml`);
    const policy = parseYaml(readFileSync(policyPath, 'utf8'));
    expect(policy.kind).toBe('ClusterPolicy');
    const vi = policy.spec.rules[0].verifyImages[0];
    expect(vi.type).toBe('SigstoreBundle');
    expect(vi.attestors[0].entries[0].keys.publicKeys.trim()).toBe(key.publicKey.trim());
    expect(JSON.stringify(vi)).toContain('ignoreTlog');
    expect(policy.metadata.annotations['hallmark.dev/signed-digest']).toBe(digest);

    expect(r.summary).toContain(ref);
    expect(r.summary).toContain('v3.1.2');
    expect(r.summary).toContain(`cosign verify --key cosign.pub --insecure-ignore-tlog=true ${ref}`);
    assertNoLeak(r, [key.privateKey, PASSWORD]);
  });
});

describeReal('build-sign with real cosign 2.6.4 (a user pin), key mode, no transparency log', () => {
  it('signs in the legacy .sig layout, parses cosign 2 output, and writes a Cosign-type policy', async () => {
    const before = cosignCalls(lab).length;
    const r = await build(keyInputs({ tags: 'cosign2-1' }), { cosign: 'cosign2' });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.outputs['cosign-version']).toBe('v2.6.4');
    expect(r.outputs.signed).toBe('true');
    const digest = r.outputs.digest as string;
    const ref = r.outputs['image-ref'] as string;
    const hex = digest.slice('sha256:'.length);
    const all = await tags('octo-org/shop');
    expect(all).toContain(`sha256-${hex}.sig`);
    expect(all).not.toContain(`sha256-${hex}`);
    const sig = await getManifest(registry.url, 'octo-org/shop', `sha256-${hex}.sig`);
    const layers = (sig.json as { layers: { digest: string; mediaType: string; annotations: Record<string, string> }[] }).layers;
    expect(layers.map((l) => l.mediaType)).toEqual(['application/vnd.dev.cosign.simplesigning.v1+json']);
    const payload = await getBlob(registry.url, 'octo-org/shop', layers[0]!.digest);
    expect(JSON.parse(payload.toString()).critical.image['docker-manifest-digest']).toBe(digest);
    expect(
      createVerify('sha256')
        .update(payload)
        .verify(key.publicKey, Buffer.from(layers[0]!.annotations['dev.cosignproject.cosign/signature']!, 'base64')),
    ).toBe(true);
    // No Rekor bundle annotation: nothing was uploaded.
    expect(layers[0]!.annotations['dev.sigstore.cosign/bundle']).toBeUndefined();

    // cosign 2 takes --tlog-upload=false alone (it has no TUF signing config by default).
    const calls = cosignCalls(lab).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['version', 'public-key', 'sign', 'verify']);
    expect(calls[2]!.argv).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '--tlog-upload=false', '--allow-http-registry', ref]);

    // Real cosign 2 output, parsed: the legacy type, digest, and a repository without the digest.
    const v = await cosign('cosign2', [
      'verify',
      '--key',
      pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(v.code, v.stderr).toBe(0);
    const sigs = parseVerifyOutput(v.stdout);
    expect(sigs).toEqual([
      expect.objectContaining({
        type: LEGACY_SIGNATURE_TYPE,
        kind: 'signature',
        digest,
        dockerReference: `${registry.host}/octo-org/shop`,
      }),
    ]);
    expect(checkVerified(sigs, { digest })).toEqual({ ok: true, signatures: 1, attestations: 0 });

    const policy = parseYaml(readFileSync(r.outputs.policy as string, 'utf8'));
    expect(policy.spec.rules[0].verifyImages[0].type).toBe('Cosign');
  });

  it('refuses signing-config with cosign 2, naming the input, before anything is signed', async () => {
    const home = trackedHome();
    const sc = join(home.workspace, 'signing-config.json');
    writeFileSync(sc, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', caUrls: [], rekorTlogUrls: [] }));
    const r = await build(keyInputs({ tags: 'cosign2-sc', 'signing-config': 'signing-config.json' }), { cosign: 'cosign2', home });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toEqual([
      expect.stringMatching(/^build-sign: input 'signing-config' needs cosign 3 or later \(this runner has cosign v2\.6\.4/),
    ]);
    expect(r.stdout).not.toContain('Building:');
  });
});

describeReal('build-sign verify step with an SBOM attestation of the same key on the image (real cosign 3 output)', () => {
  it('picks the image signature among the attestation bundles cosign 3 verify also returns', async () => {
    const first = await build(keyInputs({ tags: 'with-sbom' }));
    expect(first.errors, first.stdout).toEqual([]);
    const digest = first.outputs.digest as string;
    const ref = first.outputs['image-ref'] as string;
    // A real SPDX attestation by the same key, stored by real cosign 3 next to the signature.
    const sbom = join(lab.dir, `sbom-${randomBytes(4).toString('hex')}.spdx.json`);
    writeFileSync(
      sbom,
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        dataLicense: 'CC0-1.0',
        SPDXID: 'SPDXRef-DOCUMENT',
        name: 'shop',
        documentNamespace: `https://hallmark.test/${digest}`,
        creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: hallmark-test'] },
        packages: [],
      }),
    );
    const att = await cosign(
      'cosign',
      [
        'attest',
        '--yes',
        '--key',
        'env://COSIGN_KEY',
        '--use-signing-config=false',
        '--tlog-upload=false',
        '--predicate',
        sbom,
        '--type',
        'spdxjson',
        '--allow-http-registry',
        ref,
      ],
      { COSIGN_KEY: key.privateKey, COSIGN_PASSWORD: PASSWORD },
    );
    expect(att.code, att.stderr).toBe(0);
    expect(
      (await referrers('octo-org/shop', digest)).manifests.map((m) => m.annotations?.['dev.sigstore.bundle.predicateType']).sort(),
    ).toEqual(['https://sigstore.dev/cosign/sign/v1', 'https://spdx.dev/Document']);

    // What real cosign 3 verify prints now: both bundles.
    const v = await cosign('cosign', [
      'verify',
      '--key',
      pubFile,
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(v.code, v.stderr).toBe(0);
    const sigs = parseVerifyOutput(v.stdout);
    expect(sigs.map((s) => [s.type, s.kind, s.digest])).toEqual(
      expect.arrayContaining([
        [BUNDLE_SIGNATURE_TYPE, 'signature', digest],
        ['https://spdx.dev/Document', 'attestation', digest],
      ]),
    );
    expect(sigs).toHaveLength(2);
    expect(checkVerified(sigs, { digest })).toEqual({ ok: true, signatures: 1, attestations: 1 });
    // The check before cosign 3 support would have refused this very output (so this test can fail).
    expect(legacyOnlyCheck(sigs, digest)).toBe(false);
    // And with only the attestation left, no signature means no pass.
    expect(
      checkVerified(
        sigs.filter((s) => s.kind === 'attestation'),
        { digest },
      ).ok,
    ).toBe(false);

    // The action's own verify step over that image (signing the existing digest again) passes.
    const again = await runAction('build-sign', {
      home: trackedHome(),
      inputs: { image: `${registry.host}/octo-org/shop`, digest, 'registry-insecure': 'true', ...keyInputs() },
      env: lab.env(),
      timeoutMs: 60_000,
    });
    expect(again.errors, again.stdout).toEqual([]);
    expect(again.outputs.signed).toBe('true');
    expect(again.stdout).toMatch(
      /Verified: 2 signature\(s\) over sha256:[0-9a-f]{64} by sha256:[0-9a-f]{64} \(cosign also verified 1 attestation\(s\) on the image/,
    );
    expect(again.summary).toContain('1 attestation(s) also verified, not counted');
  });
});

describeReal.each(runtimes())('build-sign keyless with real cosign 3 over loopback Sigstore ($name)', (rt) => {
  it('signs as the job_workflow_ref of the OIDC token (a reusable workflow), logs in the loopback Rekor, verifies that exact identity, and writes a keyless policy for it', async () => {
    const reusable = 'octo-org/platform/.github/workflows/build-sign-scan.yml@refs/tags/v1.4.0';
    gh.oidcClaims.job_workflow_ref = reusable;
    const before = cosignCalls(lab).length;
    const logged = sigstore.logged.length;
    const r = await build(keylessInputs({ tags: 'sha-4f1c6b9', 'policy-kind': 'image-validating-policy' }), {
      runtime: rt,
      env: { ...gh.env, GITHUB_WORKFLOW_REF: 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main' },
    });
    if (process.env.SHOW) console.log(r.stdout, r.stderr);
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    expect(r.code).toBe(0);
    const identity = `https://github.com/${reusable}`;
    expect(r.outputs.identity).toBe(identity);
    expect(r.outputs.signed).toBe('true');
    const digest = r.outputs.digest as string;
    const ref = r.outputs['image-ref'] as string;
    // The loopback Fulcio issued a certificate for that identity, and the loopback Rekor logged a DSSE entry.
    expect(sigstore.issued).toContain(identity);
    expect(sigstore.logged.slice(logged)).toEqual(['dsse']);
    // The bundle in the referrer carries that certificate and the log entry.
    const m = (await referrers('octo-org/shop', digest)).manifests.find(
      (x) => x.annotations?.['dev.sigstore.bundle.predicateType'] === BUNDLE_SIGNATURE_TYPE,
    )!;
    const bundle = JSON.parse((await getBlob(registry.url, 'octo-org/shop', m.layers[0]!.digest)).toString()) as Bundle;
    const cert = new X509Certificate(Buffer.from(bundle.verificationMaterial.certificate!.rawBytes, 'base64'));
    expect(cert.subjectAltName).toBe(`URI:${identity}`);
    expect(bundle.verificationMaterial.tlogEntries?.map((e) => e.kindVersion.kind)).toEqual(['dsse']);
    // cosign got the token in SIGSTORE_ID_TOKEN and the loopback Sigstore through the two files.
    const calls = cosignCalls(lab).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['version', 'sign', 'verify']);
    expect(calls[1]!.argv).toEqual([
      'sign',
      '--yes',
      '--signing-config',
      sigstore.signingConfigPath,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      ref,
    ]);
    expect(calls[1]!.env).toContain('SIGSTORE_ID_TOKEN');
    expect(calls[2]!.argv).toEqual([
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(calls.some((c) => c.argv.some((a) => a.includes('regexp')))).toBe(false);
    // Real cosign, outside the action: the exact identity verifies against the loopback root; another does not.
    const ok = await cosign('cosign', [
      'verify',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parseVerifyOutput(ok.stdout).filter((s) => s.kind === 'signature')).toHaveLength(1);
    const other = await cosign('cosign', [
      'verify',
      '--certificate-identity',
      'https://github.com/octo-org/shop/.github/workflows/ci.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      sigstore.trustedRootPath,
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
    expect(other.code).not.toBe(0);
    // The policy's attestor is that same identity, exactly, in the Rekor the signing config names.
    const policyText = readFileSync(r.outputs.policy as string, 'utf8');
    const policy = parseYaml(policyText);
    expect(policy.kind).toBe('ImageValidatingPolicy');
    expect(policyText).toContain(identity);
    expect(policyText).toContain(sigstore.url);
    expect(policyText).not.toContain('*.github');
    expect(r.summary).toContain(
      `cosign verify --certificate-identity ${identity} --certificate-oidc-issuer ${ISSUER} --trusted-root trusted_root.json ${ref}`,
    );
    expect(r.stdout).toContain('called from octo-org/shop/.github/workflows/ci.yml@refs/heads/main');
  });

  it('fails with verify-failed when the expected identity differs from the one that signed', async () => {
    gh.oidcClaims.job_workflow_ref = 'octo-org/shop/.github/workflows/ci.yml@refs/heads/main';
    const expected = 'https://github.com/octo-org/platform/.github/workflows/release.yml@refs/heads/main';
    const r = await build(keylessInputs({ identity: expected }), { runtime: rt, env: gh.env });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('verify-failed');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^build-sign: cosign verify rejected .*@sha256:[a-f0-9]{64} for identity https:\/\/github\.com\/octo-org\/platform/,
    );
    // cosign itself said why (its words, one line).
    expect(r.errors[0]).toMatch(/no matching (signatures|attestations)/);
    expect(r.outputs.signed).toBe('false');
    expect(r.outputs.policy).toBe('');
    expect(r.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(r.summary).toContain('verify-failed');
  });
});

describeReal('build-sign: more real-registry paths', () => {
  it('signs an existing digest without building (digest input), the key from env://', async () => {
    const first = await build({ sign: 'none', tags: 'sha-4f1c6b9' });
    expect(first.code, first.stdout).toBe(0);
    expect(first.outputs.signed).toBe('false');
    expect(first.outputs.policy).toBe('');
    expect(first.outputs['cosign-version']).toBe('');
    const digest = first.outputs.digest as string;
    const before = cosignCalls(lab).length;
    const r = await runAction('build-sign', {
      home: trackedHome(),
      inputs: {
        image: `${registry.host}/octo-org/shop`,
        digest,
        sign: 'key',
        'cosign-key': 'env://MY_COSIGN_KEY',
        'cosign-password': PASSWORD,
        'registry-insecure': 'true',
        tlog: 'false',
      },
      env: lab.env({ MY_COSIGN_KEY: key.privateKey }),
      timeoutMs: 60_000,
    });
    expect(r.errors, r.stdout).toEqual([]);
    expect(r.outputs.digest).toBe(digest);
    expect(r.outputs.tags).toBe('[]');
    const calls = cosignCalls(lab).slice(before);
    expect(calls.map((c) => c.cmd)).toEqual(['version', 'public-key', 'sign', 'verify']);
    expect(calls[2]!.argv).toContain('env://MY_COSIGN_KEY');
    expect(r.stdout).not.toContain('buildah');
    assertNoLeak(r, [key.privateKey, PASSWORD]);
  });

  it('fails with sign-failed when the key password is wrong — before building or pushing anything', async () => {
    const r = await build(keyInputs({ 'cosign-password': 'not-the-password', tags: 'wrong-password' }));
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
    const r = await build(keyInputs({ tags: 'no-cosign' }), { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(r.outputs['failure-reason']).toBe('sign-failed');
    expect(r.errors).toEqual([
      'build-sign: cosign was not found on PATH: add hallmark-dev/hallmark/actions/setup-tools with `tools: cosign` before this step',
    ]);
    expect((await getManifest(registry.url, 'octo-org/shop', 'no-cosign')).status).toBe(404);
  });

  it('fails with sign-failed when keyless signing has no OIDC token (no id-token: write), without pushing an unsigned image', async () => {
    const r = await build(keylessInputs({ tags: 'no-oidc' }));
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('sign-failed');
    expect(r.errors[0]).toMatch(/id-token: write/);
    expect(r.stdout).not.toContain('Building:');
    expect((await getManifest(registry.url, 'octo-org/shop', 'no-oidc')).status).toBe(404);
  });

  it('fails with build-failed on a broken Containerfile, and with push-failed when the registry is gone', async () => {
    const home = trackedHome();
    writeContext(home.workspace);
    writeFileSync(`${home.workspace}/app/Containerfile`, 'FROM scratch\nCOPY does-not-exist /x\n');
    const r = await runAction('build-sign', {
      home,
      inputs: { image: `${registry.host}/octo-org/shop`, builder: 'buildah', context: 'app', 'registry-insecure': 'true', sign: 'none' },
      env: lab.env(),
      timeoutMs: 45_000,
    });
    expect(r.outputs['failure-reason']).toBe('build-failed');
    expect(r.code).toBe(1);
    const gone = await runAction('build-sign', {
      inputs: { image: '127.0.0.1:9/octo-org/shop', builder: 'buildah', context: 'app', 'registry-insecure': 'true', sign: 'none' },
      home: (() => {
        const h = trackedHome();
        writeContext(h.workspace);
        return h;
      })(),
      env: lab.env(),
      timeoutMs: 45_000,
    });
    expect(gone.outputs['failure-reason']).toBe('push-failed');
  });
});

describe.skipIf(!real || !dockerCli)(
  'build-sign with the buildx builder (real docker CLI, buildx plugin stand-in building with buildah — BuildKit cannot run here)',
  () => {
    it('takes the digest from the buildx metadata file of a multi-platform push, and real cosign 3 signs that index keyless', async () => {
      const home = trackedHome();
      const { mkdirSync, symlinkSync } = await import('node:fs');
      mkdirSync(`${home.root}/.docker/cli-plugins`, { recursive: true });
      symlinkSync(`${process.cwd()}/test/stand-ins/docker-buildx`, `${home.root}/.docker/cli-plugins/docker-buildx`);
      gh.oidcClaims.job_workflow_ref = 'octo-org/shop/.github/workflows/release.yml@refs/tags/v3.0.0';
      const buildxLog = `${lab.dir}/buildx-calls.jsonl`;
      const r = await build(keylessInputs({ builder: 'buildx', platforms: 'linux/amd64,linux/arm64', tags: 'v3.0.0' }), {
        home,
        env: { ...gh.env, DOCKER_BUILDX_STANDIN_LOG: buildxLog },
      });
      expect(r.errors, r.stdout + r.stderr).toEqual([]);
      const index = await getManifest(registry.url, 'octo-org/shop', 'v3.0.0');
      expect(index.digest).toBe(r.outputs.digest);
      const platforms = ((index.json as { manifests: { platform: { architecture: string } }[] }).manifests ?? [])
        .map((m) => m.platform.architecture)
        .sort();
      expect(platforms).toEqual(['amd64', 'arm64']);
      const argv = JSON.parse(readFileSync(buildxLog, 'utf8').trim().split('\n').pop() as string) as string[];
      expect(argv).toEqual(expect.arrayContaining(['--metadata-file', '--push', '--platform', 'linux/amd64,linux/arm64']));
      expect(r.outputs.identity).toBe('https://github.com/octo-org/shop/.github/workflows/release.yml@refs/tags/v3.0.0');
      expect(r.outputs.signed).toBe('true');
      // The signature of the index is a referrer of the index digest.
      const refs = await referrers('octo-org/shop', r.outputs.digest as string);
      expect(refs.manifests.map((m) => m.subject?.digest)).toEqual([r.outputs.digest]);
    });
  },
);

describeReal('build-sign buildah multi-platform', () => {
  it('builds a manifest list, pushes it --all with --digestfile, and reports the index digest the registry stored', async () => {
    const r = await build({ platforms: 'linux/amd64,linux/arm64/v8', tags: 'multi-1', sign: 'none' });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const index = await getManifest(registry.url, 'octo-org/shop', 'multi-1');
    expect(r.outputs.digest).toBe(index.digest);
    const ms = (index.json as { manifests: { platform: { architecture: string; variant?: string } }[] }).manifests;
    expect(ms.map((m) => `${m.platform.architecture}${m.platform.variant ? `/${m.platform.variant}` : ''}`).sort()).toEqual([
      'amd64',
      'arm64/v8',
    ]);
    expect(r.summary).toContain('built (not signed)');
  });
});
