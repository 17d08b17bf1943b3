/**
 * Unit tests of build-sign's build options (issue 18), driven without a runner: parsing of
 * cache-from/cache-to (buildx syntax), secrets and secret-files, labels and annotations; what each
 * builder is refused; the generated OCI labels/annotations and who wins; the flags each builder
 * gets (checked against the real CLIs' flag lists: `buildah build --help` of buildah 1.28.2 here,
 * docker/buildx docs for the other two); buildah's cache report; and the flow's handling of secret
 * files (0600 under RUNNER_TEMP, gone after the build; a missing secret file stops the step before
 * any build).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import {
  checkBuildOptions,
  defaultCacheRef,
  formatCacheSpec,
  parseAnnotations,
  parseBuildSecrets,
  parseCacheList,
  parseLabels,
  parseSecretFiles,
  type RawBuildOptions,
} from '../../actions/build-sign/src/build-options.js';
import {
  annotationsByLevel,
  buildahCacheStats,
  eventFacts,
  mergeMetadata,
  ociDefaults,
  ociVersion,
} from '../../actions/build-sign/src/metadata.js';
import { checkInputs, type RawInputs } from '../../actions/build-sign/src/inputs.js';
import { buildOptionFlags, buildxAnnotation, planBuild } from '../../actions/build-sign/src/builders.js';
import { buildAndSign, type Deps, type ToolResult } from '../../actions/build-sign/src/flow.js';
import { cleanupTracked, trackedDir } from '../harness/tracked.js';
import { quietDeps } from './raw-inputs.js';

afterAll(() => cleanupTracked());

const SHA = '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d';
const IMAGE = { registry: 'ghcr.io', repository: 'octo-org/shop' };

function rawOpts(over: Partial<RawBuildOptions> = {}): RawBuildOptions {
  return { cacheFrom: '', cacheTo: '', cache: false, secretIds: [], secretFiles: '', target: '', labels: '', annotations: '', ...over };
}
function raw(over: Partial<RawInputs> = {}, build: Partial<RawBuildOptions> = {}): RawInputs {
  return {
    image: 'ghcr.io/octo-org/shop',
    tags: [],
    tagsGiven: false,
    context: '.',
    file: '',
    platforms: [],
    buildArgs: '',
    builder: 'buildah',
    push: true,
    digest: '',
    sign: 'none',
    cosignKeyGiven: false,
    registry: '',
    registryUsername: '',
    registryPasswordGiven: false,
    registryInsecure: false,
    identity: '',
    issuer: 'https://token.actions.githubusercontent.com',
    policy: 'hallmark-policy.yaml',
    allowLatest: false,
    tlog: true,
    signingConfig: '',
    trustedRoot: '',
    policyKind: 'cluster-policy',
    buildOptions: rawOpts(build),
    ...over,
  };
}
const check = (builder: 'buildx' | 'docker' | 'buildah', over: Partial<RawBuildOptions>, platforms: string[] = []) =>
  checkBuildOptions(rawOpts(over), { builder, image: IMAGE, platforms, workspace: '/ws' });
const inputOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InputError) return e.input;
    throw e;
  }
  throw new Error('no InputError');
};

describe('parsing', () => {
  it('cache lists in buildx syntax: CSV with quotes, the short form, and each rule named', () => {
    expect(
      parseCacheList('cache-from', 'type=registry,ref=ghcr.io/o/app:buildcache\n# c\n\nghcr.io/o/app:cache2\ntype=gha,scope="a,b"'),
    ).toEqual([
      { type: 'registry', attrs: [['ref', 'ghcr.io/o/app:buildcache']], ref: 'ghcr.io/o/app:buildcache' },
      { type: 'registry', attrs: [['ref', 'ghcr.io/o/app:cache2']], ref: 'ghcr.io/o/app:cache2' },
      { type: 'gha', attrs: [['scope', 'a,b']] },
    ]);
    expect(
      formatCacheSpec({
        type: 'gha',
        attrs: [
          ['scope', 'a,b'],
          ['mode', 'max'],
        ],
      }),
    ).toBe('type=gha,scope="a,b",mode=max');
    expect(() => parseCacheList('cache-to', 'type=ftp,ref=x')).toThrow(/type=.*expected one of/);
    expect(() => parseCacheList('cache-to', 'type=registry')).toThrow(/needs ref=/);
    expect(() => parseCacheList('cache-to', 'ref=ghcr.io/o/a')).toThrow(/needs type=/);
    expect(() => parseCacheList('cache-from', 'type=registry,ref=ghcr.io/o/a,mode=max')).toThrow(/takes no mode/);
    expect(() => parseCacheList('cache-to', 'type=registry,ref=ghcr.io/o/a,mode=most')).toThrow(/min or max/);
    expect(() => parseCacheList('cache-to', `type=registry,ref=ghcr.io/o/a@sha256:${'a'.repeat(64)}`)).toThrow(/not a digest/);
    expect(() => parseCacheList('cache-to', 'type=registry,ref="unclosed')).toThrow(/unclosed/);
  });
  it('secrets: id=VALUE lines and quoted multi-line entries; errors never show a value', () => {
    expect(parseBuildSecrets('npmrc=//registry.npmjs.org/:_authToken=abc\n\n# c\nTOKEN=x=y,z')).toEqual([
      { id: 'npmrc', value: '//registry.npmjs.org/:_authToken=abc' },
      { id: 'TOKEN', value: 'x=y,z' },
    ]);
    expect(parseBuildSecrets('"pem=-----BEGIN KEY-----\nAAA""B\n-----END KEY-----"\nb=2')).toEqual([
      { id: 'pem', value: '-----BEGIN KEY-----\nAAA"B\n-----END KEY-----' },
      { id: 'b', value: '2' },
    ]);
    for (const bad of ['=canary-value-1', 'bad id=canary-value-1', 'a=canary-value-1\na=canary-value-1', 'a=', '"a=canary-value-1']) {
      let msg = '';
      try {
        parseBuildSecrets(bad);
      } catch (e) {
        msg = (e as Error).message;
      }
      expect(msg, bad).toMatch(/^input 'secrets'/);
      expect(msg).not.toContain('canary-value-1');
    }
  });
  it('secret-files: id=path lines resolved against the workspace', () => {
    expect(parseSecretFiles('npmrc=.ci/npmrc\nabs=/etc/x', '/ws')).toEqual([
      { id: 'npmrc', path: '/ws/.ci/npmrc' },
      { id: 'abs', path: '/etc/x' },
    ]);
    expect(() => parseSecretFiles('npmrc', '/ws')).toThrow(/id=path/);
    expect(() => parseSecretFiles('a=x\na=y', '/ws')).toThrow(/twice/);
    expect(() => parseSecretFiles('a=x,y', '/ws')).toThrow(/comma/);
  });
  it('labels and annotations, with buildx/metadata-action prefixes', () => {
    expect(parseLabels('a.b=1\na.b=2\nc=x=y')).toEqual([
      ['a.b', '2'],
      ['c', 'x=y'],
    ]);
    expect(() => parseLabels('no equals')).toThrow(/key=value/);
    expect(parseAnnotations('k=v\nindex:k2=v2\nmanifest,index:k3=v3\nmanifest[linux/arm64]:k4=v4')).toEqual([
      { levels: [], key: 'k', value: 'v', fromInput: true },
      { levels: ['index'], key: 'k2', value: 'v2', fromInput: true },
      { levels: ['manifest', 'index'], key: 'k3', value: 'v3', fromInput: true },
      { levels: ['manifest'], platform: 'linux/arm64', key: 'k4', value: 'v4', fromInput: true },
    ]);
    expect(() => parseAnnotations('layer:k=v')).toThrow(/prefix/);
    expect(() => parseAnnotations('manifest[linux]:k=v')).toThrow(/platform/);
  });
});

describe('what each builder is refused, up front', () => {
  it('buildah: registry caches as repositories only', () => {
    expect(inputOf(() => check('buildah', { cacheFrom: 'type=gha' }))).toBe('cache-from');
    expect(() => check('buildah', { cacheTo: 'type=gha,mode=max' })).toThrow(/only the buildx builder/);
    expect(() => check('buildah', { cacheTo: 'type=registry,ref=ghcr.io/o/a:buildcache' })).toThrow(/has a tag.*use ghcr.io\/o\/a/);
    expect(() => check('buildah', { cacheTo: 'type=registry,ref=ghcr.io/o/a,mode=min' })).toThrow(/mode/);
    expect(() => check('buildah', { cacheTo: 'type=registry,ref=ghcr.io/o/a,compression=zstd' })).toThrow(/compression/);
    expect(check('buildah', { cacheTo: 'type=registry,ref=ghcr.io/o/a,mode=max' }).cacheTo[0]?.ref).toBe('ghcr.io/o/a');
    expect(() => check('buildah', { annotations: 'manifest-descriptor:k=v' }, ['linux/amd64', 'linux/arm64'])).toThrow(
      /buildah cannot write/,
    );
    expect(() => check('buildah', { annotations: 'manifest[linux/amd64]:k=v' }, ['linux/amd64', 'linux/arm64'])).toThrow(/only buildx/);
  });
  it('docker (classic): no cache export, no secrets, no annotations', () => {
    expect(inputOf(() => check('docker', { cache: true }))).toBe('cache');
    expect(inputOf(() => check('docker', { cacheTo: 'type=registry,ref=ghcr.io/o/a:c' }))).toBe('cache-to');
    expect(inputOf(() => check('docker', { secretIds: ['npmrc'] }))).toBe('secrets');
    expect(inputOf(() => check('docker', { secretFiles: 'npmrc=x' }))).toBe('secret-files');
    expect(inputOf(() => check('docker', { annotations: 'k=v' }))).toBe('annotations');
    expect(inputOf(() => check('docker', { cacheFrom: 'type=gha' }))).toBe('cache-from');
    expect(check('docker', { cacheFrom: 'ghcr.io/o/a:latest-build', target: 'runtime', labels: 'k=v' }).cacheFrom[0]?.ref).toBe(
      'ghcr.io/o/a:latest-build',
    );
  });
  it('any builder: an index annotation needs several platforms; ids are unique across secrets and secret-files; target is a stage name', () => {
    expect(inputOf(() => check('buildx', { annotations: 'index:k=v' }))).toBe('annotations');
    expect(check('buildx', { annotations: 'index:k=v' }, ['linux/amd64', 'linux/arm64']).annotations).toHaveLength(1);
    expect(inputOf(() => check('buildx', { secretIds: ['npmrc'], secretFiles: 'npmrc=x' }))).toBe('secret-files');
    expect(inputOf(() => check('buildx', { target: 'run time' }))).toBe('target');
  });
  it('cache: true derives the cache from the image, per builder, and fills only what is empty', () => {
    expect(defaultCacheRef(IMAGE, 'buildx')).toBe('ghcr.io/octo-org/shop:buildcache');
    expect(defaultCacheRef(IMAGE, 'buildah')).toBe('ghcr.io/octo-org/shop-buildcache');
    const bx = check('buildx', { cache: true });
    expect(bx.cacheFrom.map(formatCacheSpec)).toEqual(['type=registry,ref=ghcr.io/octo-org/shop:buildcache']);
    expect(bx.cacheTo.map(formatCacheSpec)).toEqual(['type=registry,ref=ghcr.io/octo-org/shop:buildcache,mode=max']);
    const bh = check('buildah', { cache: true, cacheFrom: 'type=registry,ref=ghcr.io/o/other-cache' });
    expect(bh.cacheFrom.map((c) => c.ref)).toEqual(['ghcr.io/o/other-cache']);
    expect(bh.cacheTo.map((c) => c.ref)).toEqual(['ghcr.io/octo-org/shop-buildcache']);
  });
});

describe('OCI labels and annotations', () => {
  const facts = {
    serverUrl: 'https://github.example.com',
    repository: 'octo-org/shop',
    sha: SHA,
    ref: 'refs/tags/v1.4.0',
    tags: ['sha-4f1c6b9'],
    created: '2026-11-30T09:15:00Z',
    licenses: 'MIT',
    description: 'Shop',
  };
  it('defaults from the run: source, revision, created, version (tag ref, else the first tag), title, licenses', () => {
    expect(ociDefaults(facts)).toEqual({
      'org.opencontainers.image.created': '2026-11-30T09:15:00Z',
      'org.opencontainers.image.source': 'https://github.example.com/octo-org/shop',
      'org.opencontainers.image.url': 'https://github.example.com/octo-org/shop',
      'org.opencontainers.image.revision': SHA,
      'org.opencontainers.image.version': 'v1.4.0',
      'org.opencontainers.image.title': 'shop',
      'org.opencontainers.image.description': 'Shop',
      'org.opencontainers.image.licenses': 'MIT',
    });
    expect(ociVersion('refs/heads/main', ['sha-4f1c6b9', 'v1'])).toBe('sha-4f1c6b9');
  });
  it('event facts: the pushed commit time in UTC, SOURCE_DATE_EPOCH, else now; NOASSERTION is no licence', () => {
    const now = new Date('2026-12-01T12:00:00.123Z');
    expect(
      eventFacts(
        { head_commit: { timestamp: '2026-11-30T10:15:00+01:00' }, repository: { name: 'shop', license: { spdx_id: 'NOASSERTION' } } },
        now,
      ),
    ).toEqual({ created: '2026-11-30T09:15:00Z', title: 'shop', description: undefined, licenses: undefined, url: undefined });
    expect(eventFacts({}, now, '1700000000').created).toBe('2023-11-14T22:13:20Z');
    expect(eventFacts(undefined, now).created).toBe('2026-12-01T12:00:00Z');
  });
  it('the caller wins; annotations go on the index too for several platforms; docker writes labels only', () => {
    const d = ociDefaults(facts);
    const anns = parseAnnotations('org.opencontainers.image.description=Mine\nmanifest:x.y=1');
    const multi = mergeMetadata(d, [['org.opencontainers.image.title', 'Mine']], anns, { builder: 'buildx', multi: true });
    expect(multi.labels['org.opencontainers.image.title']).toBe('Mine');
    expect(multi.labels['org.opencontainers.image.description']).toBe('Shop');
    const by = annotationsByLevel(multi.annotations);
    expect(by.index?.['org.opencontainers.image.description']).toBe('Mine');
    expect(by.manifest?.['org.opencontainers.image.description']).toBe('Mine');
    expect(by.manifest?.['x.y']).toBe('1');
    expect(by.index?.['x.y']).toBeUndefined();
    expect(by.index?.['org.opencontainers.image.revision']).toBe(SHA);
    expect(mergeMetadata(d, [], [], { builder: 'docker', multi: false }).annotations).toEqual([]);
    expect(annotationsByLevel(mergeMetadata(d, [], [], { builder: 'buildah', multi: false }).annotations).index).toBeUndefined();
  });
});

describe('flags per builder (real CLIs’ flag lists)', () => {
  const BUILDAH = new Set([
    '--file',
    '--build-arg',
    '--tag',
    '--platform',
    '--manifest',
    '--tls-verify=false',
    '--layers',
    '--cache-from',
    '--cache-to',
    '--secret',
    '--target',
    '--label',
    '--annotation',
  ]);
  const BUILDX = new Set([
    '--file',
    '--build-arg',
    '--tag',
    '--platform',
    '--metadata-file',
    '--push',
    '--cache-from',
    '--cache-to',
    '--secret',
    '--target',
    '--label',
    '--annotation',
  ]);
  const DOCKER = new Set(['--file', '--build-arg', '--tag', '--platform', '--cache-from', '--target', '--label']);
  const flags = (args: string[]) => args.filter((a) => a.startsWith('--'));
  const cfgFor = (builder: 'buildx' | 'docker' | 'buildah', build: Partial<RawBuildOptions>, platforms: string[] = []) =>
    checkInputs(raw({ builder, platforms, tags: ['v1'], tagsGiven: true }, build), {
      sha: SHA,
      workspace: '/ws',
      facts: { serverUrl: 'https://github.com', repository: 'octo-org/shop', ref: 'refs/heads/main', created: '2026-11-30T09:15:00Z' },
    });

  it('buildah: --layers with the cache repositories, secrets as files under the work dir, target, labels, manifest annotations', () => {
    const cfg = cfgFor('buildah', {
      cache: true,
      secretIds: ['npmrc'],
      secretFiles: 'netrc=.ci/netrc',
      target: 'runtime',
      labels: 'a=1',
      annotations: 'org.opencontainers.image.title=T',
    });
    const f = buildOptionFlags(cfg, '/tmp/w');
    expect(f.slice(0, 13)).toEqual([
      '--layers',
      '--cache-from',
      'ghcr.io/octo-org/shop-buildcache',
      '--cache-to',
      'ghcr.io/octo-org/shop-buildcache',
      '--secret',
      'id=npmrc,src=/tmp/w/secrets/npmrc',
      '--secret',
      'id=netrc,src=/ws/.ci/netrc',
      '--target',
      'runtime',
      '--label',
      'org.opencontainers.image.source=https://github.com/octo-org/shop',
    ]);
    // The labels that change with each commit come last (each --label is a cached LABEL step in buildah).
    const labelKeys = f.flatMap((x, i) => (f[i - 1] === '--label' ? [x.slice(0, x.indexOf('='))] : []));
    expect(labelKeys.slice(-3)).toEqual([
      'org.opencontainers.image.created',
      'org.opencontainers.image.revision',
      'org.opencontainers.image.version',
    ]);
    expect(f).toContain('a=1');
    expect(f).toContain('org.opencontainers.image.title=T');
    expect(f.filter((x) => x === '--annotation').length).toBe(Object.keys(cfg.metadata.annotations).length);
    const plan = planBuild(cfg, '/tmp/w', 'u', '/ws/Containerfile');
    for (const s of plan.steps)
      for (const x of flags(s.args)) expect(BUILDAH.has(x) || ['--digestfile', '--all'].includes(x), x).toBe(true);
    // No secret value ever reaches an argument, and never as a build arg.
    expect(plan.steps[0]!.args.join(' ')).not.toMatch(/--build-arg npmrc/);
  });
  it('buildah multi-platform: an index annotate step only when the runner’s buildah can (1.35+)', () => {
    const cfg = cfgFor('buildah', { annotations: 'org.opencontainers.image.title=T' }, ['linux/amd64', 'linux/arm64']);
    expect(planBuild(cfg, '/w', 'u', '/f').steps.map((s) => s.kind)).toEqual(['build', 'push']);
    const withIdx = planBuild(cfg, '/w', 'u', '/f', { indexAnnotations: true });
    expect(withIdx.steps.map((s) => s.kind)).toEqual(['build', 'annotate', 'push']);
    const ann = withIdx.steps[1]!.args;
    expect(ann.slice(0, 3)).toEqual(['manifest', 'annotate', '--index']);
    expect(ann).toContain('org.opencontainers.image.title=T');
    expect(ann[ann.length - 1]).toBe('localhost/hallmark-build-u:v1');
  });
  it('buildx: the cache specs as given, secrets, and typed annotations (index,manifest for several platforms)', () => {
    const cfg = cfgFor(
      'buildx',
      { cacheFrom: 'type=gha', cacheTo: 'type=gha,mode=max', secretIds: ['npmrc'], target: 'runtime', annotations: 'index:only.index=1' },
      ['linux/amd64', 'linux/arm64'],
    );
    const f = buildOptionFlags(cfg, '/tmp/w');
    expect(f.slice(0, 8)).toEqual([
      '--cache-from',
      'type=gha',
      '--cache-to',
      'type=gha,mode=max',
      '--secret',
      'id=npmrc,src=/tmp/w/secrets/npmrc',
      '--target',
      'runtime',
    ]);
    expect(f).toContain(`index,manifest:org.opencontainers.image.revision=${SHA}`);
    expect(f).toContain('index:only.index=1');
    for (const x of flags(planBuild(cfg, '/tmp/w', 'u', '/f').steps[0]!.args)) expect(BUILDX.has(x), x).toBe(true);
    expect(buildxAnnotation({ levels: ['manifest'], key: 'k', value: 'v', fromInput: true })).toBe('k=v');
    expect(buildxAnnotation({ levels: ['manifest'], platform: 'linux/arm64', key: 'k', value: 'v', fromInput: true })).toBe(
      'manifest[linux/arm64]:k=v',
    );
  });
  it('docker: --cache-from images, target and labels; no annotations', () => {
    const cfg = cfgFor('docker', { cacheFrom: 'ghcr.io/octo-org/shop:v0', target: 'runtime', labels: 'a=1' });
    const f = buildOptionFlags(cfg, '/tmp/w');
    expect(f.slice(0, 4)).toEqual(['--cache-from', 'ghcr.io/octo-org/shop:v0', '--target', 'runtime']);
    expect(f).not.toContain('--annotation');
    for (const x of flags(planBuild(cfg, '/tmp/w', 'u', '/f').steps[0]!.args)) expect(DOCKER.has(x), x).toBe(true);
  });
  it('digest mode ignores build options with a warning and generates no metadata', () => {
    const c = checkInputs(raw({ digest: `sha256:${'a'.repeat(64)}` }, { cache: true }), { sha: SHA });
    expect(c.warnings.join()).toMatch(/build options \(cache/);
    expect(c.build.cacheFrom).toEqual([]);
    expect(c.metadata.labels).toEqual({});
  });
});

describe("buildah's cache report", () => {
  it('counts steps, cache hits, pulls and pushes from the build log (lines as buildah 1.28.2 prints them)', () => {
    const log = [
      '[1/2] STEP 1/3: FROM 127.0.0.1:5000/base:1 AS deps',
      '[1/2] STEP 2/3: RUN echo "ran-$((6*7))-deps" && date +%s%N > /stamp',
      '--> Cache pulled from remote 127.0.0.1:5000/app-buildcache:df1e07c8efa0c793fa411c46443faf472e7e132b078a4de83192792de8ef2204',
      '--> Using cache d10da6b760bdd7ac026eeb15c359c0b0c488e983124ffbe0feab72de19dd5348',
      '--> d10da6b760b',
      '[1/2] STEP 3/3: RUN --mount=type=secret,id=npmrc sha256sum /run/secrets/npmrc > /secret-hash',
      '--> Using cache 18f66be2a76f8dd32c1484ca972f21122b9e955f33d5ae0c279ad0e9ea492347',
      '[2/2] STEP 1/2: FROM 127.0.0.1:5000/base:1 AS final',
      '[2/2] STEP 2/2: COPY hello.txt /hello.txt',
      '--> Pushing cache 127.0.0.1:5000/app-buildcache:d8fd897d9d0f5b6d6bcf9c721b4dfd016726c61eb79cf38434f17564696781c8',
      '--> b1f645726f3',
    ].join('\n');
    expect(buildahCacheStats(log)).toEqual({ steps: 3, cached: 2, pulled: 1, pushed: 1 });
    expect(buildahCacheStats('no steps here')).toBeUndefined();
  });
});

describe('the flow with build secrets (fake tools)', () => {
  function deps(
    onExec: (tool: string, args: string[]) => Partial<ToolResult>,
    temp: string,
    masked: string[] = [],
  ): Deps & { calls: { tool: string; args: string[] }[] } {
    const calls: { tool: string; args: string[] }[] = [];
    const deps = quietDeps(temp, {
      exec: async (tool, args) => {
        calls.push({ tool, args });
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...onExec(tool, args) };
      },
      mask: (v) => masked.push(v),
    });
    return Object.assign(deps, { calls });
  }
  it('writes each secret value 0600 under RUNNER_TEMP for the build only, masks it, and removes it right after', async () => {
    const temp = trackedDir('hallmark-bs-secrets-');
    const c = checkInputs(raw({ tags: ['v1'], tagsGiven: true }, { secretIds: ['npmrc'] }), { sha: SHA, workspace: temp });
    let seen: { mode: number; value: string } | undefined;
    let afterBuild: boolean | undefined;
    const masked: string[] = [];
    const d = deps(
      (_tool, args) => {
        if (args[0] === 'build') {
          const src = (args[args.indexOf('--secret') + 1] as string).replace(/^id=npmrc,src=/, '');
          seen = { mode: statSync(src).mode & 0o777, value: readFileSync(src, 'utf8') };
          expect(src.startsWith(temp)).toBe(true);
        }
        if (args[0] === 'push') {
          afterBuild = existsSync(join(args[args.indexOf('--digestfile') + 1] as string, '..', 'secrets'));
          writeFileSync(args[args.indexOf('--digestfile') + 1] as string, `sha256:${'b'.repeat(64)}`);
        }
        return {};
      },
      temp,
      masked,
    );
    const r = await buildAndSign(
      c,
      { cosignKey: '', cosignPassword: '', registryPassword: '', buildSecrets: [{ id: 'npmrc', value: 'canary-npm-77' }] },
      d,
    );
    expect(r.failure).toBeUndefined();
    expect(seen).toEqual({ mode: 0o600, value: 'canary-npm-77' });
    expect(afterBuild).toBe(false);
    expect(masked).toContain('canary-npm-77');
    expect(JSON.stringify(d.calls)).not.toContain('canary-npm-77');
    expect(readdirSync(temp)).toEqual([]);
    expect(r.metadata?.secrets).toEqual(['npmrc']);
  });
  it('a secret file that does not exist fails invalid-input before the builder runs', async () => {
    const temp = trackedDir('hallmark-bs-secrets-');
    const c = checkInputs(raw({ tags: ['v1'], tagsGiven: true }, { secretFiles: 'npmrc=missing/npmrc' }), { sha: SHA, workspace: temp });
    const d = deps(() => ({}), temp);
    const r = await buildAndSign(c, { cosignKey: '', cosignPassword: '', registryPassword: '' }, d);
    expect(r.failure?.reason).toBe('invalid-input');
    expect(r.failure?.message).toMatch(/^input 'secret-files'/);
    expect(d.calls).toEqual([]);
  });
  it('several buildah caches on a buildah older than 1.29 are refused before the build', async () => {
    const temp = trackedDir('hallmark-bs-secrets-');
    const c = checkInputs(
      raw({ tags: ['v1'], tagsGiven: true }, { cacheFrom: 'type=registry,ref=ghcr.io/o/a\ntype=registry,ref=ghcr.io/o/b' }),
      { sha: SHA, workspace: temp },
    );
    const d = deps((_t, args) => (args[0] === 'version' ? { stdout: JSON.stringify({ version: '1.28.2' }) } : {}), temp);
    const r = await buildAndSign(c, { cosignKey: '', cosignPassword: '', registryPassword: '' }, d);
    expect(r.failure?.reason).toBe('invalid-input');
    expect(r.failure?.message).toMatch(/input 'cache-from'.*1\.29/);
    expect(d.calls.map((x) => x.args[0])).toEqual(['version']);
    const d2 = deps(
      (_t, args) =>
        args[0] === 'version'
          ? { stdout: JSON.stringify({ version: '1.33.7' }) }
          : args[0] === 'push'
            ? (writeFileSync(args[args.indexOf('--digestfile') + 1] as string, `sha256:${'c'.repeat(64)}`), {})
            : {},
      temp,
    );
    const ok = await buildAndSign(c, { cosignKey: '', cosignPassword: '', registryPassword: '' }, d2);
    expect(ok.failure).toBeUndefined();
    expect(d2.calls[1]!.args.filter((a) => a.startsWith('ghcr.io/o/'))).toEqual(['ghcr.io/o/a', 'ghcr.io/o/b']);
  });
});
