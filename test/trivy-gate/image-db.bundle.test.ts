/**
 * trivy-gate image, SBOM and filesystem (vulnerability) scans with the real Trivy 0.74 (toolPath('trivy')) and the real syft
 * (toolPath('syft')), against parts that all run here:
 * - registry A: a real docker-registry with htpasswd auth, holding an Alpine 3.17 image buildah built
 *   FROM scratch (an apk database, /etc/alpine-release);
 * - registry B: a second docker-registry holding a small vulnerability DB (built by trivydb/main.go)
 *   as Trivy's OCI DB artifact, behind a recording proxy that answers 429 TOOMANYREQUESTS for
 *   repositories under `limited/`.
 * The DB says which CVEs exist, so the findings are known in advance; counts are computed by jq
 * from the JSON Trivy wrote. The registry login reaches registry A only: Trivy reads it from the
 * private docker config trivy-gate writes for A's host, and the proxy in front of B records every
 * Authorization header it is sent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesUnder } from '../harness/files.js';
import { startGitHubServices } from '../harness/github.js';
import { startRegistry, type Registry } from '../harness/registry.js';
import { runAction } from '../harness/runner.js';
import type { TestServer } from '../harness/server.js';
import { toolPath } from '../harness/tools.js';
import { cleanupHomes, failingAt, hasJq, jqCounts, SEVS, trackedHome, trivyPath, validateSarif, walkCounts } from './helpers.js';
import { buildAlpineImage, buildDb, credentialsSeen, hostOf, htpasswd, labDir, pushDb, readJson, startMirrorProxy } from './lab.js';

const USER = 'octo-ci';
// Made at run time: a value that must never reach registry B, a log line or a file.
const PASSWORD = `pw-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;

let imageRegistry: Registry;
let dbRegistry: Registry;
let proxy: TestServer;
let lab: ReturnType<typeof labDir>;
let image = '';
let PATH = '';

// musl 1.2.3-r4: a fixed CRITICAL and a fixed LOW; busybox: an unfixed HIGH, shared by ssl_client
// (origin busybox); zlib 1.2.14-r0 is already at the fixed version of its MEDIUM.
// For the filesystem scan: lodash below 4.17.21 has a HIGH (npm, GitHub Security Advisory).
const ADVISORIES = [
  'musl:CVE-2099-0001:1.2.4-r0:CRITICAL',
  'musl:CVE-2099-0003:1.2.4-r0:LOW',
  'busybox:CVE-2099-0002::HIGH',
  'zlib:CVE-2099-0004:1.2.14-r0:MEDIUM',
  'npm/lodash:CVE-2099-0101:4.17.21:HIGH',
];
const PACKAGES = ['musl:1.2.3-r4', 'busybox:1.35.0-r29', 'ssl_client:1.35.0-r29:busybox', 'zlib:1.2.14-r0'];
const EXPECTED = ['busybox:CVE-2099-0002', 'musl:CVE-2099-0001', 'musl:CVE-2099-0003', 'ssl_client:CVE-2099-0002'];
// From a third-party SBOM Trivy takes each package as its own source package: syft writes the apk
// origin as the purl qualifier `upstream=busybox`, which Trivy does not read (trivy v0.74.0
// pkg/sbom/io/decode.go fillSrcPkg: "Fill source package information for components in
// third-party SBOMs": SrcName = Name). So ssl_client is not matched to busybox's advisory.
const EXPECTED_FROM_SYFT = EXPECTED.filter((v) => !v.startsWith('ssl_client:'));

beforeAll(async () => {
  PATH = trivyPath();
  lab = labDir();
  imageRegistry = await startRegistry({ htpasswd: await htpasswd(lab.dir, USER, PASSWORD) });
  dbRegistry = await startRegistry();
  proxy = await startMirrorProxy(dbRegistry.url);
  await pushDb(dbRegistry.url, 'aquasec/trivy-db', buildDb(lab.dir, ADVISORIES));
  const digest = buildAlpineImage(lab.dir, `${imageRegistry.host}/octo-org/shop:v1`, PACKAGES, `${USER}:${PASSWORD}`);
  image = `${imageRegistry.host}/octo-org/shop@${digest}`;
}, 240_000);

afterAll(async () => {
  cleanupHomes();
  await proxy?.close();
  await imageRegistry?.stop();
  await dbRegistry?.stop();
  lab?.cleanup();
});

const fast = { HALLMARK_TRIVY_DB_ATTEMPTS: '2', HALLMARK_TRIVY_DB_BACKOFF_MS: '50' };
type Doc = {
  ArtifactName: string;
  ArtifactType: string;
  Results: { Target: string; Class: string; Vulnerabilities?: { VulnerabilityID: string; PkgName: string }[] }[];
};
const found = (doc: Doc) =>
  doc.Results.flatMap((x) => x.Vulnerabilities ?? [])
    .map((v) => `${v.PkgName}:${v.VulnerabilityID}`)
    .sort();

function expectCleanSarif(file: string): void {
  const v = validateSarif(file);
  expect(v.errors, `SARIF Multitool errors on ${file}`).toEqual([]);
  expect(v.warnings, `SARIF Multitool warnings on ${file}`).toEqual([]);
}

describe('trivy-gate image scan: DB behind a rate-limited mirror, image behind a login', () => {
  it('falls back past 429 to the next db-repository, logs in to the image registry only, gates, writes valid SARIF, and caches the DB', async () => {
    const gh = await startGitHubServices();
    const home = trackedHome();
    const limited = `${hostOf(proxy)}/limited/trivy-db`;
    const served = `${hostOf(proxy)}/aquasec/trivy-db`;
    const inputs = {
      target: image,
      insecure: 'true',
      scanners: 'vuln',
      severity: 'HIGH',
      'db-repository': `${limited}\n${served}`,
      'java-db-repository': `${hostOf(proxy)}/aquasec/trivy-java-db`,
      'registry-username': USER,
      'registry-password': PASSWORD,
    };
    // The old way of passing a login: Trivy would offer these to every registry, the DB mirror included.
    const broad = { TRIVY_USERNAME: USER, TRIVY_PASSWORD: PASSWORD };
    const before = proxy.requests.length;
    const r = await runAction('trivy-gate', { home, inputs, env: { PATH, ...gh.env, ...fast, ...broad }, timeoutMs: 280_000 });

    // The rate-limited mirror was really asked, twice, and answered 429; the next one served.
    const hits = proxy.requests.slice(before).filter((q) => q.path.startsWith('/v2/limited/'));
    expect(hits.length).toBeGreaterThanOrEqual(2);
    const limitedWarnings = r.warnings.filter((w) => w.includes(limited));
    expect(limitedWarnings).toHaveLength(2);
    expect(limitedWarnings[0]).toMatch(/attempt 1\/2\)/);
    expect(r.stdout).toContain(`vulnerability DB downloaded from ${served}`);
    expect(r.warnings.some((w) => /TRIVY_USERNAME, TRIVY_PASSWORD are not passed to trivy/.test(w))).toBe(true);

    // The login reached registry A (it answers 401 without one, see the next test) and never the
    // DB mirror: Trivy fetched the mirror's token anonymously (the mirror challenges for a Bearer
    // token, where a client with credentials for the host would send them as Basic auth) and sent
    // nothing else, neither the password nor the user name.
    expect(proxy.requests.slice(before).some((q) => q.path === '/token')).toBe(true);
    expect(credentialsSeen(proxy, before)).toEqual([]);
    expect(proxy.requests.slice(before).some((q) => JSON.stringify(q.headers).includes(PASSWORD))).toBe(false);
    // The private docker config is gone; the password is in no file, log line or output.
    expect(existsSync(join(home.temp, 'trivy-gate', 'docker'))).toBe(false);
    const lines = r.everything.split('\n').filter((l) => l.includes(PASSWORD));
    expect(lines).toEqual([`::add-mask::${PASSWORD}`]);
    expect(filesUnder(home.root).filter((f) => readFileSync(f).includes(PASSWORD))).toEqual([]);

    // The scan found what the DB says, and the gate counted it like jq does.
    const jsonPath = join(home.workspace, 'trivy-results.json');
    const doc = readJson<Doc>(jsonPath);
    expect(found(doc)).toEqual(EXPECTED);
    const exp = hasJq ? jqCounts(jsonPath) : walkCounts(doc);
    expect(exp).toEqual({ CRITICAL: 1, HIGH: 2, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
    expect(r.outputs['failing-count']).toBe(String(failingAt(exp, 'HIGH')));
    expect([r.code, r.outputs.passed, r.outputs['failure-reason']]).toEqual([1, 'false', 'gate-failed']);
    expect(r.env).toEqual({});
    expect(r.warnings.some((w) => /mutable tag/.test(w))).toBe(false);

    // SARIF: the OS-package results sit at the image's repository path, as Trivy's own ToPathUri
    // (pkg/report/sarif.go) writes them — not at `127.0.0.1:<port>/…@sha256:…`, which reads as an
    // absolute URI — and the SARIF Multitool finds nothing to say.
    const sarif = readJson<{
      runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId: string } } }[] }[] }[];
    }>(r.outputs.sarif as string);
    const uris = new Set(sarif.runs[0]?.results.map((x) => x.locations[0]?.physicalLocation.artifactLocation.uri));
    expect([...uris]).toEqual(['octo-org/shop']);
    expect(sarif.runs[0]?.results).toHaveLength(4);
    expectCleanSarif(r.outputs.sarif as string);

    // The DB went to the Actions cache, keyed by date. A later job (Trivy's cache dir gone) restores
    // it and downloads nothing: no mirror is asked.
    const key = `trivy-gate-db-Linux-${new Date().toISOString().slice(0, 10)}`;
    expect(gh.caches.filter((c) => c.finalized).map((c) => c.key)).toEqual([key]);
    rmSync(join(home.temp, 'trivy-gate'), { recursive: true, force: true });
    const quiet = proxy.requests.length;
    const again = await runAction('trivy-gate', { home, inputs, env: { PATH, ...gh.env, ...fast }, timeoutMs: 280_000 });
    await gh.close();
    expect(again.stdout).toContain('DB restored from the cache');
    expect(again.stdout).toContain('vulnerability DB from the cache is fresh; not downloading');
    expect(again.stdout).not.toContain('vulnerability DB downloaded');
    expect(proxy.requests.length).toBe(quiet);
    for (const s of SEVS) expect(again.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
    expect([again.code, again.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
  }, 600_000);

  it('without the login the image registry refuses Trivy: scan-failed, nothing gated', async () => {
    const home = trackedHome();
    const r = await runAction('trivy-gate', {
      home,
      inputs: {
        target: image,
        insecure: 'true',
        scanners: 'vuln',
        'db-repository': `${hostOf(proxy)}/aquasec/trivy-db`,
        'java-db-repository': `${hostOf(proxy)}/aquasec/trivy-java-db`,
      },
      env: { PATH, ...fast },
      timeoutMs: 200_000,
    });
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'scan-failed']);
    expect(r.errors.join('\n')).toMatch(/UNAUTHORIZED|401|authentication required/i);
    expect(r.outputs.passed).toBeUndefined();
  }, 200_000);

  it('every db-repository rate-limited: db-unavailable after the retries, no scan', async () => {
    const home = trackedHome();
    const limited = `${hostOf(proxy)}/limited/trivy-db`;
    const r = await runAction('trivy-gate', {
      home,
      inputs: {
        target: image,
        insecure: 'true',
        scanners: 'vuln',
        'db-repository': limited,
        'registry-username': USER,
        'registry-password': PASSWORD,
      },
      env: { PATH, ...fast },
      timeoutMs: 200_000,
    });
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'db-unavailable']);
    expect(r.errors).toEqual([
      expect.stringMatching(/^trivy-gate: the vulnerability DB could not be downloaded from .*\(2 failed attempts/),
    ]);
    expect(r.outputs.passed).toBeUndefined();
    expect(existsSync(join(home.workspace, 'trivy-results.json'))).toBe(false);
  }, 200_000);
});

describe('trivy-gate SBOM scan of the SBOM the real syft made of the same image', () => {
  it("finds the image's vulnerabilities from the CycloneDX SBOM, except what needs the apk origin; counts equal jq; SARIF valid", async () => {
    const home = trackedHome();
    // syft reads the image from registry A with its own docker config (syft's registry options:
    // SYFT_REGISTRY_INSECURE_USE_HTTP; credentials from DOCKER_CONFIG).
    const docker = join(lab.dir, 'syft-docker');
    mkdirSync(docker, { recursive: true });
    writeFileSync(
      join(docker, 'config.json'),
      JSON.stringify({ auths: { [imageRegistry.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
    );
    const bom = join(home.workspace, 'sbom.cdx.json');
    execFileSync(toolPath('syft'), ['scan', `registry:${image}`, '-o', `cyclonedx-json=${bom}`, '-q'], {
      env: {
        PATH: '/usr/bin:/bin',
        HOME: lab.dir,
        DOCKER_CONFIG: docker,
        SYFT_REGISTRY_INSECURE_USE_HTTP: 'true',
        SYFT_CHECK_FOR_APP_UPDATE: 'false',
      },
      stdio: 'pipe',
      timeout: 120_000,
    });
    const cdx = readJson<{ bomFormat: string; components?: { type: string; name: string; purl?: string }[] }>(bom);
    expect(cdx.bomFormat).toBe('CycloneDX');
    // syft catalogued the four apk packages from the image's apk database.
    expect(
      (cdx.components ?? [])
        .filter((c) => c.purl?.startsWith('pkg:apk/'))
        .map((c) => c.name)
        .sort(),
    ).toEqual(['busybox', 'musl', 'ssl_client', 'zlib']);

    const r = await runAction('trivy-gate', {
      home,
      inputs: {
        'scan-type': 'sbom',
        target: 'sbom.cdx.json',
        severity: 'CRITICAL',
        'db-repository': `${hostOf(proxy)}/aquasec/trivy-db`,
        insecure: 'true',
      },
      env: { PATH, ...fast },
      timeoutMs: 200_000,
    });
    const jsonPath = join(home.workspace, 'trivy-results.json');
    const doc = readJson<Doc>(jsonPath);
    expect(found(doc)).toEqual(EXPECTED_FROM_SYFT);
    // syft kept the origin: it is Trivy that does not use it.
    expect((cdx.components ?? []).find((c) => c.name === 'ssl_client')?.purl).toContain('upstream=busybox');
    const exp = hasJq ? jqCounts(jsonPath) : walkCounts(doc);
    expect(exp).toEqual({ CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 1, UNKNOWN: 0 });
    for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
    expect(r.outputs['failing-count']).toBe(String(failingAt(exp, 'CRITICAL')));
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
    expectCleanSarif(r.outputs.sarif as string);
  }, 300_000);
});

describe('trivy-gate filesystem scan of a Node.js project', () => {
  it('finds the lodash advisory in package-lock.json and nothing for left-pad (no advisory); counts equal jq; SARIF from the repository root, valid', async () => {
    const home = trackedHome();
    const app = join(home.workspace, 'services', 'shop');
    mkdirSync(app, { recursive: true });
    const dep = (name: string, version: string) => ({ version, resolved: `https://registry.npmjs.org/${name}/-/${name}-${version}.tgz` });
    writeFileSync(
      join(app, 'package-lock.json'),
      JSON.stringify({
        name: 'shop',
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': { name: 'shop', version: '1.0.0', dependencies: { lodash: '4.17.20', 'left-pad': '1.3.0' } },
          'node_modules/lodash': dep('lodash', '4.17.20'),
          'node_modules/left-pad': dep('left-pad', '1.3.0'),
        },
      }),
    );
    const r = await runAction('trivy-gate', {
      home,
      inputs: {
        'scan-type': 'fs',
        target: 'services/shop',
        scanners: 'vuln,secret',
        severity: 'HIGH',
        'db-repository': `${hostOf(proxy)}/aquasec/trivy-db`,
        'java-db-repository': `${hostOf(proxy)}/aquasec/trivy-java-db`,
        insecure: 'true',
        cache: 'false',
      },
      env: { PATH, ...fast },
      timeoutMs: 200_000,
    });
    const jsonPath = join(home.workspace, 'trivy-results.json');
    const doc = readJson<Doc>(jsonPath);
    expect(found(doc)).toEqual(['lodash:CVE-2099-0101']);
    const exp = hasJq ? jqCounts(jsonPath) : walkCounts(doc);
    expect(exp).toEqual({ CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0 });
    for (const s of SEVS) expect(r.outputs[`${s.toLowerCase()}-count`]).toBe(String(exp[s]));
    expect([r.code, r.outputs['failure-reason']]).toEqual([1, 'gate-failed']);
    expect(r.errors[0]).toMatch(/HIGH CVE-2099-0101 in lodash 4\.17\.20 \(fixed: 4\.17\.21\)/);
    const sarif = readJson<{ runs: { results: { locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] }>(
      r.outputs.sarif as string,
    );
    expect(sarif.runs[0]?.results.map((x) => x.locations[0]?.physicalLocation.artifactLocation.uri)).toEqual([
      'services/shop/package-lock.json',
    ]);
    expectCleanSarif(r.outputs.sarif as string);
  }, 200_000);
});
