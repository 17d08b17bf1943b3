/**
 * Real parts for trivy-gate's scan tests with real Trivy 0.74 (toolPath('trivy')):
 * - a small Trivy vulnerability DB written by trivydb/main.go (a Go module of its own, built with
 *   the Go toolchain from the module proxy, GOTOOLCHAIN=local, cached by source hash next to the
 *   real tools), pushed to a real loopback docker-registry as Trivy's OCI DB artifact;
 * - a misconfiguration checks bundle in the layout trivy-checks ships (internal/bundler: rego
 *   under policies/docker/policies/) pushed as Trivy's OCI checks artifact;
 * - an Alpine 3.17 image built FROM scratch by buildah (an apk database, /etc/alpine-release) and
 *   pushed to a registry with htpasswd auth;
 * - a recording loopback proxy in front of the DB registry that answers 429 TOOMANYREQUESTS for
 *   repositories under `limited/` and forwards everything else, so the mirror fallback and "which
 *   registry saw which Authorization header" are both observable.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { startServer, type TestServer } from '../harness/server.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const hasBuildah = existsSync('/usr/bin/buildah');

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** The cache scripts/tools.mjs uses ($HALLMARK_TOOLS_DIR, else $XDG_CACHE_HOME/hallmark-tools, else ~/.cache/hallmark-tools). */
function toolsCache(): string {
  if (process.env.HALLMARK_TOOLS_DIR) return resolve(process.env.HALLMARK_TOOLS_DIR);
  return join(process.env.XDG_CACHE_HOME ? resolve(process.env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'hallmark-tools');
}

/** Go 1.26 from /usr/local/go (the Debian golang-go 1.19 must not shadow it), else `go` on PATH. */
function goBinary(): string {
  return process.env.HALLMARK_GO ?? ['/usr/local/go/bin/go'].find((p) => existsSync(p)) ?? 'go';
}

/**
 * The DB builder binary: built once per source hash (main.go, go.mod, go.sum and the Go version)
 * into <tools cache>/trivydb/<hash>/trivydb, atomically, so later runs start it directly.
 */
export function trivyDbBuilder(): string {
  const src = join(HERE, 'trivydb');
  const go = goBinary();
  const env = { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0', GO111MODULE: 'on' };
  const version = execFileSync(go, ['version'], { encoding: 'utf8', env }).trim();
  const h = createHash('sha256').update(version);
  for (const f of ['main.go', 'go.mod', 'go.sum']) h.update(f).update(readFileSync(join(src, f)));
  const dir = join(toolsCache(), 'trivydb', h.digest('hex').slice(0, 16));
  const bin = join(dir, 'trivydb');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.building-${process.pid}`;
  execFileSync(go, ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, '.'], { cwd: src, env, stdio: 'pipe' });
  renameSync(tmp, bin);
  return bin;
}

/** Builds the DB files (trivy.db + metadata.json) in `work/db`; advisories as `pkg:CVE:fixed:SEVERITY`. */
export function buildDb(work: string, advisories: string[]): string {
  const out = join(work, 'db');
  execFileSync(trivyDbBuilder(), [out, ...advisories], { stdio: 'pipe' });
  return out;
}

/** A gzip'd tar of a directory's contents, and the digest of the uncompressed tar (the diff ID). */
function tarGz(dir: string): { gz: Buffer; diffId: string } {
  const tar = execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cf', '-', '-C', dir, '.'], {
    maxBuffer: 1 << 28,
  });
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
  const r = await fetch(`${registry}/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    body,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (r.status !== 201) throw new Error(`manifest push: ${r.status} ${await r.text()}`);
  return sha(body);
}

/**
 * Pushes one file as a single-layer OCI artifact. Trivy's pkg/oci/artifact.go (v0.74.0) picks the
 * layer by media type and names the downloaded file after its `org.opencontainers.image.title`
 * annotation (required), then unpacks it by extension.
 */
async function pushArtifact(
  registry: string,
  repo: string,
  tag: string,
  a: { configType: string; layerType: string; title: string; data: Buffer; annotations?: Record<string, string> },
): Promise<string> {
  const layer = await pushBlob(registry, repo, a.data);
  const config = Buffer.from('{}');
  const configDigest = await pushBlob(registry, repo, config);
  return pushManifest(registry, repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: a.configType, digest: configDigest, size: config.length },
    layers: [{ mediaType: a.layerType, digest: layer, size: a.data.length, annotations: { 'org.opencontainers.image.title': a.title } }],
    ...(a.annotations ? { annotations: a.annotations } : {}),
  });
}

/** Pushes the DB directory as Trivy's DB artifact (`<repo>:2`; media types from trivy v0.74.0 pkg/db/db.go). */
export async function pushDb(registry: string, repo: string, dbDir: string): Promise<void> {
  await pushArtifact(registry, repo, '2', {
    configType: 'application/vnd.aquasec.trivy.config.v1+json',
    layerType: 'application/vnd.aquasec.trivy.db.layer.v1.tar+gzip',
    title: 'db.tar.gz',
    data: tarGz(dbDir).gz,
  });
}

/** The one check in the test bundle: flags every Dockerfile stage, with an ID no Trivy embeds. */
export const BUNDLE_CHECK_ID = 'HM-0001';
const BUNDLE_CHECK = `# METADATA
# title: "hallmark test bundle: every Dockerfile stage is flagged"
# description: "A check that only exists in the checks bundle the trivy-gate tests serve."
# scope: package
# schemas:
# - input: schema["dockerfile"]
# custom:
#   id: ${BUNDLE_CHECK_ID}
#   long_id: hallmark-test-bundle-check
#   severity: MEDIUM
#   recommended_action: "nothing: this is a test check"
#   input:
#     selector:
#     - type: dockerfile
package builtin.dockerfile.HM0001

import rego.v1

deny contains res if {
	some stage in input.Stages
	res := result.new("stage seen by the hallmark test checks bundle", {})
}
`;

/**
 * Pushes a checks bundle as Trivy fetches it: trivy v0.74.0 pkg/policy/policy.go downloads the layer
 * of media type application/vnd.cncf.openpolicyagent.layer.v1.tar+gzip into <cache>/policy/content
 * and, once downloaded, turns the embedded checks off; the bundle layout (policies/docker/policies/)
 * is trivy-checks' internal/bundler (a file named *_test.rego would be skipped: trivy v0.74.0
 * pkg/iac/rego/load.go IsRegoFile), pushed with artifact type
 * application/vnd.cncf.openpolicyagent.config.v1+json (trivy-checks Makefile, push-bundle).
 */
export async function pushChecksBundle(registry: string, repo: string, work: string, tag = '2'): Promise<void> {
  const root = mkdtempSync(join(work, 'bundle-'));
  mkdirSync(join(root, 'policies', 'docker', 'policies'), { recursive: true });
  writeFileSync(join(root, 'policies', 'docker', 'policies', 'hallmark.rego'), BUNDLE_CHECK);
  await pushArtifact(registry, repo, tag, {
    configType: 'application/vnd.cncf.openpolicyagent.config.v1+json',
    layerType: 'application/vnd.cncf.openpolicyagent.layer.v1.tar+gzip',
    title: 'bundle.tar.gz',
    data: tarGz(root).gz,
  });
}

/**
 * Builds an Alpine 3.17 image FROM scratch with buildah whose apk database lists `packages`
 * (`name:version[:origin]`) and pushes it; returns the manifest digest the registry stored.
 */
export function buildAlpineImage(work: string, ref: string, packages: string[], creds?: string): string {
  const ctx = mkdtempSync(join(work, 'ctx-'));
  const root = join(ctx, 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'lib', 'apk', 'db'), { recursive: true });
  writeFileSync(join(root, 'etc', 'alpine-release'), '3.17.3\n');
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.17.3\nPRETTY_NAME="Alpine Linux v3.17"\n');
  const installed = packages
    .map((p) => {
      const [name, version, origin] = p.split(':') as [string, string, string | undefined];
      return `C:Q1${createHash('sha1').update(p).digest('base64')}\nP:${name}\nV:${version}\nA:x86_64\nS:1000\nI:2000\nT:${name} for the trivy-gate tests\nU:https://example.invalid/${name}\nL:MIT\no:${origin ?? name}\nt:1700000000\n`;
    })
    .join('\n');
  writeFileSync(join(root, 'lib', 'apk', 'db', 'installed'), `${installed}\n`);
  writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
  const store = ['--root', join(work, 'buildah', 'root'), '--runroot', join(work, 'buildah', 'run'), '--storage-driver', 'vfs'];
  const env = { ...process.env, BUILDAH_ISOLATION: 'chroot', STORAGE_DRIVER: 'vfs' };
  execFileSync('buildah', [...store, 'bud', '--isolation', 'chroot', '--format', 'oci', '-f', join(ctx, 'Containerfile'), '-t', ref, ctx], {
    env,
    stdio: 'pipe',
  });
  const digestFile = join(ctx, 'digest');
  execFileSync(
    'buildah',
    [...store, 'push', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), '--digestfile', digestFile, ref, `docker://${ref}`],
    { env, stdio: 'pipe' },
  );
  return readFileSync(digestFile, 'utf8').trim();
}

/** An htpasswd file (bcrypt) for a registry with Basic auth. */
export async function htpasswd(work: string, user: string, password: string): Promise<string> {
  const bcrypt = (await import('bcryptjs')).default;
  const file = join(work, `htpasswd-${user}`);
  writeFileSync(file, `${user}:${bcrypt.hashSync(password, 5)}\n`);
  return file;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-encoding', 'content-length', 'host']);

/**
 * A recording proxy in front of a registry, answering like the public mirrors do: `/v2/` asks for a
 * Bearer token from `/token` (the challenge mirror.gcr.io and ghcr.io send), where a client that
 * holds credentials for this host sends them as Basic auth — so a leaked login shows up in
 * `requests`. Requests for repositories under `/v2/limited/` get 429 TOOMANYREQUESTS (as a
 * rate-limited ghcr.io or mirror.gcr.io answers), under `/v2/down/` 503; everything else is
 * forwarded (without the Authorization header) to the registry. `message()` gives the text of the
 * error bodies.
 */
export function startMirrorProxy(upstream: string, opts: { message?: () => string } = {}): Promise<TestServer> {
  let self = '';
  const server = startServer(async (req, res) => {
    if (req.path === '/token') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: 'anonymous-pull', access_token: 'anonymous-pull', expires_in: 300 }));
      return;
    }
    if (!req.headers.authorization?.startsWith('Bearer ')) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'docker-distribution-api-version': 'registry/2.0',
        'www-authenticate': `Bearer realm="${self}/token",service="hallmark-mirror"`,
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const limited = req.path.startsWith('/v2/limited/');
    if (limited || req.path.startsWith('/v2/down/')) {
      const message = opts.message?.() ?? (limited ? 'retry-after: 1s, allowed: 44000/minute' : 'the mirror is down');
      res.writeHead(limited ? 429 : 503, {
        'content-type': 'application/json',
        'retry-after': '1',
        'docker-distribution-api-version': 'registry/2.0',
      });
      res.end(JSON.stringify({ errors: [{ code: limited ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message, detail: req.path }] }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && k !== 'authorization' && typeof v === 'string') headers[k] = v;
    const r = await fetch(`${upstream}${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body,
      redirect: 'manual',
    });
    const out: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!HOP.has(k)) out[k] = v;
    });
    const body = req.method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await r.arrayBuffer());
    out['content-length'] = req.method === 'HEAD' ? (r.headers.get('content-length') ?? '0') : String(body.length);
    res.writeHead(r.status, out);
    res.end(body);
  });
  return server.then((s) => {
    self = s.url;
    return s;
  });
}

/** Every credential a proxy was sent: Basic auth decoded (`user:password`); the anonymous Bearer token left out. */
export function credentialsSeen(s: TestServer, from = 0): string[] {
  return s.requests
    .slice(from)
    .map((q) => q.headers.authorization)
    .filter((h): h is string => typeof h === 'string' && h !== 'Bearer anonymous-pull')
    .map((h) => (h.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64').toString('utf8') : h));
}

/** The registry part of a proxy's URL (`127.0.0.1:<port>`), for repository names. */
export const hostOf = (s: TestServer): string => s.url.replace(/^https?:\/\//, '');

export function labDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-trivy-lab-'));
  return {
    dir,
    cleanup: () => {
      try {
        execFileSync('chmod', ['-R', 'u+w', dir]);
      } catch {
        /* best effort */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, 'utf8')) as T;
}
