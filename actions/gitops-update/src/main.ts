import { exec, fail, http, input, log, maskSecret, printUntrusted, run, runnerContext, runUrl, setOutputs, sleep, writeSummary } from '@hallmark/kit';
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
    },
    { sha: ctx.sha },
  );
  // git gets no INPUT_* variables (the token among them).
  const scrub: Record<string, undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrub[k] = undefined;
  const o = await gitopsUpdate(cfg, {
    exec: (tool, args, opts) => exec(tool, args, { ...opts, env: { ...scrub, ...opts.env } }),
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
  setOutputs({
    changed: o.changed ? 'true' : 'false',
    'commit-sha': o.commitSha,
    'pull-request-url': o.pullRequestUrl,
    'previous-digest': o.previousDigest,
  });
  writeSummary(summary(cfg, o));
  if (o.failureReason) fail(ACTION, o.failureReason, o.problem ?? 'refused');
});
