/**
 * `@hallmark/kit/runner`: the RUNNER layer — everything that talks to the Actions runner (inputs,
 * outputs, the log, the step summary, the audit file), starts processes or opens connections.
 * Only an action's main.ts imports it; domain files import `@hallmark/kit` (the pure layer) and
 * get these capabilities injected (`standardDeps`).
 */
export { run, fail, setOutputs, failureSummaryMarkdown, type RunOptions } from './run.js';
export * as input from './inputs.js';
export type { PathOptions, StringOptions, IntegerOptions, DurationOptions, EnumOptions, ListOptions } from './inputs.js';
export * as log from './log.js';
export { printUntrusted } from './log.js';
export { exec, childEnv } from './exec.js';
export * as http from './http.js';
export { runnerContext } from './context.js';
export { writeSummary } from './summary.js';
export { maskSecret } from './secrets.js';
export { standardDeps } from './deps.js';
export { pathKind } from './fs.js';
export { uploadArtifact, type UploadOptions } from './artifact.js';
export { audit, auditRun, writeAuditRecord, VERSION, type FactValue, type SubjectInput } from './audit.js';
