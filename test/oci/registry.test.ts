/**
 * packages/oci/src/registry.ts, the registry client: against the real docker-registry
 * (distribution 2.8: no referrers API, so attaching falls back to the `sha256-<hex>` tag schema;
 * with htpasswd for Basic auth) and a loopback server that plays a registry with the referrers API
 * and a Bearer token service (SIMULATED: distribution 2.8 has neither). What the registry holds is
 * read back with plain fetch (test/harness/registry.ts), never with the client under test.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpTransport, MT, parseChallenge, RegistryClient, RegistryError, sha256Digest, type Transport } from '@hallmark/oci';
import {
  basicAuth,
  getBlob,
  getManifest,
  hasRegistry,
  htpasswdFile,
  pushRawImage,
  startRegistry,
  type Registry,
} from '../harness/registry.js';
import { startServer, type TestServer } from '../harness/server.js';
import { cleanupTracked, trackedDir } from '../harness/tracked.js';

const fetchTransport: Transport = async (req) => {
  const r = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'follow' });
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => (headers[k] = v));
  return { status: r.status, headers, body: Buffer.from(await r.arrayBuffer()) };
};

const describeReal = hasRegistry ? describe : describe.skip;

describe('parseChallenge', () => {
  it('reads Bearer and Basic challenges', () => {
    expect(parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:o/r:pull' },
    });
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
    const img = await pushRawImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'), `shop ${randomBytes(6).toString('hex')}`);
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    const subject = await c.descriptor('octo-org/shop', img.digest);
    expect(subject).toEqual({ mediaType: MT.ociManifest, digest: img.digest, size: img.size });
    const sbom = Buffer.from(JSON.stringify({ spdxVersion: 'SPDX-2.3', name: 'x' }));
    const a = await c.attachArtifact('octo-org/shop', subject!, {
      artifactType: 'application/spdx+json',
      files: [{ mediaType: 'application/spdx+json', bytes: sbom, title: 'sbom.spdx.json' }],
      annotations: { 'org.opencontainers.image.created': '2026-11-30T00:00:00Z' },
    });
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
    const b = await c.attachArtifact('octo-org/shop', subject!, {
      artifactType: 'application/vnd.cyclonedx+json',
      files: [{ mediaType: 'application/vnd.cyclonedx+json', bytes: Buffer.from('{"bomFormat":"CycloneDX"}') }],
    });
    await c.attachArtifact('octo-org/shop', subject!, {
      artifactType: 'application/spdx+json',
      files: [{ mediaType: 'application/spdx+json', bytes: sbom, title: 'sbom.spdx.json' }],
      annotations: { 'org.opencontainers.image.created': '2026-11-30T00:00:00Z' },
    });
    const refs = await c.referrers('octo-org/shop', img.digest);
    expect(refs.via).toBe('tag');
    expect(refs.manifests.map((d) => d.digest).sort()).toEqual([a.digest, b.digest].sort());
    expect((await c.referrers('octo-org/shop', img.digest, 'application/vnd.cyclonedx+json')).manifests.map((d) => d.digest)).toEqual([
      b.digest,
    ]);
  });

  it('refuses to overwrite a sha256-<hex> tag that is not an index, and a manifest that does not hash to its digest', async () => {
    const img = await pushRawImage(registry, 'octo-org/other', randomBytes(6).toString('hex'), `other ${randomBytes(6).toString('hex')}`);
    // Put an image manifest under the fallback tag: the client must not replace it.
    const m = await getManifest(registry.url, 'octo-org/other', img.digest);
    await fetch(`${registry.url}/v2/octo-org/other/manifests/${img.digest.replace(':', '-')}`, {
      method: 'PUT',
      headers: { 'content-type': MT.ociManifest },
      body: JSON.stringify(m.json),
    });
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    const subject = (await c.descriptor('octo-org/other', img.digest))!;
    await expect(
      c.attachArtifact('octo-org/other', subject, {
        artifactType: 'application/spdx+json',
        files: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{}') }],
      }),
    ).rejects.toThrow(/not a referrers index/);
    expect(await c.getManifest('octo-org/other', `sha256:${'0'.repeat(64)}`)).toBeUndefined();
  });
});

/** fetchTransport, noting each request (method, path, whether it carried an Authorization header). */
function recording(): { transport: Transport; seen: { method: string; path: string; auth: boolean }[] } {
  const seen: { method: string; path: string; auth: boolean }[] = [];
  return {
    seen,
    transport: async (req) => {
      seen.push({ method: req.method, path: new URL(req.url).pathname, auth: !!req.headers.authorization });
      return fetchTransport(req);
    },
  };
}

describeReal('RegistryClient blobs and manifests over a real docker-registry', () => {
  let registry: Registry;
  let authed: Registry;
  const PASSWORD = `pw-${randomBytes(6).toString('hex')}`;
  beforeAll(async () => {
    registry = await startRegistry();
    authed = await startRegistry({ htpasswd: await htpasswdFile(trackedDir('hallmark-oci-htpasswd-'), 'ci-bot', PASSWORD) });
  });
  afterAll(async () => {
    await registry?.stop();
    await authed?.stop();
    cleanupTracked();
  });

  it('putBlob uploads once (POST then PUT ?digest=) and skips what the registry has; the bytes read back are the bytes sent', async () => {
    const r = recording();
    const c = new RegistryClient({ host: registry.host, transport: r.transport, insecure: true });
    const bytes = randomBytes(4096);
    expect(await c.hasBlob('o/blobs', sha256Digest(bytes))).toBe(false);
    const digest = await c.putBlob('o/blobs', bytes);
    expect(digest).toBe(sha256Digest(bytes));
    expect((await getBlob(registry.url, 'o/blobs', digest)).equals(bytes)).toBe(true);
    expect(r.seen.filter((x) => x.method === 'POST')).toHaveLength(1);
    r.seen.length = 0;
    expect(await c.putBlob('o/blobs', bytes)).toBe(digest);
    expect(r.seen.map((x) => x.method)).toEqual(['HEAD']);
    expect((await c.getBlob('o/blobs', digest)).equals(bytes)).toBe(true);
    // The diagnostic log names requests, never credentials.
    expect(c.log.every((l) => /^(GET|HEAD|POST|PUT) \/v2\//.test(l))).toBe(true);
  });

  it('putManifest under a tag: getManifest by tag and by digest return those bytes, their digest and media type; descriptor is what a subject points at', async () => {
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    const cfg = await c.putBlob('o/app', Buffer.from('{}'));
    const json = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg, size: 2 },
      layers: [],
    };
    const put = await c.putManifest('o/app', 'v1', json);
    const bytes = Buffer.from(JSON.stringify(json));
    expect(put).toMatchObject({ digest: sha256Digest(bytes), size: bytes.length });
    const plain = await getManifest(registry.url, 'o/app', 'v1');
    expect(plain.digest).toBe(put.digest);
    for (const ref of ['v1', put.digest]) {
      const m = await c.getManifest('o/app', ref);
      expect(m?.digest).toBe(put.digest);
      expect(m?.bytes.equals(bytes)).toBe(true);
      expect(m?.mediaType).toBe(MT.ociManifest);
    }
    expect(await c.descriptor('o/app', 'v1')).toEqual({ mediaType: MT.ociManifest, digest: put.digest, size: bytes.length });
    expect(await c.getManifest('o/app', 'v2')).toBeUndefined();
    expect(await c.descriptor('o/nothing-here', 'v1')).toBeUndefined();
  });

  it('an image with no referrers: the tag schema answers, with none', async () => {
    const img = await pushRawImage(registry, 'o/lonely', 'v1', `lonely ${randomBytes(4).toString('hex')}`);
    const c = new RegistryClient({ host: registry.host, transport: fetchTransport, insecure: true });
    expect(await c.referrers('o/lonely', img.digest)).toEqual({ via: 'tag', manifests: [] });
    await expect(c.referrers('o/lonely', 'v1')).rejects.toThrow(/not a digest/);
  });

  it('Basic auth (htpasswd): the right credentials read and write; none, or wrong ones, fail naming the registry', async () => {
    const img = await pushRawImage(authed, 'o/private', 'v1', `private ${randomBytes(4).toString('hex')}`, basicAuth('ci-bot', PASSWORD));
    const r = recording();
    const ok = new RegistryClient({
      host: authed.host,
      transport: r.transport,
      insecure: true,
      credentials: { username: 'ci-bot', password: PASSWORD },
    });
    expect((await ok.getManifest('o/private', 'v1'))?.digest).toBe(img.digest);
    expect(r.seen.every((x) => x.auth)).toBe(true);
    const a = await ok.attachArtifact('o/private', (await ok.descriptor('o/private', img.digest))!, {
      artifactType: 'application/spdx+json',
      files: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }],
    });
    expect((await getManifest(authed.url, 'o/private', a.digest, basicAuth('ci-bot', PASSWORD))).json?.subject?.digest).toBe(img.digest);

    const anonymous = new RegistryClient({ host: authed.host, transport: fetchTransport, insecure: true });
    await expect(anonymous.getManifest('o/private', 'v1')).rejects.toThrow(`${authed.host} requires a login (HTTP 401)`);
    const wrong = new RegistryClient({
      host: authed.host,
      transport: fetchTransport,
      insecure: true,
      credentials: { username: 'ci-bot', password: 'not-it' },
    });
    const e = await wrong.getManifest('o/private', 'v1').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RegistryError);
    expect((e as RegistryError).status).toBe(401);
    expect((e as Error).message).toBe(`${authed.host} refused the credentials (HTTP 401)`);
    expect((e as Error).message).not.toContain('not-it');
  });
});

describe('httpTransport', () => {
  it('hands each registry call to the HTTP function with a 60 s deadline per try, 3 tries and redirects followed, and returns its answer', async () => {
    const seen: unknown[] = [];
    const t = httpTransport(async (req) => {
      seen.push(req);
      return { status: 200, headers: { 'content-type': MT.ociManifest }, body: Buffer.from('{}') };
    });
    const body = Buffer.from('x');
    expect(await t({ method: 'PUT', url: 'https://ghcr.io/v2/o/app/blobs/uploads/1', headers: { a: 'b' }, body })).toEqual({
      status: 200,
      headers: { 'content-type': MT.ociManifest },
      body: Buffer.from('{}'),
    });
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: 'https://ghcr.io/v2/o/app/blobs/uploads/1',
        headers: { a: 'b' },
        body,
        timeoutMs: 60_000,
        attempts: 3,
        followRedirects: true,
      },
    ]);
    await httpTransport(async (req) => (seen.push(req), { status: 404, headers: {}, body: Buffer.alloc(0) }), {
      timeoutMs: 5000,
      attempts: 1,
    })({ method: 'GET', url: 'https://x/v2/', headers: {} });
    expect(seen[1]).toMatchObject({ timeoutMs: 5000, attempts: 1 });
  });
});

describe('RegistryClient checks what a registry answers (recorded transport)', () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: {}, layers: [] }));
  it('a manifest asked by digest must hash to it; by tag it is taken as served', async () => {
    const other = `sha256:${'ab'.repeat(32)}`;
    const c = new RegistryClient({
      host: 'registry.example.com',
      transport: async () => ({ status: 200, headers: { 'content-type': MT.ociManifest }, body: manifest }),
    });
    await expect(c.getManifest('o/app', other)).rejects.toThrow(
      `the registry returned a manifest for ${other} whose bytes hash to ${sha256Digest(manifest)}`,
    );
    expect((await c.getManifest('o/app', 'v1'))?.digest).toBe(sha256Digest(manifest));
  });
  it('https by default, http only when insecure; Docker Hub is asked at registry-1.docker.io', async () => {
    const urls: string[] = [];
    const transport: Transport = async (req) => {
      urls.push(req.url);
      return { status: 404, headers: {}, body: Buffer.alloc(0) };
    };
    await new RegistryClient({ host: 'docker.io', transport }).getManifest('library/nginx', '1.27');
    await new RegistryClient({ host: 'ghcr.io', transport }).getManifest('o/app', 'v1');
    await new RegistryClient({ host: '127.0.0.1:5000', transport, insecure: true }).getManifest('o/app', 'v1');
    expect(urls).toEqual([
      'https://registry-1.docker.io/v2/library/nginx/manifests/1.27',
      'https://ghcr.io/v2/o/app/manifests/v1',
      'http://127.0.0.1:5000/v2/o/app/manifests/v1',
    ]);
  });
  it('a 403 says the credentials lack permission; a stored digest other than the one sent is refused', async () => {
    const denied = new RegistryClient({ host: 'ghcr.io', transport: async () => ({ status: 403, headers: {}, body: Buffer.alloc(0) }) });
    await expect(denied.putBlob('o/app', Buffer.from('x'))).rejects.toThrow(
      'ghcr.io denied HEAD on o/app (HTTP 403): the credentials lack push/pull permission',
    );
    const liar = new RegistryClient({
      host: 'ghcr.io',
      transport: async () => ({ status: 201, headers: { 'docker-content-digest': `sha256:${'cd'.repeat(32)}` }, body: Buffer.alloc(0) }),
    });
    await expect(liar.putManifest('o/app', 'v1', { schemaVersion: 2 })).rejects.toThrow(
      /stored manifest sha256:cdcd.*not the sha256:[0-9a-f]{64} that was sent/,
    );
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
      let m: RegExpExecArray | null;
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
          res.writeHead(201, {
            'docker-content-digest': sha256Digest(req.body),
            ...(j.subject ? { 'oci-subject': j.subject.digest } : {}),
          });
          return void res.end();
        }
        const b = manifests.get(m[1] as string);
        res.writeHead(b ? 200 : 404, { 'content-type': MT.ociManifest });
        return void res.end(b);
      }
      if ((m = /^\/v2\/o\/app\/referrers\/(sha256:\w+)$/.exec(u.pathname))) {
        const list = [...manifests.entries()]
          .filter(([k, v]) => k.startsWith('sha256:') && JSON.parse(v.toString()).subject?.digest === m![1])
          .map(([k, v]) => ({ mediaType: MT.ociManifest, digest: k, size: v.length, artifactType: JSON.parse(v.toString()).artifactType }));
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
    const a = await c.attachArtifact('o/app', subject, {
      artifactType: 'application/spdx+json',
      files: [{ mediaType: 'application/spdx+json', bytes: Buffer.from('{"spdxVersion":"SPDX-2.3"}') }],
    });
    expect(a.via).toBe('api');
    expect([...manifests.keys()].some((k) => k.startsWith('sha256-'))).toBe(false);
    const refs = await c.referrers('o/app', subject.digest);
    expect(refs).toEqual({ via: 'api', manifests: [expect.objectContaining({ digest: a.digest, artifactType: 'application/spdx+json' })] });
  });

  it('names the problem when the credentials are refused', async () => {
    const host = new URL(server.url).host;
    const c = new RegistryClient({
      host,
      transport: async (req) => (req.url.includes('/token') ? { status: 401, headers: {}, body: Buffer.from('') } : fetchTransport(req)),
      insecure: true,
      credentials: { username: 'bot', password: 'wrong' },
    });
    await expect(c.getManifest('o/app', 'v1')).rejects.toThrow(RegistryError);
  });
});
