/**
 * packages/oci/src/cosign.ts: cosign argument arrays (by digest only, key material never in argv,
 * exact keyless identities, the Sigstore options per cosign major version), and the parsing and
 * checking of `cosign verify` output (recorded real output where ../shared/fixtures has it).
 */
import { existsSync, statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  attestArgs,
  BUNDLE_SIGNATURE_TYPE,
  checkSigstoreOptions,
  checkVerified,
  CosignArgError,
  githubWorkflowIdentity,
  keyFromInput,
  parsePublicKey,
  parseVerifyOutput,
  signArgs,
  signBlobArgs,
  signingConfigHasTlog,
  verifyArgs,
  verifyAttestationArgs,
  writeSecretFile,
} from '@hallmark/oci';
import { describeFixtures, fixtureJson, fixtureText } from '../harness/fixtures.js';
import { cleanupTracked, trackedDir } from '../harness/tracked.js';

afterAll(() => cleanupTracked());

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;
const D2 = `sha256:${'fedcba9876543210'.repeat(4)}`;

describe('cosign invocation (packages/oci/src/cosign.ts)', () => {
  const ref = `ghcr.io/octo-org/shop@${D}`;
  it('only ever signs by digest, and never passes key material as an argument', () => {
    expect(() => signArgs('ghcr.io/octo-org/shop:v1')).toThrow(/by digest/);
    expect(() => signArgs(`ghcr.io/octo-org/shop:v1@${D}`)).toThrow(/tag/);
    const k = keyFromInput(
      '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
      'pw',
      () => undefined,
    );
    expect(k.ref).toBe('env://COSIGN_KEY');
    expect(k.env.COSIGN_PASSWORD).toBe('pw');
    const args = signArgs(ref, { key: k, annotations: { 'dev.hallmark/run': '1' } });
    expect(args).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', '-a', 'dev.hallmark/run=1', ref]);
    expect(args.join(' ')).not.toContain('BEGIN');
    expect(() => signArgs(ref, { key: { ref: '-----BEGIN X', env: {} } })).toThrow(/not hold the key/);
  });
  it('env://VAR keys must name a set variable', () => {
    // The variable is handed to cosign explicitly (the kit's exec does not pass on a variable holding a masked secret).
    expect(keyFromInput('env://MY_KEY', 'pw', (n) => (n === 'MY_KEY' ? 'pem' : undefined))).toEqual({
      ref: 'env://MY_KEY',
      env: { COSIGN_PASSWORD: 'pw', MY_KEY: 'pem' },
    });
    expect(() => keyFromInput('env://MY_KEY', '', () => undefined)).toThrow(/not set/);
    expect(() => keyFromInput('env://1BAD', '', () => 'x')).toThrow(/does not name/);
  });
  it('keyless verify names the exact identity and issuer; patterns are refused', () => {
    expect(
      verifyArgs(ref, {
        identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
        issuer: 'https://token.actions.githubusercontent.com',
      }),
    ).toEqual([
      'verify',
      '--certificate-identity',
      'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--output',
      'json',
      ref,
    ]);
    expect(() => verifyArgs(ref, { identity: '.*', issuer: 'https://token.actions.githubusercontent.com' })).toThrow(/exact/);
    expect(() => verifyArgs(ref, { identity: '', issuer: 'x' })).toThrow(/identity/);
  });
  it('attest and sign-blob argument arrays', () => {
    expect(attestArgs(ref, { predicate: '/t/sbom.json', type: 'spdxjson' })).toEqual([
      'attest',
      '--yes',
      '--predicate',
      '/t/sbom.json',
      '--type',
      'spdxjson',
      ref,
    ]);
    expect(() => attestArgs(ref, { predicate: '/t/x', type: 'spdx json' })).toThrow();
    expect(signBlobArgs('/t/sbom.json', { bundle: '/t/sbom.json.sigstore.json', version: { major: 2 } })).toEqual([
      'sign-blob',
      '--yes',
      '--bundle',
      '/t/sbom.json.sigstore.json',
      '--new-bundle-format',
      '/t/sbom.json',
    ]);
    // cosign 3 writes a bundle by default (the flag is deprecated there); tlog off needs the signing config off too.
    expect(
      signBlobArgs('/t/sbom.json', { bundle: '/t/b.json', key: { ref: 'env://COSIGN_KEY', env: {} }, sigstore: { tlog: false } }),
    ).toEqual([
      'sign-blob',
      '--yes',
      '--bundle',
      '/t/b.json',
      '--key',
      'env://COSIGN_KEY',
      '--use-signing-config=false',
      '--tlog-upload=false',
      '/t/sbom.json',
    ]);
    expect(() => signBlobArgs('/t/sbom.json', { bundle: '/t/b.json', sigstore: { tlog: false } })).toThrow(/keyless|log/i);
  });
  it('writes a secret file 0600 in a private directory and removes it', () => {
    const dir = trackedDir('hallmark-unit-');
    const f = writeSecretFile(dir, 'cosign.key', 'secret');
    expect(statSync(f.path).mode & 0o777).toBe(0o600);
    f.remove();
    expect(existsSync(f.path)).toBe(false);
  });
  it('derives the keyless identity from job_workflow_ref, not workflow_ref', () => {
    expect(
      githubWorkflowIdentity({
        workflow_ref: 'o/caller/.github/workflows/ci.yml@refs/heads/main',
        job_workflow_ref: 'o/platform/.github/workflows/sign.yml@refs/tags/v1',
      }),
    ).toBe('https://github.com/o/platform/.github/workflows/sign.yml@refs/tags/v1');
    expect(githubWorkflowIdentity({ workflow_ref: 'o/r/.github/workflows/ci.yml@refs/heads/main' })).toBeUndefined();
  });
  it('parses the public key out of cosign public-key output', () => {
    expect(parsePublicKey('noise\n-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n')).toBe(
      '-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n',
    );
  });
});

describeFixtures('cosign verify output, as recorded from the real cosign', () => {
  it('keyless GitHub Actions output (jq-formatted array): digest, subject and issuer', () => {
    const text = fixtureText('cosign', 'verify-keyless-github-actions.json');
    const expected = fixtureJson<{ critical: { image: { 'docker-manifest-digest': string } }; optional: Record<string, string> }[]>(
      'cosign',
      'verify-keyless-github-actions.json',
    );
    // stderr's check list merged in front of the JSON must not confuse the parser.
    const sigs = parseVerifyOutput(`${fixtureText('cosign', 'verify-keyless-github-actions.stderr.txt')}\n${text}`);
    expect(sigs).toHaveLength(expected.length);
    expect(sigs[0]!.digest).toBe(expected[0]!.critical.image['docker-manifest-digest']);
    expect(sigs[0]!.subject).toBe(expected[0]!.optional.Subject);
    expect(sigs[0]!.issuer).toBe(expected[0]!.optional.Issuer);
    const digest = expected[0]!.critical.image['docker-manifest-digest'];
    expect(
      checkVerified(sigs, { digest, identity: expected[0]!.optional.Subject, issuer: 'https://token.actions.githubusercontent.com' }),
    ).toEqual({ ok: true, signatures: 1, attestations: 0 });
    const other = checkVerified(sigs, { digest: D, identity: expected[0]!.optional.Subject });
    expect(other.ok).toBe(false);
    const wrongWho = checkVerified(sigs, { digest, identity: 'https://github.com/someone/else/.github/workflows/x.yml@refs/heads/main' });
    expect(wrongWho.ok).toBe(false);
  });
  it('key-mode compact output (one line, optional null)', () => {
    const expected = fixtureJson<{ critical: { image: { 'docker-manifest-digest': string } } }[]>('cosign', 'verify-key-compact.json');
    const sigs = parseVerifyOutput(fixtureText('cosign', 'verify-key-compact.json'));
    expect(sigs.map((s) => s.digest)).toEqual(expected.map((e) => e.critical.image['docker-manifest-digest']));
    expect(sigs[0]!.subject).toBeUndefined();
    expect(checkVerified(sigs, { digest: expected[0]!.critical.image['docker-manifest-digest'] }).ok).toBe(true);
    expect(checkVerified([], { digest: D }).ok).toBe(false);
  });
});

/*
 * The Sigstore options (tlog / signing-config / trusted-root) per cosign major version, as read in
 * sigstore/cosign cmd/cosign/cli/options/{sign,attest,verify}.go and signcommon/common.go at v3.1.2
 * and v2.6.4 (and checked against both binaries' --help; the bundle tests run them for real).
 */
describe('Sigstore options on the cosign argument arrays', () => {
  const ref = `ghcr.io/octo-org/shop@${D}`;
  const key = { ref: 'env://COSIGN_KEY', env: {} };
  it('cosign 3, tlog off: --use-signing-config=false with --tlog-upload=false (cosign 3 refuses the latter next to a signing config)', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: false } })).toEqual([
      'sign',
      '--yes',
      '--key',
      'env://COSIGN_KEY',
      '--use-signing-config=false',
      '--tlog-upload=false',
      ref,
    ]);
    expect(attestArgs(ref, { key, predicate: '/t/s.json', type: 'spdxjson', sigstore: { tlog: false }, version: { major: 3 } })).toEqual([
      'attest',
      '--yes',
      '--predicate',
      '/t/s.json',
      '--type',
      'spdxjson',
      '--key',
      'env://COSIGN_KEY',
      '--use-signing-config=false',
      '--tlog-upload=false',
      ref,
    ]);
    expect(verifyArgs(ref, { key }, { allowHttp: true }, { tlog: false })).toEqual([
      'verify',
      '--key',
      'env://COSIGN_KEY',
      '--insecure-ignore-tlog=true',
      '--allow-http-registry',
      '--output',
      'json',
      ref,
    ]);
  });
  it('cosign 3 with a signing config: only --signing-config (the file says whether there is a log), and --trusted-root everywhere', () => {
    const sg = { tlog: true, signingConfig: '/ws/sc.json', trustedRoot: '/ws/tr.json' };
    expect(signArgs(ref, { sigstore: sg })).toEqual([
      'sign',
      '--yes',
      '--signing-config',
      '/ws/sc.json',
      '--trusted-root',
      '/ws/tr.json',
      ref,
    ]);
    expect(
      verifyAttestationArgs(
        ref,
        {
          identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
          issuer: 'https://token.actions.githubusercontent.com',
        },
        'spdxjson',
        {},
        sg,
      ),
    ).toEqual([
      'verify-attestation',
      '--type',
      'spdxjson',
      '--certificate-identity',
      'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
      '--certificate-oidc-issuer',
      'https://token.actions.githubusercontent.com',
      '--trusted-root',
      '/ws/tr.json',
      '--output',
      'json',
      ref,
    ]);
    expect(signArgs(ref, { key, sigstore: { tlog: false, signingConfig: '/ws/sc.json' } })).toEqual([
      'sign',
      '--yes',
      '--key',
      'env://COSIGN_KEY',
      '--signing-config',
      '/ws/sc.json',
      ref,
    ]);
  });
  it('cosign 2: --tlog-upload=false alone; signing-config and trusted-root refused (cosign 2 reads them only in its bundle format)', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: false }, version: { major: 2 } })).toEqual([
      'sign',
      '--yes',
      '--key',
      'env://COSIGN_KEY',
      '--tlog-upload=false',
      ref,
    ]);
    expect(verifyArgs(ref, { key }, { version: { major: 2 } }, { tlog: false })).toContain('--insecure-ignore-tlog=true');
    expect(() => signArgs(ref, { key, sigstore: { tlog: true, signingConfig: '/ws/sc.json' }, version: { major: 2 } })).toThrow(/cosign 3/);
    expect(() => verifyArgs(ref, { key }, { version: { major: 2 } }, { tlog: true, trustedRoot: '/ws/tr.json' })).toThrow(/cosign 3/);
  });
  it('tlog on adds nothing: the default arrays are unchanged', () => {
    expect(signArgs(ref, { key, sigstore: { tlog: true } })).toEqual(['sign', '--yes', '--key', 'env://COSIGN_KEY', ref]);
  });
  it('keyless requires the transparency log; paths must be absolute', () => {
    expect(() => checkSigstoreOptions('keyless', { tlog: false })).toThrow(CosignArgError);
    expect(() => signArgs(ref, { sigstore: { tlog: false } })).toThrow(/key mode/);
    expect(() =>
      verifyArgs(
        ref,
        {
          identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main',
          issuer: 'https://token.actions.githubusercontent.com',
        },
        {},
        { tlog: false },
      ),
    ).toThrow(/key mode/);
    expect(checkSigstoreOptions('key', { tlog: false })).toEqual({ tlog: false });
    expect(() => checkSigstoreOptions('key', { tlog: true, trustedRoot: 'rel/tr.json' })).toThrow(/absolute/);
  });
  it('signing configs with and without a transparency log', () => {
    const sc = (extra: object) =>
      JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json', caUrls: [], ...extra });
    expect(signingConfigHasTlog(sc({ rekorTlogUrls: [{ url: 'https://rekor.internal' }] }))).toBe(true);
    expect(signingConfigHasTlog(sc({ rekorTlogUrls: [] }))).toBe(false);
    expect(() => signingConfigHasTlog('{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')).toThrow(
      /not a Sigstore signing config/,
    );
  });
});

describe('verify output: cosign 3 bundles among attestations', () => {
  const entry = (type: string, digest = D) => ({
    critical: { identity: { 'docker-reference': `ghcr.io/octo-org/shop@${digest}` }, image: { 'docker-manifest-digest': digest }, type },
    optional: {},
  });
  it('picks the image signature and counts attestations without judging them; fails when only attestations verified', () => {
    const sigs = parseVerifyOutput(
      `\n${JSON.stringify([entry(BUNDLE_SIGNATURE_TYPE), entry('https://spdx.dev/Document'), entry('https://cyclonedx.org/bom')])}\n`,
    );
    expect(sigs.map((x) => x.kind)).toEqual(['signature', 'attestation', 'attestation']);
    expect(checkVerified(sigs, { digest: D })).toEqual({ ok: true, signatures: 1, attestations: 2 });
    const only = checkVerified(parseVerifyOutput(JSON.stringify([entry('https://spdx.dev/Document')])), { digest: D });
    expect(only).toEqual({ ok: false, problem: expect.stringContaining('no image signature') });
    // An image signature over another digest still fails, whatever else verified.
    expect(
      checkVerified(parseVerifyOutput(JSON.stringify([entry(BUNDLE_SIGNATURE_TYPE, D2), entry('https://spdx.dev/Document')])), {
        digest: D,
      }).ok,
    ).toBe(false);
  });
});
