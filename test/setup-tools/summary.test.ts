/** summary.ts: the step summary and the `tools` output. */
import { describe, expect, it } from 'vitest';
import { summaryMarkdown, toolsOutput } from '../../actions/setup-tools/src/summary.js';
describe('summary and outputs', () => {
  it('tools output is keyed by name with version, path and cached', () => {
    expect(
      toolsOutput([{ tool: 'trivy', version: '0.74.0', path: '/c/trivy', binary: 'trivy', cached: true, source: 'tool cache' }]),
    ).toEqual({ trivy: { version: '0.74.0', path: '/c/trivy', cached: true } });
  });
  it('the summary escapes untrusted failure text', () => {
    const md = summaryMarkdown(
      [],
      [{ tool: 'syft', version: '1.51.0', reason: 'download-failed', message: 'x <img src=x> [a](http://e)' }],
      { platform: 'linux/x64', mirror: '', useCache: true },
    );
    expect(md).not.toContain('<img');
    expect(md).not.toContain('](http');
    expect(md).toContain('1 of 1 tools failed; none was added to PATH');
  });
  it('the summary names the verified signer (escaped), or says the signature was not checked and why', () => {
    const base = {
      version: '1',
      path: '/p',
      binary: 'x',
      cached: false,
      sha256: 'a'.repeat(64),
      asset: 'x.tgz',
      checksumName: 'sums',
      bytes: 1,
      source: 'download',
    };
    const md = summaryMarkdown(
      [
        {
          ...base,
          tool: 'trivy',
          verified: {
            by: 'signature',
            scheme: 'sigstore-bundle',
            signer: 'https://github.com/a/b/.github/workflows/r.yaml@refs/tags/v1 <b>x</b> | y',
            file: 'sums.sigstore.json',
          },
        },
        { ...base, tool: 'kubectl', verified: { by: 'checksum', why: 'kubectl publishes no signature for 1' } },
      ],
      [],
      { platform: 'linux/x64', mirror: '', useCache: true },
    );
    expect(md).toContain('| Tool | Version | Source | SHA-256 verified | Vendor signature |');
    expect(md).toMatch(/✅ `sums\.sigstore\.json` by https:\/\/github\.com\/a\/b\/\.github\/workflows\/r\.yaml@refs\/tags\/v1/);
    expect(md).not.toContain('<b>');
    expect(
      md
        .split('\n')
        .find((l) => l.includes('trivy'))
        ?.split(/(?<!\\)\|/).length,
    ).toBe(7);
    expect(md).toContain('⚠️ not checked: kubectl publishes no signature for 1');
  });
});
