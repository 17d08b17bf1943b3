/**
 * The Sigstore verifiers against a REAL public-good signature, offline, with the pinned trusted
 * root: fixtures/public-good-hello-world.sigstore.json is a v0.3 message-signature bundle made
 * with the production Fulcio and Rekor in 2022 over the bytes `hello, world!`, by
 * brian@dehamer.com (GitHub OAuth issuer). It is test data from sigstore/sigstore-js@769a53d8
 * packages/client/src/__tests__/__fixtures__/bundles/valid.ts (`v3.messageSignature.withSigningCert`).
 * Its certificate and signature also make a real `.sig`/`.pem` keyless pair (cosign sign-blob's
 * legacy output) for the pair verifier.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PUBLIC_GOOD_TRUSTED_ROOT } from '../../actions/setup-tools/src/trust/sigstore-public-good.js';
import { verifySigstoreBundle } from '../../actions/setup-tools/src/verify-sigstore.js';
import { verifyKeylessPair } from '../../actions/setup-tools/src/verify-x509.js';

const text = readFileSync(join(import.meta.dirname, 'fixtures', 'public-good-hello-world.sigstore.json'), 'utf8');
const bundle = JSON.parse(text) as { verificationMaterial: { certificate: { rawBytes: string } }; messageSignature: { signature: string } };
const ARTIFACT = Buffer.from('hello, world!');
const SIGNER = { kind: 'sigstore', san: 'brian@dehamer.com', issuer: 'https://github.com/login/oauth' } as const;
const pem = `-----BEGIN CERTIFICATE-----\n${bundle.verificationMaterial.certificate.rawBytes.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
/** The public-good root without its Fulcio CAs: nothing chains any more. */
const withoutFulcio = { ...(PUBLIC_GOOD_TRUSTED_ROOT as object), certificateAuthorities: [] };

describe('a real public-good Sigstore bundle, offline', () => {
  it('verifies against the pinned trusted root and the signer', () => {
    expect(verifySigstoreBundle(text, ARTIFACT, SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toEqual({
      ok: true,
      signer: 'brian@dehamer.com (issuer https://github.com/login/oauth)',
    });
  });
  it('is refused for another expected signer, another issuer, other bytes, or a root without its CA', () => {
    expect(verifySigstoreBundle(text, ARTIFACT, { ...SIGNER, san: 'brian@dehamer.co' }, PUBLIC_GOOD_TRUSTED_ROOT)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not by the expected signer/),
    });
    // Exact match: a regular-expression reading of the SAN would accept this one.
    expect(verifySigstoreBundle(text, ARTIFACT, { ...SIGNER, san: 'brian@dehamer.com'.slice(0, 10) }, PUBLIC_GOOD_TRUSTED_ROOT).ok).toBe(
      false,
    );
    expect(
      verifySigstoreBundle(text, ARTIFACT, { ...SIGNER, issuer: 'https://token.actions.githubusercontent.com' }, PUBLIC_GOOD_TRUSTED_ROOT)
        .ok,
    ).toBe(false);
    expect(verifySigstoreBundle(text, Buffer.from('hello, world?'), SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not verify/),
    });
    expect(verifySigstoreBundle(text, ARTIFACT, SIGNER, withoutFulcio)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not verify/),
    });
    expect(verifySigstoreBundle('{"mediaType":"x"}', ARTIFACT, SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not a valid Sigstore bundle/),
    });
  });
});

describe('a real Fulcio certificate and signature as a keyless pair, offline', () => {
  const sig = `${bundle.messageSignature.signature}\n`;
  it('verifies with the PEM as is, and base64 of the PEM (as syft publishes it)', () => {
    expect(verifyKeylessPair(ARTIFACT, sig, pem, SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toEqual({
      ok: true,
      signer: 'brian@dehamer.com (issuer https://github.com/login/oauth)',
    });
    expect(verifyKeylessPair(ARTIFACT, sig, Buffer.from(pem).toString('base64'), SIGNER, PUBLIC_GOOD_TRUSTED_ROOT).ok).toBe(true);
  });
  it('is refused for other bytes, another signer, a root without its CA, or garbage', () => {
    expect(verifyKeylessPair(Buffer.from('hello, world?'), sig, pem, SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toEqual({
      ok: false,
      problem: 'signature does not match the signed file',
    });
    expect(verifyKeylessPair(ARTIFACT, sig, pem, { ...SIGNER, san: 'someone@else.example' }, PUBLIC_GOOD_TRUSTED_ROOT)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/not by the expected signer/),
    });
    expect(verifyKeylessPair(ARTIFACT, sig, pem, SIGNER, withoutFulcio)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/does not chain to a trusted Fulcio CA/),
    });
    expect(verifyKeylessPair(ARTIFACT, sig, 'not a certificate', SIGNER, PUBLIC_GOOD_TRUSTED_ROOT).ok).toBe(false);
    expect(verifyKeylessPair(ARTIFACT, '<html>404</html>', pem, SIGNER, PUBLIC_GOOD_TRUSTED_ROOT)).toEqual({
      ok: false,
      problem: 'signature is not base64',
    });
  });
});
