import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { exec, fail, input, InputError, log, maskSecret, md, oneLine, printUntrusted, run, runnerContext, runUrl, setOutputs, writeSummary } from '@hallmark/kit';
import { ARTIFACT_EXPECTED, ARTIFACT_NAME, ENVIRONMENT, ENVIRONMENT_EXPECTED, isBackendKeyValue, isPullRequestEvent, MODES, normalizeSha, SHA256, SHA256_EXPECTED } from './config.js';
import { applyFlow, planFlow, type Deps } from './flow.js';
import { downloadArtifact, upsertPrComment, uploadArtifact } from './github.js';
import { applyMarkdown, commentMarker, planMarkdown } from './render.js';

const ACTION = 'terraform-gated-apply';

await run(ACTION, async () => {
  const ctx = runnerContext();
  const token = input.secret('github-token');
  const mode = input.oneOf('mode', MODES);
  const environment = input.string('environment', { default: 'production', pattern: ENVIRONMENT, expected: ENVIRONMENT_EXPECTED });
  const artifactName = input.string('artifact-name', { default: `tfplan-${environment}`, pattern: ARTIFACT_NAME, expected: ARTIFACT_EXPECTED });
  const wdRaw = input.string('working-directory', { default: '.' });
  const workingDir = isAbsolute(wdRaw) ? wdRaw : resolve(ctx.workspace, wdRaw);
  if (!existsSync(workingDir) || !statSync(workingDir).isDirectory()) {
    throw new InputError('working-directory', `must be an existing directory (${oneLine(wdRaw, 200)} is not one in the workspace)`);
  }
  const inWd = (p: string) => (isAbsolute(p) ? p : resolve(workingDir, p));
  const varFiles = input.list('var-files');
  for (const f of varFiles) {
    if (!existsSync(inWd(f)) || !statSync(inWd(f)).isFile()) throw new InputError('var-files', `must list existing files, relative to working-directory (${oneLine(f, 200)} is not one)`);
  }
  const backendConfig = input.list('backend-config');
  backendConfig.forEach((b, i) => {
    if (isBackendKeyValue(b)) return;
    if (!existsSync(inWd(b)) || !statSync(inWd(b)).isFile()) throw new InputError('backend-config', `item ${i + 1} must be key=value or an existing file relative to working-directory (value not shown: it may hold credentials)`);
  });
  const planJsonRaw = input.string('plan-json');
  const planJson = planJsonRaw ? (isAbsolute(planJsonRaw) ? planJsonRaw : resolve(ctx.workspace, planJsonRaw)) : '';
  if (planJson && (!existsSync(planJson) || !statSync(planJson).isFile())) throw new InputError('plan-json', `must be an existing file, relative to the workspace (${oneLine(planJsonRaw, 200)} is not one)`);
  const allowDestroy = input.boolean('allow-destroy', false);
  const comment = input.boolean('comment', true);
  const lockTimeoutMs = input.duration('lock-timeout', { default: '5m', min: 0, max: 24 * 3600_000 });
  const shaRaw = input.string('plan-sha256', { pattern: SHA256, expected: SHA256_EXPECTED });
  if (mode === 'apply' && !shaRaw) throw new InputError('plan-sha256', `is required in apply mode: ${SHA256_EXPECTED}`);
  const wantComment = mode === 'plan' && comment && isPullRequestEvent(ctx.eventName);
  if (wantComment && !token) throw new InputError('github-token', 'is required to comment on the pull request (or set comment: false)');
  if (mode === 'plan' && shaRaw) log.warning(`${ACTION}: plan-sha256 is used in apply mode only; ignored`);
  if (mode === 'apply' && planJson) log.warning(`${ACTION}: plan-json is used in plan mode only; ignored`);
  if (mode === 'apply' && varFiles.length) log.warning(`${ACTION}: var-files are used in plan mode only (a saved plan carries its variables); ignored`);
  maskSecret(token);

  const deps: Deps = {
    exec: (tool, args, o) => exec(tool, args, { cwd: o.cwd, env: scrubbedEnv() }),
    printUntrusted: (t) => printUntrusted(t),
    info: log.info,
    warn: log.warning,
    mask: maskSecret,
    upload: uploadArtifact,
    download: downloadArtifact,
    tempDir: ctx.temp,
  };

  if (mode === 'plan') {
    const r = await planFlow({ workingDir, varFiles, backendConfig, environment, planJson: planJson || undefined, planJsonShown: planJsonRaw, allowDestroy, artifactName, lockTimeoutMs, terraform: 'terraform' }, deps);
    if (r.summary) {
      const c = r.summary.counts;
      setOutputs({ 'has-changes': r.summary.hasChanges, add: c.add, change: c.change, destroy: c.destroy, replace: c.replace, 'plan-sha256': r.planSha256, 'artifact-name': r.artifactName });
      const report = { environment, summary: r.summary, planSha256: r.planSha256, artifactName: r.artifactName, source: r.source, refused: r.failure, commit: ctx.sha, runUrl: runUrl(ctx) || undefined };
      writeSummary(planMarkdown(report));
      if (wantComment && !(r.failure && !r.refused)) {
        try {
          const c2 = await upsertPrComment({ token, marker: commentMarker(environment), body: planMarkdown(report, { forComment: true }) });
          if (c2.action === 'skipped') log.warning(`${ACTION}: PR comment skipped: ${c2.why}`);
          else log.info(`PR comment ${c2.action} (id ${c2.id})`);
        } catch (e) {
          log.warning(`${ACTION}: could not post the PR comment (the plan itself is fine; check \`permissions: pull-requests: write\`): ${oneLine(e instanceof Error ? e.message : String(e), 300)}`);
        }
      } else if (mode === 'plan' && comment && !isPullRequestEvent(ctx.eventName)) log.info(`not a pull_request event (${ctx.eventName || 'unknown'}): no PR comment`);
    } else {
      setOutputs({ 'plan-sha256': '', 'artifact-name': '' });
      writeSummary(`### Terraform plan for ${md.code(environment)}\n\n❌ **\`${r.failure?.reason ?? 'internal-error'}\`** — ${md.text(r.failure?.message ?? '')}\n`);
    }
    if (r.failure) fail(ACTION, r.failure.reason, r.failure.message);
    return;
  }

  const r = await applyFlow({ workingDir, backendConfig, environment, planSha256: normalizeSha(shaRaw), artifactName, lockTimeoutMs, terraform: 'terraform' }, deps);
  setOutputs({ applied: r.applied, outputs: r.outputs });
  writeSummary(applyMarkdown({ environment, planSha256: normalizeSha(shaRaw), artifactName, summary: r.summary, applied: r.applied, failure: r.failure, outputs: r.outputNames, omitted: r.omitted, actualSha256: r.actualSha256 }));
  if (r.failure) fail(ACTION, r.failure.reason, r.failure.message);
});

/** Terraform never inherits the runner's INPUT_* variables (the token is among them). */
function scrubbedEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { TF_IN_AUTOMATION: 'true', TF_INPUT: '0' };
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) env[k] = undefined;
  return env;
}
