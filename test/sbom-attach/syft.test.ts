/**
 * Our SBOM reader and the "describes exactly that digest" check against what real syft 1.51.0
 * writes (never a recorded or hand-made document): an image built by buildah and pushed to a
 * loopback docker-registry, read by syft as `registry:<repo>@<digest>`; a directory source.
 *
 * Where syft puts the digest (anchore/syft v1.51.0):
 * - syft/source/stereoscopesource/image_source.go Describe(): name = the repository, version = the
 *   digest of the reference syft was given;
 * - syft/format/common/spdxhelpers/to_format_model.go toRootPackage(): SPDX root package
 *   `SPDXRef-DocumentRoot-Image-…`, versionInfo = that version, a SHA256 checksum and a
 *   `pkg:oci/<repo>@sha256%3A…` purl from the manifest digest syft fetched;
 * - syft/format/common/cyclonedxhelpers/to_format_model.go toBomDescriptorComponent():
 *   CycloneDX `metadata.component` {type: container, name, version}; ToFormatModel() also adds one
 *   `type: file` component per file it read.
 * The package counts expected here come from what setup.ts wrote into the image.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { toolPath } from '../harness/tools.js';
import { checkInputs } from '../../actions/sbom-attach/src/inputs.js';
import { generateAndAttach, type Deps } from '../../actions/sbom-attach/src/flow.js';
import { checkSubject, parseSbom } from '../../actions/sbom-attach/src/sbom.js';
import { EXPECTED_PACKAGES, hasBuildah, pushTestImage, pushTestIndex, type PushedImage } from './setup.js';

const describeReal = hasRegistry && hasBuildah ? describe : describe.skip;

let registry: Registry;
let work: string;
let a: PushedImage;
let b: PushedImage;

function syft(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(toolPath('syft'), args, {
    env: { PATH: '/usr/bin:/bin', HOME: work, SYFT_CHECK_FOR_APP_UPDATE: 'false', SYFT_REGISTRY_INSECURE_USE_HTTP: 'true', NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!hasRegistry || !hasBuildah) return;
  work = mkdtempSync(join(tmpdir(), 'hallmark-sbom-syft-'));
  registry = await startRegistry();
  a = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
  b = await pushTestImage(registry, 'octo-org/shop', randomBytes(6).toString('hex'));
});

afterAll(async () => {
  await registry?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describeReal('our SBOM reader over real syft output', () => {
  it('an image by digest: both formats count exactly the packages in the image and name its digest', () => {
    const spdxFile = join(work, 'a.spdx.json');
    const cdxFile = join(work, 'a.cdx.json');
    const r = syft(['scan', `registry:${a.ref}`, '-o', `spdx-json=${spdxFile}`, '-o', `cyclonedx-json=${cdxFile}`]);
    expect(r.code, r.stderr).toBe(0);
    const spdx = parseSbom(readFileSync(spdxFile, 'utf8'));
    const cdx = parseSbom(readFileSync(cdxFile, 'utf8'));
    expect(spdx).toMatchObject({
      kind: 'spdx',
      spec: 'SPDX-2.3',
      packages: EXPECTED_PACKAGES.length,
      subjects: [a.digest],
      measured: [a.digest],
      rootName: `${registry.host}/${a.repo}`,
    });
    expect(cdx).toMatchObject({
      kind: 'cyclonedx',
      packages: EXPECTED_PACKAGES.length,
      subjects: [a.digest],
      measured: [],
      rootName: `${registry.host}/${a.repo}`,
    });
    // syft built with `go install` (as the test peers are) has no version: `Tool: syft-[not provided]`.
    expect(spdx.generator?.name).toBe('syft');
    expect(cdx.generator?.name).toBe('syft');
    expect(spdx.licenses.MIT).toBe(2);
    expect(checkSubject(spdx, a.digest)).toBeUndefined();
    expect(checkSubject(cdx, a.digest)).toBeUndefined();
    expect(checkSubject(spdx, b.digest)).toBe(`it describes ${a.digest}, not ${b.digest}`);
    expect(checkSubject(cdx, b.digest)).toBe(`it describes ${a.digest}, not ${b.digest}`);
  });

  it('a multi-platform index: syft echoes the index digest as the version but reads one platform image (its checksum and purl)', async () => {
    const idx = await pushTestIndex(registry, 'octo-org/multi', randomBytes(6).toString('hex'));
    const out = join(work, 'idx.spdx.json');
    const r = syft(['scan', `registry:${idx.ref}`, '--platform', 'linux/amd64', '-o', `spdx-json=${out}`]);
    expect(r.code, r.stderr).toBe(0);
    const info = parseSbom(readFileSync(out, 'utf8'));
    expect(info.measured).toEqual([idx.platforms.amd64]);
    expect(info.subjects.sort()).toEqual([idx.digest, idx.platforms.amd64!].sort());
    // Accepted for the index it was asked about (the flow notes which platform image syft read) …
    expect(checkSubject(info, idx.digest)).toBeUndefined();
    // … and never for the other platform.
    expect(checkSubject(info, idx.platforms.arm64!)).toMatch(/^it describes .*, not sha256:/);
  });

  it('a file source (a go.mod) names no image digest: refused for an image', () => {
    const dir = mkdtempSync(join(work, 'gomod-'));
    writeFileSync(join(dir, 'go.mod'), 'module example.com/app\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n');
    const out = join(work, 'gomod.spdx.json');
    const r = syft(['scan', `file:${join(dir, 'go.mod')}`, '-o', `spdx-json=${out}`]);
    expect(r.code, r.stderr).toBe(0);
    const info = parseSbom(readFileSync(out, 'utf8'));
    expect(info.subjects).toEqual([]);
    expect(checkSubject(info, a.digest)).toMatch(/names no image digest, so nothing shows it describes/);
  });

  it('a failing syft says why (no --quiet): a digest the registry does not hold', () => {
    const missing = `${registry.host}/octo-org/shop@sha256:${'0'.repeat(64)}`;
    const r = syft(['scan', `registry:${missing}`, '-o', `spdx-json=${join(work, 'x.json')}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MANIFEST_UNKNOWN/);
    expect(r.stderr).not.toMatch(/\x1b\[/);
    expect(syft(['scan', `registry:${missing}`, '-o', `spdx-json=${join(work, 'x.json')}`, '--quiet']).stderr).toBe('');
  });

  it('the flow: real syft describing another image than the one asked is bad-sbom, nothing uploaded or attached', async () => {
    // Fault injection at the exec boundary: the action asks for image b, syft is pointed at image a.
    const cfg = checkInputs(
      {
        image: b.ref,
        path: '',
        formats: ['spdx-json', 'cyclonedx-json'],
        generator: 'syft',
        service: '',
        artifactName: '',
        upload: true,
        retentionDays: 30,
        attach: 'referrer',
        signBlob: false,
        cosignKeyGiven: false,
        oidcAvailable: false,
        registryUsername: '',
        registryPasswordGiven: false,
        registryInsecure: true,
        outputDir: '',
        tlog: true,
        signingConfig: '',
        trustedRoot: '',
      },
      { sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d', repository: 'octo-org/shop' },
    );
    let uploads = 0;
    let requests = 0;
    const deps: Deps = {
      exec: async (tool, args, o) => {
        const swapped = args.map((x) => (x === `registry:${b.ref}` ? `registry:${a.ref}` : x));
        const r = spawnSync(toolPath(tool as 'syft'), swapped, {
          env: { PATH: '/usr/bin:/bin', HOME: work, ...(o.env as Record<string, string>) },
          encoding: 'utf8',
          timeout: 120_000,
        });
        return { exitCode: r.status ?? 1, stdout: r.stdout, stderr: r.stderr, timedOut: false };
      },
      upload: async () => {
        uploads++;
        return {};
      },
      transport: async () => {
        requests++;
        return { status: 500, headers: {}, body: Buffer.alloc(0) };
      },
      mask: () => {},
      info: () => {},
      warn: () => {},
      printUntrusted: () => {},
      oneLine: (t) => t.replace(/\s+/g, ' '),
      displayCommand: (t, a2) => [t, ...a2].join(' '),
      lookupEnv: () => undefined,
      tempDir: work,
      outputDir: mkdtempSync(join(work, 'out-')),
    };
    const r = await generateAndAttach(cfg, { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps);
    expect(r.failure).toEqual({
      reason: 'bad-sbom',
      message: `the spdx-json SBOM does not describe the image: it describes ${a.digest}, not ${b.digest}`,
    });
    expect(uploads).toBe(0);
    expect(requests).toBe(0);
    expect(r.attached).toBe('none');
  });
});
