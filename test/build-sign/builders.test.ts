/**
 * build-sign's builder argument arrays (actions/build-sign/src/builders.ts), checked against the
 * flags of the real CLIs (docker buildx build, docker build, buildah build/push/manifest push), and
 * the digest read from each builder's own report.
 */
import { describe, expect, it } from 'vitest';
import { checkInputs } from '../../actions/build-sign/src/inputs.js';
import { digestFromBuildxMetadata, digestFromDockerPush, digestFromFile, planBuild } from '../../actions/build-sign/src/builders.js';
import { D, D2, SHA, raw } from './raw-inputs.js';

describe('builder argument arrays', () => {
  const cfg = checkInputs(
    raw({ tags: ['sha-4f1c6b9', 'v1'], tagsGiven: true, platforms: ['linux/amd64', 'linux/arm64'], buildArgs: 'A=1' }),
    { sha: SHA },
  );
  // Flags of the real CLIs (docker buildx build / docker build / buildah build, push, manifest push).
  const BUILDX = new Set([
    '--add-host',
    '--allow',
    '--annotation',
    '--attest',
    '--build-arg',
    '--build-context',
    '--builder',
    '--cache-from',
    '--cache-to',
    '--call',
    '--cgroup-parent',
    '--check',
    '--file',
    '-f',
    '--iidfile',
    '--label',
    '--load',
    '--metadata-file',
    '--network',
    '--no-cache',
    '--no-cache-filter',
    '--output',
    '-o',
    '--platform',
    '--progress',
    '--provenance',
    '--pull',
    '--push',
    '--quiet',
    '-q',
    '--sbom',
    '--secret',
    '--shm-size',
    '--ssh',
    '--tag',
    '-t',
    '--target',
    '--ulimit',
  ]);
  const DOCKER_BUILD = new Set([
    '--add-host',
    '--build-arg',
    '--cache-from',
    '--cgroup-parent',
    '--compress',
    '--cpu-period',
    '--cpu-quota',
    '--cpu-shares',
    '--cpuset-cpus',
    '--cpuset-mems',
    '--disable-content-trust',
    '--file',
    '-f',
    '--force-rm',
    '--iidfile',
    '--isolation',
    '--label',
    '--memory',
    '--memory-swap',
    '--network',
    '--no-cache',
    '--platform',
    '--pull',
    '--quiet',
    '--rm',
    '--security-opt',
    '--shm-size',
    '--squash',
    '--tag',
    '-t',
    '--target',
    '--ulimit',
  ]);
  const BUILDAH = new Set([
    '--file',
    '-f',
    '--build-arg',
    '--tag',
    '-t',
    '--platform',
    '--manifest',
    '--tls-verify',
    '--tls-verify=false',
    '--digestfile',
    '--all',
    '--authfile',
    '--format',
    '--layers',
    '--isolation',
    '--label',
    '--target',
    '--annotation',
    '--secret',
    '--cache-from',
    '--cache-to',
  ]);
  const flagsOf = (args: string[]) =>
    args.filter((a) => a.startsWith('-')).map((a) => (a.includes('=') && !a.startsWith('--tls-verify') ? a.slice(0, a.indexOf('=')) : a));

  it('buildx: one command, metadata file, push, all tags and platforms; only real buildx flags', () => {
    const p = planBuild({ ...cfg, builder: 'buildx' }, '/w', 'u', '/ws/Dockerfile');
    expect(p.steps).toHaveLength(1);
    const args = p.steps[0]!.args;
    expect(args.slice(0, 2)).toEqual(['buildx', 'build']);
    // The generated OCI labels/annotations (pinned in build-options.test.ts) left aside here.
    const meta = args.flatMap((a, i) => (a === '--label' || a === '--annotation' ? [i, i + 1] : []));
    expect(meta.length).toBeGreaterThan(0);
    expect(args.filter((_, i) => !meta.includes(i))).toEqual([
      'buildx',
      'build',
      '--file',
      '/ws/Dockerfile',
      '--build-arg',
      'A=1',
      '--tag',
      'ghcr.io/octo-org/shop:sha-4f1c6b9',
      '--tag',
      'ghcr.io/octo-org/shop:v1',
      '--platform',
      'linux/amd64,linux/arm64',
      '--metadata-file',
      '/w/buildx-metadata.json',
      '--push',
      '.',
    ]);
    for (const f of flagsOf(args.slice(2))) expect(BUILDX.has(f), f).toBe(true);
  });
  it('docker: build then one push per tag; only real docker build flags', () => {
    const p = planBuild({ ...cfg, builder: 'docker', platforms: ['linux/amd64'] }, '/w', 'u', '/ws/Dockerfile');
    expect(p.steps.map((s) => s.args[0])).toEqual(['build', 'push', 'push']);
    for (const f of flagsOf(p.steps[0]!.args.slice(1))) expect(DOCKER_BUILD.has(f), f).toBe(true);
    expect(p.steps[2]!.args).toEqual(['push', 'ghcr.io/octo-org/shop:v1']);
  });
  it('buildah: multi-platform builds a manifest list and pushes it --all with a digest file per tag', () => {
    const p = planBuild({ ...cfg, builder: 'buildah' }, '/w', 'u1', '/ws/Containerfile');
    expect(p.steps[0]!.args).toContain('--manifest');
    expect(p.steps[1]!.args).toEqual([
      'manifest',
      'push',
      '--all',
      '--digestfile',
      '/w/digest-0',
      'localhost/hallmark-build-u1:sha-4f1c6b9',
      'docker://ghcr.io/octo-org/shop:sha-4f1c6b9',
    ]);
    for (const s of p.steps) for (const f of flagsOf(s.args)) expect(BUILDAH.has(f), f).toBe(true);
    const single = planBuild({ ...cfg, builder: 'buildah', platforms: [] }, '/w', 'u1', '/ws/Containerfile');
    expect(single.steps[1]!.args[0]).toBe('push');
  });
  it('reads the digest from each builder’s own report', () => {
    expect(digestFromFile(`${D}\n`)).toBe(D);
    expect(digestFromFile('sha256:short')).toBeUndefined();
    const push = `The push refers to repository [ghcr.io/octo-org/shop]\n5f70bf18a086: Pushed\nv1: digest: ${D2} size: 528\nsha-4f1c6b9: digest: ${D} size: 528\n`;
    expect(digestFromDockerPush(push, 'sha-4f1c6b9')).toBe(D);
    expect(digestFromDockerPush(push, 'v1')).toBe(D2);
    expect(digestFromBuildxMetadata(JSON.stringify({ 'containerimage.digest': D, 'image.name': 'x' }))).toBe(D);
    expect(digestFromBuildxMetadata(`{"containerimage.config.digest":"${D}"}`)).toBeUndefined();
  });
});
