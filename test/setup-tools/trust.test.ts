/**
 * The catalog's real vendor signers and keys, held to facts written here from TOOL-RELEASES.md
 * (vendor goreleaser configs, install scripts and docs; this test does not read that file), and
 * the pinned trust anchors: HashiCorp's key, Helm's KEYS, the Sigstore public-good trusted root.
 */
import { readFileSync } from 'node:fs';
import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { plan, type Platform } from '../../actions/setup-tools/src/catalog.js';
import { parseVerify } from '../../actions/setup-tools/src/inputs.js';
import { HASHICORP_PUBLIC_KEY } from '../../actions/setup-tools/src/trust/hashicorp.js';
import { HELM_KEYS } from '../../actions/setup-tools/src/trust/helm-keys.js';
import { PUBLIC_GOOD_TRUSTED_ROOT } from '../../actions/setup-tools/src/trust/sigstore-public-good.js';

const LX: Platform = { os: 'linux', arch: 'x64' };
const GHA = 'https://token.actions.githubusercontent.com';
const GOOGLE = 'https://accounts.google.com';
const sigOf = (t: Parameters<typeof plan>[0], v: string, mirror?: string) => plan(t, v, LX, mirror).signature;

describe('catalog: the vendors signers (facts from TOOL-RELEASES.md)', () => {
  it('cosign: keyless@projectsigstore (accounts.google.com); bundles per asset from 3.0.1, the -keyless pair before', () => {
    expect(sigOf('cosign', '3.1.2')).toMatchObject({
      scheme: 'sigstore-bundle',
      covers: 'asset',
      bundlePath: 'cosign-linux-amd64.sigstore.json',
      signer: { san: 'keyless@projectsigstore.iam.gserviceaccount.com', issuer: GOOGLE },
    });
    expect(sigOf('cosign', '3.0.1')?.scheme).toBe('sigstore-bundle');
    expect(sigOf('cosign', '3.0.0')).toMatchObject({
      scheme: 'keyless-pair',
      sigPath: 'cosign-linux-amd64-keyless.sig',
      certPath: 'cosign-linux-amd64-keyless.pem',
    });
    expect(sigOf('cosign', '2.6.4')).toMatchObject({
      scheme: 'keyless-pair',
      covers: 'asset',
      signer: { san: 'keyless@projectsigstore.iam.gserviceaccount.com', issuer: GOOGLE },
    });
    expect(sigOf('cosign', '2.6.4')?.base).toBe('https://github.com/sigstore/cosign/releases/download/v2.6.4');
  });

  it('syft: the .sig/.pem pair on the checksums file, release.yaml on main, since 0.104.0', () => {
    expect(sigOf('syft', '1.51.0')).toMatchObject({
      scheme: 'keyless-pair',
      covers: 'checksum',
      sigPath: 'syft_1.51.0_checksums.txt.sig',
      certPath: 'syft_1.51.0_checksums.txt.pem',
      signer: { san: 'https://github.com/anchore/syft/.github/workflows/release.yaml@refs/heads/main', issuer: GHA },
    });
    expect(sigOf('syft', '0.104.0')?.scheme).toBe('keyless-pair');
    expect(sigOf('syft', '0.103.1')).toBeUndefined();
  });

  it('trivy: bundles from 0.68.1, reusable-release.yaml at the tag', () => {
    expect(sigOf('trivy', '0.74.0')).toMatchObject({
      scheme: 'sigstore-bundle',
      covers: 'checksum',
      bundlePath: 'trivy_0.74.0_checksums.txt.sigstore.json',
      signer: { san: 'https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v0.74.0', issuer: GHA },
    });
    expect(sigOf('trivy', '0.68.1')?.scheme).toBe('sigstore-bundle');
    expect(sigOf('trivy', '0.68.0')).toBeUndefined();
  });

  it('kyverno: bundles in 1.16.4, 1.17.2 and 1.18.0+, the .sig/.pem pair in ≤1.16.3, ≤1.17.1 and 1.15.x; release.yaml at the tag', () => {
    const signer = (v: string) => ({
      san: `https://github.com/kyverno/kyverno/.github/workflows/release.yaml@refs/tags/v${v}`,
      issuer: GHA,
    });
    expect(sigOf('kyverno', '1.19.0')).toMatchObject({
      scheme: 'sigstore-bundle',
      covers: 'checksum',
      bundlePath: 'checksums.txt.sigstore.json',
      signer: signer('1.19.0'),
    });
    for (const v of ['1.16.4', '1.17.2', '1.18.0', '1.18.2']) expect(sigOf('kyverno', v)?.scheme, v).toBe('sigstore-bundle');
    for (const v of ['1.15.3', '1.16.3', '1.17.1'])
      expect(sigOf('kyverno', v), v).toMatchObject({
        scheme: 'keyless-pair',
        sigPath: 'checksums.txt.sig',
        certPath: 'checksums.txt.pem',
        signer: signer(v),
      });
  });

  it('terraform: the binary PGP signature on SHA256SUMS named after key 72D7468F, by HashiCorp', () => {
    const s = sigOf('terraform', '1.15.9');
    expect(s).toMatchObject({
      scheme: 'pgp',
      covers: 'checksum',
      sigPath: 'terraform_1.15.9_SHA256SUMS.72D7468F.sig',
      armored: false,
      signer: { keyring: 'hashicorp' },
    });
    expect(s?.base).toBe('https://releases.hashicorp.com/terraform/1.15.9');
    expect(s?.signer.kind === 'pgp' && s.signer.description).toContain('C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F');
  });

  it('helm: the armored .asc of the archive, from the GitHub release (not get.helm.sh); from a mirror, in the mirror layout', () => {
    expect(sigOf('helm', '4.2.4')).toMatchObject({
      scheme: 'pgp',
      covers: 'asset',
      sigPath: 'helm-v4.2.4-linux-amd64.tar.gz.asc',
      armored: true,
      signer: { keyring: 'helm' },
    });
    expect(sigOf('helm', '4.2.4')?.base).toBe('https://github.com/helm/helm/releases/download/v4.2.4');
    expect(sigOf('helm', '4.2.4', 'https://m.example/tools/')?.base).toBe('https://m.example/tools/helm/4.2.4');
  });

  it('kubectl: kubectl.sig + kubectl.cert next to the binary, by krel-staging (accounts.google.com)', () => {
    const s = sigOf('kubectl', '1.36.3');
    expect(s).toMatchObject({
      scheme: 'keyless-pair',
      covers: 'asset',
      sigPath: 'bin/linux/amd64/kubectl.sig',
      certPath: 'bin/linux/amd64/kubectl.cert',
      signer: { san: 'krel-staging@k8s-releng-prod.iam.gserviceaccount.com', issuer: GOOGLE },
    });
    expect(s?.base).toBe('https://dl.k8s.io/release/v1.36.3');
  });
});

describe('pinned keys', () => {
  it("HashiCorp's key: HashiCorp Security, fingerprint C874 011F … 72D7 468F, expires 2030-03-01", async () => {
    const keys = await openpgp.readKeys({ armoredKeys: HASHICORP_PUBLIC_KEY });
    expect(keys).toHaveLength(1);
    const k = keys[0]!;
    expect(k.getFingerprint().toUpperCase()).toBe('C874011F0AB405110D02105534365D9472D7468F');
    expect(k.getKeyID().toHex().toUpperCase()).toBe('34365D9472D7468F');
    expect(k.users.map((u) => u.userID?.email)).toContain('security@hashicorp.com');
    expect(((await k.getExpirationTime()) as Date).toISOString().slice(0, 10)).toBe('2030-03-01');
    expect(k.isPrivate()).toBe(false);
  });

  it("Helm's KEYS (helm/helm v4.2.4): the release managers' public keys", async () => {
    const got: Record<string, string> = {};
    for (const a of HELM_KEYS)
      for (const k of await openpgp.readKeys({ armoredKeys: a })) {
        expect(k.isPrivate()).toBe(false);
        got[k.getFingerprint().toUpperCase()] = k.users[0]?.userID?.name ?? '';
      }
    expect(got).toEqual({
      '672C657BE06B4B30969C4A57461449C25E36B98E': 'Matthew Farina',
      F1261BDE929012C8FF2E501D6EA5D7598529A53E: 'Martin Hickey',
      '967F8AC5E2216F9F4FD270AD92AA783CBAAE8E3B': 'Matthew Fisher',
      '76939899B137D575D3274E756DCCB9D752D35BA8': 'Taylor Thomas',
      '49D09C86C3DC8DA3F0A076221EF612347F8A9958': 'Adam Reese',
      ABA2529598F6626C420D335B62F49E747D911B60: 'technosophos',
      '4AB45F1CB0D292975C6371436E2A23D806B6E6DD': 'Matt Butcher',
      '208DD36ED5BB3745A16743A4C7C6FBB5B91C1155': 'Scott Rigby',
      '7FEC81FACC7FFB2A010ADD13C2D40F4D8196E874': 'Robert Sirchia',
      BF888333D96A1C18E2682AAED79D67C9EC016739: 'George Jenkins',
    });
  });

  it('the Sigstore trusted root is the public-good one of the TUF seed @sigstore/tuf ships', async () => {
    const seeds = JSON.parse(readFileSync('node_modules/@sigstore/tuf/seeds.json', 'utf8'));
    const seeded = JSON.parse(
      Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'], 'base64').toString('utf8'),
    );
    expect(PUBLIC_GOOD_TRUSTED_ROOT).toEqual(seeded);
    const root = PUBLIC_GOOD_TRUSTED_ROOT as { certificateAuthorities: { uri: string }[]; tlogs: { baseUrl: string }[]; ctlogs: unknown[] };
    expect(root.certificateAuthorities.map((c) => c.uri)).toContain('https://fulcio.sigstore.dev');
    expect(root.tlogs.map((t) => t.baseUrl)).toContain('https://rekor.sigstore.dev');
    expect(root.ctlogs.length).toBeGreaterThan(0);
    // And sigstore-js accepts it as trust material.
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    const { toTrustMaterial } = await import('@sigstore/verify');
    expect(toTrustMaterial(TrustedRoot.fromJSON(PUBLIC_GOOD_TRUSTED_ROOT)).certificateAuthorities.length).toBe(
      root.certificateAuthorities.length,
    );
  });
});

describe('the verify input', () => {
  it('defaults to signature; accepts signature and checksum; refuses anything else naming the input', () => {
    expect(parseVerify('')).toBe('signature');
    expect(parseVerify('signature')).toBe('signature');
    expect(parseVerify(' Checksum ')).toBe('checksum');
    for (const bad of ['none', 'false', 'sig', 'checksum,signature']) {
      const e = (() => {
        try {
          parseVerify(bad);
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(/^input 'verify' must be signature or checksum/);
    }
  });
});
