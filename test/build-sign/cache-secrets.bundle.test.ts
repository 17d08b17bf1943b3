/**
 * build-sign's layer cache, build secrets, target, labels and annotations (issue 18) through the
 * bundle, with the REAL buildah and a real docker-registry on loopback. Each build runs in a FRESH
 * buildah storage root (its own CONTAINERS_STORAGE_CONF), as on a fresh runner: whatever it reuses
 * came from the registry.
 *
 * The base image is made here with buildah from busybox-static (FROM scratch + busybox --install)
 * and pushed to the registry. The application's Containerfile is multi-stage: a `deps` stage whose
 * RUN step prints a marker computed by the shell (`ran-deps-42`, not in the step's text) and writes
 * a nanosecond timestamp, a `build` stage that reads a build secret through
 * `RUN --mount=type=secret`, the `runtime` target, and a `debug` stage after it that `target` leaves out.
 *
 * What buildah prints for cache hits: imagebuildah/stage_executor.go at containers/buildah v1.28.2
 * (`--> Using cache`, `--> Cache pulled from remote`, `--> Pushing cache`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBlob, getManifest, hasRegistry, type Registry, startRegistry } from '../harness/registry.js';
import { runAction, runtimes, visibleLog, type ActionResult, type Runtime, type RunnerHome } from '../harness/runner.js';
import { BUSYBOX, dockerCli, filesUnder, hasBuildah, leaks, makeLab, writeContext, type Lab } from '../harness/build-lab.js';
import { cleanupTracked, trackedDir, trackedHome } from '../harness/tracked.js';

const real = hasRegistry && hasBuildah && !!BUSYBOX;
const describeReal = real ? describe : describe.skip;

const CANARY = `canary-npm-token-${randomBytes(12).toString('hex')}`;
const SHA = '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d';
const EVENT_TIME = '2026-11-30T09:15:00Z';

let registry: Registry;
let lab: Lab;
let base: string;

/** A fresh buildah storage root (graphroot + runroot), as a new runner has. */
function freshStorage(): string {
  const d = trackedDir('hallmark-bs-storage-');
  const conf = join(d, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "vfs"\ngraphroot = "${join(d, 'root')}"\nrunroot = "${join(d, 'run')}"\n`);
  return conf;
}

beforeAll(async () => {
  if (!real) return;
  lab = makeLab();
  registry = await startRegistry();
  // The base image: busybox with its applets installed, built and pushed by the test's own buildah.
  const ctx = trackedDir('hallmark-bs-base-');
  execFileSync('cp', [BUSYBOX as string, join(ctx, 'busybox')]);
  writeFileSync(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n');
  const env = { ...process.env, CONTAINERS_STORAGE_CONF: freshStorage(), BUILDAH_ISOLATION: 'chroot' };
  base = `${registry.host}/hallmark-test/busybox:1`;
  execFileSync('buildah', ['build', '--tag', 'localhost/hallmark-test-base:1', ctx], { env, stdio: 'pipe' });
  execFileSync('buildah', ['push', '--tls-verify=false', 'localhost/hallmark-test-base:1', `docker://${base}`], { env, stdio: 'pipe' });
}, 120_000);

afterAll(async () => {
  cleanupTracked();
  await registry?.stop();
  lab?.cleanup();
});

/** The multi-stage application; `appText` changes only the last stage. */
function writeApp(home: RunnerHome, appText = 'v1'): void {
  const ctx = join(home.workspace, 'app');
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, 'app.txt'), `${appText}\n`);
  writeFileSync(
    join(ctx, 'Containerfile'),
    [
      `FROM ${base} AS deps`,
      'RUN echo "ran-deps-$((6*7))" && date +%s%N > /deps-stamp',
      `FROM ${base} AS build`,
      'COPY --from=deps /deps-stamp /deps-stamp',
      'RUN --mount=type=secret,id=npmrc sha256sum /run/secrets/npmrc | cut -c1-64 > /npmrc.sha256',
      `FROM ${base} AS runtime`,
      'COPY --from=build /deps-stamp /npmrc.sha256 /',
      'COPY app.txt /app.txt',
      'CMD ["cat", "/app.txt"]',
      'FROM runtime AS debug',
      'RUN echo debug > /debug.txt',
      '',
    ].join('\n'),
  );
}

function writeEvent(home: RunnerHome): string {
  const p = join(home.root, 'event.json');
  writeFileSync(
    p,
    JSON.stringify({
      head_commit: { id: SHA, timestamp: '2026-11-30T10:15:00+01:00' },
      repository: {
        name: 'shop',
        description: 'The shop (from the event)',
        html_url: 'https://github.com/octo-org/shop',
        license: { spdx_id: 'Apache-2.0' },
      },
    }),
  );
  return p;
}

async function build(
  home: RunnerHome,
  inputs: Record<string, string>,
  storageConf = freshStorage(),
  runtime?: Runtime,
): Promise<ActionResult> {
  return runAction('build-sign', {
    home,
    runtime,
    inputs: {
      image: `${registry.host}/octo-org/shop`,
      builder: 'buildah',
      context: 'app',
      'registry-insecure': 'true',
      sign: 'none',
      ...inputs,
    },
    env: lab.env({ CONTAINERS_STORAGE_CONF: storageConf, GITHUB_EVENT_PATH: writeEvent(home), GITHUB_SHA: SHA }),
    timeoutMs: 120_000,
  });
}

/** The files of a gzip'd (or plain) layer tar: path → bytes (regular files only; PAX `path` honoured). */
function layerFiles(blob: Buffer): Map<string, Buffer> {
  const tar = blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob;
  const out = new Map<string, Buffer>();
  let off = 0;
  let paxPath: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (a: number, b: number) => h.subarray(a, b).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(str(124, 136).trim() || '0', 8);
    const type = String.fromCharCode(h[156] as number);
    const name = paxPath ?? (str(345, 500) ? `${str(345, 500)}/` : '') + str(0, 100);
    const body = tar.subarray(off + 512, off + 512 + size);
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else {
      if (type === '0' || type === '\0') out.set(name.replace(/^\.?\//, ''), Buffer.from(body));
      paxPath = undefined;
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The image's config and the union of its layers' files, read back from the registry. */
async function pulled(
  repo: string,
  ref: string,
): Promise<{ manifest: Record<string, any>; config: Record<string, any>; files: Map<string, Buffer>; layers: string[] }> {
  const m = await getManifest(registry.url, repo, ref);
  expect(m.status).toBe(200);
  const manifest = m.json as Record<string, any>;
  const config = JSON.parse((await getBlob(registry.url, repo, manifest.config.digest)).toString('utf8')) as Record<string, any>;
  const files = new Map<string, Buffer>();
  const layers: string[] = [];
  for (const l of manifest.layers as { digest: string }[]) {
    layers.push(l.digest);
    for (const [k, v] of layerFiles(await getBlob(registry.url, repo, l.digest))) files.set(k, v);
  }
  return { manifest, config, files, layers };
}

/** Every blob the registry stores (all repositories), decompressed when gzip'd, that contains `needle`. */
function blobsContaining(needle: string): { scanned: number; hits: string[] } {
  const root = join(registry.dir, 'data', 'docker', 'registry', 'v2', 'blobs');
  const hits: string[] = [];
  let scanned = 0;
  for (const f of filesUnder(root)) {
    if (!f.endsWith('/data')) continue;
    const b = readFileSync(f);
    scanned++;
    let text = b;
    if (b[0] === 0x1f && b[1] === 0x8b) text = gunzipSync(b);
    if (text.includes(needle) || b.includes(needle)) hits.push(f);
  }
  return { scanned, hits };
}

const metadataOf = (r: ActionResult) =>
  JSON.parse(r.outputs.metadata ?? '{}') as {
    labels: Record<string, string>;
    annotations: Record<string, Record<string, string>>;
    target?: string;
    secrets: string[];
    cache: { from: string[]; to: string[]; stats?: { steps: number; cached: number; pulled: number; pushed: number } };
  };

describeReal('build-sign with real buildah: registry layer cache, build secret, target, OCI labels and annotations', () => {
  let first: ActionResult;
  let firstImage: Awaited<ReturnType<typeof pulled>>;

  it('cold build: the RUN step runs, the secret is readable in RUN --mount=type=secret, target stops at runtime, labels and annotations are in the pushed config and manifest', async () => {
    const home = trackedHome();
    writeApp(home);
    first = await build(home, {
      tags: 'v1',
      cache: 'true',
      secrets: `npmrc=${CANARY}`,
      target: 'runtime',
      labels: 'org.opencontainers.image.title=shop-override\ncom.example.team=payments',
      annotations: 'org.opencontainers.image.description=Shop API',
    });
    expect(first.errors).toEqual([]);
    expect(first.code).toBe(0);
    const log = visibleLog(first);
    expect(log).toContain('ran-deps-42');
    const repo = 'octo-org/shop';
    firstImage = await pulled(repo, 'v1');
    // The secret reached the RUN step: the image holds its hash, computed inside the build.
    expect(firstImage.files.get('npmrc.sha256')?.toString('utf8').trim()).toBe(createHash('sha256').update(CANARY).digest('hex'));
    // target: runtime — the debug stage after it was not built.
    expect(firstImage.files.has('app.txt')).toBe(true);
    expect(firstImage.files.has('debug.txt')).toBe(false);
    // Labels: the OCI defaults from the run and the event, the caller's values winning.
    const labels = firstImage.config.config.Labels as Record<string, string>;
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': 'shop-override',
      'com.example.team': 'payments',
      'org.opencontainers.image.source': 'https://github.com/octo-org/shop',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': 'v1',
      'org.opencontainers.image.created': EVENT_TIME,
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.description': 'The shop (from the event)',
    });
    // Annotations on the manifest: the same defaults, the caller's description winning.
    expect(firstImage.manifest.annotations).toMatchObject({
      'org.opencontainers.image.source': 'https://github.com/octo-org/shop',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.created': EVENT_TIME,
      'org.opencontainers.image.description': 'Shop API',
      'org.opencontainers.image.title': 'shop',
    });
    // The metadata output says the same, and what the cache did.
    const meta = metadataOf(first);
    expect(Object.keys(meta.labels).length).toBeGreaterThanOrEqual(8);
    for (const [k, v] of Object.entries(meta.labels)) expect(labels[k], k).toBe(v);
    expect(meta.annotations.manifest?.['org.opencontainers.image.description']).toBe('Shop API');
    expect(meta.target).toBe('runtime');
    expect(meta.secrets).toEqual(['npmrc']);
    expect(meta.cache.from).toEqual([`${registry.host}/octo-org/shop-buildcache`]);
    expect(meta.cache.stats?.pushed).toBeGreaterThan(0);
    expect(meta.cache.stats?.pulled).toBe(0);
    // The summary says what the cache did and names the secret by id only.
    expect(first.summary).toContain(
      `0 of ${meta.cache.stats?.steps} step(s) from the cache (0 pulled, ${meta.cache.stats?.pushed} pushed)`,
    );
    expect(first.summary).toMatch(/Build secrets\*\* \| `npmrc`/);
    // The cache repository holds one tag per pushed step.
    const cacheTags = ((await (await fetch(`${registry.url}/v2/octo-org/shop-buildcache/tags/list`)).json()) as { tags: string[] }).tags;
    expect(cacheTags.length).toBe(meta.cache.stats?.pushed);
  }, 180_000);

  it('the secret canary is in no blob of the registry (layers decompressed), no log, output or summary, and no file left under RUNNER_TEMP', () => {
    expect(first?.code).toBe(0);
    const scan = blobsContaining(CANARY);
    expect(scan.scanned).toBeGreaterThan(5);
    expect(scan.hits).toEqual([]);
    // The scan can find it: the hash the build wrote is in some layer.
    expect(blobsContaining(createHash('sha256').update(CANARY).digest('hex')).hits.length).toBeGreaterThan(0);
    expect(visibleLog(first)).not.toContain(CANARY);
    expect(first.stderr).not.toContain(CANARY);
    expect(first.summary).not.toContain(CANARY);
    expect(JSON.stringify(first.outputs)).not.toContain(CANARY);
    expect(leaks([first.home.temp], [CANARY])).toEqual([]);
  });

  it('warm build in a fresh storage root with the registry cache: the RUN step does not run again, its layer comes from the cache', async () => {
    expect(first?.code).toBe(0);
    const home = trackedHome();
    writeApp(home);
    const r = await build(home, {
      tags: 'v1-warm',
      cache: 'true',
      secrets: `npmrc=${CANARY}`,
      target: 'runtime',
      labels: 'org.opencontainers.image.title=shop-override\ncom.example.team=payments',
      annotations: 'org.opencontainers.image.description=Shop API',
    });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    const log = visibleLog(r);
    expect(log).not.toContain('ran-deps-42');
    expect(log).toContain('Cache pulled from remote');
    const meta = metadataOf(r);
    expect(meta.cache.stats?.pulled).toBeGreaterThan(0);
    expect(meta.cache.stats?.cached).toBe(meta.cache.stats?.steps);
    const warm = await pulled('octo-org/shop', 'v1-warm');
    // The nanosecond stamp the RUN step wrote is the first build's: the step was not re-executed.
    expect(warm.files.get('deps-stamp')?.equals(firstImage.files.get('deps-stamp') as Buffer)).toBe(true);
    expect(warm.layers).toEqual(firstImage.layers);
  }, 180_000);

  it('without the cache, a fresh storage root runs the RUN step again (the marker shows it, the stamp differs)', async () => {
    expect(first?.code).toBe(0);
    const home = trackedHome();
    writeApp(home);
    const r = await build(home, { tags: 'v1-nocache', secrets: `npmrc=${CANARY}`, target: 'runtime' });
    expect(r.code).toBe(0);
    expect(visibleLog(r)).toContain('ran-deps-42');
    const cold = await pulled('octo-org/shop', 'v1-nocache');
    expect(cold.files.get('deps-stamp')?.equals(firstImage.files.get('deps-stamp') as Buffer)).toBe(false);
    expect(metadataOf(r).cache.stats).toBeUndefined();
  }, 180_000);
});

describeReal('build-sign secret-files with real buildah', () => {
  it('mounts a workspace file as a build secret, leaves the caller’s file in place, and its bytes land in no blob', async () => {
    const home = trackedHome();
    const ctx = join(home.workspace, 'sf');
    mkdirSync(ctx, { recursive: true });
    mkdirSync(join(home.workspace, '.ci'), { recursive: true });
    const netrc = `machine example.com login bot password ${randomBytes(10).toString('hex')}-netrc-canary\n`;
    writeFileSync(join(home.workspace, '.ci', 'netrc'), netrc);
    writeFileSync(
      join(ctx, 'Containerfile'),
      `FROM ${base}\nRUN --mount=type=secret,id=netrc sha256sum /run/secrets/netrc | cut -c1-64 > /netrc.sha256\n`,
    );
    const r = await build(home, { context: 'sf', tags: 'sf1', 'secret-files': 'netrc=.ci/netrc' });
    expect(r.errors, r.stdout + r.stderr).toEqual([]);
    const img = await pulled('octo-org/shop', 'sf1');
    expect(img.files.get('netrc.sha256')?.toString('utf8').trim()).toBe(createHash('sha256').update(netrc).digest('hex'));
    expect(readFileSync(join(home.workspace, '.ci', 'netrc'), 'utf8')).toBe(netrc);
    expect(blobsContaining(netrc.trim().split(' ').pop() as string).hits).toEqual([]);
    expect(metadataOf(r).secrets).toEqual(['netrc']);
  }, 120_000);
});

describeReal.each(runtimes())('build-sign refuses build options before any build ($name)', (rt) => {
  async function refused(inputs: Record<string, string>, input: string): Promise<void> {
    const home = trackedHome();
    writeApp(home);
    const storage = freshStorage();
    const r = await build(home, { tags: `refused-${randomBytes(3).toString('hex')}`, ...inputs }, storage, rt);
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`input '${input}'`);
    // Nothing was built: the fresh storage root was never created.
    expect(existsSync(join(storage, '..', 'root'))).toBe(false);
    expect(visibleLog(r)).not.toContain('ran-deps-42');
  }
  it('a secret file that does not exist', async () => {
    await refused({ 'secret-files': 'npmrc=.ci/missing-npmrc' }, 'secret-files');
  }, 60_000);
  it('a type=gha cache with buildah', async () => {
    await refused({ 'cache-from': 'type=gha' }, 'cache-from');
  }, 60_000);
  it('a buildah cache ref with a tag (buildah tags each layer itself)', async () => {
    await refused({ 'cache-to': `type=registry,ref=${registry.host}/octo-org/shop:buildcache` }, 'cache-to');
  }, 60_000);
  it('an index: annotation on a single-platform build, and a malformed label', async () => {
    await refused({ annotations: 'index:org.opencontainers.image.description=x' }, 'annotations');
    await refused({ labels: 'not a label' }, 'labels');
  }, 60_000);
  it('a secrets line without an id, without echoing the value', async () => {
    const home = trackedHome();
    writeApp(home);
    const r = await build(home, { secrets: `=${CANARY}` }, freshStorage(), rt);
    expect(r.code).toBe(1);
    expect(r.errors[0]).toContain("input 'secrets'");
    expect(visibleLog(r)).not.toContain(CANARY);
  }, 60_000);
});

describeReal('build-sign multi-platform annotations with buildah 1.28 (no `manifest annotate --index` before 1.35)', () => {
  it('puts the OCI annotations on every platform manifest, warns that the index has none, and refuses an index-only annotation', async () => {
    const home = trackedHome();
    writeContext(home.workspace, 'multi');
    const r = await build(home, {
      context: 'multi',
      tags: 'multi1',
      platforms: 'linux/amd64,linux/arm64',
      annotations: 'org.opencontainers.image.description=Multi',
    });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.warnings.join('\n')).toMatch(/cannot annotate the index itself \(needs 1\.35\)/);
    const idx = await getManifest(registry.url, 'octo-org/shop', 'multi1');
    const manifests = (idx.json as { manifests: { digest: string }[] }).manifests;
    expect(manifests).toHaveLength(2);
    for (const m of manifests) {
      const pm = (await getManifest(registry.url, 'octo-org/shop', m.digest)).json as { annotations?: Record<string, string> };
      expect(pm.annotations).toMatchObject({ 'org.opencontainers.image.description': 'Multi', 'org.opencontainers.image.revision': SHA });
    }
    expect(metadataOf(r).annotations.index).toBeUndefined();
    expect(metadataOf(r).annotations.manifest?.['org.opencontainers.image.description']).toBe('Multi');

    const home2 = trackedHome();
    writeContext(home2.workspace, 'multi');
    const refused = await build(home2, {
      context: 'multi',
      tags: 'multi2',
      platforms: 'linux/amd64,linux/arm64',
      annotations: 'index:org.opencontainers.image.description=Multi',
    });
    expect(refused.code).toBe(1);
    expect(refused.outputs['failure-reason']).toBe('invalid-input');
    expect(refused.errors[0]).toMatch(/input 'annotations'.*1\.35/);
    expect((await getManifest(registry.url, 'octo-org/shop', 'multi2')).status).toBe(404);
  }, 180_000);
});

describe.skipIf(!real || !dockerCli)(
  'build-sign with the buildx builder (real docker CLI; buildx plugin stand-in building with buildah — BuildKit cannot run here)',
  () => {
    it('hands buildx the cache specs as written, the secret as a 0600 file, target, labels and typed annotations; the secret works and never lands in a layer', async () => {
      const home = trackedHome();
      writeApp(home);
      mkdirSync(join(home.root, '.docker', 'cli-plugins'), { recursive: true });
      symlinkSync(join(process.cwd(), 'test/stand-ins/docker-buildx'), join(home.root, '.docker', 'cli-plugins', 'docker-buildx'));
      const buildxLog = join(home.root, 'buildx-calls.jsonl');
      const r = await runAction('build-sign', {
        home,
        inputs: {
          image: `${registry.host}/octo-org/shop`,
          builder: 'buildx',
          context: 'app',
          'registry-insecure': 'true',
          sign: 'none',
          tags: 'bx1',
          cache: 'true',
          'cache-from': 'type=gha,scope=shop',
          secrets: `npmrc=${CANARY}`,
          target: 'runtime',
          labels: 'com.example.team=payments',
        },
        env: lab.env({
          CONTAINERS_STORAGE_CONF: freshStorage(),
          GITHUB_EVENT_PATH: writeEvent(home),
          GITHUB_SHA: SHA,
          DOCKER_BUILDX_STANDIN_LOG: buildxLog,
        }),
        timeoutMs: 120_000,
      });
      expect(r.errors, r.stdout + r.stderr).toEqual([]);
      const argv = JSON.parse(readFileSync(buildxLog, 'utf8').trim().split('\n').pop() as string) as string[];
      const values = (flag: string) => argv.flatMap((a, i) => (argv[i - 1] === flag ? [a] : []));
      // cache-from was given (type=gha, passed as written); cache-to came from cache: true.
      expect(values('--cache-from')).toEqual(['type=gha,scope=shop']);
      expect(values('--cache-to')).toEqual([`type=registry,ref=${registry.host}/octo-org/shop:buildcache,mode=max`]);
      expect(values('--target')).toEqual(['runtime']);
      expect(values('--secret')).toHaveLength(1);
      expect(values('--secret')[0]).toMatch(new RegExp(`^id=npmrc,src=${home.temp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
      expect(argv.join(' ')).not.toContain(CANARY);
      expect(values('--annotation')).toContain(`org.opencontainers.image.revision=${SHA}`);
      expect(values('--label')).toContain('com.example.team=payments');
      const img = await pulled('octo-org/shop', 'bx1');
      expect(img.files.get('npmrc.sha256')?.toString('utf8').trim()).toBe(createHash('sha256').update(CANARY).digest('hex'));
      expect(img.files.has('debug.txt')).toBe(false);
      expect((img.config.config.Labels as Record<string, string>)['com.example.team']).toBe('payments');
      expect(img.manifest.annotations?.['org.opencontainers.image.source']).toBe('https://github.com/octo-org/shop');
      expect(blobsContaining(CANARY).hits).toEqual([]);
      expect(visibleLog(r)).not.toContain(CANARY);
      expect(leaks([home.temp], [CANARY])).toEqual([]);
      expect(metadataOf(r).cache.stats).toBeUndefined();
    }, 180_000);
  },
);
