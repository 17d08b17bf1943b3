import type { Writable } from 'node:stream';
export const HALLMARK_ROOT: string;
export const OWNER_REPO: string;
export class RehearsalError extends Error {}
export interface StepRecord { name: string; id?: string; uses?: string; status: string; durationMs?: number; exitCode?: number; outputs?: Record<string, string>; error?: string }
export interface JobRecord { key: string; prefix: string; id: string; name: string; status: string; matrix?: Record<string, unknown>; environment?: string; error?: string; calls?: string; outputs: Record<string, string>; steps: StepRecord[]; durationMs?: number; summary?: string; needKeys: string[] }
export interface RunRecord {
  workflow: string; event: string; ref: string; status: string; error?: string; inputs: Record<string, unknown>; secrets: string[];
  /** Simulated parts named in the banner (GitHub always; BuildKit with simulateBuildkit). */
  simulated: string[];
  /** Simulated tools installed (`docker-buildx` with simulateBuildkit), and how often each ran. */
  simulatedTools: string[]; simulatedUsed?: Record<string, number>;
  /** The tools setup-tools steps handed out, keyed like `npm run tools` (`cosign`, `cosign2`, …; kubectl and others from PATH by name). */
  realTools: Record<string, { version: string; path: string }>;
  runDir: string; jobs: JobRecord[]; approvals: { job: string; environment: string; approved: boolean; by?: string }[];
  outputs: Record<string, string>; durationMs: number; criticalPath: { name: string; durationMs: number }[]; recordFile: string;
}
export interface RehearseOptions {
  workflow: string; root?: string; hallmarkRoot?: string; event?: string; inputs?: Record<string, string>; secrets?: Record<string, string>;
  vars?: Record<string, string>; approve?: boolean | string[];
  /** docker buildx is the test stand-in (BuildKit cannot run here). */
  simulateBuildkit?: boolean; buildkitStandIn?: string;
  /** @deprecated the old name of simulateBuildkit. */
  standIns?: boolean;
  /** The real tools setup-tools steps hand out, keyed like `npm run tools --json` (default: that script's cache). */
  tools?: Record<string, { version: string; path: string }>;
  env?: Record<string, string>;
  ref?: string; defaultBranch?: string; repository?: string; runDir?: string; record?: string; out?: Writable | { write(s: string): unknown };
  maxParallel?: number; verbose?: boolean; ask?: (job: string, environment: string) => boolean | Promise<boolean>;
}
export function rehearse(opts: RehearseOptions): Promise<RunRecord>;
export function expandMatrix(matrix: unknown): (Record<string, unknown> | undefined)[];
export function fileCommands(text: string): Record<string, string>;
export function prepareSimulatedBuildkit(standIn: string, runDir: string): { dockerConfig: string; simulated: string[] };
