/**
 * Sigstore bundle verification (`<file>.sigstore.json`: cosign ≥ 3.0.1, trivy ≥ 0.68.1, kyverno),
 * with sigstore-js's @sigstore/verify, offline, against a pinned trusted root: the Fulcio
 * certificate chains to a trusted CA at the time a transparency log or timestamp authority
 * vouches for, the certificate has an SCT from a trusted CT log, the Rekor entry (inclusion
 * proof or promise) matches the signature, and the signature is over exactly `artifact`'s bytes.
 * Then the certificate's identity must equal the catalog's pinned signer, compared exactly (the
 * library's own SAN policy is a regular-expression match, so it is not used).
 *
 * Pure: the bundle text, the bytes and the trusted root come in as values.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import type { Signer } from './catalog.js';
import { signerIdentity, type SignatureCheck } from './verify-x509.js';

type SigstoreSigner = Extract<Signer, { kind: 'sigstore' }>;

export function verifySigstoreBundle(bundleText: string, artifact: Buffer, expected: SigstoreSigner, trustedRoot: unknown): SignatureCheck {
  let entity: ReturnType<typeof toSignedEntity>;
  let json: unknown;
  try {
    json = JSON.parse(bundleText);
  } catch {
    return { ok: false, problem: 'is not JSON (not a Sigstore bundle)' };
  }
  try {
    entity = toSignedEntity(bundleFromJSON(json), artifact);
  } catch (e) {
    return { ok: false, problem: `is not a valid Sigstore bundle (${(e as Error).message})` };
  }
  if (entity.key.$case !== 'certificate') return { ok: false, problem: 'is signed with a bare public key, not a keyless certificate' };
  try {
    const trust = toTrustMaterial(TrustedRoot.fromJSON(trustedRoot));
    new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(entity);
  } catch (e) {
    const err = e as Error & { code?: string };
    return { ok: false, problem: `does not verify: ${err.code ? `${err.code}: ` : ''}${err.message}` };
  }
  return signerIdentity(entity.key.certificate, expected);
}
