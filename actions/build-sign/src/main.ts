import * as core from '@actions/core';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { displayCommand, exec, fail, http, input, InputError, log, maskSecret, md, oneLine, printUntrusted, run, runnerContext, runUrl, setOutputs, writeSummary } from '@hallmark/kit';
import { CosignArgError, GITHUB_ISSUER, keyFromInput, repoName } from '@hallmark/oci';
import { BUILDERS, checkInputs, checkSigstoreFiles, POLICY_KIND_VALUES, SIGN_MODES } from './inputs.js';
import { buildAndSign, type Result } from './flow.js';
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
    { sha: ctx.sha, workspace: ctx.workspace, facts: { serverUrl: ctx.serverUrl, repository: ctx.repository, ref: ctx.ref, ...eventFacts(readEvent(ctx.eventPath), new Date(), process.env.SOURCE_DATE_EPOCH) } },
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
    cfg.rekorUrl = checkSigstoreFiles(cfg, (p) => (existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : undefined), (p) => oneLine(p, 200)).rekorUrl;
  }
  if (!cfg.digest) {
    const contextDir = isAbsolute(cfg.context) ? cfg.context : resolve(ctx.workspace, cfg.context);
    if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) throw new InputError('context', `must be a directory (${oneLine(cfg.context, 200)} does not exist in the workspace)`);
    if (cfg.file) {
      const file = isAbsolute(cfg.file) ? cfg.file : resolve(ctx.workspace, cfg.file);
      if (!existsSync(file)) throw new InputError('file', `must name an existing Dockerfile/Containerfile (${oneLine(cfg.file, 200)} does not exist)`);
    }
    for (const f of cfg.build.secretFiles) {
      if (!existsSync(f.path) || !statSync(f.path).isFile()) throw new InputError('secret-files', `names ${oneLine(f.path, 200)} for ${f.id}, which is not an existing file`);
    }
  }

  // Tools never inherit the runner's INPUT_* variables (they hold the secrets as given).
  const scrubEnv: Record<string, undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrubEnv[k] = undefined;

  let result: Result;
  try {
    result = await buildAndSign(cfg, { cosignKey, cosignPassword, registryPassword, buildSecrets }, {
      exec: (tool, args, o) => exec(tool, args, o),
      getIdToken: (aud) => core.getIDToken(aud),
      mask: maskSecret,
      info: log.info,
      warn: log.warning,
      printUntrusted: (t) => printUntrusted(t),
      oneLine,
      displayCommand,
      scrubEnv,
      lookupEnv: (n) => process.env[n],
      tempDir: ctx.temp,
      workspace: ctx.workspace,
      serverUrl: ctx.serverUrl,
      runUrl: runUrl(ctx) || undefined,
      transport: async (req) => {
        const r = await http.request({ method: req.method, url: req.url, headers: req.headers, body: req.body, timeoutMs: 60_000, attempts: 3, followRedirects: true });
        return { status: r.status, headers: r.headers, body: r.body };
      },
      github: ctx.repository && ctx.sha
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
    });
  } catch (e) {
    writeSummary(`### build-sign: ${md.text(repoName(cfg.image))}\n\n❌ failed with an unexpected error (see the log).\n`);
    throw e;
  }

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
