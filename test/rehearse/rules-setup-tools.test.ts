/**
 * Rule: setup-tools runs for real in every rehearsal (dist/setup-tools), against the rehearsal's
 * loopback mirror of the real tools, in the vendors' release layout, with verify: checksum (a
 * mirror of our own carries no vendor signatures). The mirror's layout is checked against
 * setup-tools' own catalog, and each job's fresh tool cache makes each job download again.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { plan, TOOL_NAMES, TOOLS } from '../../actions/setup-tools/src/catalog.js';
import { vendorLayout } from '../../packages/rehearse/src/tool-mirror.js';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

describe('the rehearsal mirror', () => {
  it.each(TOOL_NAMES)("serves %s where setup-tools' catalog looks for it", (tool) => {
    const v = TOOLS[tool].defaultVersion;
    const p = plan(tool, v, { os: 'linux', arch: process.arch === 'arm64' ? 'arm64' : 'x64' }, 'http://mirror');
    const l = vendorLayout(tool, v)!;
    expect(p.url).toBe(`http://mirror/${tool}/${v}/${l.asset}`);
    expect(p.checksumUrl).toBe(`http://mirror/${tool}/${v}/${l.checksum}`);
    expect(p.checksumFormat).toBe(l.format === 'hex' ? 'hex' : 'sha256sum');
    expect(p.format).toBe(l.pack);
  });

  it('installs in every job anew (a fresh tool cache per job), with verify: checksum even when the workflow asks for signatures', async () => {
    const job = (id: string) => `  ${id}:
    runs-on: ubuntu-24.04
    steps:
      - id: st
        uses: ./actions/setup-tools
        with:
          tools: helm
          verify: signature
      - id: v
        run: echo "v=$(helm version --template '{{.Version}}')" >> "$GITHUB_OUTPUT"
`;
    const root = repo({ 'w.yml': `on: push\npermissions: {}\njobs:\n${job('one')}${job('two')}` });
    const { record, log } = await run(root, 'w.yml', { env: { PATH: '/usr/bin:/bin' } }, join(root, 'r'));
    expect(record.status, log).toBe('success');
    for (const j of record.jobs) {
      expect(j.steps[0]!.outputs!['cache-hit']).toBe('false');
      expect(j.steps[1]!.outputs).toEqual({ v: 'v4.2.4' });
    }
    expect(log).toContain("verify 'signature' replaced by 'checksum' (the rehearsal's mirror carries no vendor signatures)");
    expect(record.realTools.helm).toMatchObject({ version: '4.2.4' });
  });
});
