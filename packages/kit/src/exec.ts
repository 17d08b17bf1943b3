import { StringDecoder } from 'node:string_decoder';
import { printUntrusted } from './log.js';
import { redact } from './secrets.js';

/**
 * Runs a tool through `@actions/exec` with an argument array (never a shell string), capturing
 * stdout and stderr. `@actions/exec` cannot kill a child on a deadline, so when `timeoutMs` is set
 * the tool is started by a tiny Node launcher (this same Node binary, fixed code, arguments passed
 * as argv) that kills it (TERM, then KILL after 5 s) and exits 124, like coreutils `timeout`.
 */
export interface ExecOptions {
  cwd?: string;
  /** Environment for the tool; merged over process.env unless `cleanEnv`. */
  env?: Record<string, string | undefined>;
  cleanEnv?: boolean;
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

export const TIMEOUT_EXIT = 124;

const LAUNCHER = `
const { spawn } = require('node:child_process');
const [ms, cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: 'inherit' });
let timedOut = false;
const t = setTimeout(() => { timedOut = true; child.kill('SIGTERM'); setTimeout(() => child.kill('SIGKILL'), 5000).unref(); }, Number(ms));
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => child.kill(s));
child.on('error', (e) => { clearTimeout(t); process.stderr.write(String(e.message) + '\\n'); process.exit(e.code === 'ENOENT' ? 127 : 126); });
child.on('exit', (code, sig) => { clearTimeout(t); process.exit(timedOut ? 124 : code ?? (sig ? 128 : 1)); });
`;

export function displayCommand(tool: string, args: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return redact([tool, ...args].map(q).join(' '));
}

/**
 * Streams a tool's output to the log whole lines at a time. Printing each pipe chunk as it came
 * cut lines at arbitrary bytes: a secret split across two chunks was redacted in neither half and
 * (each piece printed as its own line) escaped the runner's masker too. Multi-byte characters are
 * decoded across chunks. A line longer than 64 KiB without a break is printed as it is.
 */
function lineStream(print: (s: string) => void): { write(b: Buffer): string; end(): void } {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return {
    write(b: Buffer): string {
      const s = decoder.write(b);
      pending += s;
      const cut = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r'));
      if (cut >= 0) {
        print(pending.slice(0, cut + 1));
        pending = pending.slice(cut + 1);
      }
      if (pending.length > 64 * 1024) {
        print(pending);
        pending = '';
      }
      return s;
    },
    end(): void {
      const rest = pending + decoder.end();
      pending = '';
      if (rest) print(rest);
    },
  };
}

export async function exec(tool: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const env: Record<string, string> = {};
  const base = opts.cleanEnv ? {} : process.env;
  for (const [k, v] of Object.entries({ ...base, ...opts.env })) if (v !== undefined) env[k] = v;
  const timed = typeof opts.timeoutMs === 'number' && opts.timeoutMs > 0;
  const file = timed ? process.execPath : tool;
  const argv = timed ? ['-e', LAUNCHER, String(Math.ceil(opts.timeoutMs as number)), tool, ...args] : [...args];
  let stdout = '';
  let stderr = '';
  const print = (t: string) => {
    if (opts.stream) printUntrusted(t);
  };
  const outStream = lineStream(print);
  const errStream = lineStream(print);
  // Loaded on first use so actions that never run a tool start without child_process and io.
  const actionsExec = await import('@actions/exec');
  const exitCode = await actionsExec.exec(file, argv, {
    cwd: opts.cwd,
    env,
    silent: true,
    ignoreReturnCode: true,
    input: opts.input === undefined ? undefined : Buffer.from(opts.input),
    listeners: {
      stdout: (b: Buffer) => {
        stdout += outStream.write(b);
      },
      stderr: (b: Buffer) => {
        stderr += errStream.write(b);
      },
    },
  }).catch((e: unknown) => {
    // @actions/exec rejects when the tool cannot be found or started.
    stderr += `${e instanceof Error ? e.message : String(e)}\n`;
    return 127;
  });
  outStream.end();
  errStream.end();
  return { exitCode, stdout, stderr, timedOut: timed && exitCode === TIMEOUT_EXIT, command: displayCommand(tool, args) };
}

/** The parts of a tool run that the helpers below read (an ExecResult, or a test's stand-in). */
export interface ToolOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

/**
 * When the tool could not be started because it is not installed, the message that says what to
 * do about it (`hint`, e.g. which setup step installs it); otherwise undefined.
 */
export function toolMissing(tool: string, r: ToolOutcome, hint?: string): string | undefined {
  if (r.exitCode !== 127 || !/ENOENT|Unable to locate executable|not found/i.test(`${r.stderr}${r.stdout}`)) return undefined;
  return `${tool} was not found on PATH: ${hint ?? `install ${tool}`}`;
}

/** What a failed tool said last (its final lines, stderr first), or why it stopped, for an error message. Untrusted: pass it through oneLine. */
export function outputTail(r: ToolOutcome, lines = 4): string {
  if (r.timedOut) return 'timed out';
  return `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-lines).join('\n') || `exit code ${r.exitCode}`;
}
