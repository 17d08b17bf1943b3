/**
 * Vendor signatures made in the test, in each vendor's real format, for setup-tools' signature
 * checks:
 * - Sigstore bundles (`.sigstore.json`, v0.3, message signature + Rekor entry) made by sigstore-js
 *   against the loopback Fulcio/Rekor of test/harness/sigstore.ts (@sigstore/mock), which
 *   issues certificates for whatever identity the test's OIDC token names: so the test can sign
 *   as "aquasecurity/trivy's release workflow" or as anybody else. Only the trusted root differs
 *   from the real one (it trusts the mock's CA, CT log and Rekor keys).
 * - The legacy keyless pair of `cosign sign-blob` (base64 signature + base64 of the Fulcio PEM, as
 *   syft publishes them): a P-256 key made here, its certificate from the same loopback Fulcio.
 * - OpenPGP detached signatures (binary, as HashiCorp's SHA256SUMS.sig; armored, as helm's .asc)
 *   from keys generated here with openpgp.js.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as openpgp from 'openpgp';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sigstore = require('sigstore') as typeof import('sigstore');

export interface Identity {
  san: string;
  issuer: string;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/** An unsigned OIDC token (the mock never checks signatures) whose `fulcio_subject` becomes the SAN. */
function token(id: Identity): string {
  const claims = {
    iss: id.issuer,
    sub: id.san,
    aud: 'sigstore',
    fulcio_subject: id.san,
    iat: Math.floor(Date.now() / 1000),
    exp: Math.floor(Date.now() / 1000) + 600,
  };
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}.sig`;
}

export interface TestSigstore {
  trustedRoot: unknown;
  /** A Sigstore bundle (JSON text) over `data`, signed as `id`. */
  bundle(data: Buffer, id: Identity): Promise<string>;
  /** cosign sign-blob's legacy pair over `data`, as syft publishes it: base64 signature, base64 of the PEM. */
  pair(data: Buffer, id: Identity): Promise<{ sig: string; pem: string }>;
  close(): Promise<void>;
}

export async function startTestSigstore(dir: string): Promise<TestSigstore> {
  const s: LoopbackSigstore = await startSigstore(dir);
  return {
    trustedRoot: JSON.parse(readFileSync(s.trustedRootPath, 'utf8')),
    bundle: async (data, id) => JSON.stringify(await sigstore.sign(data, { fulcioURL: s.url, rekorURL: s.url, identityToken: token(id) })),
    pair: async (data, id) => {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const res = await fetch(`${s.url}/api/v2/signingCert`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          credentials: { oidcIdentityToken: token(id) },
          publicKeyRequest: {
            publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }).toString() },
            proofOfPossession: '',
          },
        }),
      });
      if (!res.ok) throw new Error(`loopback Fulcio: HTTP ${res.status}: ${await res.text()}`);
      const leaf = ((await res.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } })
        .signedCertificateEmbeddedSct.chain.certificates[0] as string;
      const sig = createSign('sha256').update(data).sign(privateKey);
      return { sig: `${sig.toString('base64')}\n`, pem: `${Buffer.from(leaf).toString('base64')}\n` };
    },
    close: () => s.close(),
  };
}

export interface PgpKey {
  armoredPublic: string;
  fingerprint: string;
  /** A detached signature over `data`: binary (HashiCorp's .sig) or armored (helm's .asc). */
  sign(data: Buffer, armored: boolean): Promise<Buffer>;
}

export async function pgpKey(name: string): Promise<PgpKey> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.test` }],
    format: 'armored',
  });
  const priv = await openpgp.readPrivateKey({ armoredKey: privateKey });
  return {
    armoredPublic: publicKey,
    fingerprint: priv.getFingerprint().toUpperCase(),
    sign: async (data, armored) => {
      const message = await openpgp.createMessage({ binary: new Uint8Array(data) });
      if (armored) return Buffer.from(await openpgp.sign({ message, signingKeys: priv, detached: true, format: 'armored' }));
      return Buffer.from(await openpgp.sign({ message, signingKeys: priv, detached: true, format: 'binary' }));
    },
  };
}
