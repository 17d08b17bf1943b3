/**
 * trivy-gate image scans for real: the real Trivy binary scans an image straight from a loopback
 * docker-registry (`--image-src remote --insecure`) against a small vulnerability DB this test
 * builds (Go + bbolt) and serves from that registry as Trivy's OCI DB artifact. The DB download
 * goes through the fall back for real: the first `db-repository` is a loopback front answering
 * 429 TOOMANYREQUESTS, the second the registry — and the gate still decides.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGitHubServices } from '../harness/github.js';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { runAction } from '../harness/runner.js';
import type { TestServer } from '../harness/server.js';
import { cleanupHomes, failingAt, hasJq, hasTrivy, jqCounts, SEVS, trackedHome, trivyPathDir, walkCounts } from './helpers.js';
import { buildDb, hasGo, labDir, pushAlpineImage, pushDb, readJson, startRateLimited } from './lab.js';

const real = hasTrivy && hasRegistry && hasGo;
const describeReal = real ? describe : describe.skip;

let registry: Registry;
let front: TestServer;
let lab: ReturnType<typeof labDir>;
let image = '';

beforeAll(async () => {
  if (!real) return;
  lab = labDir();
  registry = await startRegistry();
  front = await startRateLimited();
  // musl 1.2.3-r4: a fixed CRITICAL and a fixed LOW; busybox: an unfixed HIGH. ssl_client (origin busybox) shares the HIGH.
  const db = buildDb(lab.dir, ['musl:CVE-2099-0001:1.2.4-r0:CRITICAL', 'musl:CVE-2099-0003:1.2.4-r0:LOW', 'busybox:CVE-2099-0002::HIGH', 'zlib:CVE-2099-0004:1.2.14-r0:MEDIUM']);
  await pushDb(registry.url, 'aquasec/trivy-db', db);
  const digest = await pushAlpineImage(registry.url, 'octo-org/shop', 'v1', ['musl:1.2.3-r4', 'busybox:1.35.0-r29', 'ssl_client:1.35.0-r29:busybox', 'zlib:1.2.14-r0'], lab.dir);
  image = `${registry.host}/octo-org/shop@${digest}`;
}, 180_000);

afterAll(async () => {
  cleanupHomes();
  await front?.close();
  await registry?.stop();
  lab?.cleanup();
});

const fast = { HALLMARK_TRIVY_DB_ATTEMPTS: '2', HALLMARK_TRIVY_DB_BACKOFF_MS: '50' };

describeReal('trivy-gate image scan with a DB behind a rate-limited mirror', () => {
  it('falls back past 429 TOOMANYREQUESTS to the next db-repository, scans by digest, gates, and caches the DB for the next job', async () => {
    const gh = await startGitHubServices();
    const home = trackedHome();
    const bin = trivyPathDir(home);
    const limited = `${front.url.replace('http://', '')}/aquasec/trivy-db`;
    const served = `${registry.host}/aquasec/trivy-db`;
    const before = front.requests.length;
    const r = await runAction('trivy-gate', {
      home,
      inputs: { target: image, insecure: 'true', scanners: 'vuln', severity: 'HIGH', 'db-repository': `${limited}\n${served}`, 'java-db-repository': served },
      env: { PATH: `${bin}:/usr/bin:/bin`, ...gh.env, ...fast },
      timeoutMs: 280_000,
    });
    // The rate-limited mirror was really asked, twice (two attempts), and answered 429.
    const hits = front.requests.slice(before).filter((q) => q.path.startsWith('/v2/'));
    expect(hits.length).toBeGreaterThanOrEqual(2);
    const limitedWarnings = r.warnings.filter((w) => w.includes(limited));
    expect(limitedWarnings).toHaveLength(2);
    expect(limitedWarnings[0]).toMatch(/attempt 1\/2\)/);
    expect(r.stdout).toContain(`vulnerability DB downloaded from ${served}`);
    // The scan found what the DB says, and the gate counted it like jq does.
    const jsonPath = join(home.workspace, 'trivy-results.json');
    const doc = readJson<{ ArtifactName: string; Results: { Vulnerabilities?: { VulnerabilityID: string; PkgName: string }[] }[] }>(jsonPath);
    const found = doc.Results.flatMap((x) => x.Vulnerabilities ?? []).map((v) => `${v.PkgName}:${v.VulnerabilityID}`).sort();
    expect(found).toEqual(['busybox:CVE-2099-0002', 'musl:CVE-2099-0001', 'musl:CVE-2099-0003', 'ssl_client:CVE-2099-0002']);
    const exp = hasJq ? jqCounts(jsonPath) : walkCounts(doc);
    expect(exp).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    for (const s of SEVS) expect(r.outputs[s.toLowerCase()]).toBe(String(exp[s]));
    expect(r.outputs.failing).toBe(String(failingAt(exp, 'HIGH')));
    expect([r.code, r.outputs.passed, r.outputs['failure-reason']]).toEqual([1, 'false', 'gate-failed']);
    // Nothing is left for later steps, and no warning about a mutable tag (scanned by digest).
    expect(r.env).toEqual({});
    expect(r.warnings.some((w) => /mutable tag/.test(w))).toBe(false);

    // The DB went to the Actions cache, keyed by date. A later job (Trivy's cache dir gone) restores
    // it and downloads nothing: not even the rate-limited mirror is asked.
    const key = `trivy-gate-db-Linux-${new Date().toISOString().slice(0, 10)}`;
    expect(gh.caches.filter((c) => c.finalized).map((c) => c.key)).toEqual([key]);
    rmSync(join(home.temp, 'trivy-gate'), { recursive: true, force: true });
    const frontBefore = front.requests.length;
    const again = await runAction('trivy-gate', {
      home,
      inputs: { target: image, insecure: 'true', scanners: 'vuln', severity: 'HIGH', 'db-repository': `${limited}\n${served}`, 'java-db-repository': served },
      env: { PATH: `${bin}:/usr/bin:/bin`, ...gh.env, ...fast },
      timeoutMs: 280_000,
    });
    await gh.close();
    expect(again.stdout).toContain('DB restored from the cache');
    expect(again.stdout).toContain('vulnerability DB from the cache is fresh; not downloading');
    expect(again.stdout).not.toContain('vulnerability DB downloaded');
    expect(front.requests.length).toBe(frontBefore);
    expect(existsSync(join(home.temp, 'trivy-gate', 'cache', 'db', 'trivy.db'))).toBe(true);
    for (const s of SEVS) expect(again.outputs[s.toLowerCase()]).toBe(String(exp[s]));
    expect([again.code, again.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
  }, 400_000);

  it('every db-repository rate-limited: db-unavailable after the retries, no scan', async () => {
    const home = trackedHome();
    const bin = trivyPathDir(home);
    const limited = `${front.url.replace('http://', '')}/aquasec/trivy-db`;
    const r = await runAction('trivy-gate', {
      home,
      inputs: { target: image, insecure: 'true', scanners: 'vuln', 'db-repository': limited },
      env: { PATH: `${bin}:/usr/bin:/bin`, ...fast },
      timeoutMs: 180_000,
    });
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'db-unavailable']);
    expect(r.errors).toEqual([expect.stringMatching(/^trivy-gate: the vulnerability DB could not be downloaded from .*\(2 failed attempts/)]);
    expect(r.outputs.passed).toBeUndefined();
  }, 200_000);
});
