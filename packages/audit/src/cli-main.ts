// The audit:verify command (bundled by scripts/build.mjs next to audit-trail: dist/audit-trail/verify.js).
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
