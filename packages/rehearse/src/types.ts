// The rehearsal's public types: what rehearse() takes (RehearseOptions) and returns (RunRecord).
import type { Writable } from 'node:stream';

export type Level = 'none' | 'read' | 'write';
export interface PermissionSet {
  [scope: string]: Level;
}

/** Job token → the job and its permissions (rules.ts createTokenBook). */
export type TokenBook = Map<
  string,
  { job: string; permissions: PermissionSet; oidc?: { requestToken: string; claims: Record<string, string> } }
>;

/** The tools setup-tools steps hand out, keyed like `npm run tools` (`cosign`, `cosign2`, …). */
export type ToolSet = Record<string, { version: string; path: string }>;

export interface StepRecord {
  name: string;
  id?: string;
  uses?: string;
  status: string;
  durationMs?: number;
  exitCode?: number;
  outputs?: Record<string, string>;
  error?: string;
  /** An action's `post:` step. */
  post?: boolean;
}

export interface JobRecord {
  key: string;
  prefix: string;
  id: string;
  name: string;
  status: string;
  matrix?: Record<string, unknown>;
  environment?: string;
  error?: string;
  calls?: string;
  outputs: Record<string, string>;
  steps: StepRecord[];
  durationMs?: number;
  summary?: string;
  needKeys: string[];
  startedAt?: string;
  /** performance.now() when the job ended (for the critical path). */
  endedAt?: number;
  /** The job token's permissions (scopes above none). */
  permissions?: Record<string, 'read' | 'write'>;
  /** Failed with job-level continue-on-error: the run went on, needs.<id>.result said success. */
  continueOnError?: boolean;
  /** Re-run of failed jobs: the attempt whose success this job kept (it did not run again). */
  reusedFrom?: number;
  concurrency?: { group: string; cancelInProgress: boolean };
  /** Job outputs not passed on because they held a masked value (as the runner does). */
  skippedOutputs?: string[];
}

export interface MatrixRecord {
  legs: number;
  peakParallel: number;
  failFast: boolean;
  maxParallel: number | null;
  cancelledByFailFast: boolean;
}

export interface RunRecord {
  workflow: string;
  event: string;
  ref: string;
  status: string;
  error?: string;
  inputs: Record<string, unknown>;
  secrets: string[];
  /** Simulated parts named in the banner (GitHub always; BuildKit with simulateBuildkit). */
  simulated: string[];
  /** Simulated tools installed (`docker-buildx` with simulateBuildkit), and how often each ran. */
  simulatedTools: string[];
  simulatedUsed?: Record<string, number>;
  /** The tools setup-tools steps handed out, keyed like `npm run tools` (`cosign`, `cosign2`, …; kubectl and others from PATH by name). */
  realTools: ToolSet;
  runDir: string;
  jobs: JobRecord[];
  approvals: { job: string; environment: string; approved: boolean; by?: string }[];
  outputs: Record<string, string>;
  durationMs: number;
  criticalPath: { name: string; durationMs: number }[];
  recordFile: string;
  runId: string;
  runAttempt: number;
  artifactsDir: string;
  cacheDir: string;
  /** With rerunFailed: the earlier attempt and the jobs kept from it. */
  rerunOf?: { attempt: number; reused: string[] };
  concurrency?: { group: string; cancelInProgress: boolean };
  /** Why the run was cancelled (concurrency). */
  cancelledBy?: string;
  /** Matrix jobs with more than one leg: how they ran. */
  matrices: Record<string, MatrixRecord>;
}

export interface RehearseOptions {
  workflow: string;
  root?: string;
  hallmarkRoot?: string;
  event?: string;
  /** Rehearse even when the workflow is not triggered by `event`. */
  anyEvent?: boolean;
  inputs?: Record<string, string>;
  secrets?: Record<string, string>;
  vars?: Record<string, string>;
  approve?: boolean | string[];
  /** docker buildx is the test stand-in (BuildKit cannot run here). */
  simulateBuildkit?: boolean;
  buildkitStandIn?: string;
  /** @deprecated the old name of simulateBuildkit. */
  standIns?: boolean;
  /** The real tools setup-tools steps hand out, keyed like `npm run tools --json` (default: that script's cache). */
  tools?: ToolSet;
  env?: Record<string, string>;
  ref?: string;
  defaultBranch?: string;
  repository?: string;
  runDir?: string;
  record?: string;
  out?: Writable | { write(s: string): unknown };
  maxParallel?: number;
  verbose?: boolean;
  ask?: (job: string, environment: string) => boolean | Promise<boolean>;
  /** github.run_attempt (default 1, or the earlier record's + 1 with rerunFailed). */
  runAttempt?: number;
  runId?: string;
  /** Re-run failed jobs of this earlier run record (path or object): same run, next attempt; successful jobs kept. */
  rerunFailed?: string | RunRecord;
  /** The concurrency groups' state file (default: one per user in the temp directory). */
  concurrencyState?: string;
  /** The job token's permissions where a workflow declares none (default restricted). */
  defaultPermissions?: 'restricted' | 'permissive';
  /** Filled with each job's minted GITHUB_TOKEN and its permissions (for loopback services' checks). */
  tokenBook?: TokenBook;
}
