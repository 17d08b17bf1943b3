/**
 * Bundle tests run dist/<name>/index.js; the global setup (test/harness/global-setup.ts) makes sure
 * every bundle was built from the source as it is now, by content. After it ran, the stamp it keeps
 * must hold, for every bundle scripts/build.mjs makes, the key of the current sources and the hash of
 * the dist/ bytes on disk — and the key must move when any input moves.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleInputs, bundleKey, bundleTargets } from '../harness/global-setup.js';
import { ROOT } from '../harness/runner.js';

function distHash(name: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) (e.isDirectory() ? walk : (p: string) => files.push(p))(join(d, e.name));
  };
  walk(join(ROOT, 'dist', name));
  const h = createHash('sha256');
  for (const f of files.map((p) => relative(ROOT, p)).sort())
    h.update(`${f}\0`)
      .update(readFileSync(join(ROOT, f)))
      .update('\0');
  return h.digest('hex');
}

describe('bundles follow their source', () => {
  const targets = bundleTargets();

  it('knows every action bundle', () => {
    const actions = readdirSync(join(ROOT, 'actions')).filter((n) => existsSync(join(ROOT, 'actions', n, 'src', 'main.ts')));
    expect(targets).toEqual(expect.arrayContaining(actions));
  });

  it("a bundle's inputs are its own source, every package, the lock file and the build script, and no other action", () => {
    const inputs = bundleInputs('registry-login');
    expect(inputs).toEqual(
      expect.arrayContaining(['actions/registry-login/src/main.ts', 'packages/kit/src/index.ts', 'package-lock.json', 'scripts/build.mjs']),
    );
    expect(inputs.filter((f) => f.startsWith('actions/') && !f.startsWith('actions/registry-login/'))).toEqual([]);
    expect(bundleKey('registry-login')).toMatch(/^[0-9a-f]{64}$/);
    expect(bundleKey('registry-login')).not.toBe(bundleKey('trivy-gate'));
  });

  it('after the global setup, every bundle on disk is the one built from the current source', () => {
    const stamps = JSON.parse(readFileSync(join(ROOT, '.tmp', 'dist-stamps.json'), 'utf8')) as Record<
      string,
      { key: string; dist: string }
    >;
    for (const name of targets) {
      expect(stamps[name]?.key, `${name}: source key`).toBe(bundleKey(name));
      expect(stamps[name]?.dist, `${name}: dist bytes`).toBe(distHash(name));
    }
  });
});
