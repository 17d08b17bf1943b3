/**
 * The vulnerability DB in the Actions cache, keyed by date: one download per day and runner OS
 * at most; an older day's DB is restored as a fallback and refreshed when Trivy says it is stale
 * (metadata.json NextUpdate in the past). Loaded with `await import()` only on the scan path.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, oneLine } from '@hallmark/kit';

export function dbKey(now: Date, os = process.env.RUNNER_OS || process.platform): string {
  return `trivy-gate-db-${os}-${now.toISOString().slice(0, 10)}`;
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

async function cacheModule(): Promise<typeof import('@actions/cache') | undefined> {
  try {
    const cache = await import('@actions/cache');
    return cache.isFeatureAvailable() ? cache : undefined;
  } catch {
    return undefined;
  }
}

export async function restoreDb(cacheDir: string, now: Date): Promise<{ hit: boolean; fresh: boolean }> {
  const cache = await cacheModule();
  if (!cache) {
    log.info('trivy-gate: the Actions cache is not available here; the DB will be downloaded');
    return { hit: false, fresh: dbFresh(cacheDir, now) };
  }
  try {
    const key = dbKey(now);
    const hit = await cache.restoreCache([join(cacheDir, 'db'), join(cacheDir, 'java-db')], key, [dbKey(now).replace(/\d{4}-\d{2}-\d{2}$/, '')]);
    if (hit) log.info(`trivy-gate: DB restored from the cache (${oneLine(hit)})`);
    return { hit: Boolean(hit), fresh: dbFresh(cacheDir, now) };
  } catch (e) {
    log.warning(`trivy-gate: cache restore failed, downloading instead: ${oneLine(e instanceof Error ? e.message : String(e))}`);
    return { hit: false, fresh: false };
  }
}

export async function saveDb(cacheDir: string, now: Date): Promise<void> {
  const cache = await cacheModule();
  if (!cache) return;
  try {
    await cache.saveCache([join(cacheDir, 'db'), join(cacheDir, 'java-db')], dbKey(now));
  } catch (e) {
    // Another job of the same day saved it first, or the cache is full: not a failure.
    log.info(`trivy-gate: DB not saved to the cache: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
}
