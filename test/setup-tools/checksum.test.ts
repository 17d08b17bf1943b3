/** checksum.ts: the vendors' checksum file formats, read exactly. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectedSha256 } from '../../actions/setup-tools/src/checksum.js';

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

describe('checksum files', () => {
  const a = hex('a');
  const b = hex('b');
  it('goreleaser / SHA256SUMS lists: the exact file name, not a prefix or suffix', () => {
    const text = `${b}  trivy_0.74.0_Linux-64bit.tar.gz.sig\n${a}  trivy_0.74.0_Linux-64bit.tar.gz\n${b}  trivy_0.74.0_Linux-64bit.deb\n`;
    expect(expectedSha256(text, 'sha256sum', 'trivy_0.74.0_Linux-64bit.tar.gz')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(text, 'sha256sum', 'Linux-64bit.tar.gz')).toEqual({ ok: false, problem: 'has no entry for Linux-64bit.tar.gz' });
  });
  it('reads binary-mode `*name`, upper-case hex and CRLF', () => {
    expect(expectedSha256(`${a.toUpperCase()} *cosign-linux-amd64\r\n`, 'sha256sum', 'cosign-linux-amd64')).toEqual({
      ok: true,
      sha256: a,
    });
  });
  it('refuses a list naming the asset twice with different hashes', () => {
    expect(expectedSha256(`${a}  x.zip\n${b}  x.zip\n`, 'sha256sum', 'x.zip').ok).toBe(false);
  });
  it('hash-only files (kubectl, helm .sha256), with or without a newline; a name, if present, must match', () => {
    expect(expectedSha256(a, 'hex', 'kubectl')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(`${a}\n`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(`${a}  helm-v4.2.4-linux-amd64.tar.gz`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz')).toEqual({
      ok: true,
      sha256: a,
    });
    expect(expectedSha256(`${a}  helm-v4.2.4-linux-arm64.tar.gz`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz').ok).toBe(false);
    expect(expectedSha256('<html>404</html>', 'hex', 'kubectl')).toEqual({ ok: false, problem: 'is not a single SHA-256 hash' });
    expect(expectedSha256('', 'hex', 'kubectl').ok).toBe(false);
  });
});
