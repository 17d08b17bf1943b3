// @hallmark/audit: the audit trail (issue 16 §2). One JSON Lines record per action run, appended by
// the kit's run() to RUNNER_TEMP/hallmark-audit.jsonl and hash-chained per file; the audit-trail action
// joins one run's files into one chained, sealed, signed trail; verifyTrail checks it offline.
// The pure parts (canonical form, hash, chain check, join, story) take no fs; appendAuditRecord and
// verifyTrail (and the CLI) are the only fs users. Nothing here imports @actions/*.
export type { AuditEntry, AuditFacts, AuditOrigin, AuditRecord, AuditRun, AuditSubject } from './record.js';
export {
  AUDIT_FILE,
  AuditRecordError,
  MAX_VALUE_LENGTH,
  ZERO_HASH,
  canonicalJson,
  lineHash,
  nextLink,
  normalizeEntry,
  recordLine,
  sha256Hex,
} from './record.js';
export { appendAuditRecord } from './append.js';
export type { ChainOptions, ChainProblem, ChainResult } from './chain.js';
export { recordName, verifyChain } from './chain.js';
export type { AuditPart, JoinedTrail, SealInfo } from './join.js';
export { joinParts, PartError } from './join.js';
export type { StoryHeader, StoryStep } from './story.js';
export { plain, storySteps, tellStory } from './story.js';
export type { SignerPolicy } from './signer.js';
export { checkSigner, GITHUB_ISSUER, parseAllowedRefs, SignerPolicyError } from './signer.js';
// verifyTrail and the audit:verify CLI are in '@hallmark/audit/verify': they load sigstore-js, and
// every action bundle imports this index (through the kit's run()), so it stays free of them.
