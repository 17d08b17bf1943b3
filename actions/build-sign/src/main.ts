import * as core from '@actions/core';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { displayCommand, InputError, oneLine, runUrl } from '@hallmark/kit';
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
import { CosignArgError, GITHUB_ISSUER, httpTransport, keyFromInput, repoName } from '@hallmark/oci';
import { BUILDERS, checkInputs, checkSigstoreFiles, POLICY_KIND_VALUES, SIGN_MODES } from './inputs.js';
import { buildAndSign } from './flow.js';
import { parseBuildSecrets } from './build-options.js';
import { eventFacts } from './metadata.js';
import { summary } from './summary.js';

await run('build-sign', async () => {
  const ctx = runnerContext();
  // Secrets first: masked before anything else reads or prints them.
  const cosignKey = input.secret('cosign-key');
  const cosignPassword = input.secret('cosign-password');
  const registryPassword = input.secret('registry-password');
  // Build secrets: the whole input is masked on read, then each value on its own.
  const buildSecrets = parseBuildSecrets(input.secret('secrets'));
  for (const s of buildSecrets) maskSecret(s.value);
  const envKey = /^env:\/\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(cosignKey.trim());
  if (envKey) maskSecret(process.env[envKey[1] as string]);

  const tagsRaw = input.raw('tags');
  const cfg = checkInputs(
    {
      image: input.string('image', { required: true, expected: 'a repository without a tag, e.g. ghcr.io/octo-org/app' }),
      tags: input.list('tags'),
      tagsGiven: tagsRaw !== '',
      context: input.string('context', { default: '.' }),
      file: input.string('file'),
      platforms: input.list('platforms'),
      buildArgs: input.raw('build-args'),
      builder: input.oneOf('builder', BUILDERS, { default: 'buildx' }),
      push: input.boolean('push', true),
      digest: input.string('digest'),
      sign: input.oneOf('sign', SIGN_MODES, { default: 'keyless' }),
      cosignKeyGiven: cosignKey !== '',
      registry: input.string('registry'),
      registryUsername: input.string('registry-username'),
      registryPasswordGiven: registryPassword !== '',
      registryInsecure: input.boolean('registry-insecure', false),
      identity: input.string('identity'),
      issuer: input.string('issuer', { default: GITHUB_ISSUER }),
      policy: input.string('policy', { default: 'hallmark-policy.yaml' }),
      allowLatest: input.boolean('allow-latest', false),
      tlog: input.boolean('tlog', true),
      signingConfig: input.string('signing-config'),
      trustedRoot: input.string('trusted-root'),
      policyKind: input.oneOf('policy-kind', POLICY_KIND_VALUES, { default: 'cluster-policy' }),
      buildOptions: {
        cacheFrom: input.raw('cache-from'),
        cacheTo: input.raw('cache-to'),
        cache: input.boolean('cache', false),
        secretIds: buildSecrets.map((s) => s.id),
        secretFiles: input.raw('secret-files'),
        target: input.string('target'),
        labels: input.raw('labels'),
        annotations: input.raw('annotations'),
      },
      provenanceInputs: {
        provenance: input.boolean('provenance', false),
        provenanceFile: input.string('provenance-file'),
        requireProvenance: input.boolean('require-provenance', false),
        builderRefs: input.list('builder-refs'),
      },
    },
    {
      sha: ctx.sha,
      workspace: ctx.workspace,
      facts: {
        serverUrl: ctx.serverUrl,
        repository: ctx.repository,
        ref: ctx.ref,
        ...eventFacts(readEvent(ctx.eventPath), new Date(), process.env.SOURCE_DATE_EPOCH),
      },
    },
  );
  for (const w of cfg.warnings) log.warning(w);
  if (cfg.sign === 'key') {
    try {
      keyFromInput(cosignKey, cosignPassword, (n) => process.env[n]);
    } catch (e) {
      throw new InputError('cosign-key', e instanceof CosignArgError ? e.message : 'is not usable');
    }
  }
  if (cfg.sign !== 'none') {
    // Read and checked once, here, before any side effect; the flow takes the Rekor URL from cfg.
    cfg.rekorUrl = checkSigstoreFiles(
      cfg,
      (p) => (existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : undefined),
      (p) => oneLine(p, 200),
    ).rekorUrl;
  }
  if (!cfg.digest) {
    // Checked before anything runs; the flow resolves them again the same way (relative to the workspace).
    input.resolvePath('context', cfg.context, { kind: 'dir' });
    if (cfg.file) input.resolvePath('file', cfg.file, { kind: 'file' });
    for (const f of cfg.build.secretFiles) input.resolvePath('secret-files', f.path, { kind: 'file' });
  }
  audit.subject({ image: repoName(cfg.image), ...(cfg.digest ? { digest: cfg.digest } : {}) });
  audit.facts({
    builder: cfg.digest ? undefined : cfg.builder,
    'signing-mode': cfg.sign,
    ...(cfg.sign === 'keyless' ? { 'signer-issuer': cfg.issuer } : {}),
    tlog: cfg.tlog,
    'policy-kind': cfg.policyKind,
  });

  const result = await buildAndSign(
    cfg,
    { cosignKey, cosignPassword, registryPassword, buildSecrets },
    {
      exec: (tool, args, o) => exec(tool, args, o),
      getIdToken: (aud) => core.getIDToken(aud),
      mask: maskSecret,
      info: log.info,
      warn: log.warning,
      printUntrusted: (t) => printUntrusted(t),
      oneLine,
      displayCommand,
      lookupEnv: (n) => process.env[n],
      tempDir: ctx.temp,
      workspace: ctx.workspace,
      serverUrl: ctx.serverUrl,
      runUrl: runUrl(ctx) || undefined,
      transport: httpTransport(http.request),
      github:
        ctx.repository && ctx.sha
          ? {
              serverUrl: ctx.serverUrl,
              repository: ctx.repository,
              ref: ctx.ref,
              sha: ctx.sha,
              workflowRef: ctx.workflowRef,
              eventName: ctx.eventName,
              repositoryId: process.env.GITHUB_REPOSITORY_ID ?? '',
              repositoryOwnerId: process.env.GITHUB_REPOSITORY_OWNER_ID ?? '',
              runnerEnvironment: process.env.RUNNER_ENVIRONMENT ?? '',
              runId: ctx.runId,
              runAttempt: ctx.runAttempt,
            }
          : undefined,
    },
  );

  audit.subject({ ...(result.digest ? { digest: result.digest } : {}) });
  audit.facts({
    pushed: !!result.digest && !cfg.digest,
    signed: result.signed && result.verify === 'passed',
    'signer-identity': result.identity || undefined,
    'cosign-version': result.cosignVersion,
    provenance: !!result.provenanceAttested,
    'provenance-attested': !!result.provenanceAttested,
  });
  setOutputs({
    digest: result.digest ?? '',
    'image-ref': result.imageRef ?? '',
    tags: result.tags,
    signed: result.signed && result.verify === 'passed',
    identity: result.identity ?? '',
    policy: result.policy ?? '',
    'cosign-version': result.cosignVersion ?? '',
    metadata: result.metadata ? JSON.stringify(result.metadata) : '',
    provenance: result.provenance ?? '',
    'provenance-attested': !!result.provenanceAttested,
  });
  writeSummary(summary(cfg, result));
  if (result.failure) fail('build-sign', result.failure.reason, result.failure.message);
});

/** The event payload (for the OCI defaults); nothing when absent or unreadable. */
function readEvent(path: string): unknown {
  try {
    return path && existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined;
  } catch {
    return undefined;
  }
}
