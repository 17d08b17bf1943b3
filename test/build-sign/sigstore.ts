/**
 * A loopback Sigstore for tests: @sigstore/mock's Fulcio CA (with a CT log) and Rekor transparency
 * log mounted in one real HTTP server on 127.0.0.1, plus the trusted_root.json that trusts exactly
 * those keys. The cosign stand-in signs against it (COSIGN_STANDIN_SIGSTORE_URL) and verifies with
 * the trusted root (COSIGN_STANDIN_TRUSTED_ROOT).
 *
 * Like the real Fulcio for GitHub's issuer, the certificate's SAN is
 * `https://github.com/<job_workflow_ref>` of the OIDC token (the mock alone would use `sub`).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startServer, type TestServer } from '../harness/server.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mock = require('@sigstore/mock') as typeof import('@sigstore/mock');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const keyUtil = require('@sigstore/mock/dist/util/key') as { generateKeyPair(curve?: string): { publicKey: import('node:crypto').KeyObject; privateKey: import('node:crypto').KeyObject } };

export interface LoopbackSigstore {
  url: string;
  trustedRootPath: string;
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

/** Rewrites the token so the mock issues Fulcio's GitHub-style SAN (the mock never checks token signatures). */
function withFulcioSubject(body: string, serverUrl: string): string {
  const req = JSON.parse(body) as { credentials: { oidcIdentityToken: string } };
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
        body = withFulcioSubject(body, serverUrl);
        const c = JSON.parse(body).credentials.oidcIdentityToken.split('.')[1];
        issued.push(String(JSON.parse(Buffer.from(c, 'base64url').toString()).fulcio_subject ?? ''));
      } else {
        logged.push(String(JSON.parse(body).kind ?? ''));
      }
    } catch {
      /* the handler answers malformed bodies itself */
    }
    const r = await handler.fn(body);
    res.writeHead(r.statusCode, { 'content-type': r.contentType ?? 'text/plain' });
    res.end(typeof r.response === 'string' ? r.response : Buffer.from(r.response.buffer, r.response.byteOffset, r.response.byteLength));
  });
  const tlog = await mock.initializeTLog(server.url, tlKeys);
  fulcio = (mock.fulcioHandler as unknown as (ca: unknown, o: unknown) => ReturnType<typeof mock.fulcioHandler>)(ca, { subjectClaim: 'fulcio_subject' });
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
  return { url: server.url, trustedRootPath, server, issued, logged, close: () => server.close() };
}
