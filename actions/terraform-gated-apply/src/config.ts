/** Input rules that are this action's own (the kit readers do the rest). Pure. */

export const MODES = ['plan', 'apply'] as const;
export type Mode = (typeof MODES)[number];

/** GitHub environment names as this action accepts them: they also name the artifact and the comment marker. */
export const ENVIRONMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
export const ENVIRONMENT_EXPECTED = 'an environment name of letters, digits, ".", "_" or "-" (at most 100, starting with a letter or digit)';

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
