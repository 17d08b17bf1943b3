/**
 * terraform-gated-apply's inputs, checked into a typed config before anything runs: the kit's
 * readers in main.ts read, type and resolve each input (`input.path` for the paths), checkInputs
 * holds the rules that are this action's own (backend-config items that are files, what apply mode
 * requires, when a token is needed). Pure: the file system comes in as `isFile`.
 */
import { isAbsolute, resolve } from 'node:path';
import { InputError } from '@hallmark/kit';

export const MODES = ['plan', 'apply'] as const;
export type Mode = (typeof MODES)[number];

/** GitHub environment names as this action accepts them: they also name the artifact and the comment marker. */
export const ENVIRONMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const ENVIRONMENT_EXPECTED =
  'an environment name of letters, digits, ".", "_" or "-" (at most 100, starting with a letter or digit)';

/** Artifact names: what @actions/artifact accepts, narrowed to a safe, portable set. */
export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const ARTIFACT_EXPECTED = 'an artifact name of letters, digits, ".", "_" or "-" (at most 200, starting with a letter or digit)';

export const SHA256 = /^(?:sha256:)?[0-9a-fA-F]{64}$/;
export const SHA256_EXPECTED = 'the 64-hex-digit SHA-256 the plan job output as `plan-sha256`';

/** `sha256:ABC…` or `ABC…` → lower-case bare hex. */
export function normalizeSha(v: string): string {
  return v.replace(/^sha256:/, '').toLowerCase();
}

/** A backend-config item is `key=value` or a file (checked by the caller); never echoed back (it may hold credentials). */
export function isBackendKeyValue(item: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_-]*=/.test(item);
}

/** Terraform's -lock-timeout takes a Go duration; whole seconds are always accepted. */
export function goDuration(ms: number): string {
  return `${Math.ceil(ms / 1000)}s`;
}

/** The events on which `comment: true` posts (PR conversation comments). */
export function isPullRequestEvent(eventName: string): boolean {
  return eventName === 'pull_request' || eventName === 'pull_request_target';
}

/** The inputs as the kit's readers return them (paths already resolved and checked by `input.path`). */
export interface RawInputs {
  mode: Mode;
  /** '' when not given (masked by the reader). */
  token: string;
  environment: string;
  artifactName: string;
  /** Absolute, an existing directory. */
  workingDir: string;
  /** Existing files (checked by input.resolvePath), as given: relative to the working directory, where terraform runs. */
  varFiles: string[];
  /** As given: `key=value` items and files relative to the working directory (never echoed: they may hold credentials). */
  backendConfig: string[];
  /** Absolute, an existing file; '' when not given. */
  planJson: string;
  planJsonShown: string;
  allowDestroy: boolean;
  comment: boolean;
  lockTimeoutMs: number;
  planSha256: string;
}

export interface InputEnv {
  /** The event that started the run (`pull_request`, `push` …). */
  eventName: string;
  isFile(path: string): boolean;
}

/** The checked inputs: the raw ones less the token and `comment`, which decide `wantComment`. */
export interface Config extends Omit<RawInputs, 'token' | 'comment'> {
  /** Lower-case bare hex (apply mode), or ''. */
  planSha256: string;
  /** Plan mode on a pull_request event with `comment: true`. */
  wantComment: boolean;
  /** `comment: true` on an event that has no pull request: said in the log. */
  noCommentEvent: boolean;
  warnings: string[];
}

export function checkInputs(raw: RawInputs, env: InputEnv): Config {
  raw.backendConfig.forEach((b, i) => {
    if (isBackendKeyValue(b)) return;
    if (!env.isFile(isAbsolute(b) ? b : resolve(raw.workingDir, b)))
      throw new InputError(
        'backend-config',
        `item ${i + 1} must be key=value or an existing file relative to working-directory (value not shown: it may hold credentials)`,
      );
  });
  if (raw.mode === 'apply' && !raw.planSha256) throw new InputError('plan-sha256', `is required in apply mode: ${SHA256_EXPECTED}`);
  const pr = isPullRequestEvent(env.eventName);
  const wantComment = raw.mode === 'plan' && raw.comment && pr;
  if (wantComment && !raw.token) throw new InputError('github-token', 'is required to comment on the pull request (or set comment: false)');
  const warnings: string[] = [];
  if (raw.mode === 'plan' && raw.planSha256) warnings.push('plan-sha256 is used in apply mode only; ignored');
  if (raw.mode === 'apply' && raw.planJson) warnings.push('plan-json is used in plan mode only; ignored');
  if (raw.mode === 'apply' && raw.varFiles.length)
    warnings.push('var-files are used in plan mode only (a saved plan carries its variables); ignored');
  const { token: _token, comment: _comment, ...rest } = raw;
  return {
    ...rest,
    planSha256: raw.planSha256 ? normalizeSha(raw.planSha256) : '',
    wantComment,
    noCommentEvent: raw.mode === 'plan' && raw.comment && !pr,
    warnings,
  };
}
