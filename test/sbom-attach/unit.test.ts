/**
 * sbom-attach domain without a runner: input rules, the generator command lines, and the SBOM
 * reader over real recorded syft/trivy output (../shared/fixtures), with counts computed here
 * independently from the documents.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { checkInputs, defaultArtifactName, type RawInputs } from '../../actions/sbom-attach/src/config.js';
import { plan } from '../../actions/sbom-attach/src/generate.js';
import { checkSubject, parseSbom, SbomError, topLicenses } from '../../actions/sbom-attach/src/sbom.js';
import { generateAndAttach, type Deps } from '../../actions/sbom-attach/src/flow.js';
import { describeFixtures, fixtureJson, fixtureText } from '../harness/fixtures.js';

const D = `sha256:${'ab'.repeat(32)}`;
const base: RawInputs = {
  image: `ghcr.io/octo-org/shop@${D}`,
  path: '',
  formats: ['spdx-json'],
  generator: 'syft',
  service: '',
  artifactName: '',
  upload: true,
  retentionDays: 30,
  attach: 'auto',
  signBlob: false,
  cosignKeyGiven: false,
  oidcAvailable: false,
  registryUsername: '',
  registryPasswordGiven: false,
  registryInsecure: false,
  outputDir: '',
  tlog: true,
  signingConfig: '',
  trustedRoot: '',
};
const ctx = { sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d', repository: 'octo-org/shop' };
const inputErr = (raw: Partial<RawInputs>) => {
  try {
    checkInputs({ ...base, ...raw }, ctx);
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  return undefined;
};

describe('checkInputs', () => {
  it('defaults: service from the repository, artifact name per service and commit, attach none without signing', () => {
    const c = checkInputs(base, ctx);
    expect(c.service).toBe('shop');
    expect(c.artifactName).toBe('sbom-shop-4f1c6b9');
    expect(c.attach).toBe('none');
    expect(c.notes.join()).toMatch(/no signing is configured/);
    expect(c.image).toEqual({ registry: 'ghcr.io', repository: 'octo-org/shop', digest: D });
    expect(defaultArtifactName('api', '')).toBe('sbom-api');
  });
  it('auto attach is attest when a key is given or OIDC is available', () => {
    expect(checkInputs({ ...base, cosignKeyGiven: true }, ctx)).toMatchObject({ attach: 'attest', signing: 'key' });
    expect(checkInputs({ ...base, oidcAvailable: true }, ctx)).toMatchObject({ attach: 'attest', signing: 'keyless' });
    expect(checkInputs({ ...base, oidcAvailable: true, attach: 'referrer' }, ctx)).toMatchObject({ attach: 'referrer', signing: 'none' });
  });
  it('path mode: service from the GitHub repository, no attach', () => {
    const c = checkInputs({ ...base, image: '', path: 'app', oidcAvailable: true }, ctx);
    expect(c).toMatchObject({ path: 'app', service: 'shop', attach: 'none', image: undefined });
  });
  it.each([
    [{ image: 'ghcr.io/octo-org/shop:1.0' }, /input 'image' must name the image by digest/],
    [{ image: `ghcr.io/octo-org/shop:1.0@${D}` }, /input 'image' must not carry a tag/],
    [{ image: `ghcr.io/octo-org/shop@sha256:${'a'.repeat(63)}` }, /input 'image' .*64 lowercase hex/],
    [{ image: '' }, /input 'image' is required/],
    [{ path: 'x' }, /input 'path' cannot be used together with 'image'/],
    [{ formats: ['spdx'] }, /input 'format' must be a list of spdx-json, cyclonedx-json/],
    [{ formats: [] }, /input 'format' must list at least one/],
    [{ service: 'a b' }, /input 'service'/],
    [{ artifactName: 'sbom:x' }, /input 'artifact-name'/],
    [{ retentionDays: 91 }, /input 'retention-days'/],
    [{ attach: 'attest' }, /input 'attach' is 'attest', which signs/],
    [{ image: '', path: 'app', attach: 'referrer' }, /input 'attach' is 'referrer', which needs 'image'/],
    [{ signBlob: true }, /input 'sign-blob'/],
    [{ registryUsername: 'bot' }, /input 'registry-password' is required/],
    [{ registryPasswordGiven: true }, /input 'registry-username' is required/],
    [{ registryInsecure: true }, /input 'registry-insecure' may only be true for an image in a loopback registry/],
    [{ oidcAvailable: true, tlog: false }, /input 'tlog' must stay true for keyless signing \(no cosign-key\): tlog: false is only possible in key mode/],
    [{ oidcAvailable: true, signBlob: true, attach: 'none', tlog: false }, /input 'tlog' must stay true for keyless signing/],
    [{ cosignKeyGiven: true, signingConfig: 'a\nb' }, /input 'signing-config' must be one file path/],
  ] as [Partial<RawInputs>, RegExp][])('refuses %o', (raw, re) => {
    expect(inputErr(raw)).toMatch(re);
  });
  it('tlog, signing-config, trusted-root: key mode may turn the log off; unused when nothing is signed', () => {
    expect(checkInputs({ ...base, cosignKeyGiven: true, tlog: false }, ctx)).toMatchObject({ signing: 'key', sigstore: { tlog: false } });
    expect(checkInputs({ ...base, oidcAvailable: true, signingConfig: 'sc.json', trustedRoot: 'tr.json' }, ctx).sigstore).toEqual({ tlog: true, signingConfig: 'sc.json', trustedRoot: 'tr.json' });
    const unused = checkInputs({ ...base, tlog: false, attach: 'referrer' }, ctx);
    expect(unused.signing).toBe('none');
    expect(unused.notes.join()).toMatch(/tlog, signing-config and trusted-root only apply when cosign signs/);
  });
  it('allows plain HTTP for a loopback registry', () => {
    expect(checkInputs({ ...base, image: `127.0.0.1:5000/o/app@${D}`, registryInsecure: true }, ctx).registryInsecure).toBe(true);
  });
});

describe('generator command lines', () => {
  const files = { 'spdx-json': '/out/a.spdx.json', 'cyclonedx-json': '/out/a.cdx.json' };
  it('syft: one run, registry source by digest, every format', () => {
    const c = checkInputs({ ...base, formats: ['spdx-json', 'cyclonedx-json'] }, ctx);
    // No --quiet: real syft 1.51 prints nothing at all with it, not even why it failed.
    expect(plan(c, files, {})).toEqual([{ tool: 'syft', args: ['scan', `registry:ghcr.io/octo-org/shop@${D}`, '-o', 'spdx-json=/out/a.spdx.json', '-o', 'cyclonedx-json=/out/a.cdx.json'], writes: files, env: { SYFT_CHECK_FOR_APP_UPDATE: 'false', NO_COLOR: '1' } }]);
  });
  it('syft over a directory names the source after the service', () => {
    const c = checkInputs({ ...base, image: '', path: 'app' }, ctx);
    expect(plan(c, files, { path: '/ws/app' })[0]?.args).toEqual(['scan', 'dir:/ws/app', '-o', 'spdx-json=/out/a.spdx.json', '--source-name', 'shop']);
  });
  it('trivy: one run per format, straight from the registry', () => {
    const c = checkInputs({ ...base, image: `127.0.0.1:5000/o/app@${D}`, registryInsecure: true, generator: 'trivy', formats: ['spdx-json', 'cyclonedx-json'] }, ctx);
    expect(plan(c, files, {}).map((i) => i.args)).toEqual([
      ['image', '--quiet', '--image-src', 'remote', '--insecure', '--format', 'spdx-json', '--output', '/out/a.spdx.json', `127.0.0.1:5000/o/app@${D}`],
      ['image', '--quiet', '--image-src', 'remote', '--insecure', '--format', 'cyclonedx', '--output', '/out/a.cdx.json', `127.0.0.1:5000/o/app@${D}`],
    ]);
  });
});

type Spdx = { packages: { SPDXID: string; licenseConcluded?: string; licenseDeclared?: string; primaryPackagePurpose?: string }[]; relationships?: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[] };

describeFixtures('parseSbom over recorded syft and trivy output', () => {
  it('syft SPDX image snapshot: root excluded, licences, tool, and the digest the root names', () => {
    const doc = fixtureJson<Spdx>('syft', 'spdx-json-image.golden.json');
    const roots = new Set((doc.relationships ?? []).filter((r) => r.relationshipType === 'DESCRIBES' && r.spdxElementId === 'SPDXRef-DOCUMENT').map((r) => r.relatedSpdxElement));
    const info = parseSbom(fixtureText('syft', 'spdx-json-image.golden.json'));
    expect(info.packages).toBe(doc.packages.filter((p) => !roots.has(p.SPDXID)).length);
    expect(info.packages).toBe(2);
    expect(info.licenses).toEqual({ MIT: 1, unknown: 1 });
    expect(info.generator).toEqual({ name: 'syft', version: 'v0.42.0-bogus' });
    expect(info.subjects).toEqual(['sha256:2731251dc34951c0e50fcc643b4c5f74922dad1a5d98f302b504cf46cd5d9368']);
    expect(checkSubject(info, 'sha256:2731251dc34951c0e50fcc643b4c5f74922dad1a5d98f302b504cf46cd5d9368')).toBeUndefined();
    expect(checkSubject(info, D)).toMatch(/describes sha256:2731.*, not sha256:abab/);
  });
  it('real syft 0.91.0 and 0.103.1 SPDX: the file root is not counted; generator version read', () => {
    const a = parseSbom(fixtureText('syft', 'spdx-2.3-gomod-syft-0.91.0.json'));
    expect(a).toMatchObject({ kind: 'spdx', spec: 'SPDX-2.3', packages: 1, generator: { name: 'syft', version: '0.91.0' }, subjects: [] });
    expect(checkSubject(a, D)).toMatch(/names no image digest/);
    const b = parseSbom(fixtureText('syft', 'spdx-2.3-npm-dir-syft-0.103.1.json'));
    expect(b).toMatchObject({ packages: 1, licenses: { 'Apache-2.0': 1 }, generator: { version: '0.103.1' } });
  });
  it('syft CycloneDX (1.7 tools.components, and the legacy 1.6 tools array): root and operating system excluded', () => {
    const doc = fixtureJson<{ components: { type: string }[] }>('syft', 'cyclonedx-json-image.golden.json');
    const info = parseSbom(fixtureText('syft', 'cyclonedx-json-image.golden.json'));
    expect(info.packages).toBe(doc.components.filter((c) => c.type !== 'operating-system').length);
    expect(info).toMatchObject({ kind: 'cyclonedx', spec: 'CycloneDX 1.7', licenses: { MIT: 1, unknown: 1 }, generator: { name: 'syft', version: 'v0.42.0-bogus' } });
    expect(parseSbom(fixtureText('syft', 'cyclonedx-1.6-gomod.json'))).toMatchObject({ spec: 'CycloneDX 1.6', packages: 1, generator: { name: 'syft', version: '[not provided]' } });
  });
  it("trivy CycloneDX: its per-target grouping component is not a package", () => {
    const doc = fixtureJson<{ components: { type: string }[] }>('trivy', 'cyclonedx-npm-with-vulns.json');
    const info = parseSbom(fixtureText('trivy', 'cyclonedx-npm-with-vulns.json'));
    expect(info.packages).toBe(doc.components.filter((c) => c.type === 'library').length);
    expect(info.generator).toEqual({ name: 'trivy', version: 'dev' });
  });
  it('refuses what is not an SBOM', () => {
    expect(() => parseSbom('{"not":"json"')).toThrow(SbomError);
    expect(() => parseSbom('[]')).toThrow(/not a JSON object/);
    expect(() => parseSbom('{"SchemaVersion":2,"Results":[]}')).toThrow(/neither SPDX/);
    expect(() => parseSbom('{"spdxVersion":"SPDX-3.0","packages":[]}')).toThrow(/unsupported spdxVersion/);
    expect(() => parseSbom('{"bomFormat":"CycloneDX","specVersion":"1.6","components":{}}')).toThrow(/not a list/);
  });
  it('top licences: most common first, unknown left out', () => {
    expect(topLicenses({ MIT: 3, 'Apache-2.0': 3, Zlib: 1, unknown: 9 }, 2)).toEqual([['Apache-2.0', 3], ['MIT', 3]]);
  });
});

describe('generateAndAttach with fake tools', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function deps(over: Partial<Deps> = {}): Deps & { ran: string[][] } {
    const d = mkdtempSync(join(tmpdir(), 'sbom-unit-'));
    dirs.push(d);
    const ran: string[][] = [];
    return Object.assign(
      {
        exec: async (tool: string, args: string[]) => {
          ran.push([tool, ...args]);
          return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
        },
        upload: async () => ({ id: 7, size: 1 }),
        transport: async () => ({ status: 500, headers: {}, body: Buffer.alloc(0) }),
        mask: () => {},
        info: () => {},
        warn: () => {},
        printUntrusted: () => {},
        oneLine: (t: string) => t.replace(/\s+/g, ' '),
        displayCommand: (t: string, a: readonly string[]) => [t, ...a].join(' '),
        scrubEnv: {},
        lookupEnv: () => undefined,
        tempDir: d,
        outputDir: join(d, 'out'),
        ran,
      },
      over,
    );
  }
  it('a generator that is not installed fails with generate-failed and the setup-tools hint', async () => {
    const r = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps({ exec: async () => ({ exitCode: 127, stdout: '', stderr: 'Unable to locate executable file: syft', timedOut: false }) }));
    expect(r.failure).toEqual({ reason: 'generate-failed', message: expect.stringMatching(/syft was not found on PATH: add .*setup-tools/) });
  });
  it('a tool that exits 0 without the file is a generate failure; a wrong-format file is bad-sbom', async () => {
    const r = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps());
    expect(r.failure?.reason).toBe('generate-failed');
    const wrong = deps({
      exec: async (_t, args) => {
        const o = args[args.indexOf('-o') + 1] as string;
        writeFileSync(o.slice(o.indexOf('=') + 1), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
    });
    const r2 = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, wrong);
    expect(r2.failure).toEqual({ reason: 'bad-sbom', message: expect.stringMatching(/asked for spdx-json but wrote CycloneDX 1.6/) });
  });
  it('an upload name collision says which input to set', async () => {
    const ok = deps({
      exec: async (_t, args) => {
        const o = args[args.indexOf('-o') + 1] as string;
        // A minimal syft-shaped SPDX document naming D, with two packages (made here: the test needs no recorded output).
        writeFileSync(o.slice(o.indexOf('=') + 1), JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', packages: [{ SPDXID: 'SPDXRef-DocumentRoot-Image-x', name: 'ghcr.io/octo-org/shop', versionInfo: D, primaryPackagePurpose: 'CONTAINER' }, { SPDXID: 'SPDXRef-Package-a', name: 'a', versionInfo: '1' }, { SPDXID: 'SPDXRef-Package-b', name: 'b', versionInfo: '2' }], relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-x', relationshipType: 'DESCRIBES' }] }));
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
      upload: async () => {
        throw new Error('Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run');
      },
    });
    const r = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, ok);
    expect(r.failure?.reason).toBe('upload-failed');
    expect(r.failure?.message).toMatch(/set 'service' or 'artifact-name' per leg/);
    expect(r.packages).toBe(2);
  });

  /** A fake toolbox: syft writes a minimal SPDX naming D; cosign answers `version` as `cosignVersion` and records its calls. */
  function signingDeps(cosignVersion: string, over: Partial<Deps> = {}) {
    const calls: { tool: string; args: string[]; env: Record<string, string | undefined> }[] = [];
    const d = deps({
      lookupEnv: (n) => (n === 'SBOM_KEY' ? 'PEM' : undefined),
      exec: async (tool, args, o) => {
        calls.push({ tool, args, env: o.env ?? {} });
        if (tool === 'syft') {
          for (const a of args.filter((x) => /^(spdx|cyclonedx)-json=/.test(x))) {
            const file = a.slice(a.indexOf('=') + 1);
            writeFileSync(file, a.startsWith('spdx')
              ? JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', packages: [{ SPDXID: 'SPDXRef-DocumentRoot-Image-x', name: 'ghcr.io/octo-org/shop', versionInfo: D, primaryPackagePurpose: 'CONTAINER' }, { SPDXID: 'SPDXRef-Package-a', name: 'a', versionInfo: '1' }], relationships: [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-x', relationshipType: 'DESCRIBES' }] })
              : JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component: { 'bom-ref': 'r', type: 'container', name: 'ghcr.io/octo-org/shop', version: D } }, components: [{ type: 'library', name: 'a', version: '1' }, { type: 'file', name: '/lib/apk/db/installed' }] }));
          }
          return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
        }
        if (args[0] === 'version') return { exitCode: 0, stdout: JSON.stringify({ gitVersion: cosignVersion }), stderr: '', timedOut: false };
        if (args[0] === 'sign-blob') writeFileSync(args[args.indexOf('--bundle') + 1] as string, '{}');
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
      ...over,
    });
    return { d, calls };
  }
  const keyed = (raw: Partial<RawInputs>) => checkInputs({ ...base, cosignKeyGiven: true, signBlob: true, formats: ['spdx-json', 'cyclonedx-json'], upload: false, ...raw }, ctx);
  const secrets = { cosignKey: 'env://SBOM_KEY', cosignPassword: 'pw', registryPassword: '' };

  it('cosign 3, key mode, tlog: false: attest and sign-blob get --use-signing-config=false --tlog-upload=false, the key by env only', async () => {
    const { d, calls } = signingDeps('v3.1.2', { transport: async () => ({ status: 404, headers: {}, body: Buffer.alloc(0) }) });
    const r = await generateAndAttach(keyed({ tlog: false }), secrets, d);
    expect(r.failure).toBeUndefined();
    expect(r.cosignVersion).toBe('v3.1.2');
    // CycloneDX `file` components (syft lists every file it read) are not packages.
    expect(r.files.map((f) => f.info?.packages)).toEqual([1, 1]);
    const cosign = calls.filter((c) => c.tool === 'cosign' && c.args[0] !== 'version');
    expect(cosign.map((c) => c.args[0])).toEqual(['sign-blob', 'sign-blob', 'attest', 'attest']);
    for (const c of cosign) {
      expect(c.args).toEqual(expect.arrayContaining(['--key', 'env://SBOM_KEY', '--use-signing-config=false', '--tlog-upload=false']));
      expect(c.args).not.toContain('--new-bundle-format');
      expect(c.args.join(' ')).not.toContain('PEM');
      expect(c.env.COSIGN_PASSWORD).toBe('pw');
    }
    expect(cosign[2]!.args.slice(-1)).toEqual([`ghcr.io/octo-org/shop@${D}`]);
    expect(cosign[0]!.args.slice(-1)[0]).toMatch(/\.spdx\.json$/);
  });
  it('cosign 3 with a signing config and trusted root: those files, no tlog flags', async () => {
    const { d, calls } = signingDeps('v3.1.2');
    const cfg = keyed({ attach: 'none' });
    cfg.sigstore = { tlog: true, signingConfig: '/ws/sc.json', trustedRoot: '/ws/tr.json' };
    const r = await generateAndAttach(cfg, secrets, d);
    expect(r.failure).toBeUndefined();
    const blob = calls.find((c) => c.args[0] === 'sign-blob')!;
    expect(blob.args).toEqual(expect.arrayContaining(['--signing-config', '/ws/sc.json', '--trusted-root', '/ws/tr.json']));
    expect(blob.args.join(' ')).not.toMatch(/tlog-upload|use-signing-config/);
  });
  it('a pinned cosign 2: --tlog-upload=false alone, sign-blob --new-bundle-format, the .att tag reported; signing-config refused', async () => {
    const { d, calls } = signingDeps('v2.6.4');
    const r = await generateAndAttach(keyed({ tlog: false }), secrets, d);
    expect(r.failure).toBeUndefined();
    const cosign = calls.filter((c) => c.tool === 'cosign' && c.args[0] !== 'version');
    for (const c of cosign) {
      expect(c.args).toContain('--tlog-upload=false');
      expect(c.args).not.toContain('--use-signing-config=false');
    }
    expect(cosign.filter((c) => c.args[0] === 'sign-blob').every((c) => c.args.includes('--new-bundle-format'))).toBe(true);
    expect(r.attachments).toEqual([`ghcr.io/octo-org/shop:${D.replace(':', '-')}.att`]);
    const cfg = keyed({});
    cfg.sigstore = { tlog: true, signingConfig: '/ws/sc.json' };
    const refused = await generateAndAttach(cfg, secrets, signingDeps('v2.6.4').d);
    expect(refused.failure).toEqual({ reason: 'invalid-input', message: expect.stringMatching(/signing-config and trusted-root need cosign 3/) });
  });
});
