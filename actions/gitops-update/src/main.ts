import { runUrl, sleep } from '@hallmark/kit';
import {
  audit,
  exec,
  fail,
  http,
  input,
  log,
  maskSecret,
  printUntrusted,
  run,
  runnerContext,
  setOutputs,
  writeSummary,
} from '@hallmark/kit/runner';
import { gitopsUpdate } from './flow.js';
import { basicAuth } from './git.js';
import { checkInputs } from './inputs.js';
import { summary } from './summary.js';

const ACTION = 'gitops-update';

await run(ACTION, async () => {
  const ctx = runnerContext();
  const token = input.secret('token');
  if (token) maskSecret(basicAuth(token));
  const cfg = checkInputs(
    {
      repository: input.raw('repository'),
      file: input.raw('file'),
      kind: input.raw('kind'),
      imageRef: input.raw('image-ref'),
      valuePath: input.raw('value-path'),
      repositoryPath: input.raw('repository-path'),
      valueFormat: input.raw('value-format'),
      mode: input.raw('mode') || 'pull-request',
      branch: input.raw('branch'),
      environment: input.raw('environment'),
      token,
      sourceCommit: input.raw('source-commit'),
      scanVerdict: input.raw('scan-verdict'),
      pushAttempts: input.raw('push-attempts'),
      rollbackOf: input.raw('rollback-of'),
      reason: input.raw('reason'),
    },
    { sha: ctx.sha },
  );
  audit.subject({
    image: cfg.target?.repository,
    digest: cfg.target?.digest,
    configRepository: cfg.repository,
    environment: cfg.environment,
  });
  audit.facts({ mode: cfg.mode, 'file-kind': cfg.kind, branch: cfg.branch, 'rollback-of': cfg.rollbackOf || undefined });
  // git's environment (the token as an HTTP header among it) is passed explicitly; the kit's exec drops INPUT_*.
  const o = await gitopsUpdate(cfg, {
    exec: (tool, args, opts) => exec(tool, args, opts),
    http: (req) => http.request({ ...req, timeoutMs: 30_000, attempts: 4 }),
    temp: ctx.temp,
    sleep,
    serverUrl: ctx.serverUrl,
    apiUrl: ctx.apiUrl,
    runUrl: runUrl(ctx),
    info: (m) => log.info(`${ACTION}: ${m}`),
    warn: (m) => log.warning(`${ACTION}: ${m}`),
    untrusted: (t) => {
      if (t) printUntrusted(t.endsWith('\n') ? t : `${t}\n`);
    },
  });
  // The commit the config repository is at for this environment: ours, or (nothing to change) none new.
  audit.subject({ configCommit: o.commitSha || undefined, digest: cfg.target ? undefined : o.revert?.restoredDigest || undefined });
  audit.facts({
    changed: o.changed,
    'previous-digest': o.previousDigest || undefined,
    'pull-request': prNumber(o.pullRequestUrl),
    'closed-pull-request': o.closedPullRequest?.number,
  });
  setOutputs({
    changed: o.changed ? 'true' : 'false',
    'commit-sha': o.commitSha,
    'pull-request-url': o.pullRequestUrl,
    'previous-digest': o.previousDigest,
  });
  writeSummary(summary(cfg, o));
  if (o.failureReason) fail(ACTION, o.failureReason, o.problem ?? 'refused');
});

function prNumber(url: string): number | undefined {
  const m = /\/pull\/(\d+)$/.exec(url);
  return m ? Number(m[1]) : undefined;
}
