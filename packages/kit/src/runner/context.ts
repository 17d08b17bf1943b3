import { tmpdir } from 'node:os';
import type { RunnerContext } from '../context.js';

/** Reads the runner's facts (RUNNER_*, GITHUB_*) once; hand the result to domain code. */
export function runnerContext(env: NodeJS.ProcessEnv = process.env): RunnerContext {
  const repository = env.GITHUB_REPOSITORY ?? '';
  const [owner = '', repo = ''] = repository.split('/');
  return {
    temp: env.RUNNER_TEMP || tmpdir(),
    toolCache: env.RUNNER_TOOL_CACHE ?? '',
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    repository,
    owner,
    repo,
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    workflow: env.GITHUB_WORKFLOW ?? '',
    workflowRef: env.GITHUB_WORKFLOW_REF ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    eventPath: env.GITHUB_EVENT_PATH ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    job: env.GITHUB_JOB ?? '',
    os: env.RUNNER_OS ?? '',
    arch: env.RUNNER_ARCH ?? '',
  };
}
