/**
 * Installs one tool version: tool cache hit → done; miss → checksum file, asset (streamed and
 * hashed), verify, extract, cache (or stage under RUNNER_TEMP with `cache: false`).
 * Nothing reaches the tool cache or PATH unless its SHA-256 matched the vendor's checksum file.
 *
 * Every side effect goes through `Io`, so tests can drive the flow without a runner.
 */
import { UserError } from '@hallmark/kit';
import type { Plan } from './catalog.js';
import { expectedSha256 } from './checksum.js';

export const REASONS = {
  invalidInput: 'invalid-input',
  unsupportedPlatform: 'unsupported-platform',
  downloadFailed: 'download-failed',
  checksumMismatch: 'checksum-mismatch',
  installFailed: 'install-failed',
} as const;

export interface Io {
  /** tool-cache `find`: the cached directory or ''. */
  find(tool: string, version: string, arch: string): string;
  /** Whether `file` is a regular file (not a link, not a directory). */
  isFile(file: string): boolean;
  /** Fetches a small text file (the checksum file); throws an Error with `status`/`kind` on failure. */
  fetchText(url: string, onRetry: (message: string) => void): Promise<string>;
  /** Streams the asset to `dest`, returning its size and SHA-256. */
  download(url: string, dest: string, onRetry: (message: string) => void): Promise<{ bytes: number; sha256: string; attempts: number }>;
  /** A fresh, empty working directory for this tool. */
  workDir(tool: string): Promise<string>;
  extractTar(file: string, dest: string): Promise<string>;
  extractZip(file: string, dest: string): Promise<string>;
  /** Makes a directory holding only the bare binary, named `binary`, executable. */
  stageBinary(file: string, dir: string, binary: string): Promise<string>;
  chmodExecutable(file: string): Promise<void>;
  /** tool-cache `cacheDir` → the cached path. */
  cacheDir(dir: string, tool: string, version: string, arch: string): Promise<string>;
  /** `cache: false`: moves the staged directory to its place under RUNNER_TEMP → that path. */
  placeUncached(dir: string, tool: string, version: string, arch: string): Promise<string>;
  remove(path: string): Promise<void>;
  log(message: string): void;
}

export interface Installed {
  tool: string;
  version: string;
  /** The directory added to PATH (the binary is directly inside it). */
  path: string;
  binary: string;
  cached: boolean;
  /** Set when downloaded: the verified hash, the asset and checksum file names, the size. */
  sha256?: string;
  asset?: string;
  checksumName?: string;
  bytes?: number;
  source: string;
}

const short = (h: string) => `${h.slice(0, 12)}…`;
const mb = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} kB`);

function host(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

export async function install(p: Plan, opts: { useCache: boolean }, io: Io): Promise<Installed> {
  const arch = p.platform.arch;
  const who = `${p.tool} ${p.version}`;
  if (opts.useCache) {
    const hit = io.find(p.tool, p.version, arch);
    if (hit && io.isFile(`${hit}/${p.binary}`)) {
      io.log(`${who}: found in the tool cache at ${hit}`);
      return { tool: p.tool, version: p.version, path: hit, binary: p.binary, cached: true, source: 'tool cache' };
    }
    if (hit) io.log(`${who}: the tool cache entry ${hit} has no ${p.binary}; installing it again`);
  }

  // 1. The vendor's checksum file first: a missing entry fails before a large download.
  let sumsText: string;
  try {
    sumsText = await io.fetchText(p.checksumUrl, (m) => io.log(`${who}: checksum file: ${m}`));
  } catch (e) {
    throw new UserError(`${who}: could not download the checksum file ${p.checksumName} for ${p.name}: ${(e as Error).message}${notFoundHint(e, p)}`, REASONS.downloadFailed);
  }
  const expected = expectedSha256(sumsText, p.checksumFormat, p.name);
  if (!expected.ok) {
    throw new UserError(`${who}: checksum file ${p.checksumName} ${expected.problem}; ${p.name} was not installed`, REASONS.checksumMismatch);
  }

  // 2. The asset, streamed and hashed.
  const work = await io.workDir(p.tool);
  try {
    const file = `${work}/${p.name}`;
    let got: { bytes: number; sha256: string; attempts: number };
    try {
      got = await io.download(p.url, file, (m) => io.log(`${who}: ${m}`));
    } catch (e) {
      throw new UserError(`${who}: could not download ${p.name}: ${(e as Error).message}${notFoundHint(e, p)}`, REASONS.downloadFailed);
    }
    if (got.sha256 !== expected.sha256) {
      throw new UserError(
        `${who}: ${p.name} has SHA-256 ${got.sha256} but ${p.checksumName} lists ${expected.sha256}; it was not installed (a corrupted download, or a mirror or release that changed)`,
        REASONS.checksumMismatch,
      );
    }
    io.log(`${who}: downloaded ${p.name} (${mb(got.bytes)}) from ${host(p.url)}; SHA-256 ${short(got.sha256)} matches ${p.checksumName}`);

    // 3. Unpack into a directory whose top level holds the binary.
    let dir: string;
    try {
      if (p.format === 'binary') dir = await io.stageBinary(file, `${work}/stage`, p.binary);
      else {
        const out = p.format === 'zip' ? await io.extractZip(file, `${work}/x`) : await io.extractTar(file, `${work}/x`);
        const inner = p.binaryInArchive.split('/');
        inner.pop();
        dir = inner.length ? `${out}/${inner.join('/')}` : out;
        if (!io.isFile(`${dir}/${p.binary}`)) {
          throw new UserError(`${who}: ${p.name} does not hold ${p.binaryInArchive} as a regular file (has the vendor changed its layout?)`, REASONS.installFailed);
        }
        await io.chmodExecutable(`${dir}/${p.binary}`);
      }
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${who}: could not unpack ${p.name}: ${(e as Error).message}`, REASONS.installFailed);
    }
    await io.remove(file);

    // 4. Into the tool cache (or under RUNNER_TEMP).
    const path = opts.useCache ? await io.cacheDir(dir, p.tool, p.version, arch) : await io.placeUncached(dir, p.tool, p.version, arch);
    return {
      tool: p.tool,
      version: p.version,
      path,
      binary: p.binary,
      cached: false,
      sha256: got.sha256,
      asset: p.name,
      checksumName: p.checksumName,
      bytes: got.bytes,
      source: `download from ${host(p.url)}`,
    };
  } finally {
    await io.remove(work).catch(() => undefined);
  }
}

function notFoundHint(e: unknown, p: Plan): string {
  const status = (e as { status?: number })?.status;
  if (status !== 404) return '';
  return ` (is ${p.version} a released version of ${p.tool}? a mirror must hold <mirror>/${p.tool}/${p.version}/${p.path})`;
}
