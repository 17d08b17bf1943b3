import { runUrl } from '@hallmark/kit';
import {
  audit,
  exec,
  fail,
  input,
  log,
  maskSecret,
  pathKind,
  printUntrusted,
  run,
  runnerContext,
  setOutputs,
  writeSummary,
} from '@hallmark/kit/runner';
import { runStep } from './flow.js';
import {
  ARTIFACT_EXPECTED,
  ARTIFACT_NAME,
  checkInputs,
  ENVIRONMENT,
  ENVIRONMENT_EXPECTED,
  MODES,
  SHA256,
  SHA256_EXPECTED,
} from './inputs.js';
import { downloadArtifact, upsertPrComment, uploadArtifact } from './runner.js';

const ACTION = 'terraform-gated-apply';

await run(ACTION, async () => {
  const ctx = runnerContext();
  const token = input.secret('github-token');
  const mode = input.oneOf('mode', MODES);
  const environment = input.string('environment', { default: 'production', pattern: ENVIRONMENT, expected: ENVIRONMENT_EXPECTED });
  audit.subject({ environment });
  audit.facts({ mode });
  const workingDir = input.path('working-directory', { kind: 'dir', default: '.' });
  const planJsonShown = input.string('plan-json');
  // Checked against the working directory, passed to terraform as given (it runs there).
  const varFiles = input.list('var-files');
  for (const f of varFiles) input.resolvePath('var-files', f, { kind: 'file', base: workingDir, baseName: 'working-directory' });
  const cfg = checkInputs(
    {
      mode,
      token,
      environment,
      artifactName: input.string('artifact-name', {
        default: `tfplan-${environment}`,
        pattern: ARTIFACT_NAME,
        expected: ARTIFACT_EXPECTED,
      }),
      workingDir,
      varFiles,
      backendConfig: input.list('backend-config'),
      planJson: input.path('plan-json', { kind: 'file' }),
      planJsonShown,
      allowDestroy: input.boolean('allow-destroy', false),
      comment: input.boolean('comment', true),
      lockTimeoutMs: input.duration('lock-timeout', { default: '5m', min: 0, max: 24 * 3600_000 }),
      planSha256: input.string('plan-sha256', { pattern: SHA256, expected: SHA256_EXPECTED }),
    },
    { eventName: ctx.eventName, isFile: (p) => pathKind(p) === 'file' },
  );
  if (cfg.planSha256) audit.subject({ planSha256: cfg.planSha256 });
  // terraform gets the job's environment (provider credentials, TF_VAR_*) even when a value equals a sensitive plan
  // value the flow masks (that value is terraform's own input); INPUT_* and anything holding github-token stay out.
  const allowEnv = Object.keys(process.env).filter((k) => !/^INPUT_/i.test(k) && !(token && process.env[k]?.includes(token)));
  const r = await runStep(cfg, {
    exec: (tool, args, o) => exec(tool, args, { cwd: o.cwd, allowEnv, env: { TF_IN_AUTOMATION: 'true', TF_INPUT: '0' } }),
    printUntrusted: (t) => printUntrusted(t),
    info: log.info,
    warn: (m) => log.warning(m),
    mask: maskSecret,
    upload: uploadArtifact,
    download: downloadArtifact,
    comment: (marker, body) => upsertPrComment({ token, marker, body }),
    tempDir: ctx.temp,
    commit: ctx.sha,
    runUrl: runUrl(ctx) || undefined,
    eventName: ctx.eventName,
  });
  if (r.planSha256) audit.subject({ planSha256: r.planSha256 });
  audit.facts(r.facts);
  setOutputs(r.outputs);
  writeSummary(r.summary);
  if (r.failure) fail(ACTION, r.failure.reason, r.failure.message);
});
