import { redact } from './secrets.js';

/**
 * What a tool run looks like to domain code: the options and result of the runner layer's `exec`
 * (`@hallmark/kit/runner`), and pure helpers that read a result. Domain code receives `exec`
 * through its Deps and imports these types and helpers only.
 */
export interface ExecOptions {
  cwd?: string;
  /**
   * Variables for the tool, merged over the inherited environment. A value given here is always
   * passed (this is how a tool gets a secret it needs, e.g. `{ COSIGN_PASSWORD: pw }`);
   * `undefined` removes a variable.
   */
  env?: Record<string, string | undefined>;
  /** Start from an empty environment instead of the inherited one. */
  cleanEnv?: boolean;
  /**
   * Inherited variables to pass even though their value holds a registered secret (by default
   * such variables, and every `INPUT_*`, are not inherited).
   */
  allowEnv?: readonly string[];
  timeoutMs?: number;
  input?: string | Buffer;
  /** Print the tool's output to the log as it comes (inert, redacted). Default false. */
  stream?: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The command line as shown to people (secrets redacted). */
  command: string;
}

/** The exit code of a tool the kit stopped at its deadline (as coreutils `timeout`). */
export const TIMEOUT_EXIT = 124;

/** The parts of a tool run that the helpers below read (an ExecResult, or a test's stand-in). */
export interface ToolOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

/** A command line as shown to people: quoted where needed, secrets redacted. */
export function displayCommand(tool: string, args: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return redact([tool, ...args].map(q).join(' '));
}

/**
 * When the tool could not be started because it is not installed, the message that says what to
 * do about it (`hint`, e.g. which setup step installs it); otherwise undefined.
 */
export function toolMissing(tool: string, r: ToolOutcome, hint?: string): string | undefined {
  if (r.exitCode !== 127 || !/ENOENT|Unable to locate executable|not found/i.test(`${r.stderr}${r.stdout}`)) return undefined;
  return `${tool} was not found on PATH: ${hint ?? `install ${tool}`}`;
}

/** What a failed tool said last (its final lines, stderr first), or why it stopped, for an error message. Untrusted: pass it through oneLine (or use `tail`). */
export function outputTail(r: ToolOutcome, lines = 4): string {
  if (r.timedOut) return 'timed out';
  return `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-lines).join('\n') || `exit code ${r.exitCode}`;
}
