/**
 * What the runner tells every action about where it runs. The runner layer reads it once from
 * the environment (`runnerContext()` in `@hallmark/kit/runner`); domain code receives this object
 * (or the Deps built from it) and never reads the environment itself.
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

/** `https://github.com/o/r/actions/runs/123`, or '' when the run is unknown. */
export function runUrl(ctx: RunnerContext): string {
  if (!ctx.repository || !ctx.runId) return '';
  return `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}${ctx.runAttempt && ctx.runAttempt !== '1' ? `/attempts/${ctx.runAttempt}` : ''}`;
}
