/**
 * `npm run tools` (scripts/tools.mjs) builds the real test peers at the versions setup-tools
 * installs by default: its version list is read from the catalog, and each built binary really
 * reports that version when run.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { TOOLS } from '../../actions/setup-tools/src/catalog.js';
import { realTools, toolPath } from '../harness/tools.js';
// @ts-expect-error -- a plain .mjs script without types; its exports are checked by value below
import { catalogVersions, toolSpecs } from '../../scripts/tools.mjs';

const run = (bin: string, args: string[]) =>
  execFileSync(bin, args, {
    encoding: 'utf8',
    env: { ...process.env, HOME: '/nonexistent', CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('npm run tools', () => {
  it("reads every default version from setup-tools' catalog", () => {
    const v = catalogVersions() as Record<string, string>;
    for (const [name, def] of Object.entries(TOOLS)) expect(v[name], name).toBe(def.defaultVersion);
    const specs = toolSpecs() as { name: string; version: string }[];
    for (const n of ['cosign', 'syft', 'trivy', 'helm', 'kyverno'] as const)
      expect(specs.find((s) => s.name === n)?.version, n).toBe(TOOLS[n].defaultVersion);
  });

  it('refuses a catalog without a tool it needs', () => {
    expect(() => toolSpecs({ cosign: '3.1.2' })).toThrow(/no defaultVersion for syft/);
  });

  it('each real binary reports the catalog version', () => {
    expect(run(toolPath('cosign'), ['version', '--json'])).toContain(`"gitVersion": "v${TOOLS.cosign.defaultVersion}"`);
    expect(run(toolPath('cosign2'), ['version', '--json'])).toMatch(/"gitVersion": "v2\.6\.\d+"/);
    expect(run(toolPath('syft'), ['version', '-o', 'json'])).toMatch(
      new RegExp(`"version":\\s*"${TOOLS.syft.defaultVersion.replace(/\./g, '\\.')}"`),
    );
    expect(run(toolPath('trivy'), ['--version'])).toMatch(new RegExp(`Version: ${TOOLS.trivy.defaultVersion.replace(/\./g, '\\.')}`));
    expect(run(toolPath('helm'), ['version', '--template', '{{.Version}}']).trim()).toBe(`v${TOOLS.helm.defaultVersion}`);
    expect(run(toolPath('helm3'), ['version', '--template', '{{.Version}}']).trim()).toMatch(/^v3\.\d+\.\d+$/);
    expect(run(toolPath('kyverno'), ['version'])).toContain(`Version: v${TOOLS.kyverno.defaultVersion}`);
    const tf = run(toolPath('terraform'), ['version', '-json']);
    expect(JSON.parse(tf)).toHaveProperty('terraform_version');
  });

  it('a second run builds nothing and lists every tool once', () => {
    const lines = execFileSync(process.execPath, ['scripts/tools.mjs'], { encoding: 'utf8' }).trim().split('\n');
    const names = lines.map((l) => l.split(' ')[0]);
    expect(names.sort()).toEqual(Object.keys(realTools()).sort());
    for (const l of lines) expect(l).toMatch(/^[a-z0-9]+ \S+ \/\S+$/);
  });
});
