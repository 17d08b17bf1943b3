/**
 * The runner side of `install`: @actions/tool-cache for extract/cache (and its cache layout for
 * the lookup), the streamed downloader for assets and checksum files. Work files below RUNNER_TEMP.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration, oneLine, type HttpError } from '@hallmark/kit';
import type { Io } from './flow.js';

export interface IoOptions {
  temp: string;
  toolCache: string;
  timeoutMs: number;
  attempts: number;
  retryDelayMs: number;
  log: (message: string) => void;
  warn: (message: string) => void;
}

/** @actions/tool-cache (and semver, @actions/io) load only when something must be downloaded. */
const toolCache = () => import('@actions/tool-cache');

/**
 * The tool cache lookup of `tc.find(tool, version, arch)` for an exact version: the entry
 * `<RUNNER_TOOL_CACHE>/<tool>/<version>/<arch>` counts once its `<arch>.complete` marker exists
 * (tc.cacheDir writes both, the marker last). Done here without loading tool-cache and semver so
 * the warm path, every job after the first, starts as fast as a core-only action; a unit test
 * holds it to tc.find's answer. `version` is already `X.Y.Z[-pre]` (what semver.clean gives).
 */
export function findCached(cacheRoot: string, tool: string, version: string, arch: string): string {
  if (!cacheRoot) return '';
  const dir = join(cacheRoot, tool, version, arch);
  return existsSync(dir) && existsSync(`${dir}.complete`) ? dir : '';
}

function retryNote(err: unknown, attempt: number, attempts: number, delayMs: number): string {
  const e = err as HttpError;
  const asked = typeof e?.retryAfterMs === 'number' ? ' as the server asked (Retry-After)' : '';
  return `${oneLine(e?.message ?? String(err), 300)}; retry ${attempt}/${attempts - 1} in ${formatDuration(delayMs)}${asked}`;
}

export function runnerIo(o: IoOptions): Io {
  const root = join(o.temp, 'setup-tools');
  return {
    find: (tool, version, arch) => findCached(o.toolCache, tool, version, arch),
    isFile: (file) => {
      try {
        return lstatSync(file).isFile();
      } catch {
        return false;
      }
    },
    // Checksum and signature files go through the same streamed downloader as assets (same
    // deadline, retries, redirect handling, truncation check), capped at 4 MiB, then read back.
    fetchBytes: async (url, onRetry) => {
      const dir = join(root, 'sums');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, randomBytes(8).toString('hex'));
      try {
        await (await import('./download.js')).download({
          url,
          dest: file,
          timeoutMs: Math.min(o.timeoutMs, 60_000),
          attempts: o.attempts,
          baseDelayMs: o.retryDelayMs,
          maxBytes: 4 * 1024 * 1024,
          onRetry: (err, a, d) => onRetry(retryNote(err, a, o.attempts, d)),
        });
        return readFileSync(file);
      } finally {
        rmSync(file, { force: true });
      }
    },
    download: async (url, dest, onRetry) =>
      (await import('./download.js')).download({
        url,
        dest,
        timeoutMs: o.timeoutMs,
        attempts: o.attempts,
        baseDelayMs: o.retryDelayMs,
        onRetry: (err, a, d) => onRetry(retryNote(err, a, o.attempts, d)),
      }),
    workDir: async (tool) => {
      const d = join(root, 'work', `${tool}-${randomBytes(6).toString('hex')}`);
      mkdirSync(d, { recursive: true });
      return d;
    },
    extractTar: async (file, dest) => (await toolCache()).extractTar(file, dest, 'xz'),
    extractZip: async (file, dest) => (await toolCache()).extractZip(file, dest),
    stageBinary: async (file, dir, binary) => {
      mkdirSync(dir, { recursive: true });
      copyFileSync(file, join(dir, binary));
      chmodSync(join(dir, binary), 0o755);
      return dir;
    },
    chmodExecutable: async (file) => chmodSync(file, 0o755),
    cacheDir: async (dir, tool, version, arch) => (await toolCache()).cacheDir(dir, tool, version, arch),
    placeUncached: async (dir, tool, version, arch) => {
      const dest = join(root, tool, version, arch);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(join(root, tool, version), { recursive: true });
      renameSync(dir, dest);
      return dest;
    },
    readFile: async (file) => readFileSync(file),
    remove: async (path) => rmSync(path, { recursive: true, force: true }),
    log: o.log,
    warn: o.warn,
  };
}
