// The state a rehearsal threads through the scheduler, the jobs and the steps.
import type { Status } from './expr.js';
import type { JobDirs } from './isolation.js';
import type { RealTools } from './real-tools.js';
import type { ToolMirror } from './tool-mirror.js';
import type { JobRecord, PermissionSet, RehearseOptions, RunRecord, ToolSet } from './types.js';

/** The `github` context of the run. */
export interface GithubContext {
  event_name: string;
  ref: string;
  ref_name: string;
  sha: string;
  repository: string;
  repository_owner: string;
  run_id: string;
  run_number: string;
  run_attempt: string;
  actor: string;
  workflow: unknown;
  workflow_ref: string;
  server_url: string;
  api_url: string;
  token: string;
  job?: string;
  event: { repository: { default_branch: string; full_name: string }; inputs: Record<string, unknown>; ref: string };
}

/** The run record while the run goes on (the rest is filled in at the end). */
export type RunningRecord = Omit<
  RunRecord,
  'recordFile' | 'outputs' | 'durationMs' | 'criticalPath' | 'realTools' | 'simulated' | 'artifactsDir' | 'cacheDir'
> &
  Partial<RunRecord>;

/** One rehearsal: fixed at the start, shared by every job. */
export interface RunState {
  root: string;
  hallmarkRoot: string;
  runDir: string;
  opts: RehearseOptions;
  github: GithubContext;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  record: RunningRecord;
  /** One line of the live tree, masked. */
  print(line: string): void;
  mask(text: string): string;
  masks: Set<string>;
  /** Masks a value, and each line of a multi-line one. */
  addMask(v: unknown): void;
  /** PATH of every step, after what the job added. */
  basePath: string;
  /** The docker buildx plugin each job's ~/.docker gets (with simulateBuildkit). */
  buildxPlugin?: string;
  /** The real tools setup-tools steps handed out (the record's realTools). */
  usedTools: ToolSet;
  /** The real tools (npm run tools), looked up once, on first use. */
  realTools(): Promise<RealTools>;
  /** The loopback mirror setup-tools steps install from, started on first use. */
  toolMirror(): Promise<ToolMirror>;
  artifactsDir: string;
  cacheDir: string;
  /** Re-run of failed jobs: the jobs that succeeded before, by name, with the attempt they ran in. */
  reuse: Map<string, JobRecord & { attempt: number }>;
  toolCache: string;
  /** Approval prompts, one at a time. */
  gate: Promise<unknown>;
  concurrencyFile: string;
  runKey: string;
  runAbort: AbortController;
}

/** One workflow being run: the top-level one, or one a job called. */
export interface CallFrame {
  inputs: Record<string, unknown>;
  secrets: Record<string, string>;
  /** Prefix of the job names (`caller / `). */
  prefix: string;
  workflowRef?: string;
  workflowSha?: string;
  /** The calling job's permissions (a called workflow's jobs get no more). */
  permissions?: PermissionSet;
}

/** What a job (or a matrix of legs) gives the jobs that need it. */
export interface JobResult {
  result: string;
  outputs: Record<string, string>;
  /** Failed without continue-on-error (fail-fast cancels the other legs). */
  failedHard?: boolean;
}

/** A job's runner home: its directories and the variables that point at them. */
export interface JobHome extends JobDirs {
  env: Record<string, string>;
}

export interface StepResultContext {
  outputs: Record<string, string>;
  outcome: string;
  conclusion: string;
}

/** What a post step reports (an action's `post:`, a cache save, a credentials clean-up). */
export interface PostResult {
  name?: string;
  ok?: boolean;
  skipped?: boolean;
  exitCode?: number;
  error?: string;
  log?: string;
  errors?: string[];
}
/** A step the job runs at its end; what it resolves to is a PostResult when it reports one (a cache save reports nothing). */
export type PostStep = () => Promise<unknown>;

/** The state of one job while its steps run. */
export interface JobState {
  env: Record<string, string>;
  /** GITHUB_PATH additions, first wins. */
  path: string[];
  steps: Record<string, StepResultContext>;
  failed: boolean;
  summary: string[];
  posts: PostStep[];
  cancelled?: boolean;
  /** Cancels the running step (fail-fast, concurrency); unset for a step that starts after the cancel. */
  signal?: AbortSignal;
  /** The job grants id-token: write. */
  idToken: boolean;
  permissions: PermissionSet;
  oidcRequestToken?: string;
}

/** What a step (or a local equivalent) gives back. */
export interface StepOutcome {
  ok: boolean;
  outputs: Record<string, string>;
  exitCode?: number;
  log: string;
  errors?: string[];
  error?: string;
  cancelled?: boolean;
}

export type { Status };
