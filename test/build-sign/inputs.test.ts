/**
 * build-sign's inputs (actions/build-sign/src/inputs.ts) as plain data: tags and digests, platforms,
 * build args, loopback-only plain HTTP, keys next to keyless, the Sigstore files and the policy kind.
 * The same rules through the bundle: inputs.bundle.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UserError } from '@hallmark/kit';
import { isLoopbackRegistry } from '@hallmark/oci';
import { checkInputs, checkSigstoreFiles, defaultTags, parseBuildArgs } from '../../actions/build-sign/src/inputs.js';
import { cleanupTracked, trackedDir } from '../harness/tracked.js';
import { D, SHA, raw } from './raw-inputs.js';

afterAll(() => cleanupTracked());

describe('input rules', () => {
  it('defaults the tag to sha-<short sha> and keeps the image a bare repository', () => {
    const c = checkInputs(raw(), { sha: SHA });
    expect(c.tags).toEqual(['sha-4f1c6b9']);
    expect(c.image).toEqual({ registry: 'ghcr.io', repository: 'octo-org/shop' });
    expect(defaultTags('not-a-sha')).toEqual([]);
  });
  it('accepts metadata-action style full references of the same repository, deduplicated', () => {
    const c = checkInputs(raw({ tags: ['ghcr.io/octo-org/shop:v1', 'v1', 'sha-abc'], tagsGiven: true }), { sha: SHA });
    expect(c.tags).toEqual(['v1', 'sha-abc']);
  });
  it('refuses latest in any case unless allowed, with its own failure reason', () => {
    for (const t of ['latest', 'LATEST', 'ghcr.io/octo-org/shop:latest']) {
      let err: unknown;
      try {
        checkInputs(raw({ tags: [t], tagsGiven: true }), { sha: SHA });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).reason).toBe('latest-refused');
    }
    expect(checkInputs(raw({ tags: ['latest'], tagsGiven: true, allowLatest: true }), { sha: SHA }).tags).toEqual(['latest']);
  });
  it('takes a digest alone or as image@digest, and only sha256 with 64 hex', () => {
    expect(checkInputs(raw({ digest: D }), { sha: SHA }).digest).toBe(D);
    expect(checkInputs(raw({ digest: `ghcr.io/octo-org/shop@${D}` }), { sha: SHA }).digest).toBe(D);
    for (const bad of [D.slice(0, -1), `${D}0`, D.toUpperCase(), D.replace('sha256', 'sha512'), D.slice(7)]) {
      expect(() => checkInputs(raw({ digest: bad }), { sha: SHA })).toThrow(InputError);
    }
  });
  it('accepts os/arch[/variant] platforms only', () => {
    expect(checkInputs(raw({ platforms: ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7'] }), { sha: SHA }).platforms).toHaveLength(3);
    for (const bad of ['linux', 'linux/amd64/v8/x', 'Linux/AMD64', 'linux/amd64 ', '../etc']) {
      expect(() => checkInputs(raw({ platforms: [bad] }), { sha: SHA }), bad).toThrow(/platforms/);
    }
  });
  it('parses KEY=VALUE build args (values keep = and commas), refusing duplicates and bad keys', () => {
    expect(parseBuildArgs('A=1\n# c\n\nB=x=y,z\n')).toEqual([
      ['A', '1'],
      ['B', 'x=y,z'],
    ]);
    expect(() => parseBuildArgs('A=1\nA=2')).toThrow(/twice/);
    expect(() => parseBuildArgs('1A=1')).toThrow(/KEY=VALUE/);
  });
  it('allows plain HTTP only to loopback registries', () => {
    expect(isLoopbackRegistry('127.0.0.1:5000')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('127.0.0.1.evil.com')).toBe(false);
    expect(isLoopbackRegistry('ghcr.io')).toBe(false);
  });
});

describe('inputs a reusable workflow passes through', () => {
  it('a cosign-key next to sign: keyless is ignored with a warning, not an error', () => {
    const c = checkInputs(raw({ sign: 'keyless', cosignKeyGiven: true }), { sha: SHA });
    expect(c.warnings).toEqual([expect.stringContaining("'cosign-key' is set but sign is 'keyless'")]);
  });
});

describe('the new inputs: tlog, signing-config, trusted-root, policy-kind', () => {
  it('keyless with tlog false is refused, naming tlog', () => {
    expect(() => checkInputs(raw({ tlog: false }), { sha: SHA })).toThrow(/input 'tlog' may only be false with sign: key/);
    expect(checkInputs(raw({ sign: 'key', cosignKeyGiven: true, tlog: false }), { sha: SHA }).tlog).toBe(false);
  });
  it('paths resolve against the workspace; the files must exist and be what they claim', () => {
    const ws = trackedDir('hallmark-sigfiles-');
    const c = checkInputs(
      raw({ sign: 'key', cosignKeyGiven: true, tlog: false, signingConfig: 'sigstore/sc.json', trustedRoot: `${ws}/tr.json` }),
      { sha: SHA, workspace: ws },
    );
    expect(c.signingConfig).toBe(`${ws}/sigstore/sc.json`);
    expect(c.trustedRoot).toBe(`${ws}/tr.json`);
    const files: Record<string, string> = {};
    const read = (p: string) => files[p];
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'signing-config' must name an existing file/);
    files[`${ws}/sigstore/sc.json`] = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      rekorTlogUrls: [{ url: 'https://rekor.internal' }],
    });
    expect(() => checkSigstoreFiles(c, read)).toThrow(
      /input 'signing-config' names a transparency log \(https:\/\/rekor\.internal\) but tlog is false/,
    );
    files[`${ws}/sigstore/sc.json`] = JSON.stringify({
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      rekorTlogUrls: [],
    });
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'trusted-root' must name an existing file/);
    files[`${ws}/tr.json`] = '{"not":"a root"}';
    expect(() => checkSigstoreFiles(c, read)).toThrow(/input 'trusted-root' is not a Sigstore trusted root/);
    files[`${ws}/tr.json`] = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' });
    expect(checkSigstoreFiles(c, read)).toEqual({});
    const keyless = checkInputs(raw({ signingConfig: '/x/sc.json' }), { sha: SHA });
    expect(
      checkSigstoreFiles(keyless, () =>
        JSON.stringify({
          mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
          rekorTlogUrls: [{ url: 'http://127.0.0.1:9/' }],
        }),
      ),
    ).toEqual({ rekorUrl: 'http://127.0.0.1:9/' });
  });
  it('an unknown policy kind is refused', () => {
    expect(() => checkInputs(raw({ policyKind: 'pod-policy' as never }), { sha: SHA })).toThrow(
      /input 'policy-kind' must be one of cluster-policy, image-validating-policy/,
    );
  });
});
