/**
 * Real parts for trivy-gate's image-scan tests: a small Trivy vulnerability DB built by a Go
 * program (trivydb/main.go, bbolt from Debian, GOPATH mode), pushed as Trivy's OCI DB artifact to a
 * real loopback docker-registry; a tiny Alpine 3.17 image (an apk database and /etc/alpine-release,
 * FROM scratch) pushed next to it; and a loopback front that answers 429 TOOMANYREQUESTS like a
 * rate-limited registry.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../harness/server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const hasGo = (() => {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return existsSync('/usr/share/gocode/src/go.etcd.io/bbolt');
  } catch {
    return false;
  }
})();

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Builds the DB files (trivy.db + metadata.json) in a new directory; advisories as `pkg:CVE:fixed:SEVERITY`. */
export function buildDb(work: string, advisories: string[]): string {
  const gopath = join(work, 'gopath');
  const src = join(gopath, 'src', 'trivydb');
  mkdirSync(src, { recursive: true });
  cpSync(join(HERE, 'trivydb', 'main.go'), join(src, 'main.go'));
  const bin = join(work, 'mkdb');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: src, env: { ...process.env, GOPATH: `${gopath}:/usr/share/gocode`, GO111MODULE: 'off', GOCACHE: join(work, 'gocache'), GOFLAGS: '' }, stdio: 'pipe' });
  const out = join(work, 'db');
  execFileSync(bin, [out, ...advisories], { stdio: 'pipe' });
  return out;
}

/** A gzip'd tar of a directory's contents, and the digest of the uncompressed tar (the diff ID). */
function tarGz(dir: string): { gz: Buffer; diffId: string } {
  const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '-', '-C', dir, '.'], { maxBuffer: 1 << 28 });
  return { gz: gzipSync(tar), diffId: sha(tar) };
}

async function pushBlob(registry: string, repo: string, data: Buffer): Promise<string> {
  const digest = sha(data);
  const start = await fetch(`${registry}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location') as string, registry);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: data, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
  return digest;
}

async function pushManifest(registry: string, repo: string, ref: string, manifest: object): Promise<string> {
  const body = Buffer.from(JSON.stringify(manifest));
  const r = await fetch(`${registry}/v2/${repo}/manifests/${ref}`, { method: 'PUT', body, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (r.status !== 201) throw new Error(`manifest push: ${r.status} ${await r.text()}`);
  return sha(body);
}

/** Pushes the DB directory as Trivy's DB artifact (`<repo>:2`). */
export async function pushDb(registry: string, repo: string, dbDir: string): Promise<void> {
  const { gz } = tarGz(dbDir);
  const layer = await pushBlob(registry, repo, gz);
  const config = Buffer.from('{}');
  const configDigest = await pushBlob(registry, repo, config);
  await pushManifest(registry, repo, '2', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.aquasec.trivy.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip', digest: layer, size: gz.length, annotations: { 'org.opencontainers.image.title': 'db.tar.gz' } }],
  });
}

/** Pushes an Alpine 3.17 image whose apk database lists `packages` (`name:version[:origin]`). Returns the manifest digest. */
export async function pushAlpineImage(registry: string, repo: string, tag: string, packages: string[], work: string): Promise<string> {
  const root = mkdtempSync(join(work, 'rootfs-'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib', 'apk', 'db'), { recursive: true });
  writeFileSync(join(root, 'etc', 'alpine-release'), '3.17.3\n');
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.17.3\nPRETTY_NAME="Alpine Linux v3.17"\n');
  const installed = packages
    .map((p) => {
      const [name, version, origin] = p.split(':') as [string, string, string | undefined];
      return `P:${name}\nV:${version}\nA:x86_64\nL:MIT\no:${origin ?? name}\nF:lib\nR:${name}.so\n`;
    })
    .join('\n');
  writeFileSync(join(root, 'lib', 'apk', 'db', 'installed'), `${installed}\n`);
  const { gz, diffId } = tarGz(root);
  const layer = await pushBlob(registry, repo, gz);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', created: '2026-01-01T00:00:00Z', config: {}, rootfs: { type: 'layers', diff_ids: [diffId] }, history: [{ created: '2026-01-01T00:00:00Z', created_by: 'trivy-gate test' }] }));
  const configDigest = await pushBlob(registry, repo, config);
  return pushManifest(registry, repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer, size: gz.length }],
  });
}

/** A registry front that answers every /v2/ request with 429 TOOMANYREQUESTS (as ghcr.io does when rate-limited). */
export function startRateLimited(): Promise<TestServer> {
  return startServer((req, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1', 'docker-distribution-api-version': 'registry/2.0' });
    res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'retry-after: 1s, allowed: 44000/minute', detail: req.path }] }));
  });
}

export function labDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-trivy-lab-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}
