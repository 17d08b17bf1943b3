// `@hallmark/audit/verify`: offline verification of a downloaded trail (chain, seal, Sigstore
// bundle) and the `npm run audit:verify` CLI. Kept apart from the package index, which every
// action bundle loads, because it brings sigstore-js.
export type { TrailVerdict, VerifyTrailOptions } from './verify.js';
export { verifyTrail } from './verify.js';
export { main, USAGE } from './cli.js';
