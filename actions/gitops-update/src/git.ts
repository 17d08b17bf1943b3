/**
 * git through argument arrays. The token reaches git only as an `http.<server>/.extraheader`
 * (`AUTHORIZATION: basic base64(x-access-token:<token>)`, the form actions/checkout uses) in
 * GIT_CONFIG_COUNT/KEY/VALUE environment variables: never on a command line, in a remote URL or in
 * a config file. The runner's global and system git config are ignored, prompts are off.
 */
export type Exec = (
  tool: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number },
) => Promise<{ exitCode: number; stdout: string; stderr: string; timedOut?: boolean }>;

export const AUTHOR = { name: 'hallmark-gitops[bot]', email: 'hallmark-gitops@users.noreply.github.com' };

export function basicAuth(token: string): string {
  return Buffer.from(`x-access-token:${token}`).toString('base64');
}

export function gitEnv(serverUrl: string, token: string): Record<string, string | undefined> {
  return {
    // Nothing inherited may point git elsewhere or trace its HTTP traffic (headers included) to the log.
    GIT_DIR: undefined,
    GIT_WORK_TREE: undefined,
    GIT_INDEX_FILE: undefined,
    GIT_OBJECT_DIRECTORY: undefined,
    GIT_ALTERNATE_OBJECT_DIRECTORIES: undefined,
    GIT_SSH_COMMAND: undefined,
    GIT_TRACE: undefined,
    GIT_TRACE_CURL: undefined,
    GIT_TRACE_PACKET: undefined,
    GIT_TRACE_SETUP: undefined,
    GIT_CURL_VERBOSE: undefined,
    GIT_TRACE_REDACT: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_CONFIG_COUNT: '3',
    GIT_CONFIG_KEY_0: `http.${serverUrl}/.extraheader`,
    GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${basicAuth(token)}`,
    GIT_CONFIG_KEY_1: 'credential.helper',
    GIT_CONFIG_VALUE_1: '',
    GIT_CONFIG_KEY_2: 'protocol.file.allow',
    GIT_CONFIG_VALUE_2: 'never',
    GIT_AUTHOR_NAME: AUTHOR.name,
    GIT_AUTHOR_EMAIL: AUTHOR.email,
    GIT_COMMITTER_NAME: AUTHOR.name,
    GIT_COMMITTER_EMAIL: AUTHOR.email,
  };
}

export function remoteUrl(serverUrl: string, repository: string): string {
  return `${serverUrl}/${repository}.git`;
}

export const cloneArgs = (url: string, branch: string, dir: string, shallow = true): string[] => [
  'clone',
  '--quiet',
  '--no-tags',
  '--single-branch',
  ...(shallow ? ['--depth', '1'] : []),
  '--branch',
  branch,
  '--',
  url,
  dir,
];
export const fetchArgs = (branch: string): string[] => ['fetch', '--quiet', '--no-tags', '--depth', '1', 'origin', `refs/heads/${branch}`];
export const pushArgs = (branch: string, force: boolean): string[] => [
  'push',
  '--porcelain',
  ...(force ? ['--force'] : []),
  'origin',
  `HEAD:refs/heads/${branch}`,
];

/**
 * git's words for a push refused because the branch moved: before the push (`[rejected]
 * (fetch first)` / `(non-fast-forward)`, git's transport.c/send-pack) or during it, between the ref
 * advertisement and the update (receive-pack: `cannot lock ref '<ref>': is at <sha> but expected
 * <sha>` / `(stale info)`). Both are retried on a fresh base.
 */
export function isNonFastForward(out: string): boolean {
  return /\[rejected\][^\n]*\((non-fast-forward|fetch first)\)|\(stale info\)|cannot lock ref '[^'\n]*': is at [0-9a-f]+ but expected [0-9a-f]+/.test(
    out,
  );
}

/** A clone failure that means the repository or the branch is not there (or not visible). */
export function isMissing(out: string): boolean {
  return /Remote branch .* not found|not found|does not appear to be a git repository|repository .* does not exist|HTTP 404|returned error: 404/i.test(
    out,
  );
}
