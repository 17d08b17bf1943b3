/**
 * ignore.ts: .trivyignore and .trivyignore.yaml as Trivy reads them: refusals naming where,
 * expiry, doublestar globs, purls.
 */
import { describe, expect, it } from 'vitest';
import {
  globToRegExp,
  IgnoreFileError,
  matchIgnore,
  parseIgnoreFile,
  parsePurl,
  purlMatches,
} from '../../actions/trivy-gate/src/ignore.js';
import type { Finding } from '../../actions/trivy-gate/src/trivy-report.js';

describe('ignore files', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const refused: [string, string, string, RegExp][] = [
    ['bad YAML', 'i.yaml', 'vulnerabilities: [\n', /not valid YAML/],
    ['unknown section (typo)', 'i.yaml', 'vulnerability:\n  - id: CVE-1\n', /unknown section 'vulnerability'/],
    ['unknown entry key', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    expires: 2020-01-01\n', /unknown key 'expires'/],
    [
      'bad expired_at',
      'i.yaml',
      'vulnerabilities:\n  - id: CVE-1\n    expired_at: next week\n',
      /vulnerabilities\[0\] \(CVE-1\): expiry date/,
    ],
    ['empty entry', 'i.yaml', 'secrets:\n  - statement: all of them\n', /empty entry would ignore everything/],
    ['bad purl', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    purls: ["musl"]\n', /not a package URL/],
    ['purls outside vulnerabilities', 'i.yaml', 'secrets:\n  - id: x\n    purls: ["pkg:npm/x"]\n', /vulnerabilities only/],
    ['bad glob', 'i.yaml', 'vulnerabilities:\n  - id: CVE-1\n    paths: ["a/[b"]\n', /unclosed \[/],
    ['plain file with a bad exp date', '.trivyignore', 'CVE-1\nCVE-2 exp:2024-13-45x\n', /line 2 \(CVE-2\): expiry date/],
    ['not a mapping', 'i.yml', '- CVE-1\n', /must be a mapping/],
  ];
  it.each(refused)('refuses %s, naming where', (_n, file, text, re) => {
    expect(() => parseIgnoreFile(text, file, now)).toThrow(IgnoreFileError);
    expect(() => parseIgnoreFile(text, file, now)).toThrow(re);
  });

  it('reads expired_at as a date or an RFC 3339 time', () => {
    const cfg = parseIgnoreFile(
      'vulnerabilities:\n  - id: A\n    expired_at: 2026-11-30\n  - id: B\n    expired_at: 2026-11-30T13:00:00Z\n  - id: C\n    expired_at: 2027-01-01\n',
      'i.yaml',
      now,
    );
    expect(cfg.expired.map((e) => e.id)).toEqual(['A']);
    expect(cfg.active.map((e) => e.id)).toEqual(['B', 'C']);
  });

  it('globs follow doublestar', () => {
    const t = (p: string, s: string) => globToRegExp(p).test(s);
    expect(t('**/x.txt', 'x.txt')).toBe(true);
    expect(t('**/x.txt', 'a/b/x.txt')).toBe(true);
    expect(t('a/**', 'a/b/c')).toBe(true);
    expect(t('a/*', 'a/b/c')).toBe(false);
    expect(t('a/*/c', 'a/b/c')).toBe(true);
    expect(t('usr/lib/*.{so,a}', 'usr/lib/x.so')).toBe(true);
    expect(t('usr/lib/*.{so,a}', 'usr/lib/x.sox')).toBe(false);
    expect(t('file?.txt', 'file1.txt')).toBe(true);
    expect(t('[!a]bc', 'xbc')).toBe(true);
    expect(t('[!a]bc', 'abc')).toBe(false);
    expect(t('a.b', 'axb')).toBe(false);
  });

  it('purls parse and match as Trivy does', () => {
    const p = parsePurl('pkg:npm/%40angular/core@1.2.3?arch=x&distro=y#sub/path');
    expect(p).toEqual({
      type: 'npm',
      namespace: '@angular',
      name: 'core',
      version: '1.2.3',
      qualifiers: { arch: 'x', distro: 'y' },
      subpath: 'sub/path',
    });
    const target = parsePurl('pkg:deb/debian/libssl1.1@1.1.1n-0?arch=amd64&distro=debian-11') as NonNullable<ReturnType<typeof parsePurl>>;
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1') as never, target)).toBe(true);
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1?distro=debian-11') as never, target)).toBe(true);
    expect(purlMatches(parsePurl('pkg:deb/debian/libssl1.1?distro=debian-12') as never, target)).toBe(false);
    expect(purlMatches(parsePurl('pkg:deb/ubuntu/libssl1.1') as never, target)).toBe(false);
  });

  it('matches a vulnerability by its package path too', () => {
    const cfg = parseIgnoreFile('vulnerabilities:\n  - id: CVE-7\n    paths: ["app/node_modules/**"]\n', 'i.yaml', now);
    const f: Finding = {
      kind: 'vulnerability',
      id: 'CVE-7',
      severity: 'HIGH',
      target: 'Node.js',
      pkgPath: 'app/node_modules/lodash/package.json',
    };
    expect(matchIgnore(cfg, f)?.id).toBe('CVE-7');
    expect(matchIgnore(cfg, { ...f, pkgPath: 'other/package.json' })).toBeUndefined();
  });
});
