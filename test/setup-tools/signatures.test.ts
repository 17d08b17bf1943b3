/**
 * setup-tools' vendor signature checks, end to end through the install flow with the runner's
 * real Io (streamed downloads, @actions/tool-cache extraction and cache) against the loopback
 * mirror (mirror.ts), which serves each vendor's release plus signatures made here in the
 * vendor's real format (signing.ts): Sigstore bundles from a loopback @sigstore/mock Fulcio/Rekor,
 * syft's legacy .sig/.pem pair, HashiCorp's binary PGP signature, helm's armored .asc.
 *
 * The trust anchors are injected (the Deps' `Trust`): the loopback Sigstore's trusted root in
 * place of the public-good one, and test PGP keys in place of HashiCorp's and Helm's (whose
 * private halves we do not have). The Sigstore IDENTITIES are the catalog's real ones: the test
 * signs as "aquasecurity/trivy's release workflow at v0.74.0", which the mock CA allows.
 *
 * Each scheme: valid, wrong signer, tampered archive with a re-computed checksum file (must fail),
 * missing signature. Failures must leave the tool cache empty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '@hallmark/kit';
import { plan, platformOf, type ToolName } from '../../actions/setup-tools/src/catalog.js';
import { install, type Installed } from '../../actions/setup-tools/src/flow.js';
import { runnerIo } from '../../actions/setup-tools/src/runner.js';
import type { Trust } from '../../actions/setup-tools/src/trust/index.js';
import { buildRelease, GOARCH, listTree, sha256, startMirror, type Mirror, type Tool } from './mirror.js';
import { pgpKey, startTestSigstore, type Identity, type PgpKey, type TestSigstore } from './signing.js';

const PLATFORM = platformOf(process.platform, process.arch)!;
const GHA = 'https://token.actions.githubusercontent.com';
const GOOGLE = 'https://accounts.google.com';

// The vendors' signers, written here from TOOL-RELEASES.md (not read from the catalog).
const ID = {
  cosign: { san: 'keyless@projectsigstore.iam.gserviceaccount.com', issuer: GOOGLE },
  trivy: { san: 'https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.74.0', issuer: GHA },
  kyverno: { san: 'https://github.com/kyverno/kyverno/.github/workflows/release.yaml@refs/tags/v1.19.0', issuer: GHA },
  syft: { san: 'https://github.com/anchore/syft/.github/workflows/release.yaml@refs/heads/main', issuer: GHA },
  kubectl: { san: 'krel-staging@k8s-releng-prod.iam.gserviceaccount.com', issuer: GOOGLE },
} satisfies Record<string, Identity>;
/** Somebody else's release workflow (a fork), signing with the same CA. */
const FORK = (i: Identity): Identity => ({
  san: i.san
    .replace(/github\.com\/[^/]+\//, 'github.com/evil-fork/')
    .replace('keyless@projectsigstore', 'keyless@attacker-project')
    .replace('krel-staging@', 'krel-attacker@'),
  issuer: i.issuer,
});

const VERSIONS = {
  cosign: '3.1.2',
  trivy: '0.74.0',
  kyverno: '1.19.0',
  syft: '1.51.0',
  kubectl: '1.36.3',
  terraform: '1.15.9',
  helm: '4.2.4',
} as const;

let lab: string;
let mirror: Mirror;
let ss: TestSigstore;
let hashicorp: PgpKey;
let helm: PgpKey;
let mallory: PgpKey;
let trust: Trust;
let cacheRoot: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  lab = mkdtempSync(join(tmpdir(), 'st-sig-'));
  mirror = await startMirror([...Object.entries(VERSIONS).map(([t, v]) => [t, v] as [Tool, string]), ['trivy', '0.26.1']]);
  ss = await startTestSigstore(lab);
  [hashicorp, helm, mallory] = await Promise.all([pgpKey('HashiCorp Test'), pgpKey('Helm Test Release Manager'), pgpKey('Mallory')]);
  trust = {
    sigstoreTrustedRoot: async () => ss.trustedRoot,
    pgpKeys: async (k) => [k === 'hashicorp' ? hashicorp.armoredPublic : helm.armoredPublic],
  };
}, 60_000);
afterAll(async () => {
  await mirror?.close();
  await ss?.close();
  rmSync(lab, { recursive: true, force: true });
  process.env = savedEnv;
});
beforeEach(() => {
  mirror.reset();
  cacheRoot = mkdtempSync(join(lab, 'cache-'));
  // @actions/tool-cache reads these (cacheDir, extract temp).
  process.env.RUNNER_TOOL_CACHE = cacheRoot;
  process.env.RUNNER_TEMP = mkdtempSync(join(lab, 'temp-'));
});

const dir = (t: Tool, v: string = VERSIONS[t as keyof typeof VERSIONS]) => `/${t}/${v}`;
const rel = (t: Tool, v: string = VERSIONS[t as keyof typeof VERSIONS]) => mirror.releases.get(`${t}@${v}`)!;
const served = (path: string) => mirror.files.get(path) as Buffer;
const assetOf = (t: Tool) => served(`${dir(t)}/${rel(t).asset}`);
const sumsOf = (t: Tool) => served(`${dir(t)}/${rel(t).checksum}`);

/** Where each vendor puts its signature, below the release directory (TOOL-RELEASES.md). */
const SIG_FILES: Record<Tool, () => string[]> = {
  cosign: () => [`${rel('cosign').asset}.sigstore.json`],
  trivy: () => ['trivy_0.74.0_checksums.txt.sigstore.json'],
  kyverno: () => ['checksums.txt.sigstore.json'],
  syft: () => ['syft_1.51.0_checksums.txt.sig', 'syft_1.51.0_checksums.txt.pem'],
  kubectl: () => [`bin/linux/${GOARCH}/kubectl.sig`, `bin/linux/${GOARCH}/kubectl.cert`],
  terraform: () => ['terraform_1.15.9_SHA256SUMS.72D7468F.sig'],
  helm: () => [`${rel('helm').asset}.asc`],
};

/** Signs the release as its vendor would (or as `as` instead), and publishes the signature files. */
async function signRelease(t: Tool, opts: { wrong?: boolean } = {}): Promise<void> {
  const files = SIG_FILES[t]();
  const put = (name: string, body: Buffer | string) => mirror.replace(`${dir(t)}/${name}`, body);
  switch (t) {
    case 'cosign':
      return put(files[0]!, await ss.bundle(assetOf(t), opts.wrong ? FORK(ID.cosign) : ID.cosign));
    case 'trivy':
    case 'kyverno':
      return put(files[0]!, await ss.bundle(sumsOf(t), opts.wrong ? FORK(ID[t]) : ID[t]));
    case 'syft':
    case 'kubectl': {
      const { sig, pem } = await ss.pair(t === 'syft' ? sumsOf(t) : assetOf(t), opts.wrong ? FORK(ID[t]) : ID[t]);
      put(files[0]!, sig);
      return put(files[1]!, pem);
    }
    case 'terraform':
      return put(files[0]!, await (opts.wrong ? mallory : hashicorp).sign(sumsOf(t), false));
    case 'helm':
      return put(files[0]!, await (opts.wrong ? mallory : helm).sign(assetOf(t), true));
  }
}

function io(log: string[] = [], warnings: string[] = []) {
  return runnerIo({
    temp: process.env.RUNNER_TEMP!,
    toolCache: cacheRoot,
    timeoutMs: 10_000,
    attempts: 1,
    retryDelayMs: 10,
    log: (m) => log.push(m),
    warn: (m) => warnings.push(m),
  });
}

async function run(t: ToolName, opts: { verify?: 'signature' | 'checksum'; version?: string } = {}) {
  const log: string[] = [];
  const warnings: string[] = [];
  const p = plan(t, opts.version ?? VERSIONS[t], PLATFORM, mirror.url);
  try {
    const r = await install(p, { useCache: true, verify: opts.verify ?? 'signature' }, io(log, warnings), trust);
    return { ok: true as const, r, log, warnings };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { ok: false as const, e, log, warnings };
  }
}

/** Replaces the archive with another build of the same version and re-computes the checksum file over it. */
function tamper(t: Tool): void {
  const scratch = new Map<string, Buffer>();
  const evil = buildRelease(mkdtempSync(join(lab, 'evil-')), t, rel(t).version, scratch);
  const assetPath = `${dir(t)}/${evil.asset}`;
  const newAsset = scratch.get(assetPath)!;
  expect(sha256(newAsset)).not.toBe(sha256(assetOf(t)));
  mirror.replace(assetPath, newAsset);
  // The attacker's checksum file (kubectl's and helm's hold only the hash) lists the new archive.
  const newSums = scratch.get(`${dir(t)}/${evil.checksum}`)!;
  expect(newSums.toString()).toContain(sha256(newAsset));
  mirror.replace(`${dir(t)}/${evil.checksum}`, newSums);
}

const SCHEMES: { name: string; tool: Tool; signer: RegExp }[] = [
  {
    name: 'Sigstore bundle on the checksum file (trivy)',
    tool: 'trivy',
    signer: /reusable-release\.yaml@refs\/tags\/v0\.74\.0 \(issuer https:\/\/token\.actions/,
  },
  {
    name: 'Sigstore bundle on the checksum file (kyverno)',
    tool: 'kyverno',
    signer: /kyverno\/kyverno\/\.github\/workflows\/release\.yaml@refs\/tags\/v1\.19\.0/,
  },
  {
    name: 'Sigstore bundle on the asset (cosign)',
    tool: 'cosign',
    signer: /keyless@projectsigstore\.iam\.gserviceaccount\.com \(issuer https:\/\/accounts\.google\.com\)/,
  },
  {
    name: 'keyless .sig/.pem pair on the checksum file (syft)',
    tool: 'syft',
    signer: /anchore\/syft\/\.github\/workflows\/release\.yaml@refs\/heads\/main/,
  },
  { name: 'keyless .sig/.cert pair on the binary (kubectl)', tool: 'kubectl', signer: /krel-staging@k8s-releng-prod/ },
  { name: 'binary PGP signature on SHA256SUMS (terraform)', tool: 'terraform', signer: /HashiCorp Test/ },
  { name: 'armored PGP .asc on the archive (helm)', tool: 'helm', signer: /Helm Test Release Manager/ },
];

describe.each(SCHEMES)('$name', ({ tool: t, signer }) => {
  it('valid: installs, and says which signer it verified', async () => {
    await signRelease(t);
    const x = await run(t as ToolName);
    expect(x.ok ? '' : x.e.message).toBe('');
    const r = (x as { r: Installed }).r;
    expect(r.verified?.by).toBe('signature');
    expect(r.verified && 'signer' in r.verified ? r.verified.signer : '').toMatch(signer);
    if (t === 'terraform') expect((r.verified as { signer: string }).signer).toContain(hashicorp.fingerprint);
    if (t === 'helm') expect((r.verified as { signer: string }).signer).toContain(helm.fingerprint);
    expect(r.path).toBe(join(cacheRoot, t, rel(t).version, PLATFORM.arch));
    expect(listTree(cacheRoot)).toContain(join(t, rel(t).version, PLATFORM.arch, t));
    expect(x.warnings).toEqual([]);
  });

  it('wrong signer: signature-invalid naming tool, version and the expected signer; nothing cached', async () => {
    await signRelease(t, { wrong: true });
    const x = await run(t as ToolName);
    expect(x.ok).toBe(false);
    const e = (x as { e: UserError }).e;
    expect(e.reason).toBe('signature-invalid');
    expect(e.message).toContain(`${t} ${rel(t).version}`);
    expect(e.message).toMatch(/expected signer: /);
    // Refused for who signed, not for anything else.
    expect(e.message).toMatch(/not by the expected signer|which is not a pinned key/);
    if (t === 'terraform') expect(e.message).toContain('C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F');
    if (t in ID) expect(e.message).toContain(ID[t as keyof typeof ID].san);
    expect(listTree(cacheRoot)).toEqual([]);
  });

  it('tampered archive with a re-computed checksum file: signature-invalid, nothing cached', async () => {
    await signRelease(t);
    tamper(t);
    // Without the signature, the tampered release passes: the checksum file agrees with the archive.
    const plain = await run(t as ToolName, { verify: 'checksum' });
    expect(plain.ok ? '' : plain.e.message).toBe('');
    rmSync(cacheRoot, { recursive: true, force: true });
    cacheRoot = mkdtempSync(join(lab, 'cache-'));
    process.env.RUNNER_TOOL_CACHE = cacheRoot;
    const x = await run(t as ToolName);
    expect(x.ok).toBe(false);
    expect((x as { e: UserError }).e.reason).toBe('signature-invalid');
    // Refused because the signed bytes changed (the signer is the right one).
    expect((x as { e: UserError }).e.message).toMatch(/does not verify|does not match the signed file/);
    expect(listTree(cacheRoot)).toEqual([]);
  });

  it('missing signature: signature-invalid naming the missing file; nothing cached', async () => {
    const mark = mirror.mark();
    const x = await run(t as ToolName);
    expect(x.ok).toBe(false);
    const e = (x as { e: UserError }).e;
    expect(e.reason).toBe('signature-invalid');
    expect(e.message).toContain(SIG_FILES[t]()[0]!.split('/').pop());
    expect(e.message).toMatch(/missing \(HTTP 404/);
    expect(listTree(cacheRoot)).toEqual([]);
    // The mirror was asked for the signature in the vendor's layout, below <mirror>/<tool>/<version>/.
    expect(mirror.since(mark).map((q) => q.path)).toContain(`${dir(t)}/${SIG_FILES[t]()[0]}`);
  });
});

describe('signature policy', () => {
  it('a signature on the checksum file is checked before the archive is downloaded', async () => {
    await signRelease('trivy', { wrong: true });
    const mark = mirror.mark();
    expect((await run('trivy')).ok).toBe(false);
    expect(mirror.since(mark).map((q) => q.path)).not.toContain(`${dir('trivy')}/${rel('trivy').asset}`);
  });

  it('a version its vendor does not sign falls back to the checksum, with a warning that says so', async () => {
    const x = await run('trivy', { version: '0.26.1' });
    expect(x.ok ? '' : x.e.message).toBe('');
    expect(x.warnings).toHaveLength(1);
    expect(x.warnings[0]).toMatch(
      /trivy 0\.26\.1: the vendor publishes no signature for this version; verified against the checksum file trivy_0\.26\.1_checksums\.txt only/,
    );
    expect((x as { r: Installed }).r.verified).toEqual({ by: 'checksum', why: 'trivy publishes no signature for 0.26.1' });
  });

  it('verify: checksum does not fetch signatures', async () => {
    const mark = mirror.mark();
    const x = await run('terraform', { verify: 'checksum' });
    expect(x.ok).toBe(true);
    expect(
      mirror
        .since(mark)
        .map((q) => q.path)
        .sort(),
    ).toEqual([`${dir('terraform')}/${rel('terraform').asset}`, `${dir('terraform')}/${rel('terraform').checksum}`].sort());
  });

  it('a Sigstore bundle from a CA the trusted root does not hold is refused (the pinned public-good root)', async () => {
    await signRelease('trivy');
    const { pinnedTrust } = await import('../../actions/setup-tools/src/trust/index.js');
    const p = plan('trivy', '0.74.0', PLATFORM, mirror.url);
    const e = await install(p, { useCache: true, verify: 'signature' }, io(), pinnedTrust).catch((x: UserError) => x);
    expect((e as UserError).reason).toBe('signature-invalid');
    expect((e as UserError).message).toMatch(/does not verify/);
    expect(listTree(cacheRoot)).toEqual([]);
  });

  it('a PGP signature by a key outside the pinned keyring is refused, named by its key ID', async () => {
    await signRelease('terraform', { wrong: true });
    const x = await run('terraform');
    expect((x as { e: UserError }).e.message).toContain(mallory.fingerprint.slice(-16));
  });
});
