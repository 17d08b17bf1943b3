#!/usr/bin/env node
// npm run rehearse -- <workflow> [--event E] [--input k=v]… [--secret K=V]… [--var K=V]… [--approve]
//                     [--simulate-buildkit] [--ref refs/heads/x] [--default-branch main] [--record run.json] [--verbose]
//                     [--run-attempt N] [--rerun-failed run.json] [--concurrency-state FILE] [--default-permissions P]
// GitHub's rules are enforced (see USAGE): a fresh runner per job, secret names, job-token
// permissions, concurrency, fail-fast/max-parallel, job continue-on-error, re-runs.
// setup-tools steps get the real CLIs `npm run tools` builds (cosign, syft, trivy, helm, kyverno,
// terraform; kubectl from PATH). --simulate-buildkit installs the docker buildx test stand-in
// (BuildKit cannot run here); --stand-ins is its old name.
// Exit 0 when the workflow succeeded, 1 when it failed, 2 when it cannot be rehearsed.
import { defaultStateFile } from './concurrency.js';
import { RehearsalError, rehearse } from './engine.js';
import type { RehearseOptions } from './types.js';

interface CliOptions extends Omit<RehearseOptions, 'workflow' | 'inputs' | 'secrets' | 'vars' | 'env'> {
  workflow?: string;
  inputs: Record<string, string>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  env: Record<string, string>;
  help?: boolean;
}

const USAGE = `usage: rehearse <workflow.yml> [--event E] [--input k=v]... [--secret K=V]... [--var K=V]...
                [--approve] [--simulate-buildkit] [--ref REF] [--default-branch B] [--record FILE] [--verbose]
                [--run-attempt N] [--rerun-failed FILE] [--concurrency-state FILE] [--default-permissions P]
                [--github-api URL]
  --secret K             reads the value from the environment variable K (keeps it out of shell history);
                         names as GitHub stores them: letters, digits, _; not starting with a digit or GITHUB_
  --simulate-buildkit    docker buildx is the test stand-in (test/stand-ins/docker-buildx builds with buildah);
                         everything else is real: setup-tools steps get the tools \`npm run tools\` built
  --run-attempt N        github.run_attempt / GITHUB_RUN_ATTEMPT (default 1)
  --rerun-failed FILE    "re-run failed jobs" of the run recorded in FILE (its --record): same run id,
                         artifact store and caches, the next attempt; jobs that succeeded keep their outputs
  --concurrency-state F  where concurrency groups live (default: one file per user in the temp directory);
                         rehearsals naming the same file share groups, as runs of one repository do
  --github-api URL       the steps' GITHUB_API_URL (a loopback REST service you started; release.yml needs one)
  --default-permissions  the job token's permissions where a workflow sets none: restricted (default:
                         contents and packages read) or permissive (write, as old repositories)
Each job runs like a fresh runner: its own HOME, RUNNER_TEMP, tool cache, container storage and logins.
Exit 0 when the workflow succeeded, 1 when it failed or was cancelled, 2 when it cannot be rehearsed
(an unknown action, a secret name GitHub cannot store, a nested job asking for more permissions …).`;

function parseArgs(argv: string[]): CliOptions {
  const o: CliOptions = { inputs: {}, secrets: {}, vars: {}, env: {} };
  const kv = (s: string | undefined, flag: string): [string, string] => {
    const eq = s === undefined ? -1 : s.indexOf('=');
    if (eq <= 0) throw new RehearsalError(`${flag} expects KEY=VALUE, got '${s ?? ''}'`);
    return [(s as string).slice(0, eq), (s as string).slice(eq + 1)];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = (): string => {
      if (i + 1 >= argv.length) throw new RehearsalError(`${a} needs a value`);
      return argv[++i] as string;
    };
    switch (a) {
      case '--event':
        o.event = next();
        break;
      case '--input': {
        const [k, v] = kv(next(), a);
        o.inputs[k] = v;
        break;
      }
      case '--var': {
        const [k, v] = kv(next(), a);
        o.vars[k] = v;
        break;
      }
      case '--secret': {
        const s = next();
        if (s.includes('=')) {
          const [k, v] = kv(s, a);
          o.secrets[k] = v;
        } else if (process.env[s] !== undefined) o.secrets[s] = process.env[s] as string;
        else throw new RehearsalError(`--secret ${s}: no '=' and no environment variable ${s}`);
        break;
      }
      case '--approve':
        o.approve = true;
        break;
      case '--simulate-buildkit':
        o.simulateBuildkit = true;
        break;
      case '--stand-ins':
        o.standIns = true;
        break; // the old name of --simulate-buildkit
      case '--ref':
        o.ref = next();
        break;
      case '--github-api':
        o.env.GITHUB_API_URL = next();
        break; // steps' GITHUB_API_URL (e.g. a loopback REST service)
      case '--default-branch':
        o.defaultBranch = next();
        break;
      case '--record':
        o.record = next();
        break;
      case '--run-dir':
        o.runDir = next();
        break;
      case '--run-attempt': {
        const v = next();
        if (!/^[1-9]\d*$/.test(v)) throw new RehearsalError(`--run-attempt expects a whole number from 1, got '${v}'`);
        o.runAttempt = Number(v);
        break;
      }
      case '--rerun-failed':
        o.rerunFailed = next();
        break;
      case '--concurrency-state':
        o.concurrencyState = next();
        break;
      case '--default-permissions': {
        const v = next();
        if (v !== 'restricted' && v !== 'permissive')
          throw new RehearsalError(`--default-permissions expects restricted or permissive, got '${v}'`);
        o.defaultPermissions = v;
        break;
      }
      case '--verbose':
      case '-v':
        o.verbose = true;
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        if (a.startsWith('-')) throw new RehearsalError(`unknown option ${a}\n${USAGE}`);
        if (o.workflow) throw new RehearsalError(`one workflow at a time (got ${o.workflow} and ${a})`);
        o.workflow = a;
    }
  }
  return o;
}

try {
  const o = parseArgs(process.argv.slice(2));
  if (o.help || !o.workflow) {
    console.log(USAGE);
    process.exit(o.help ? 0 : 2);
  }
  // npm run sets INIT_CWD to where the user typed the command.
  // Rehearsals started from two shells meet in the same concurrency groups, as runs of one repository do.
  const workflow = o.workflow as string;
  const record = await rehearse({
    ...o,
    workflow,
    concurrencyState: o.concurrencyState ?? defaultStateFile('user'),
    root: process.env.INIT_CWD ?? process.cwd(),
  });
  process.exit(record.status === 'success' ? 0 : 1);
} catch (e) {
  if (e instanceof RehearsalError) {
    console.error(`rehearse: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
