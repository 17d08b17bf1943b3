/** Loads `scenarios/<action>.ts` for each action that has one. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HARDENING } from '../lib.js';
import type { ActionHardening } from './types.js';

export async function loadHardening(actions: readonly string[]): Promise<Map<string, ActionHardening>> {
  const out = new Map<string, ActionHardening>();
  for (const a of actions) {
    const file = join(HARDENING, 'scenarios', `${a}.ts`);
    if (!existsSync(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { default?: ActionHardening };
    if (!mod.default || mod.default.action !== a)
      throw new Error(`test/hardening/scenarios/${a}.ts does not default-export the ActionHardening of ${a}`);
    out.set(a, mod.default);
  }
  return out;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS, hasBundle } from '../lib.js';

/**
 * One describe per action for a suite: skipped with a visible message when the bundle is not
 * built or the real parts it needs are missing; a failing test when an action with a bundle has no
 * scenarios (so a new action cannot silently go untested).
 */
export async function forEachAction(suite: string, body: (h: ActionHardening) => void): Promise<void> {
  const mods = await loadHardening(ACTIONS);
  const only = process.env.HARDENING_ONLY?.split(',');
  for (const a of ACTIONS) {
    if (only && !only.includes(a)) continue;
    if (!hasBundle(a)) {
      console.warn(`hardening ${suite}: SKIPPED ${a}: dist/${a}/index.js is not built`);
      describe.skip(`${suite}: ${a} (SKIPPED: bundle not built)`, () => it.skip('bundle missing', () => undefined));
      continue;
    }
    const h = mods.get(a);
    if (!h) {
      describe(`${suite}: ${a}`, () =>
        it('has hardening scenarios', () => expect.fail(`dist/${a} is built but test/hardening/scenarios/${a}.ts does not exist`)));
      continue;
    }
    const missing = h.missing?.();
    if (missing) {
      console.warn(`hardening ${suite}: SKIPPED ${a}: ${missing}`);
      describe.skip(`${suite}: ${a} (SKIPPED: ${missing})`, () => it.skip(missing, () => undefined));
      continue;
    }
    describe(`${suite}: ${a}`, () => {
      beforeAll(() => h.start(), 120_000);
      afterAll(() => h.stop(), 60_000);
      body(h);
    });
  }
}
