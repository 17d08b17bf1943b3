/**
 * The pure layer (`@hallmark/kit`) loads no runner code: no @actions/*, no node:child_process, no
 * file of packages/kit/src/runner/, and reads no process.env. Checked on the module graph esbuild
 * builds (its metafile), so a pure file that imports a runner one indirectly is caught too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';

const SRC = join(ROOT, 'packages/kit/src');
const PURE = readdirSync(SRC).filter((f) => f.endsWith('.ts') && f !== 'index.ts');

async function graph(contents: string): Promise<Metafile> {
  const r = await build({
    stdin: { contents, resolveDir: SRC, loader: 'ts', sourcefile: 'entry.ts' },
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
    absWorkingDir: ROOT,
    conditions: ['import', 'node'],
  });
  return r.metafile;
}

function loaded(meta: Metafile): { files: string[]; builtins: string[] } {
  const files = Object.keys(meta.inputs);
  const builtins = Object.values(meta.inputs).flatMap((i) => i.imports.filter((x) => x.external).map((x) => x.path));
  return { files, builtins };
}

describe('the pure layer', () => {
  it('every pure module together loads no @actions package, no runner file, no child_process', async () => {
    expect(PURE).toEqual(
      expect.arrayContaining(['errors.ts', 'text.ts', 'secrets.ts', 'summary.ts', 'deps.ts', 'http-error.ts', 'tool.ts']),
    );
    const { files, builtins } = loaded(await graph(PURE.map((f) => `export * from './${f.replace(/\.ts$/, '.js')}';`).join('\n')));
    expect(files.filter((f) => f.includes('packages/kit/src/')).length).toBeGreaterThanOrEqual(PURE.length - 2); // type-only modules vanish
    expect(files.filter((f) => /node_modules\/@actions\//.test(f))).toEqual([]);
    expect(files.filter((f) => f.includes('packages/kit/src/runner/'))).toEqual([]);
    expect(builtins.filter((b) => /child_process/.test(b))).toEqual([]);
  });

  it("the package entry '@hallmark/kit' is the pure layer: no @actions package, no runner file", async () => {
    const { files, builtins } = loaded(await graph("export * from '@hallmark/kit';"));
    expect(files).toContain('packages/kit/src/errors.ts');
    expect(files.filter((f) => /node_modules\/@actions\//.test(f) || f.includes('packages/kit/src/runner/'))).toEqual([]);
    expect(builtins.filter((b) => /child_process/.test(b))).toEqual([]);
  });

  it('the check can fail: the runner layer does load @actions/core', async () => {
    const { files } = loaded(await graph("export * from './runner/index.js';"));
    expect(files.some((f) => /node_modules\/@actions\/core\//.test(f))).toBe(true);
  });

  it('no pure module reads process.env', () => {
    for (const f of [...PURE, 'index.ts']) expect(readFileSync(join(SRC, f), 'utf8'), f).not.toMatch(/process\.env/);
  });
});
