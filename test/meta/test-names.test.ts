/**
 * Tests follow the source (CONTRIBUTING.md, Tests): a test file is named after the module or the
 * behaviour it tests — `test/<action>/<module>.test.ts`, `*.bundle.test.ts` for runs of the bundle —
 * never a catch-all (`unit.test.ts`, `bundle.test.ts` …), and every action has bundle tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';

const GENERIC = /^(unit|bundle|misc|tests?|all|index|main|spec|other)(\.bundle)?\.test\.ts$/;

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(relative(ROOT, p));
  }
  return out.sort();
}

describe('test file names', () => {
  const files = testFiles(join(ROOT, 'test'));

  it('finds the test files', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('no catch-all names: each file is named after a module or a behaviour', () => {
    expect(files.filter((f) => GENERIC.test(f.split('/').pop() ?? ''))).toEqual([]);
    expect(GENERIC.test('unit.test.ts') && GENERIC.test('bundle.test.ts') && !GENERIC.test('inputs.test.ts')).toBe(true);
  });

  it('every action has bundle tests (*.bundle.test.ts running dist/<name>)', () => {
    const actions = readdirSync(join(ROOT, 'actions')).filter((n) => existsSync(join(ROOT, 'actions', n, 'src', 'main.ts')));
    const bundleTexts = files.filter((f) => f.endsWith('.bundle.test.ts')).map((f) => readFileSync(join(ROOT, f), 'utf8'));
    const without = actions.filter((a) => !bundleTexts.some((t) => t.includes(`'${a}'`) || t.includes(`"${a}"`)));
    expect(without).toEqual([]);
  });
});
