import type { RunnerContext } from './context.js';
import type { HttpRequest, HttpResponse } from './http-error.js';
import type { ExecOptions, ExecResult } from './tool.js';

/**
 * The TYPES of the standard dependencies a flow gets injected. `standardDeps(action)` in
 * `@hallmark/kit/runner` builds the real ones in main.ts; a test builds its own. A flow's own
 * Deps interface extends (or picks from) StdDeps and adds what only it needs:
 *
 *   import type { StdDeps } from '@hallmark/kit';
 *   export interface Deps extends Pick<StdDeps, 'exec' | 'log' | 'paths'> { upload(…): Promise<…> }
 */
export type ExecFn = (tool: string, args: readonly string[], opts?: ExecOptions) => Promise<ExecResult>;
export type HttpFn = (req: HttpRequest) => Promise<HttpResponse>;

/** Our own log lines (redacted; a line starting with `::` stays inert) and tool output we did not write (`untrusted`). */
export interface StdLog {
  info(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  debug(message: string): void;
  /** Text we did not write (tool output, bodies), printed whole, inert and redacted. */
  untrusted(text: string): void;
}

export interface StdPaths {
  /** RUNNER_TEMP (or the OS temp dir). */
  temp: string;
  /** GITHUB_WORKSPACE (or the working directory). */
  workspace: string;
  /** RUNNER_TOOL_CACHE ('' when unset). */
  toolCache: string;
}

export interface StdDeps {
  /** The action's name, for messages. */
  action: string;
  /** Runs a tool (argument array; INPUT_* and secret-holding variables not inherited). */
  exec: ExecFn;
  /** One HTTP request: deadline, bounded retry with backoff, Retry-After. */
  http: HttpFn;
  log: StdLog;
  /** Registers a secret found along the way (a token, an auth string). */
  mask(value: string): void;
  paths: StdPaths;
  /** The runner's facts (repository, sha, run id …), read once. */
  context: RunnerContext;
  /** A variable of the step's environment (for the few a flow documents it reads, e.g. DOCKER_CONFIG). */
  env(name: string): string | undefined;
  now(): Date;
  sleep(ms: number): Promise<void>;
}
