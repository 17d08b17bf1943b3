/**
 * Vitest global setup: before any test file runs, make sure the real test peers exist
 * (`npm run tools`: cosign, syft, trivy, helm, kyverno, terraform/OpenTofu from the Go module
 * proxy, cached outside the checkout). The first run on a fresh machine builds them (minutes);
 * every later run only checks the cache.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './runner.js';

export default function setup(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'tools.mjs')], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 90 * 60_000 });
  if (r.status !== 0) throw new Error(`npm run tools failed (exit ${r.status ?? r.signal}): the tests need the real tools`);
}
