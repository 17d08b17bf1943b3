/**
 * packages/oci registry client against the real docker-registry (distribution 2.8: no referrers
 * API, so attaching falls back to the `sha256-<hex>` tag schema) and a loopback server that plays
 * a registry with the referrers API and a Bearer token service.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryError, MT, parseChallenge, sha256Digest, type Transport } from '@hallmark/oci';
import { startRegistry, hasRegistry, type Registry } from '../harness/registry.js';
import { startServer, type TestServer } from '../harness/server.js';
import { getBlob, getManifest, pushTestImage, trackedDir, cleanupTracked } from './setup.js';

const fetchTransport: Transport = async (req) => {
  const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'follow' });
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) };
};

const describeReal = hasRegistry ? describe : describe.skip;

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"')).toEqual({ scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/r:pull' } });
    expect(parseChallenge('Basic realm="hallmark-test"')?.scheme).toBe('basic');
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describeReal('RegistryClient over a real docker-registry', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    cleanupTracked();
  });

  it('attaches an SBOM as an OCI 1.1 artifact with subject, falling back to the referrers tag, and lists it back', async () => {
    const img = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    const subject = await c.descriptor('octo-org/shop', img.digest);
    expect(subject).toEqual({ mediaType: MT.ociManifest, digest: img.digest, size: img.size });
    const sbom = Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'x' }));
    const a = await c.attachArtifact('octo-org/shop', subject!, { artifactType: 'application/spdx+json', files: [{ mediaType: 'application/spdx+json', bytes: sbom, title: 'sbom.spdx.json' }], annotations: { 'org.opencontainers.image.created': '2026-11-30T00:00:00Z' } });
    expect(a.via).toBe('tag');
    // What the registry holds, read with plain fetch: the artifact manifest, its subject and layer bytes.
    const m = await getManifest(registry.url, 'octo-org/shop', a.digest);
    expect(m.status).toBe(200);
    expect(m.json?.artifactType).toBe('application/spdx+json');
    expect(m.json?.subject).toEqual({ mediaType: MT.ociManifest, digest: img.digest, size: img.size });
    expect((await getBlob(registry.url, 'octo-org/shop', m.json?.layers[0].digest)).equals(sbom)).toBe(true);
    const idx = await getManifest(registry.url, 'octo-org/shop', img.digest.replace(':', '-'));
    expect(idx.json?.mediaType).toBe(MT.ociIndex);
    expect(idx.json?.manifests.map((d: { digest: string }) => d.digest)).toEqual([a.digest]);

    // A second artifact joins the index; the same one again is not duplicated.
    const b = await c.attachArtifact('octo-org/shop', subject!, { artifactType: 'application/vnd.cyclonedx+json', files: [{ mediaType: 'application/vnd.cyclonedx+json', bytes: Buffer.from('{"bomFormat":"CycloneDX"}') }] });
    await c.attachArtifact('octo-org/shop', subject!, { artifactType: 'application/spdx+json', files: [{ mediaType: 'application/spdx+json', bytes: sbom, title: 'sbom.spdx.json' }], annotations: { 'org.opencontainers.image.created': '2026-11-30T00:00:00Z' } });
    const refs = await c.referrers('octo-org/shop', img.digest);
    expect(refs.via).toBe('tag');
    expect(refs.manifests.map((d) => d.digest).sort()).toEqual([a.digest, b.digest].sort());
    expect((await c.referrers('octo-org/shop', img.digest, 'application/vnd.cyclonedx+json')).manifests.map((d) => d.digest)).toEqual([b.digest]);
  });

  it('refuses to overwrite a sha256-<hex> tag that is not an index, and a manifest that does not hash to its digest', async () => {
    const img = await pushTestImage(registry, 'octo-org/other', randomBytes(6).toString('hex'));
    // Put an image manifest under the fallback tag: the client must not replace it.
    const m = await getManifest(registry.url, 'octo-org/other', img.digest);
    await fetch(`${registry.url}/v2/octo-org/other/manifests/${img.digest.replace(':', '-')}`, { method: 'PUT', headers: { 'content-type': MT.ociManifest }, body: JSON.stringify(m.json) });
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    const subject = (await c.descriptor('octo-org/other', img.digest))!;
    await expect(c.attachArtifact('octo-org/other', subject, { artifactType: 'application/spdx+json', files: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{}') }] })).rejects.toThrow(/not a referrers index/);
    expect(await c.getManifest('octo-org/other', `sha256:${'0'.repeat(64)}`)).toBeUndefined();
  });
});

describe('RegistryClient against a registry with the referrers API and Bearer tokens (loopback)', () => {
  let server: TestServer;
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, Buffer>();
  const TOKEN = `tok-${randomBytes(4).toString('hex')}`;
  beforeAll(async () => {
    server = await startServer(async (req, res) => {
      const u = new URL(req.url, 'http://x');
      if (u.pathname === '/token') {
        expect(u.searchParams.get('scope')).toBe('repository:o/app:pull,push');
        expect(req.headers.authorization).toBe(`Basic ${Buffer.from('bot:pw').toString('base64')}`);
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ token: TOKEN }));
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${server.url}/token",service="test"` });
        return void res.end();
      }
      let m;
      if ((m = /^\/v2\/o\/app\/blobs\/(sha256:\w+)$/.exec(u.pathname))) {
        const b = blobs.get(m[1] as string);
        res.writeHead(b ? 200 : 404);
        return void res.end(req.method === 'HEAD' ? undefined : b);
      }
      if (u.pathname === '/v2/o/app/blobs/uploads/' && req.method === 'POST') {
        res.writeHead(202, { location: '/v2/o/app/blobs/uploads/abc?state=1' });
        return void res.end();
      }
      if (u.pathname === '/v2/o/app/blobs/uploads/abc' && req.method === 'PUT') {
        blobs.set(u.searchParams.get('digest') as string, req.body);
        res.writeHead(201);
        return void res.end();
      }
      if ((m = /^\/v2\/o\/app\/manifests\/(.+)$/.exec(u.pathname))) {
        if (req.method === 'PUT') {
          manifests.set(m[1] as string, req.body);
          const j = JSON.parse(req.text);
          res.writeHead(201, { 'docker-content-digest': sha256Digest(req.body), ...(j.subject ? { 'oci-subject': j.subject.digest } : {}) });
          return void res.end();
        }
        const b = manifests.get(m[1] as string);
        res.writeHead(b ? 200 : 404, { 'content-type': MT.ociManifest });
        return void res.end(b);
      }
      if ((m = /^\/v2\/o\/app\/referrers\/(sha256:\w+)$/.exec(u.pathname))) {
        const list = [...manifests.entries()].filter(([k, v]) => k.startsWith('sha256:') && JSON.parse(v.toString()).subject?.digest === m![1]).map(([k, v]) => ({ mediaType: MT.ociManifest, digest: k, size: v.length, artifactType: JSON.parse(v.toString()).artifactType }));
        res.writeHead(200, { 'content-type': MT.ociIndex });
        return void res.end(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: list }));
      }
      res.writeHead(404);
      res.end();
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('uses the token service, trusts OCI-Subject and writes no fallback tag', async () => {
    const host = new URL(server.url).host;
    const c = new RegistryClient({ host, transport: fetchTransport, insecure: true, credentials: { username: 'bot', password: 'pw' } });
    const img = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: {}, layers: [] }));
    manifests.set(sha256Digest(img), img);
    const subject = { mediaType: MT.ociManifest, digest: sha256Digest(img), size: img.length };
    const a = await c.attachArtifact('o/app', subject, { artifactType: 'application/spdx+json', files: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }] });
    expect(a.via).toBe('api');
    expect([...manifests.keys()].some((k) => k.startsWith('sha256-'))).toBe(false);
    const refs = await c.referrers('o/app', subject.digest);
    expect(refs).toEqual({ via: 'api', manifests: [expect.objectContaining({ digest: a.digest, artifactType: 'application/spdx+json' })] });
  });

  it('names the problem when the credentials are refused', async () => {
    const host = new URL(server.url).host;
    const c = new RegistryClient({ host, transport: async (req) => (req.url.includes('/token') ? { status: 401, headers: {}, body: Buffer.from('') } : fetchTransport(req)), insecure: true, credentials: { username: 'bot', password: 'wrong' } });
    await expect(c.getManifest('o/app', 'v1')).rejects.toThrow(RegistryError);
    void trackedDir;
  });
});
