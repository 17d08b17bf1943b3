/**
 * The recorded upstream outputs in ../shared/fixtures (read-only, beside the checkout, never
 * copied into the repo). Tests that need them use `describeFixtures`, which skips with a clear
 * message when the directory is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'vitest';
import { ROOT } from './runner.js';

export const FIXTURES = process.env.HALLMARK_FIXTURES ? resolve(process.env.HALLMARK_FIXTURES) : resolve(ROOT, '..', 'shared', 'fixtures');
export const hasFixtures = existsSync(FIXTURES);

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function fixtureText(...parts: string[]): string {
  return readFileSync(fixturePath(...parts), 'utf8');
}

export function fixtureJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(fixtureText(...parts)) as T;
}

export function fixtureFiles(dir: string, ext = ''): string[] {
  if (!hasFixtures) return [];
  return readdirSync(fixturePath(dir))
    .filter((f) => f.endsWith(ext))
    .sort();
}

/** `describe` when ../shared/fixtures exists; otherwise a skipped block whose name says why. */
export const describeFixtures: typeof describe = hasFixtures
  ? describe
  : (Object.assign(
      // The block's body is not run: it may read fixtures while vitest collects it, and they are absent.
      (name: string) =>
        describe.skip(`${name} (skipped: ../shared/fixtures not found beside the checkout)`, () => {
          it.skip('needs ../shared/fixtures', () => undefined);
        }),
      { each: describe.skip.each, skip: describe.skip, only: describe.skip, concurrent: describe.skip, sequential: describe.skip },
    ) as unknown as typeof describe);
