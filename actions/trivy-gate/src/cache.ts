/**
 * The vulnerability DB and the misconfiguration checks bundle in the Actions cache, each keyed
 * by date: one download per day and runner OS at most. An older day's copy is restored as a
 * fallback and refreshed when it is stale: the DB by its metadata.json NextUpdate, the checks
 * bundle by Trivy's own rule (trivy v0.74.0 pkg/policy/policy.go NeedsUpdate: DownloadedAt within
 * 24 hours). The Actions cache itself comes in as a CacheStore (main.ts builds it on
 * @actions/cache); the runner OS comes in as a parameter, never from the environment.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from '@hallmark/kit';

export type Cached = 'db' | 'checks';

/** What each cache entry holds, relative to Trivy's cache dir. */
const PATHS: Record<Cached, string[]> = { db: ['db', 'java-db'], checks: ['policy'] };
const LABEL: Record<Cached, string> = { db: 'DB', checks: 'checks bundle' };

/** `os` is the runner OS (RUNNER_OS, or the platform off a runner). */
export function cacheKey(what: Cached, now: Date, os: string): string {
  return `trivy-gate-${what}-${os}-${now.toISOString().slice(0, 10)}`;
}

/** True when the DB in `cacheDir` exists and its NextUpdate is still ahead. */
export function dbFresh(cacheDir: string, now: Date): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(cacheDir, 'db', 'metadata.json'), 'utf8')) as { NextUpdate?: string };
    const next = meta.NextUpdate ? Date.parse(meta.NextUpdate) : NaN;
    return Number.isFinite(next) && next > now.getTime();
  } catch {
    return false;
  }
}

/** True when the checks bundle in `cacheDir` was downloaded within the last 24 hours and its content is there. */
export function checksFresh(cacheDir: string, now: Date): boolean {
  try {
    const meta = JSON.parse(readFileSync(join(cacheDir, 'policy', 'metadata.json'), 'utf8')) as { DownloadedAt?: string };
    const at = meta.DownloadedAt ? Date.parse(meta.DownloadedAt) : NaN;
    return (
      Number.isFinite(at) &&
      at + 24 * 3600_000 > now.getTime() &&
      at <= now.getTime() + 60_000 &&
      existsSync(join(cacheDir, 'policy', 'content'))
    );
  } catch {
    return false;
  }
}

export function fresh(what: Cached, cacheDir: string, now: Date): boolean {
  return what === 'db' ? dbFresh(cacheDir, now) : checksFresh(cacheDir, now);
}

/** The Actions cache as trivy-gate uses it (main.ts: @actions/cache, or undefined where it is not available). */
export interface CacheStore {
  /** The key restored (exact or by prefix), or undefined on a miss. */
  restore(paths: string[], key: string, restoreKeys: string[]): Promise<string | undefined>;
  save(paths: string[], key: string): Promise<void>;
}

export interface CacheDeps {
  /** undefined: no Actions cache here (outside a runner, or the service is not configured). */
  store: CacheStore | undefined;
  /** The runner OS, part of the key. */
  os: string;
  info(message: string): void;
  warn(message: string): void;
}

export async function restore(what: Cached, cacheDir: string, now: Date, deps: CacheDeps): Promise<{ hit: boolean; fresh: boolean }> {
  if (!deps.store) {
    deps.info(`trivy-gate: the Actions cache is not available here; the ${LABEL[what]} will be downloaded`);
    return { hit: false, fresh: fresh(what, cacheDir, now) };
  }
  try {
    const key = cacheKey(what, now, deps.os);
    const hit = await deps.store.restore(
      PATHS[what].map((p) => join(cacheDir, p)),
      key,
      [key.replace(/\d{4}-\d{2}-\d{2}$/, '')],
    );
    if (hit) deps.info(`trivy-gate: ${LABEL[what]} restored from the cache (${oneLine(hit)})`);
    return { hit: Boolean(hit), fresh: fresh(what, cacheDir, now) };
  } catch (e) {
    deps.warn(
      `trivy-gate: cache restore of the ${LABEL[what]} failed, downloading instead: ${oneLine(e instanceof Error ? e.message : String(e))}`,
    );
    return { hit: false, fresh: false };
  }
}

export async function save(what: Cached, cacheDir: string, now: Date, deps: CacheDeps): Promise<void> {
  if (!deps.store) return;
  try {
    await deps.store.save(
      PATHS[what].map((p) => join(cacheDir, p)),
      cacheKey(what, now, deps.os),
    );
  } catch (e) {
    // Another job of the same day saved it first, or the cache is full: not a failure.
    deps.info(`trivy-gate: ${LABEL[what]} not saved to the cache: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
}
