/**
 * `npm run lint` enforces the boundary of domain code (CONTRIBUTING.md, "Boundaries"): planted
 * violations in a temporary copy of the lint configuration (never in the real action files) must be
 * reported by the same Biome command the `lint` script runs, with a non-zero exit; the same code in
 * the runner layer (an action's main.ts or runner.ts, the kit's runner/, the audit CLI) must pass.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';

const BIOME = join(ROOT, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');

/** The `lint` script's arguments (after `biome`), as package.json has them. */
function lintArgs(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.lint ?? '';
  const words = script.split(/\s+/).filter(Boolean);
  expect(words[0], `package.json scripts.lint is "${script}"`).toBe('biome');
  return words.slice(1);
}

interface Finding {
  path: string;
  line: number;
  category: string;
}

// Each planted file is formatted as the formatter wants it, so the only findings are the planted ones.
const VIOLATIONS: Record<string, string> = {
  core: "import * as core from '@actions/core';\n\nexport const f = (): void => core.info('x');\n",
  lazy: "export async function f(): Promise<unknown> {\n  return await import('@actions/artifact');\n}\n",
  child: "import { spawnSync } from 'node:child_process';\n\nexport const f = (): unknown => spawnSync('true');\n",
  kitRunner: "import { run } from '@hallmark/kit/runner';\n\nexport const f = run;\n",
  env: 'export const os = (): string | undefined => process.env.RUNNER_OS;\n',
  destructured: 'const { env } = process;\n\nexport const os = (): string | undefined => env.RUNNER_OS;\n',
  localRunner: "import { deps } from './runner.js';\n\nexport const f = deps;\n",
};
const CLEAN = "import { oneLine } from '@hallmark/kit';\n\nexport const f = (s: string): string => oneLine(s);\n";

describe('npm run lint: the boundary of domain code', () => {
  let dir = '';
  let findings: Finding[] = [];
  let code = 0;
  let output = '';

  function plant(rel: string, text: string): void {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hallmark-lint-'));
    copyFileSync(join(ROOT, 'biome.json'), join(dir, 'biome.json'));
    copyFileSync(join(ROOT, '.gitignore'), join(dir, '.gitignore'));
    for (const [k, text] of Object.entries(VIOLATIONS)) {
      plant(`actions/demo/src/${k}.ts`, text); // domain: every one must be reported
      plant(`actions/demo/src/trust/${k}.ts`, text); // domain, one level down
      plant(`packages/oci/src/${k}.ts`, text);
      plant(`packages/audit/src/${k}.ts`, text);
      plant(`packages/kit/src/${k}.ts`, text);
    }
    plant(
      'actions/demo/src/main.ts',
      Object.values(VIOLATIONS)
        .join('\n')
        .replace(/export const (f|os) /g, (_m, n, i) => `export const ${n}${i} `),
    );
    plant('actions/other/src/runner.ts', [VIOLATIONS.core, VIOLATIONS.child?.replace('const f', 'const g')].join('\n'));
    plant('actions/other/src/main.ts', VIOLATIONS.localRunner ?? '');
    plant('packages/kit/src/runner/exec.ts', VIOLATIONS.child ?? '');
    plant('packages/audit/src/cli.ts', VIOLATIONS.env ?? '');
    plant('actions/clean/src/flow.ts', CLEAN);
    const r = spawnSync(process.execPath, [BIOME, ...lintArgs().filter((a) => a !== '.'), '--reporter=json', '.'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    code = r.status ?? -1;
    output = `${r.stdout}\n${r.stderr}`;
    const json = JSON.parse(r.stdout) as {
      diagnostics: Array<{ category?: string; location?: { path?: string; start?: { line?: number } } }>;
    };
    findings = json.diagnostics.map((d) => ({
      path: d.location?.path ?? '',
      line: d.location?.start?.line ?? 0,
      category: d.category ?? '',
    }));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const boundary = (path: string) =>
    findings.filter((f) => f.path === path && /^lint\/style\/(noRestrictedImports|noProcessEnv|noRestrictedGlobals)$/.test(f.category));

  it('fails (non-zero exit) when a domain file breaks the boundary', () => {
    expect(code, output.slice(0, 2000)).not.toBe(0);
  });

  describe.each(['actions/demo/src', 'actions/demo/src/trust', 'packages/oci/src', 'packages/audit/src', 'packages/kit/src'])(
    '%s',
    (base) => {
      it.each(Object.keys(VIOLATIONS))('reports %s', (k) => {
        expect(boundary(`${base}/${k}.ts`).length, output.slice(0, 1500)).toBeGreaterThan(0);
      });
    },
  );

  it('lets the runner layer do it: main.ts, runner.ts, main.ts importing ./runner.js, the kit runner/, the audit CLI', () => {
    for (const p of [
      'actions/demo/src/main.ts',
      'actions/other/src/runner.ts',
      'actions/other/src/main.ts',
      'packages/kit/src/runner/exec.ts',
      'packages/audit/src/cli.ts',
    ]) {
      expect(boundary(p), p).toEqual([]);
    }
  });

  it('reports nothing at all on a clean, formatted domain file', () => {
    expect(findings.filter((f) => f.path === 'actions/clean/src/flow.ts')).toEqual([]);
  });
});
