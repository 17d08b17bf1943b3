import { StringDecoder } from 'node:string_decoder';
import { containsSecret } from '../secrets.js';
import { displayCommand, TIMEOUT_EXIT, type ExecOptions, type ExecResult } from '../tool.js';
import { printUntrusted } from './log.js';

/**
 * Tools run through `@actions/exec` with an argument array (never a shell string), capturing
 * stdout and stderr. `@actions/exec` cannot kill a child on a deadline, so when `timeoutMs` is set
 * the tool is started by a tiny Node launcher (this same Node binary, fixed code, arguments passed
 * as argv) that kills it (TERM, then KILL after 5 s) and exits 124, like coreutils `timeout`.
 */
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

/**
 * The environment a tool gets. Inherited (unless `cleanEnv`): every variable of this process
 * EXCEPT `INPUT_*` (the runner's copies of the step's inputs, secrets among them) and any
 * variable whose value holds a registered secret (`maskSecret`, `input.secret`), unless its name
 * is in `allowEnv`. Then `opts.env` on top: a value given there explicitly is always passed, and
 * `undefined` removes a variable.
 */
export function childEnv(
  opts: Pick<ExecOptions, 'env' | 'cleanEnv' | 'allowEnv'> = {},
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  const allow = new Set(opts.allowEnv ?? []);
  for (const [k, v] of Object.entries(parent)) {
    if (v === undefined) continue;
    if (opts.cleanEnv && !allow.has(k)) continue;
    if (!allow.has(k) && (/^INPUT_/i.test(k) || containsSecret(v))) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Runs a tool with an argument array (never a shell string), capturing stdout and stderr; the
 * child's environment is `childEnv(opts)`. Never throws for the tool's own failure: read
 * `exitCode` (127 when it could not be started, 124 when it hit `timeoutMs`).
 */
export async function exec(tool: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const env = childEnv(opts);
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
  const exitCode = await actionsExec
    .exec(file, argv, {
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
    })
    .catch((e: unknown) => {
      // @actions/exec rejects when the tool cannot be found or started.
      stderr += `${e instanceof Error ? e.message : String(e)}\n`;
      return 127;
    });
  outStream.end();
  errStream.end();
  return { exitCode, stdout, stderr, timedOut: timed && exitCode === TIMEOUT_EXIT, command: displayCommand(tool, args) };
}
