/** setup-tools' inputs: `tools` (names, versions, duplicates), the platform check, `mirror`. */
import { describe, expect, it } from 'vitest';
import type { UserError } from '@hallmark/kit';
import { checkPlatform, parseMirror, parseTools } from '../../actions/setup-tools/src/inputs.js';

function thrown(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    return e as UserError;
  }
  throw new Error('did not throw');
}

describe('tools input', () => {
  it('bare names take the catalog default; name@version and a leading v are accepted', () => {
    expect(parseTools(['cosign', 'trivy@0.69.3', 'kubectl@v1.35.7', 'terraform@1.16.0-rc2'])).toEqual([
      { tool: 'cosign', version: '3.1.2', pinned: false },
      { tool: 'trivy', version: '0.69.3', pinned: true },
      { tool: 'kubectl', version: '1.35.7', pinned: true },
      { tool: 'terraform', version: '1.16.0-rc2', pinned: true },
    ]);
  });

  it('an explicit version overrides a bare name in either order; the same version twice is one tool', () => {
    expect(parseTools(['cosign', 'cosign@2.6.4'])).toEqual([{ tool: 'cosign', version: '2.6.4', pinned: true }]);
    expect(parseTools(['cosign@2.6.4', 'cosign'])).toEqual([{ tool: 'cosign', version: '2.6.4', pinned: true }]);
    expect(parseTools(['helm@3.21.4', 'helm@v3.21.4'])).toEqual([{ tool: 'helm', version: '3.21.4', pinned: true }]);
  });

  it('two different explicit versions of one tool are an input error', () => {
    const e = thrown(() => parseTools(['cosign@2.6.4', 'cosign@3.1.2']));
    expect(e.reason).toBe('invalid-input');
    expect(e.message).toBe("input 'tools' asks for cosign twice with different versions (2.6.4 and 3.1.2): name each tool once");
  });

  it.each([
    ['rm -rf /', 'names an unknown tool "rm -rf /"'],
    ['kubeclt', 'names an unknown tool "kubeclt": accepted are cosign, helm, kubectl, kyverno, syft, terraform, trivy'],
    ['@1.2.3', 'names an unknown tool "@1.2.3"'],
    ['trivy@latest', 'has a malformed version in "trivy@latest": expected trivy@X.Y.Z'],
    ['trivy@0.74', 'has a malformed version in "trivy@0.74"'],
    ['trivy@^0.74.0', 'has a malformed version in "trivy@^0.74.0"'],
    ['trivy@', 'has a malformed version in "trivy@"'],
    ['trivy@0.69.4', 'asks for trivy@0.69.4: trivy 0.69.4 was a malicious release'],
    ['trivy@v0.45.0', 'asks for trivy@0.45.0: trivy 0.45.0 is refused: the releases v0.27.0–v0.69.1 were deleted'],
  ])('%s → one-line input error', (item, message) => {
    const e = thrown(() => parseTools(['cosign', item]));
    expect(e.reason).toBe('invalid-input');
    expect(e.message.startsWith(`input 'tools' ${message}`)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  it('an empty list is an input error', () => {
    expect(thrown(() => parseTools([])).message).toMatch(/^input 'tools' is required: a comma- or newline-separated list of cosign, helm/);
  });

  it('unsupported platform: names the runner and lists what is supported', () => {
    const wanted = parseTools(['cosign']);
    const e = thrown(() => checkPlatform(wanted, undefined, 'win32/arm64'));
    expect(e.reason).toBe('unsupported-platform');
    expect(e.message).toBe(
      'this runner is win32/arm64; setup-tools installs on linux/x64, linux/arm64, darwin/x64, darwin/arm64, windows/x64',
    );
    const tf = thrown(() => checkPlatform(parseTools(['terraform@0.15.5']), { os: 'darwin', arch: 'arm64' }, 'darwin/arm64'));
    expect(tf.message).toMatch(/^terraform has no darwin\/arm64 build before 1\.0\.2 \(asked for 0\.15\.5\)/);
  });
});

describe('mirror input', () => {
  it('accepts http(s) base URLs, drops trailing slashes, flags plain http off loopback', () => {
    expect(parseMirror('')).toEqual({ base: '', plainHttp: false });
    expect(parseMirror('https://ghes.example/mirror/tools//')).toEqual({ base: 'https://ghes.example/mirror/tools', plainHttp: false });
    expect(parseMirror('http://127.0.0.1:8080/')).toEqual({ base: 'http://127.0.0.1:8080', plainHttp: false });
    expect(parseMirror('http://mirror.corp/tools')).toEqual({ base: 'http://mirror.corp/tools', plainHttp: true });
  });
  it.each([
    ['ftp://mirror/tools', /got a ftp URL/],
    ['mirror.corp/tools', /must be an http\(s\) base URL/],
    ['https://u:p@mirror.corp', /must not carry credentials/],
    ['https://mirror.corp/t?token=x', /without a query or fragment/],
  ])('%s is refused', (v, m) => {
    const e = thrown(() => parseMirror(v));
    expect(e.reason).toBe('invalid-input');
    expect(e.message).toMatch(/^input 'mirror' /);
    expect(e.message).toMatch(m);
    expect(e.message).not.toContain('u:p');
  });
});
