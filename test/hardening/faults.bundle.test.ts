/**
 * Faults (issue #9): downloads cut mid-body, connection resets, slow-loris responses past the
 * deadline, 5xx streaks, rate limits (403/429 with Retry-After), artifact and API service
 * failures. Each scenario asserts that the action retried within bounds (request counts seen by
 * the loopback server) or failed with the right failure-reason, and that nothing half-downloaded
 * was cached or put on PATH.
 */
import { it } from 'vitest';
import { forEachAction } from './scenarios/index.js';

await forEachAction('faults', (h) => {
  for (const f of h.faults) it(f.name, () => f.run(), 120_000);
});
