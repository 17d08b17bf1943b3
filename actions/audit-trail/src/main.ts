import * as core from '@actions/core';
import { InputError } from '@hallmark/kit';
import {
  audit,
  auditRun,
  input,
  maskSecret,
  run,
  setOutputs,
  standardDeps,
  uploadArtifact,
  VERSION,
  writeSummary,
} from '@hallmark/kit/runner';
import { CosignArgError, keyFromInput } from '@hallmark/oci';
import { joinSignUpload } from './flow.js';
import { checkInputs, SIGNING_MODES } from './inputs.js';
import { summary } from './summary.js';

const ACTION = 'audit-trail';

await run(ACTION, async () => {
  const std = standardDeps(ACTION);
  const ctx = std.context;
  // Secrets first: masked before anything else reads or prints them.
  const cosignKey = input.secret('cosign-key');
  const cosignPassword = input.secret('cosign-password');
  const cfg = checkInputs(
    {
      parts: input.path('parts', { required: true, kind: 'dir', mustExist: false }),
      signing: input.oneOf('signing', SIGNING_MODES, { default: 'keyless' }),
      cosignKeyGiven: cosignKey !== '',
      tlog: input.boolean('tlog', true),
      signingConfig: input.path('signing-config', { kind: 'file' }),
      trustedRoot: input.path('trusted-root', { kind: 'file' }),
      artifactName: input.string('artifact-name'),
      upload: input.boolean('upload', true),
      overwrite: input.boolean('overwrite', true),
      retentionDays: input.integer('retention-days', { default: 90, min: 1, max: 90 }),
      jobs: input.structured('jobs', { expected: 'the JSON of the needs context (${{ toJSON(needs) }})' }),
      facts: input.map('facts'),
    },
    { runId: ctx.runId, runAttempt: ctx.runAttempt },
  );
  if (cfg.signing === 'key') {
    // Checked here, before any part is read or tool run; the flow builds the same reference again.
    try {
      const key = keyFromInput(cosignKey, cosignPassword, (n) => process.env[n]);
      for (const v of Object.values(key.env)) maskSecret(v);
    } catch (e) {
      throw new InputError('cosign-key', e instanceof CosignArgError ? e.message : 'is not usable');
    }
  }
  audit.facts({ signing: cfg.signing, 'artifact-name': cfg.artifactName });

  const result = await joinSignUpload(
    cfg,
    { cosignKey, cosignPassword },
    {
      ...std,
      tempDir: ctx.temp,
      serverUrl: ctx.serverUrl,
      version: VERSION,
      run: auditRun(ctx),
      getIdToken: (aud) => core.getIDToken(aud),
      lookupEnv: (n) => process.env[n],
      // overwrite: a re-run attempt, or deploy-prod's audit job after build-sign-scan's in one
      // caller run, replaces the artifact of that name.
      upload: (name, files, root, retentionDays, overwrite) => uploadArtifact(name, files, root, { retentionDays, overwrite }),
    },
  );
  audit.facts({ 'record-count': result.recordCount, 'trail-sha256': result.sha256, signed: result.signed });
  setOutputs({
    trail: result.trail ?? '',
    sha256: result.sha256 ?? '',
    'record-count': result.recordCount,
    signed: result.signed,
    bundle: result.bundle ?? '',
    'artifact-name': result.artifact?.name ?? '',
  });
  writeSummary(summary(cfg, result));
  if (result.story) std.log.untrusted(result.story);
});
