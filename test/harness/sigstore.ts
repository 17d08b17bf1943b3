/**
 * SIMULATED Sigstore services (Fulcio and Rekor cannot run here). A loopback Sigstore for tests: @sigstore/mock's Fulcio CA (with a CT log) and Rekor transparency
 * log mounted in one real HTTP server on 127.0.0.1, plus the trusted_root.json that trusts exactly
 * those keys and a signing_config.json that names them. Real cosign 3 signs against it with
 * `--signing-config` and verifies with `--trusted-root`; sigstore-js (sbom-attach) uses the same.
 *
 * Like the real Fulcio for GitHub's issuer, the certificate's SAN is
 * `https://github.com/<job_workflow_ref>` of the OIDC token (the mock alone would use `sub`).
 * Where the mock's HTTP differs from the real services in a way real cosign notices, the server
 * answers like the real one (see withFulcioSubject and the status/ETag notes below).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startServer, type TestServer } from './server.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mock = require('@sigstore/mock') as typeof import('@sigstore/mock');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keyUtil = require('@sigstore/mock/dist/util/key') as {
  generateKeyPair(curve?: string): { publicKey: import('node:crypto').KeyObject; privateKey: import('node:crypto').KeyObject };
};

export interface LoopbackSigstore {
  url: string;
  trustedRootPath: string;
  /** A Sigstore SigningConfig (v0.2) naming this Fulcio and Rekor, for real cosign 3's `--signing-config`. */
  signingConfigPath: string;
  server: TestServer;
  /** Certificates issued (SAN of each). */
  issued: string[];
  /** Rekor entries logged (kind of each). */
  logged: string[];
  close(): Promise<void>;
}

function bytes(x: ArrayBuffer | ArrayBufferView): Buffer {
  return x instanceof ArrayBuffer ? Buffer.from(x) : Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');

/**
 * Rewrites the token so the mock issues Fulcio's GitHub-style SAN (the mock never checks token
 * signatures). Real Fulcio takes the token in the body (`credentials.oidcIdentityToken`, as
 * sigstore-js sends it) or as `Authorization: Bearer` (as cosign 3 / sigstore-go send it, with
 * only `publicKeyRequest` in the body); the mock reads only the body, so the header is moved there.
 */
function withFulcioSubject(body: string, serverUrl: string, authorization?: string): string {
  const req = JSON.parse(body) as { credentials?: { oidcIdentityToken: string } };
  const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!req.credentials?.oidcIdentityToken && bearer) req.credentials = { oidcIdentityToken: bearer };
  if (!req.credentials) throw new Error('no OIDC token in the Fulcio request');
  const [, payload] = req.credentials.oidcIdentityToken.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.job_workflow_ref === 'string') claims.fulcio_subject = `${serverUrl}/${claims.job_workflow_ref}`;
  req.credentials.oidcIdentityToken = `${b64url(JSON.stringify({ alg: 'none' }))}.${b64url(JSON.stringify(claims))}.sig`;
  return JSON.stringify(req);
}

export async function startSigstore(dir: string, serverUrl = 'https://github.com'): Promise<LoopbackSigstore> {
  const ctKeys = keyUtil.generateKeyPair('prime256v1');
  const caKeys = keyUtil.generateKeyPair('prime256v1');
  const tlKeys = keyUtil.generateKeyPair('prime256v1');
  const ctlog = await mock.initializeCTLog(ctKeys);
  const ca = await mock.initializeCA(caKeys, ctlog);
  const issued: string[] = [];
  const logged: string[] = [];
  let fulcio: ReturnType<typeof mock.fulcioHandler> | undefined;
  let rekor: ReturnType<typeof mock.rekorHandler> | undefined;
  const server = await startServer(async (req, res) => {
    const handler = req.path === fulcio?.path ? fulcio : req.path === rekor?.path ? rekor : undefined;
    if (!handler || req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    let body = req.text;
    try {
      if (handler === fulcio) {
        body = withFulcioSubject(body, serverUrl, typeof req.headers.authorization === 'string' ? req.headers.authorization : undefined);
        const c = JSON.parse(body).credentials.oidcIdentityToken.split('.')[1];
        issued.push(String(JSON.parse(Buffer.from(c, 'base64url').toString()).fulcio_subject ?? ''));
      } else {
        logged.push(String(JSON.parse(body).kind ?? ''));
      }
    } catch {
      /* the handler answers malformed bodies itself */
    }
    const r = await handler.fn(body);
    // Real Fulcio answers a created certificate with 200 (sigstore-go, which cosign 3 signs with,
    // refuses anything else: "Fulcio returned 201"); the mock says 201. Rekor's 201 is the real one.
    const status = handler === fulcio && r.statusCode === 201 ? 200 : r.statusCode;
    const headers: Record<string, string> = { 'content-type': r.contentType ?? 'text/plain' };
    // Real Rekor names the new entry's UUID in the ETag (and Location) headers, and sigstore-go
    // reads the entry out of the response by that ETag (pkg/sign/transparency.go getRekorV1TLE,
    // v1.2.1); the mock leaves them out.
    if (handler === rekor && r.statusCode === 201 && typeof r.response === 'string') {
      const uuid = Object.keys(JSON.parse(r.response) as Record<string, unknown>)[0];
      if (uuid) Object.assign(headers, { etag: uuid, location: `/api/v1/log/entries/${uuid}` });
    }
    res.writeHead(status, headers);
    res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength));
  });
  const tlog = await mock.initializeTLog(server.url, tlKeys);
  fulcio = (mock.fulcioHandler as unknown as (ca: unknown, o: unknown) => ReturnType<typeof mock.fulcioHandler>)(ca, {
    subjectClaim: 'fulcio_subject',
  });
  rekor = mock.rekorHandler(tlog);

  const start = new Date(Date.now() - 60 * 60_000).toISOString();
  const spki = (k: import('node:crypto').KeyObject) => k.export({ type: 'spki', format: 'der' });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: server.url,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: Buffer.from(tlog.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: server.url,
        certChain: { certificates: [{ rawBytes: bytes(ca.rootCertificate).toString('base64') }] },
        validFor: { start },
      },
    ],
    ctlogs: [
      {
        baseUrl: 'https://ctfe.sigstore.mock',
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: spki(ctKeys.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
        logId: { keyId: createHash('sha256').update(spki(ctKeys.publicKey)).digest('base64') },
      },
    ],
    timestampAuthorities: [],
  };
  const trustedRootPath = join(dir, 'trusted_root.json');
  writeFileSync(trustedRootPath, JSON.stringify(trustedRoot, null, 2));
  // The SigningConfig format of sigstore/protobuf-specs (signing_config.v0.2, as `cosign
  // signing-config create` writes it): one Fulcio (v1 API: /api/v2/signingCert is Fulcio's v1
  // service), one Rekor v1, no TSA, no OIDC provider (the token comes from SIGSTORE_ID_TOKEN).
  const service = { url: server.url, majorApiVersion: 1, validFor: { start }, operator: 'hallmark.test' };
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service],
    oidcUrls: [],
    rekorTlogUrls: [service],
    rekorTlogConfig: { selector: 'ANY' },
    tsaUrls: [],
    tsaConfig: { selector: 'ANY' },
  };
  const signingConfigPath = join(dir, 'signing_config.json');
  writeFileSync(signingConfigPath, JSON.stringify(signingConfig, null, 2));
  return { url: server.url, trustedRootPath, signingConfigPath, server, issued, logged, close: () => server.close() };
}
