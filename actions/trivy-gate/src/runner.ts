/**
 * The runner side of trivy-gate (imported only by main.ts): the Actions cache as the CacheStore the
 * flow restores and saves the DB and checks bundle with. @actions/cache loads only on the scan path.
 */
import type { CacheStore } from './cache.js';

/** The Actions cache, or undefined where the service is not available (outside a runner, not configured). */
export async function actionsCache(): Promise<CacheStore | undefined> {
  try {
    const cache = await import('@actions/cache');
    if (!cache.isFeatureAvailable()) return undefined;
    return {
      restore: (paths, key, restoreKeys) => cache.restoreCache(paths, key, restoreKeys),
      save: async (paths, key) => {
        await cache.saveCache(paths, key);
      },
    };
  } catch {
    return undefined;
  }
}
