// Where hallmark's own checkout is (its dist/, scripts/, test stand-ins), found from this module's
// file whether it runs from the TypeScript sources (packages/rehearse/src) or from the bundle
// (dist/rehearse), and the repository's owner/name.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'hallmark') return dir;
      } catch {
        /* not ours */
      }
    }
    if (dirname(dir) === dir) throw new Error(`the rehearsal cannot find hallmark's checkout above ${start}`);
  }
}

export const HALLMARK_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

// owner/name lives in package.json `repository` (one place; scripts/release.mjs parses it).
const release = (await import(pathToFileURL(join(HALLMARK_ROOT, 'scripts', 'release.mjs')).href)) as {
  readOwnerRepo(root: string): string;
};
export const OWNER_REPO: string = release.readOwnerRepo(HALLMARK_ROOT);
