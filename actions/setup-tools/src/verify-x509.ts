/**
 * The legacy keyless pair of `cosign sign-blob --output-signature … --output-certificate …`: a
 * base64 ECDSA signature and a Fulcio certificate (PEM, or base64 of the PEM as syft and cosign
 * 2.x publish them). Used for syft's signed checksums file, cosign 2.x assets, kyverno before
 * its Sigstore bundles, and kubectl.
 *
 * What it proves, offline: the certificate chains to a Fulcio CA of the pinned trusted root (at
 * the certificate's own notBefore), carries a valid SCT from a trusted CT log (so it was
 * publicly logged when issued), names the pinned identity (SAN and OIDC issuer, exact), and its
 * key signed exactly these bytes. What it does not prove: WHEN the signature was made. The pair
 * carries no Rekor entry, so unlike a bundle nothing shows the signature was made within the
 * certificate's ten minutes; cosign itself looks the entry up online in Rekor.
 *
 * Pure: texts, bytes and the trusted root come in as values.
 */
import { createPublicKey, verify as verifySig } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
// Not re-exported by @sigstore/verify's index; the same functions its Verifier calls
// (sigstore/sigstore-js packages/verify/src/key/index.ts).
import { verifyCertificateChain } from '@sigstore/verify/dist/key/certificate.js';
import { verifySCTs } from '@sigstore/verify/dist/key/sct.js';
import type { Signer } from './catalog.js';

export type SignatureCheck = { ok: true; signer: string } | { ok: false; problem: string };
type SigstoreSigner = Extract<Signer, { kind: 'sigstore' }>;

const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

/** The Fulcio identity in a certificate, compared exactly with the pinned signer. */
export function signerIdentity(cert: X509Certificate, expected: SigstoreSigner): SignatureCheck {
  const san = cert.subjectAltName ?? '';
  const v2 = cert.extension(OID_ISSUER_V2);
  const issuer = v2
    ? (v2.valueObj.subs?.[0]?.value.toString('ascii') ?? '')
    : (cert.extension(OID_ISSUER_V1)?.value.toString('ascii') ?? '');
  if (san !== expected.san || issuer !== expected.issuer) {
    return {
      ok: false,
      problem: `is signed by ${JSON.stringify(san.slice(0, 200))} (issuer ${JSON.stringify(issuer.slice(0, 100))}), not by the expected signer`,
    };
  }
  return { ok: true, signer: `${san} (issuer ${issuer})` };
}

function pemOf(text: string): string | undefined {
  const t = text.trim();
  if (t.startsWith('-----BEGIN CERTIFICATE-----')) return t;
  const decoded = Buffer.from(t.replace(/\s+/g, ''), 'base64').toString('utf8').trim();
  return decoded.startsWith('-----BEGIN CERTIFICATE-----') ? decoded : undefined;
}

export function verifyKeylessPair(
  data: Buffer,
  sigText: string,
  certText: string,
  expected: SigstoreSigner,
  trustedRoot: unknown,
): SignatureCheck {
  const pem = pemOf(certText);
  if (!pem) return { ok: false, problem: 'certificate is neither a PEM certificate nor base64 of one' };
  let cert: X509Certificate;
  try {
    cert = X509Certificate.parse(pem);
  } catch (e) {
    return { ok: false, problem: `certificate does not parse (${(e as Error).message})` };
  }
  const sigB64 = sigText.trim().replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sigB64)) return { ok: false, problem: 'signature is not base64' };
  try {
    const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot));
    const path = verifyCertificateChain(cert.notBefore, cert, trust.certificateAuthorities);
    const scts = verifySCTs(path[0] as X509Certificate, path[1] as X509Certificate, trust.ctlogs);
    if (scts.length < 1) return { ok: false, problem: 'certificate has no SCT from a trusted CT log' };
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, problem: `certificate does not chain to a trusted Fulcio CA: ${err.code ? `${err.code}: ` : ''}${err.message}` };
  }
  const who = signerIdentity(cert, expected);
  if (!who.ok) return who;
  const key = createPublicKey({ key: cert.publicKey, format: 'der', type: 'spki' });
  if (!verifySig('sha256', data, key, Buffer.from(sigB64, 'base64')))
    return { ok: false, problem: 'signature does not match the signed file' };
  return who;
}
