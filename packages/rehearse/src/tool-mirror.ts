// A loopback release mirror for rehearsals, so the REAL setup-tools (dist/setup-tools) runs in every
// rehearsal instead of a PATH hand-out. It serves the REAL tools `npm run tools` built (cosign 3 and
// 2.6, syft, trivy, helm 4 and 3, kyverno, terraform or OpenTofu) and this machine's kubectl, packed
// the way each vendor packs them and under the vendor's file names, with checksum files in the
// vendor's format, at `<mirror>/<tool>/<version>/<vendor path>` as setup-tools' `mirror` input reads.
//
// Layouts written out here from the vendors' release files (the same facts as setup-tools'
// catalog.ts, which they must match or the step gets a 404): cosign bare `cosign-linux-<arch>` +
// `cosign_checksums.txt`; syft `syft_<v>_linux_<arch>.tar.gz` + `syft_<v>_checksums.txt`; trivy
// `trivy_<v>_Linux-64bit.tar.gz` (ARM64) + `trivy_<v>_checksums.txt`; terraform
// `terraform_<v>_linux_<arch>.zip` + `terraform_<v>_SHA256SUMS`; kubectl `bin/linux/<arch>/kubectl` +
// `.sha256` (hex only); helm `helm-v<v>-linux-<arch>.tar.gz` with `linux-<arch>/helm` + `.sha256`
// (hex); kyverno `kyverno-cli_v<v>_linux_x86_64.tar.gz` + `checksums.txt`.
//
// A mirror of our own cannot carry the vendors' signatures (they sign their own bytes, and these are
// built here), so the rehearsal runs setup-tools with `verify: checksum`, explicitly, and says so.
// A version is served by the real tool of the same major line (cosign@3.0.0 gets cosign 3.1.2;
// terraform's is whatever this machine has), noted in the step's log, as before.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pickRealTool, type RealTools, whichIn } from './real-tools.js';

/** How a vendor packs one tool version and names its checksum file. */
export interface VendorLayout {
  asset: string;
  checksum: string;
  pack: 'binary' | 'tar.gz' | 'zip';
  inside?: string;
  format: 'list' | 'hex';
}

/** A tool version the mirror served: the real tool behind it. */
export interface Served {
  entry: string;
  version: string;
  path: string;
  note?: string;
}

export interface ToolMirror {
  url: string;
  served: Map<string, Served>;
  misses: string[];
  close(): Promise<void>;
}

const GOARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

/** The vendor layout of one tool version for linux/<host arch>: { asset, checksum, pack, binaryName, checksumFormat }. */
export function vendorLayout(tool: string, version: string): VendorLayout | undefined {
  const v = version;
  switch (tool) {
    case 'cosign':
      return { asset: `cosign-linux-${GOARCH}`, checksum: 'cosign_checksums.txt', pack: 'binary', format: 'list' };
    case 'syft':
      return {
        asset: `syft_${v}_linux_${GOARCH}.tar.gz`,
        checksum: `syft_${v}_checksums.txt`,
        pack: 'tar.gz',
        inside: 'syft',
        format: 'list',
      };
    case 'trivy':
      return {
        asset: `trivy_${v}_Linux-${GOARCH === 'amd64' ? '64bit' : 'ARM64'}.tar.gz`,
        checksum: `trivy_${v}_checksums.txt`,
        pack: 'tar.gz',
        inside: 'trivy',
        format: 'list',
      };
    case 'terraform':
      return {
        asset: `terraform_${v}_linux_${GOARCH}.zip`,
        checksum: `terraform_${v}_SHA256SUMS`,
        pack: 'zip',
        inside: 'terraform',
        format: 'list',
      };
    case 'kubectl':
      return { asset: `bin/linux/${GOARCH}/kubectl`, checksum: `bin/linux/${GOARCH}/kubectl.sha256`, pack: 'binary', format: 'hex' };
    case 'helm':
      return {
        asset: `helm-v${v}-linux-${GOARCH}.tar.gz`,
        checksum: `helm-v${v}-linux-${GOARCH}.tar.gz.sha256`,
        pack: 'tar.gz',
        inside: `linux-${GOARCH}/helm`,
        format: 'hex',
      };
    case 'kyverno':
      return {
        asset: `kyverno-cli_v${v}_linux_${GOARCH === 'amd64' ? 'x86_64' : 'arm64'}.tar.gz`,
        checksum: 'checksums.txt',
        pack: 'tar.gz',
        inside: 'kyverno',
        format: 'list',
      };
    default:
      return undefined;
  }
}

const sha256File = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/**
 * Packs `binary` as the vendor does into `dir` (cached: a `.source` stamp names the binary's path,
 * size and mtime). Built aside and moved in place, so a rehearsal reading the cache never sees half
 * a file. Returns { asset, checksum } file paths.
 */
function build(dir: string, layout: VendorLayout, binary: string): { asset: string; checksum: string } {
  const st = statSync(binary);
  const stamp = `${binary}\n${st.size}\n${st.mtimeMs}\n`;
  const files = (d: string) => ({ asset: join(d, layout.asset), checksum: join(d, layout.checksum) });
  const done = files(dir);
  if (
    existsSync(join(dir, '.source')) &&
    readFileSync(join(dir, '.source'), 'utf8') === stamp &&
    existsSync(done.asset) &&
    existsSync(done.checksum)
  )
    return done;
  mkdirSync(dirname(dir), { recursive: true });
  const work = mkdtempSync(join(dirname(dir), '.pack-'));
  try {
    const out = join(work, 'out');
    const f = files(out);
    mkdirSync(dirname(f.asset), { recursive: true });
    mkdirSync(dirname(f.checksum), { recursive: true });
    if (layout.pack === 'binary') {
      execFileSync('cp', ['--', binary, f.asset]);
    } else {
      const src = join(work, 'src');
      const inside = layout.inside ?? '';
      const license = inside.includes('/') ? `${dirname(inside)}/LICENSE` : 'LICENSE';
      mkdirSync(dirname(join(src, inside)), { recursive: true });
      execFileSync('cp', ['--', binary, join(src, inside)]);
      writeFileSync(join(src, license), 'see the vendor\n');
      // helm: the <os>-<arch>/ directory; the others: the binary and LICENSE at the root.
      const entries = inside.includes('/') ? [inside.split('/')[0] as string] : [inside, 'LICENSE'];
      if (layout.pack === 'tar.gz')
        execFileSync('sh', [
          '-c',
          'out="$1"; dir="$2"; shift 2; tar -C "$dir" -cf - "$@" | gzip -1 > "$out"',
          'sh',
          f.asset,
          src,
          ...entries,
        ]);
      else execFileSync('zip', ['-q', '-1', '-X', '-r', f.asset, ...entries], { cwd: src });
    }
    const hex = sha256File(f.asset);
    // List files name the asset by its file name (goreleaser, HashiCorp), among other platforms'
    // entries; hex files hold only the hash.
    const name = layout.asset.split('/').pop() ?? layout.asset;
    const other = createHash('sha256').update(`another platform of ${name}`).digest('hex');
    writeFileSync(f.checksum, layout.format === 'hex' ? `${hex}\n` : `${other}  ${name}.other-platform\n${hex}  ${name}\n`);
    writeFileSync(join(out, '.source'), stamp);
    rmSync(dir, { recursive: true, force: true });
    renameSync(out, dir);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return done;
}

/**
 * Starts the mirror. `realTools()` resolves { tools, missing } (real-tools.ts); `path` is where
 * kubectl is looked up. Returns { url, served: Map<"tool@version", { entry, version, path, note }>,
 * misses: [path], close() }.
 */
export async function startToolMirror({
  realTools,
  path,
  cacheDir = join(homedir(), '.cache', 'hallmark-rehearse', 'mirror'),
}: {
  realTools: () => Promise<RealTools>;
  path: string;
  cacheDir?: string;
}): Promise<ToolMirror> {
  const building = new Map<string, Promise<{ layout: VendorLayout; files: { asset: string; checksum: string } } | undefined>>();
  const served = new Map<string, Served>();
  const misses: string[] = [];
  const resolveTool = async (tool: string, version: string): Promise<Served | undefined> => {
    if (tool === 'kubectl') {
      const k = whichIn('kubectl', path);
      return k
        ? { entry: 'kubectl', version: 'from PATH', path: k, note: `this machine's kubectl (${k}) served as ${version}` }
        : undefined;
    }
    const picked = pickRealTool(tool, version, await realTools());
    return picked && !picked.error ? (picked as Served) : undefined;
  };
  const prepare = (tool: string, version: string) => {
    const key = `${tool}@${version}`;
    if (!building.has(key))
      building.set(
        key,
        (async () => {
          const layout = vendorLayout(tool, version);
          if (!layout) return undefined;
          const picked = await resolveTool(tool, version);
          if (!picked) return undefined;
          const files = build(join(cacheDir, tool, version), layout, picked.path);
          served.set(key, { entry: picked.entry, version: picked.version, path: picked.path, note: picked.note });
          return { layout, files };
        })().catch((e) => {
          building.delete(key);
          throw e;
        }),
      );
    return building.get(key) as Promise<{ layout: VendorLayout; files: { asset: string; checksum: string } } | undefined>;
  };
  const server = createServer(async (req, res) => {
    const m = /^\/([a-z]+)\/([0-9][\w.+-]*)\/(.+)$/.exec(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file: string | undefined;
    try {
      if (m && (req.method === 'GET' || req.method === 'HEAD')) {
        const got = await prepare(m[1] as string, m[2] as string);
        if (got && m[3] === got.layout.asset) file = got.files.asset;
        else if (got && m[3] === got.layout.checksum) file = got.files.checksum;
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`mirror: ${(e as Error).message}`);
      return;
    }
    if (!file) {
      misses.push(req.url ?? '');
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not on the rehearsal mirror');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(statSync(file).size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    misses,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
