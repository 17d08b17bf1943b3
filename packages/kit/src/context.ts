import { tmpdir } from 'node:os';

/**
 * What the runner tells every action about where it runs, read once from the environment.
 * Domain code receives this object; it never reads process.env itself.
 */
export interface RunnerContext {
  temp: string;
  toolCache: string;
  workspace: string;
  repository: string;
  owner: string;
  repo: string;
  sha: string;
  ref: string;
  runId: string;
  runAttempt: string;
  serverUrl: string;
  apiUrl: string;
  workflow: string;
  workflowRef: string;
  eventName: string;
  eventPath: string;
  actor: string;
  job: string;
  os: string;
  arch: string;
}

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

/** `https://github.com/o/r/actions/runs/123`, or '' when the run is unknown. */
export function runUrl(ctx: RunnerContext): string {
  if (!ctx.repository || !ctx.runId) return '';
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}${ctx.runAttempt && ctx.runAttempt !== '1' ? `/attempts/${ctx.runAttempt}` : ''}`;
}
