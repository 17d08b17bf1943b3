/**
 * sarif.ts: SARIF locations and the driver version, as Trivy v0.74.0 pkg/report/sarif.go writes them.
 */
import { describe, expect, it } from 'vitest';
import { driverVersion, pathUri } from '../../actions/trivy-gate/src/sarif.js';
import type { Finding } from '../../actions/trivy-gate/src/trivy-report.js';

describe('SARIF locations (Trivy v0.74.0 pkg/report/sarif.go ToPathUri, then a relative URI reference)', () => {
  const img = { artifactType: 'container_image' };
  const os = (target: string): Finding => ({ kind: 'vulnerability', id: 'CVE-1', severity: 'HIGH', target, resultClass: 'os-pkgs' });
  it('an OS-package result of an image is the repository path, whatever the registry form', () => {
    expect(pathUri(os(`127.0.0.1:5000/octo-org/shop@sha256:${'a'.repeat(64)} (alpine 3.17.3)`), img)).toBe('octo-org/shop');
    expect(pathUri(os('localhost:5000/shop:v1 (alpine 3.17.3)'), img)).toBe('shop');
    expect(pathUri(os('alpine:3.10 (alpine 3.10.9)'), img)).toBe('library/alpine');
    expect(pathUri(os('ghcr.io/octo-org/app:1.2 (debian 12.5)'), img)).toBe('octo-org/app');
    // Never the reference itself: `alpine:3.10` with a uriBaseId reads as an absolute URI (SARIF1004).
    expect(pathUri(os('alpine:3.10 (alpine 3.10.9)'), img)).not.toContain(':');
  });
  it('other classes keep their file target; PkgPath wins; unsafe characters are percent-encoded', () => {
    expect(
      pathUri(
        { kind: 'vulnerability', target: 'Node.js', resultClass: 'lang-pkgs', pkgPath: 'usr/lib/node_modules/@npmcli/x/package.json' },
        img,
      ),
    ).toBe('usr/lib/node_modules/@npmcli/x/package.json');
    expect(pathUri({ kind: 'secret', target: '/app/my secrets/.env', resultClass: 'secret' }, img)).toBe('app/my%20secrets/.env');
    expect(
      pathUri({ kind: 'misconfiguration', target: 'c:\\infra\\Dockerfile', resultClass: 'config' }, { artifactType: 'filesystem' }),
    ).toBe('c%3A/infra/Dockerfile');
    expect(
      pathUri(
        { kind: 'misconfiguration', target: 'git::https://example.com/vpc.git/main.tf', resultClass: 'config' },
        { artifactType: 'filesystem' },
      ),
    ).toBe('example.com/vpc/main.tf');
    expect(
      pathUri({ kind: 'misconfiguration', target: 'Dockerfile', resultClass: 'config' }, { artifactType: 'filesystem' }, 'infra'),
    ).toBe('infra/Dockerfile');
    expect(pathUri({ kind: 'misconfiguration', target: '', resultClass: 'config' }, { artifactType: 'filesystem' })).toBe('unknown');
  });
  it('a tool version that is not a number becomes a 0.0.0 pre-release (SARIF2005), keeping what Trivy said', () => {
    expect(driverVersion('0.74.0')).toEqual({ version: '0.74.0' });
    expect(driverVersion('dev')).toEqual({ version: '0.0.0-dev', properties: { reportedVersion: 'dev' } });
    expect(driverVersion('')).toEqual({ version: '0.0.0-unknown' });
  });
});
