/**
 * The cosign stand-in itself must be honest: it rejects flags the real CLI does not have, refuses
 * tag references, and its verify really checks — a signature replayed onto another digest, a
 * tampered payload, or the wrong key all fail. attest and sign-blob (used by sbom-attach) work.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { startSigstore, type LoopbackSigstore } from './sigstore.js';
import { canaryKey, COSIGN, getBlob, getManifest, makeLab, type Lab } from './setup.js';

const run = promisify(execFile);
const PW = 'standin-pw';
let lab: Lab;
let registry: Registry;
let sigstore: LoopbackSigstore;
let key: { privateKey: string; publicKey: string };
let other: { privateKey: string; publicKey: string };
const digests: string[] = [];

async function cosign(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [COSIGN, ...args], { env: { PATH: process.env.PATH, COSIGN_STANDIN_SIGSTORE_URL: sigstore.url, COSIGN_STANDIN_TRUSTED_ROOT: sigstore.trustedRootPath, COSIGN_PASSWORD: PW, COSIGN_KEY: key.privateKey, COSIGN_PUBLIC_KEY: key.publicKey, ...env }, timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** Pushes a tiny OCI image (one random layer) and returns its manifest digest. */
async function pushImage(repo: string): Promise<string> {
  const put = async (bytes: Buffer) => {
    const d = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') as string, registry.url);
    loc.searchParams.set('digest', d);
    const r = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status).toBe(201);
    return { digest: d, size: bytes.length };
  };
  const layer = await put(randomBytes(64));
  const config = await put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] }));
  const r = await fetch(`${registry.url}/v2/${repo}/manifests/t-${randomBytes(3).toString('hex')}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  expect(r.status).toBe(201);
  return r.headers.get('docker-content-digest') as string;
}

beforeAll(async () => {
  if (!hasRegistry) return;
  lab = makeLab();
  registry = await startRegistry();
  sigstore = await startSigstore(lab.dir);
  key = canaryKey(lab, PW);
  other = canaryKey(lab, PW);
  digests.push(await pushImage('o/a'), await pushImage('o/a'));
});
afterAll(async () => {
  await sigstore?.close();
  await registry?.stop();
  lab?.cleanup();
});

describe.skipIf(!hasRegistry)('cosign stand-in honesty', () => {
  it('rejects flags the real cosign does not have, and tag references', async () => {
    const ref = `${registry.host}/o/a@${digests[0]}`;
    const bad = await cosign(['sign', '--yes', '--keyfile', 'x', ref]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error: unknown flag: --keyfile');
    const tag = await cosign(['sign', '--yes', '--key', 'env://COSIGN_KEY', `${registry.host}/o/a:latest`]);
    expect(tag.code).toBe(1);
    expect(tag.stderr).toMatch(/tag reference/);
    const noIdentity = await cosign(['verify', ref]);
    expect(noIdentity.stderr).toMatch(/--certificate-identity or --certificate-identity-regexp is required/);
  });

  it('verify fails for a signature replayed onto another digest, a tampered payload, and the wrong key', async () => {
    const [a, b] = digests as [string, string];
    const refA = `${registry.host}/o/a@${a}`;
    const refB = `${registry.host}/o/a@${b}`;
    expect((await cosign(['sign', '--yes', '--key', 'env://COSIGN_KEY', refA])).code).toBe(0);
    const ok = await cosign(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', refA]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)[0].critical.image['docker-manifest-digest']).toBe(a);
    // Wrong key.
    const wrong = await cosign(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', refA], { COSIGN_PUBLIC_KEY: other.publicKey });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no matching signatures/);
    // Replay A's signature manifest as B's.
    const sigA = await getManifest(registry.url, 'o/a', `${a.replace(':', '-')}.sig`);
    const put = await fetch(`${registry.url}/v2/o/a/manifests/${b.replace(':', '-')}.sig`, { method: 'PUT', body: JSON.stringify(sigA.json), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    expect(put.status).toBe(201);
    const replay = await cosign(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', refB]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain(`payload names ${a}, not ${b}`);
    // Tamper: same signature, a payload claiming B.
    const layer = (sigA.json as { layers: { digest: string; annotations: Record<string, string> }[] }).layers[0]!;
    const payload = JSON.parse((await getBlob(registry.url, 'o/a', layer.digest)).toString());
    payload.critical.image['docker-manifest-digest'] = b;
    const forged = Buffer.from(JSON.stringify(payload));
    const fd = `sha256:${createHash('sha256').update(forged).digest('hex')}`;
    const start = await fetch(`${registry.url}/v2/o/a/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location') as string, registry.url);
    loc.searchParams.set('digest', fd);
    await fetch(loc, { method: 'PUT', body: forged });
    const m = { ...(sigA.json as object), layers: [{ ...layer, digest: fd, size: forged.length }] };
    await fetch(`${registry.url}/v2/o/a/manifests/${b.replace(':', '-')}.sig`, { method: 'PUT', body: JSON.stringify(m), headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    const tampered = await cosign(['verify', '--key', 'env://COSIGN_PUBLIC_KEY', refB]);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/invalid signature/);
  });

  it('attest pushes a DSSE attestation by digest; sign-blob writes a Sigstore bundle', async () => {
    const ref = `${registry.host}/o/a@${digests[1]}`;
    const pred = join(lab.dir, 'sbom.spdx.json');
    writeFileSync(pred, JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'x' }));
    const at = await cosign(['attest', '--yes', '--key', 'env://COSIGN_KEY', '--predicate', pred, '--type', 'spdxjson', ref]);
    expect(at.code, at.stderr).toBe(0);
    const att = await getManifest(registry.url, 'o/a', `${digests[1]!.replace(':', '-')}.att`);
    const layer = (att.json as { layers: { digest: string; mediaType: string; annotations: Record<string, string> }[] }).layers[0]!;
    expect(layer.mediaType).toBe('application/vnd.dsse.envelope.v1+json');
    expect(layer.annotations.predicateType).toBe('https://spdx.dev/Document');
    const env = JSON.parse((await getBlob(registry.url, 'o/a', layer.digest)).toString());
    const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString());
    expect(statement.subject[0].digest.sha256).toBe(digests[1]!.slice(7));
    const bundle = join(lab.dir, 'sbom.bundle.json');
    const sb = await cosign(['sign-blob', '--yes', '--key', 'env://COSIGN_KEY', '--bundle', bundle, pred]);
    expect(sb.code, sb.stderr).toBe(0);
    const b = JSON.parse(readFileSync(bundle, 'utf8'));
    expect(b.messageSignature.messageDigest.digest).toBe(createHash('sha256').update(readFileSync(pred)).digest('base64'));
    expect(b.verificationMaterial.tlogEntries).toHaveLength(1);
  });
});

