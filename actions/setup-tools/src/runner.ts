/**
 * The runner side of setup-tools (imported only by main.ts, and only once the inputs are valid):
 * the `Io` the install flow runs over — @actions/tool-cache for extract/cache (and its cache
 * layout for the lookup), and the streamed downloader for assets, checksum and signature files.
 * Work files below RUNNER_TEMP.
 *
 * The downloader. Why not `tc.downloadTool`: it sleeps 10–20 s between its own retries, ignores
 * `Retry-After` and has no deadline for the whole exchange. Why not the kit's `http.request`: it
 * buffers the body in memory, and seven CLIs in parallel are several hundred MB. So this is the
 * kit's retry (bounded, backoff with jitter, `Retry-After` honoured) around a streamed GET on
 * `@actions/http-client` (runner proxy settings apply), with a hard deadline per try and a
 * Content-Length check, so a truncated body is retried and never mistaken for the asset.
 */
import { HttpClient } from '@actions/http-client';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { formatDuration, HttpError, oneLine, parseRetryAfter, retry, safeUrl } from '@hallmark/kit';
import type { Io } from './flow.js';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Deadline for one try (the whole exchange), ms. */
  timeoutMs: number;
  /** Tries in all. */
  attempts: number;
  /** First backoff, ms (doubles each retry, capped by maxDelayMs). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Refuse bodies larger than this (default 2 GiB). */
  maxBytes?: number;
  onRetry?: (err: HttpError, attempt: number, delayMs: number) => void;
}

export interface Downloaded {
  bytes: number;
  sha256: string;
  attempts: number;
}

const isRetryableStatus = (s: number) => s === 408 || s === 429 || s >= 500;

async function once(o: DownloadOptions, attempt: number): Promise<Omit<Downloaded, 'attempts'>> {
  const where = `GET ${safeUrl(o.url)}`;
  const client = new HttpClient('hallmark-setup-tools', undefined, {
    allowRetries: false,
    // Redirects are followed below: http-client cannot resolve a relative Location.
    allowRedirects: false,
    socketTimeout: o.timeoutMs,
    keepAlive: false,
  });
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  let destroy: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      destroy?.();
      client.dispose();
      reject(new HttpError(`${where}: no complete response within ${Math.round(o.timeoutMs / 100) / 10}s`, 'timeout', { retryable: true }));
    }, o.timeoutMs);
  });
  const exchange = (async () => {
    let url = o.url;
    let res = await client.get(url, { 'accept-encoding': 'identity' });
    for (let hops = 0; [301, 302, 303, 307, 308].includes(res.message.statusCode ?? 0); hops++) {
      const location = res.message.headers.location;
      res.message.resume();
      if (!location || hops >= 5)
        throw new HttpError(`${where}: ${location ? 'more than 5 redirects' : 'redirect without a Location'}`, 'status', {
          status: res.message.statusCode,
          retryable: false,
        });
      const next = new URL(location, url);
      if (new URL(url).protocol === 'https:' && next.protocol !== 'https:') {
        throw new HttpError(`${where}: refused a redirect from https to ${next.protocol.replace(/:$/, '')}`, 'status', {
          status: res.message.statusCode,
          retryable: false,
        });
      }
      url = next.href;
      res = await client.get(url, { 'accept-encoding': 'identity' });
    }
    const msg = res.message;
    destroy = () => msg.destroy();
    const status = msg.statusCode ?? 0;
    if (status !== 200) {
      msg.resume();
      throw new HttpError(`${where}: HTTP ${status}`, 'status', {
        status,
        retryable: isRetryableStatus(status),
        retryAfterMs: parseRetryAfter(msg.headers['retry-after']),
      });
    }
    const declared = msg.headers['content-length'] === undefined ? undefined : Number(msg.headers['content-length']);
    const max = o.maxBytes ?? 2 * 1024 ** 3;
    if (declared !== undefined && declared > max) {
      msg.destroy();
      throw new HttpError(`${where}: asset is ${declared} bytes, more than the ${max} allowed`, 'too-large', { retryable: false });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > max) return cb(new HttpError(`${where}: body larger than ${max} bytes`, 'too-large', { retryable: false }));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    // Each try writes its own file, renamed into place only when whole: a try abandoned at the
    // deadline can never write into the next try's bytes.
    const part = `${o.dest}.${attempt}.part`;
    const out = createWriteStream(part);
    try {
      await pipeline(msg, tap, out);
    } catch (e) {
      // The file stream opens asynchronously: when the body fails before the open completes, the
      // open would create the .part file after an immediate rm. Wait for the stream to close first
      // (bounded, in case it never opened).
      if (!out.closed)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 2000);
          out.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        });
      rmSync(part, { force: true });
      if (e instanceof HttpError) throw e;
      throw new HttpError(
        `${where}: connection closed after ${bytes}${declared !== undefined ? ` of ${declared}` : ''} bytes (${(e as Error).message})`,
        'network',
        { retryable: true },
      );
    }
    if (!msg.complete || (declared !== undefined && bytes !== declared)) {
      rmSync(part, { force: true });
      throw new HttpError(`${where}: truncated body, ${bytes}${declared !== undefined ? ` of ${declared}` : ''} bytes`, 'network', {
        retryable: true,
      });
    }
    renameSync(part, o.dest);
    return { bytes, sha256: hash.digest('hex') };
  })();
  try {
    return await Promise.race([exchange, deadline]);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (timedOut) throw new HttpError(`${where}: timed out`, 'timeout', { retryable: true });
    const code = (e as NodeJS.ErrnoException)?.code;
    throw new HttpError(`${where}: ${code ?? (e instanceof Error ? e.message : String(e))}`, 'network', { retryable: true });
  } finally {
    if (timer) clearTimeout(timer);
    exchange.catch(() => undefined);
    deadline.catch(() => undefined);
    client.dispose();
  }
}

export async function download(o: DownloadOptions): Promise<Downloaded> {
  let tries = 0;
  const r = await retry(
    async (attempt) => {
      tries = attempt;
      return once(o, attempt);
    },
    {
      attempts: o.attempts,
      baseMs: o.baseDelayMs ?? 1000,
      maxMs: o.maxDelayMs ?? 30_000,
      onRetry: (err, attempt, delay) => o.onRetry?.(err as HttpError, attempt, delay),
    },
  );
  return { ...r, attempts: tries };
}

// ---------------------------------------------------------------- the Io over the runner

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
        await download({
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
      download({
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
