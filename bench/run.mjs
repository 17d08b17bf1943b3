// `npm run bench -- <name> [args…]`: runs bench/<name>.mjs (a measurement, not a test: it prints
// times and ratios). Without a name, lists the benchmarks with the first line of each header.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs')
  .map((f) => f.slice(0, -4))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name) {
  for (const b of benches)
    console.log(
      `${b.padEnd(12)} ${readFileSync(join(here, `${b}.mjs`), 'utf8')
        .split('\n')[0]
        .replace(/^\/\/\s*/, '')}`,
    );
  console.log('\nusage: npm run bench -- <name> [args…]');
  process.exit(0);
}
if (!benches.includes(name)) {
  console.error(`bench: no benchmark named ${name} (have: ${benches.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [join(here, `${name}.mjs`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
