/**
 * Detached OpenPGP signatures (HashiCorp's binary `SHA256SUMS.72D7468F.sig`, helm's armored
 * `.asc`) with openpgp.js, against keys pinned in setup-tools (never a key from the release).
 * Proves that the holder of one of those keys signed exactly these bytes.
 *
 * Pure: bytes, signature and armored keys come in as values.
 */
import * as openpgp from 'openpgp';
import type { SignatureCheck } from './verify-x509.js';

async function readKeyring(armored: readonly string[]): Promise<openpgp.PublicKey[]> {
  const out: openpgp.PublicKey[] = [];
  for (const a of armored) out.push(...(await openpgp.readKeys({ armoredKeys: a })));
  return out;
}

export async function verifyPgp(data: Buffer, signature: Buffer, armored: boolean, keys: readonly string[]): Promise<SignatureCheck> {
  let sig: openpgp.Signature;
  try {
    sig = armored
      ? await openpgp.readSignature({ armoredSignature: signature.toString('utf8') })
      : await openpgp.readSignature({ binarySignature: new Uint8Array(signature) });
  } catch (e) {
    return { ok: false, problem: `is not an OpenPGP signature (${(e as Error).message})` };
  }
  const keyring = await readKeyring(keys);
  const issuers = sig.getSigningKeyIDs().map((k) => k.toHex().toUpperCase());
  const message = await openpgp.createMessage({ binary: new Uint8Array(data) });
  const result = await openpgp.verify({ message, signature: sig, verificationKeys: keyring });
  for (const s of result.signatures) {
    try {
      await s.verified;
      const key = keyring.find((k) => k.getKeys(s.keyID).length > 0);
      const uid = key?.users[0]?.userID?.userID ?? '';
      return { ok: true, signer: `${uid} (${(key?.getFingerprint() ?? s.keyID.toHex()).toUpperCase()})` };
    } catch (e) {
      const known = keyring.some((k) => k.getKeys(s.keyID).length > 0);
      if (known) return { ok: false, problem: `does not verify with key ${s.keyID.toHex().toUpperCase()}: ${(e as Error).message}` };
    }
  }
  return { ok: false, problem: `is made by key ${issuers.join(', ') || '(unnamed)'}, which is not a pinned key` };
}
