/**
 * packages/oci/src/ref.ts: image references parsed as the distribution reference grammar reads
 * them (Docker Hub short names, hosts with ports, tag and digest), the digest-only forms the
 * actions sign and deploy, and which registries may be spoken to over plain HTTP.
 */
import { describe, expect, it } from 'vitest';
import { digestRef, formatRef, isDigest, isLoopbackRegistry, isTag, parseImageRef, RefError, referrersTag, repoName } from '@hallmark/oci';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef', () => {
  it('Docker Hub short names get docker.io and library/, as docker pull resolves them', () => {
    expect(parseImageRef('nginx')).toEqual({ registry: 'docker.io', repository: 'library/nginx', tag: undefined, digest: undefined });
    expect(parseImageRef('nginx:1.27')).toMatchObject({ registry: 'docker.io', repository: 'library/nginx', tag: '1.27' });
    expect(parseImageRef('bitnami/redis')).toMatchObject({ registry: 'docker.io', repository: 'bitnami/redis' });
    // An explicit docker.io keeps a one-component name under library/ too.
    expect(parseImageRef('docker.io/alpine').repository).toBe('library/alpine');
  });
  it('the first component is a registry only when it has a dot, a port, is localhost or an IPv6 literal', () => {
    expect(parseImageRef('ghcr.io/octo-org/shop:v1')).toEqual({
      registry: 'ghcr.io',
      repository: 'octo-org/shop',
      tag: 'v1',
      digest: undefined,
    });
    expect(parseImageRef('127.0.0.1:5000/app').registry).toBe('127.0.0.1:5000');
    expect(parseImageRef('localhost/app').registry).toBe('localhost');
    expect(parseImageRef('[::1]:5000/app').registry).toBe('[::1]:5000');
    // `octo-org` has none of those: it is a Docker Hub namespace.
    expect(parseImageRef('octo-org/shop')).toMatchObject({ registry: 'docker.io', repository: 'octo-org/shop' });
  });
  it('a port is not a tag; tag and digest together are both kept', () => {
    expect(parseImageRef('registry.example.com:5000/team/app')).toMatchObject({
      registry: 'registry.example.com:5000',
      repository: 'team/app',
      tag: undefined,
    });
    expect(parseImageRef(`ghcr.io/o/app:v1@${D}`)).toEqual({ registry: 'ghcr.io', repository: 'o/app', tag: 'v1', digest: D });
    expect(parseImageRef(`  ghcr.io/o/app@${D}\n`).digest).toBe(D);
  });
  it('refuses what the grammar refuses, saying which part is wrong', () => {
    const bad: [string, RegExp][] = [
      ['', /empty/],
      ['ghcr.io/o/app name', /whitespace/],
      ['ghcr.io/O/App', /repository "O\/App" is not valid/],
      ['ghcr.io/o/app:-v1', /tag "-v1" is not a valid tag/],
      [`ghcr.io/o/app@sha256:${'A'.repeat(64)}`, /digest must be sha256/],
      ['ghcr.io/o/app@sha512:abc', /digest must be sha256/],
      ['ghcr.io/o//app', /repository/],
      ['bad_host.example.com:99999x/app', /registry host|repository/],
      [`ghcr.io/${'a'.repeat(1030)}`, /longer than 1024/],
    ];
    for (const [ref, why] of bad) {
      expect(() => parseImageRef(ref), ref).toThrow(RefError);
      expect(() => parseImageRef(ref), ref).toThrow(why);
    }
  });
});

describe('the reference forms', () => {
  it('repoName, formatRef and digestRef print what was parsed; digestRef drops the tag', () => {
    const r = parseImageRef(`ghcr.io/o/app:v1@${D}`);
    expect(repoName(r)).toBe('ghcr.io/o/app');
    expect(formatRef(r)).toBe(`ghcr.io/o/app:v1@${D}`);
    expect(digestRef(r, D)).toBe(`ghcr.io/o/app@${D}`);
    expect(formatRef(parseImageRef('nginx'))).toBe('docker.io/library/nginx');
    // A printed reference parses back to the same parts.
    for (const s of ['ghcr.io/o/app:v1', `127.0.0.1:5000/a/b@${D}`, 'docker.io/library/nginx:1.27'])
      expect(parseImageRef(formatRef(parseImageRef(s)))).toEqual(parseImageRef(s));
    expect(() => digestRef(r, 'sha256:abc')).toThrow(RefError);
  });
  it('the referrers tag schema fallback tag is sha256-<hex>', () => {
    expect(referrersTag(D)).toBe(`sha256-${'0123456789abcdef'.repeat(4)}`);
    expect(isTag(referrersTag(D))).toBe(true);
  });
  it('isDigest takes sha256 and 64 lowercase hex only; isTag the 128-character tag grammar', () => {
    expect(isDigest(D)).toBe(true);
    expect(isDigest(D.toUpperCase())).toBe(false);
    expect(isDigest(`${D}0`)).toBe(false);
    expect(isTag('v1.2.3_rc-1')).toBe(true);
    expect(isTag('a'.repeat(128))).toBe(true);
    expect(isTag('a'.repeat(129))).toBe(false);
    expect(isTag('.hidden')).toBe(false);
  });
});

describe('isLoopbackRegistry', () => {
  it('loopback hosts, with or without a port, and nothing else', () => {
    for (const h of ['localhost', 'localhost:5000', '127.0.0.1', '127.0.0.1:5000', '127.10.20.30:443', '[::1]', '[::1]:5000'])
      expect(isLoopbackRegistry(h), h).toBe(true);
    for (const h of [
      'ghcr.io',
      '10.0.0.1:5000',
      '128.0.0.1',
      'localhost.example.com',
      '127.0.0.1.nip.io',
      'localhostx:5000',
      '[::2]:5000',
      '127.0.0.1.evil.com:5000',
      '0.0.0.0:5000',
    ]) {
      expect(isLoopbackRegistry(h), h).toBe(false);
    }
  });
});
