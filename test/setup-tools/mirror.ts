/**
 * A loopback release mirror for setup-tools tests. Each tool's release is BUILT HERE: a small
 * shell script named like the tool that prints its name and version, packed the way its vendor
 * packs it (goreleaser tar.gz with the binary at the root, helm's `<os>-<arch>/helm`, terraform's
 * zip, bare cosign/kubectl binaries), under the vendor's real file names, with real checksum files
 * in the vendor's format (goreleaser/HashiCorp `sha256  name` lists, kubectl/helm hash-only
 * `.sha256`). Served at `<mirror>/<tool>/<version>/<vendor path>`, as the `mirror` input expects.
 *
 * The names below are written out from ../shared/TOOL-RELEASES.md, independently of the action's
 * catalog, so a naming mistake in the catalog shows up as a 404 here.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startServer, type RecordedRequest, type TestServer } from '../harness/server.js';

export const DEFAULTS = {
  cosign: '3.1.2',
  syft: '1.51.0',
  trivy: '0.74.0',
  terraform: '1.15.9',
  kubectl: '1.36.3',
  helm: '4.2.4',
  kyverno: '1.19.0',
} as const;
export type Tool = keyof typeof DEFAULTS;
export const ALL = Object.keys(DEFAULTS) as Tool[];

export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The host's Go arch (this suite runs the installed scripts, so it installs for the host). */
export const GOARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

export interface Release {
  tool: Tool;
  version: string;
  /** Path of the asset below `<mirror>/<tool>/<version>/`. */
  asset: string;
  checksum: string;
  /** What the installed binary prints. */
  banner: string;
}

function script(tool: string, version: string, nonce: string): string {
  return `#!/bin/sh\necho "${tool} version ${version} (hallmark test build ${nonce})"\n`;
}

/** `name -> content` files packed into a tar.gz (entries without `./`) or a zip. */
function pack(work: string, kind: 'tar.gz' | 'zip', files: Record<string, string>, execs: string[]): Buffer {
  const src = mkdtempSync(join(work, 'src-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(src, name)), { recursive: true });
    writeFileSync(join(src, name), content);
    chmodSync(join(src, name), execs.includes(name) ? 0o755 : 0o644);
  }
  const out = join(work, `out-${randomBytes(4).toString('hex')}.${kind}`);
  const top = [...new Set(Object.keys(files).map((f) => f.split('/')[0] as string))].sort();
  if (kind === 'tar.gz') execFileSync('tar', ['-czf', out, '-C', src, ...top]);
  else execFileSync('zip', ['-q', '-r', '-X', out, ...top], { cwd: src });
  const buf = readFileSync(out);
  rmSync(src, { recursive: true, force: true });
  return buf;
}

const goreleaserLines = (entries: [string, string][]) => `${entries.map(([h, n]) => `${h}  ${n}`).join('\n')}\n`;
const fakeHash = (name: string) => sha256(`other build: ${name}`);

/**
 * Builds one release of `tool` for linux/<host arch>: the asset, its checksum file, and a few
 * neighbouring entries in list-style checksum files (as the vendors' files cover every platform).
 */
export function buildRelease(work: string, tool: Tool, version: string, files: Map<string, Buffer>): Release {
  const nonce = randomBytes(4).toString('hex');
  const body = script(tool, version, nonce);
  const banner = `${tool} version ${version} (hallmark test build ${nonce})`;
  const put = (path: string, b: Buffer | string) => files.set(`/${tool}/${version}/${path}`, Buffer.from(b));
  const list = (checksum: string, asset: string, buf: Buffer, others: string[]) => {
    put(asset, buf);
    const entries: [string, string][] = [...others.map((o): [string, string] => [fakeHash(o), o]), [sha256(buf), asset]];
    put(checksum, goreleaserLines(entries.sort((a, b) => a[1].localeCompare(b[1]))));
    return { tool, version, asset, checksum, banner };
  };
  const readme = `# ${tool}\n`;
  switch (tool) {
    case 'cosign': {
      const asset = `cosign-linux-${GOARCH}`;
      return list('cosign_checksums.txt', asset, Buffer.from(body), [
        'cosign-darwin-amd64',
        'cosign-darwin-arm64',
        'cosign-windows-amd64.exe',
        `cosign-linux-${GOARCH === 'amd64' ? 'arm64' : 'amd64'}`,
        'cosign_3.1.2_x86_64.rpm',
      ]);
    }
    case 'syft': {
      const asset = `syft_${version}_linux_${GOARCH}.tar.gz`;
      const buf = pack(work, 'tar.gz', { syft: body, 'README.md': readme, LICENSE: 'Apache-2.0\n' }, ['syft']);
      return list(`syft_${version}_checksums.txt`, asset, buf, [
        `syft_${version}_darwin_amd64.tar.gz`,
        `syft_${version}_windows_amd64.zip`,
        `syft_${version}_linux_amd64.deb`,
      ]);
    }
    case 'trivy': {
      const asset = `trivy_${version}_Linux-${GOARCH === 'amd64' ? '64bit' : 'ARM64'}.tar.gz`;
      const buf = pack(
        work,
        'tar.gz',
        { trivy: body, 'README.md': readme, LICENSE: 'Apache-2.0\n', 'contrib/html.tpl': '<html></html>\n' },
        ['trivy'],
      );
      return list(`trivy_${version}_checksums.txt`, asset, buf, [
        `trivy_${version}_macOS-64bit.tar.gz`,
        `trivy_${version}_windows-64bit.zip`,
        `trivy_${version}_Linux-64bit.deb`,
      ]);
    }
    case 'terraform': {
      const asset = `terraform_${version}_linux_${GOARCH}.zip`;
      const buf = pack(work, 'zip', { terraform: body, 'LICENSE.txt': 'BUSL-1.1\n' }, ['terraform']);
      return list(`terraform_${version}_SHA256SUMS`, asset, buf, [
        `terraform_${version}_darwin_arm64.zip`,
        `terraform_${version}_windows_amd64.zip`,
        `terraform_${version}_linux_${GOARCH === 'amd64' ? 'arm64' : 'amd64'}.zip`,
      ]);
    }
    case 'kubectl': {
      const asset = `bin/linux/${GOARCH}/kubectl`;
      put(asset, body);
      put(`${asset}.sha256`, sha256(body)); // only the hex, no newline, no name: as dl.k8s.io serves it
      return { tool, version, asset, checksum: `${asset}.sha256`, banner };
    }
    case 'helm': {
      const asset = `helm-v${version}-linux-${GOARCH}.tar.gz`;
      const dir = `linux-${GOARCH}`;
      const buf = pack(work, 'tar.gz', { [`${dir}/helm`]: body, [`${dir}/LICENSE`]: 'Apache-2.0\n', [`${dir}/README.md`]: readme }, [
        `${dir}/helm`,
      ]);
      put(asset, buf);
      put(`${asset}.sha256`, `${sha256(buf)}\n`);
      return { tool, version, asset, checksum: `${asset}.sha256`, banner };
    }
    case 'kyverno': {
      const asset = `kyverno-cli_v${version}_linux_${GOARCH === 'amd64' ? 'x86_64' : 'arm64'}.tar.gz`;
      const buf = pack(work, 'tar.gz', { kyverno: body, LICENSE: 'Apache-2.0\n' }, ['kyverno']);
      return list('checksums.txt', asset, buf, [
        `kyverno-cli_v${version}_darwin_x86_64.tar.gz`,
        `kyverno-cli_v${version}_windows_x86_64.zip`,
        `kyverno-${version}.tar.gz`,
      ]);
    }
  }
}

/** What the server does with the next request for a path (consumed in order). */
export type Fault =
  | { status: number; retryAfter?: string }
  /** 200 with the full Content-Length, half the body, then the connection is cut. */
  | { truncate: true }
  /** Serve these bytes instead (once). */
  | { body: Buffer }
  /** Headers and a first chunk, then nothing: a stalled server (the connection stays open). */
  | { stall: true };

export interface Mirror {
  url: string;
  server: TestServer;
  releases: Map<string, Release>;
  files: Map<string, Buffer>;
  /** Queue faults for a path (`/<tool>/<version>/<asset>`). */
  fault(path: string, ...f: Fault[]): void;
  /** Replace a file for good (until reset). */
  replace(path: string, body: Buffer | string): void;
  /** Add a file to the release as published (kept across reset), e.g. a vendor signature. */
  publish(path: string, body: Buffer | string): void;
  /** Remove a file until reset. */
  remove(path: string): void;
  reset(): void;
  /** Requests received since `mark()`. */
  since(mark: number): RecordedRequest[];
  mark(): number;
  close(): Promise<void>;
}

export async function startMirror(releases: [Tool, string][] = ALL.map((t) => [t, DEFAULTS[t]])): Promise<Mirror> {
  const work = mkdtempSync(join(tmpdir(), 'hallmark-mirror-'));
  const files = new Map<string, Buffer>();
  const rel = new Map<string, Release>();
  for (const [t, v] of releases) rel.set(`${t}@${v}`, buildRelease(work, t, v, files));
  const original = new Map(files);
  const faults = new Map<string, Fault[]>();
  const handler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => {
    const queued = faults.get(req.path);
    const f = queued?.shift();
    if (f && 'status' in f) {
      res.writeHead(f.status, { 'content-type': 'text/plain', ...(f.retryAfter !== undefined ? { 'retry-after': f.retryAfter } : {}) });
      res.end(`mirror says ${f.status}`);
      return;
    }
    const body = f && 'body' in f ? f.body : files.get(req.path);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    if (f && 'stall' in f) {
      res.write(body.subarray(0, 1));
      return;
    }
    if (f && 'truncate' in f) {
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => raw.socket.destroy(), 10));
      return;
    }
    res.end(body);
  };
  const server = await startServer(handler);
  return {
    url: server.url,
    server,
    releases: rel,
    files,
    fault: (path, ...f) => faults.set(path, [...(faults.get(path) ?? []), ...f]),
    replace: (path, body) => files.set(path, Buffer.from(body)),
    publish: (path, body) => {
      original.set(path, Buffer.from(body));
      files.set(path, Buffer.from(body));
    },
    remove: (path) => void files.delete(path),
    reset: () => {
      faults.clear();
      files.clear();
      for (const [k, v] of original) files.set(k, v);
    },
    mark: () => server.requests.length,
    since: (m) => server.requests.slice(m),
    close: async () => {
      await server.close();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Every file under a directory, relative, sorted (to compare a tool cache before and after). */
export function listTree(dir: string): string[] {
  try {
    return (execFileSync('find', [dir, '-mindepth', '1'], { encoding: 'utf8' }) as string)
      .split('\n')
      .filter(Boolean)
      .map((p) => p.slice(dir.length + 1))
      .sort();
  } catch {
    return [];
  }
}
