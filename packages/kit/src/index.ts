/**
 * `@hallmark/kit`: the PURE layer — errors, Markdown builders, escaping, durations, retry, secret
 * redaction, the shapes of tool runs and HTTP calls, and the TYPES of the standard Deps. Nothing
 * here imports @actions/*, node:child_process, or reads the environment: domain files import only this.
 * Runner things (run, input, log, exec, http, setOutputs, writeSummary, maskSecret, audit …) are
 * in `@hallmark/kit/runner`.
 */
export * from './errors.js';
export { oneLine, shown, splitList } from './text.js';
export * from './duration.js';
export { redact, containsSecret, registerSecret, secretVariants, _resetSecrets } from './secrets.js';
export * from './retry.js';
export { HttpError, safeUrl, stripForOtherOrigin, isRetryableStatus, type HttpRequest, type HttpResponse } from './http-error.js';
export { displayCommand, toolMissing, outputTail, TIMEOUT_EXIT, type ExecOptions, type ExecResult, type ToolOutcome } from './tool.js';
export * as md from './summary.js';
export { runUrl, type RunnerContext } from './context.js';
export type { StdDeps, StdLog, StdPaths, ExecFn, HttpFn } from './deps.js';
