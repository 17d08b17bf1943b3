/**
 * The per-action side of the canary, injection and fault suites. Each action that the suites
 * cover has `scenarios/<action>.ts` default-exporting an `ActionHardening`: how to start the
 * loopback parts it needs, and scenarios that run its bundle. The suites hold the generic checks
 * (a canary anywhere it must not be; a workflow command or output the payload created; a shell
 * that ran); scenarios add what only the action knows (which argv a tool must have seen, which
 * failure reason a fault must give). The pipeline's CLIs are the real ones: a scenario gets them
 * with lib.ts `realToolsPath(['cosign', 'syft'])` (a PATH with those first) or
 * `argvTracer(bin, 'cosign')` (the real tool behind an argv recorder), never from PATH accidents.
 */
import type { ActionResult } from '../../harness/runner.js';
import type { RecordedRequest } from '../../harness/server.js';
import type { ArgvCall } from '../lib.js';

/** A loopback server whose requests the canary suite inspects. */
export interface Watched {
  name: string;
  requests(): RecordedRequest[];
  /** Where a canary is meant to go: only this header (`:url` for the request URL, as a webhook's secret path), only on this server (`path` narrows it). */
  allow?: { label: string; header: string; path?: RegExp }[];
}

export interface Outcome {
  result: ActionResult;
  servers?: Watched[];
  /** More directories to scan for canaries (registry storage, report directories outside the home). */
  scan?: string[];
  /** More bytes to scan: uploaded artifacts, PR comment bodies, chat payloads. */
  blobs?: { name: string; data: string | Buffer }[];
  /** Tools' argv as lib.ts's argv tracers (around the real tools) or argv-recording stand-ins (other commands) saw them. */
  calls?: ArgvCall[];
  /** Secret values used instead of the generated canaries (label → value), e.g. a real cosign key. */
  values?: Record<string, string>;
}

export interface CanaryScenario {
  name: string;
  /** Labels of the canaries this scenario places (inputs `input:<name>`, variables `env:<NAME>`). */
  labels: string[];
  expect: { code: 0 } | { code: 1; reason: string };
  run(canaries: Record<string, string>): Promise<Outcome>;
}

export interface InjectionInput {
  /** A short tag unique to this run: payload outputs/commands would carry it. */
  tag: string;
  payload: string;
  /** A file a shell would create if the payload ever reached one. */
  canaryFile: string;
}

export interface InjectionScenario {
  name: string;
  /** `workflow`: workflow-command payloads (through inputs or tool/HTTP output); `shell`: command-injection payloads. */
  kind: 'workflow' | 'shell';
  /** Payloads one at a time (the scenario queues faults on a shared server). */
  serial?: boolean;
  run(p: InjectionInput): Promise<Outcome>;
  /** What only the action knows (argv the tool saw, the output value unsplit). Throws (expect) on a defect. */
  check?(o: Outcome, p: InjectionInput): void;
}

export interface FaultScenario {
  name: string;
  /** Runs the action against the fault and asserts with `expect` (retried within bounds or the right failure reason; nothing half-installed). */
  run(): Promise<void>;
}

export interface ActionHardening {
  action: string;
  /** Why the real parts this action needs are missing (the suites then skip it with that message), or undefined. */
  missing?(): string | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  canary: CanaryScenario[];
  injection: InjectionScenario[];
  faults: FaultScenario[];
}
