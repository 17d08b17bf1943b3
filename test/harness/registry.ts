/**
 * A real OCI registry (Debian `docker-registry`, distribution 2.8) on 127.0.0.1 for tests.
 * Storage in a temp dir; stopped (and the dir removed) by `stop()`. Below it, plain-HTTP helpers
 * the tests use to read what a registry holds (getManifest, getBlob), to push a small image
 * without a builder (pushRawImage), and an htpasswd file for a registry with Basic auth.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find((p) => existsSync(p));
export const hasRegistry = REGISTRY_BIN !== undefined;

export interface Registry {
  /** `127.0.0.1:<port>`: what image references use. */
  host: string;
  url: string;
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface RegistryOptions {
  /** An htpasswd file (bcrypt) to require Basic auth. */
  htpasswd?: string;
}

/** Stops a child process we started: TERM, then KILL after 3 s; resolves when it has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 3000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<Registry> {
  if (!REGISTRY_BIN) throw new Error('docker-registry is not installed (apt-get install docker-registry)');
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-registry-'));
  const port = await freePort();
  const auth = opts.htpasswd ? `auth:\n  htpasswd:\n    realm: hallmark-test\n    path: ${opts.htpasswd}\n` : '';
  const config = `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const r = await fetch(`${url}/v2/`);
      if (r.status === 200 || r.status === 401) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${stderr.slice(-500)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    dir,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- reading and writing a registry with plain HTTP (fetch), independently of @hallmark/oci ----

/** Every manifest media type, as a registry client asks for them. */
export const MANIFEST_ACCEPT =
  'application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json';

const sha256Of = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** What the registry holds for a repository: a manifest by tag or digest, its digest computed from the bytes. */
export async function getManifest(
  registryUrl: string,
  repo: string,
  ref: string,
  auth?: string,
): Promise<{ status: number; digest?: string; json?: Record<string, any> }> {
  const r = await fetch(`${registryUrl}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: MANIFEST_ACCEPT, ...(auth ? { authorization: auth } : {}) },
  });
  if (!r.ok) return { status: r.status };
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, digest: sha256Of(bytes), json: JSON.parse(bytes.toString('utf8')) as Record<string, any> };
}

/** A blob's bytes, checked against its digest. */
export async function getBlob(registryUrl: string, repo: string, digest: string, auth?: string): Promise<Buffer> {
  const r = await fetch(`${registryUrl}/v2/${repo}/blobs/${digest}`, { headers: auth ? { authorization: auth } : {} });
  if (!r.ok) throw new Error(`blob ${digest}: ${r.status}`);
  const b = Buffer.from(await r.arrayBuffer());
  if (sha256Of(b) !== digest) throw new Error(`blob ${digest} does not hash to its digest`);
  return b;
}

/**
 * A small OCI image (an empty-ish config and one layer of `content`) pushed with plain HTTP under
 * `tag`: for tests of registry clients that need an image without building one. Returns its
 * digest, size and `host/repo@digest` reference.
 */
export async function pushRawImage(
  registry: { host: string; url: string },
  repo: string,
  tag: string,
  content: string,
  auth?: string,
): Promise<{ digest: string; size: number; ref: string; manifest: Buffer }> {
  const headers: Record<string, string> = auth ? { authorization: auth } : {};
  const upload = async (bytes: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256Of(bytes);
    const start = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
    const loc = new URL(start.headers.get('location') as string, registry.url);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: bytes });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
    return { digest, size: bytes.length };
  };
  const config = await upload(
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Labels: { content } } }),
    ),
  );
  const layer = await upload(Buffer.from(content));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  const r = await fetch(`${registry.url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${await r.text()}`);
  const digest = sha256Of(manifest);
  return { digest, size: manifest.length, ref: `${registry.host}/${repo}@${digest}`, manifest };
}

/** An htpasswd file (bcrypt) in `dir` for a registry with Basic auth (`startRegistry({ htpasswd })`). */
export async function htpasswdFile(dir: string, user: string, password: string): Promise<string> {
  const bcrypt = (await import('bcryptjs')).default;
  const file = join(dir, `htpasswd-${user}-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(file, `${user}:${bcrypt.hashSync(password, 5)}\n`);
  return file;
}

/** `Basic <base64 user:password>`. */
export const basicAuth = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
