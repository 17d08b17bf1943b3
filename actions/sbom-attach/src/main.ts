import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { displayCommand, exec, fail, http, input, InputError, log, maskSecret, md, oneLine, printUntrusted, run, runnerContext, setOutputs, writeSummary } from '@hallmark/kit';
import { checkSigstoreInputs, CosignArgError, digestRef, keyFromInput, SigstoreInputError, type Transport } from '@hallmark/oci';
import { ATTACH_INPUTS, checkInputs, GENERATORS } from './config.js';
import { generateAndAttach, type Result } from './flow.js';
import { summary } from './summary.js';

await run('sbom-attach', async () => {
  const ctx = runnerContext();
  // Secrets first: masked before anything else reads or prints them.
  const cosignKey = input.secret('cosign-key');
  const cosignPassword = input.secret('cosign-password');
  const registryPassword = input.secret('registry-password');
  const envKey = /^env:\/\/([A-Za-z_][A-Za-z0-9_]*)$/.exec(cosignKey.trim());
  if (envKey) maskSecret(process.env[envKey[1] as string]);

  const cfg = checkInputs(
    {
      image: input.string('image'),
      path: input.string('path'),
      formats: input.list('format', { default: ['spdx-json'] }),
      generator: input.oneOf('generator', GENERATORS, { default: 'syft' }),
      service: input.string('service'),
      artifactName: input.string('artifact-name'),
      upload: input.boolean('upload', true),
      retentionDays: input.integer('retention-days', { default: 30, min: 1, max: 90 }),
      attach: input.oneOf('attach', ATTACH_INPUTS, { default: 'auto' }),
      signBlob: input.boolean('sign-blob', false),
      cosignKeyGiven: cosignKey !== '',
      oidcAvailable: !!process.env.ACTIONS_ID_TOKEN_REQUEST_URL && !!process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN,
      registryUsername: input.string('registry-username'),
      registryPasswordGiven: registryPassword !== '',
      registryInsecure: input.boolean('registry-insecure', false),
      outputDir: input.string('output-dir'),
      tlog: input.boolean('tlog', true),
      signingConfig: input.string('signing-config'),
      trustedRoot: input.string('trusted-root'),
    },
    { sha: ctx.sha, repository: ctx.repository },
  );
  if (cfg.signing === 'key') {
    try {
      keyFromInput(cosignKey, cosignPassword, (n) => process.env[n]);
    } catch (e) {
      throw new InputError('cosign-key', e instanceof CosignArgError ? e.message : 'is not usable');
    }
  }
  // signing-config / trusted-root: files in the workspace (or absolute), handed to cosign by absolute
  // path and checked by the one rule in @hallmark/oci (checkSigstoreInputs), as build-sign does.
  if (cfg.signing !== 'none') {
    const abs = (given: string | undefined) => (given ? (isAbsolute(given) ? given : resolve(ctx.workspace, given)) : undefined);
    cfg.sigstore.signingConfig = abs(cfg.sigstore.signingConfig);
    cfg.sigstore.trustedRoot = abs(cfg.sigstore.trustedRoot);
    try {
      checkSigstoreInputs(cfg.signing, cfg.sigstore, (p) => (existsSync(p) && statSync(p).isFile() ? readFileSync(p, 'utf8') : undefined), (p) => oneLine(p, 200));
    } catch (e) {
      if (e instanceof SigstoreInputError) throw new InputError(e.input, e.message);
      throw e;
    }
  }
  let scanPath: string | undefined;
  let scanPathIsFile = false;
  if (cfg.path) {
    scanPath = isAbsolute(cfg.path) ? cfg.path : resolve(ctx.workspace, cfg.path);
    if (!existsSync(scanPath)) throw new InputError('path', `must be an existing file or directory (${oneLine(cfg.path, 200)} does not exist in the workspace)`);
    scanPathIsFile = statSync(scanPath).isFile();
  }
  const outputDir = cfg.outputDir ? (isAbsolute(cfg.outputDir) ? cfg.outputDir : resolve(ctx.workspace, cfg.outputDir)) : join(ctx.temp, 'sbom-attach');
  if (existsSync(outputDir) && !statSync(outputDir).isDirectory()) throw new InputError('output-dir', `must be a directory (${oneLine(cfg.outputDir, 200)} is a file)`);
  for (const n of cfg.notes) log.notice(n);

  // Tools never inherit the runner's INPUT_* variables (they hold the secrets as given).
  const scrubEnv: Record<string, undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrubEnv[k] = undefined;

  const transport: Transport = async (req) => {
    const r = await http.request({ method: req.method, url: req.url, headers: req.headers, body: req.body, timeoutMs: 60_000, attempts: 3, followRedirects: true });
    return { status: r.status, headers: r.headers, body: r.body };
  };

  const overwrite = input.boolean('overwrite', false);
  const scanned = cfg.image ? digestRef(cfg.image, cfg.image.digest) : (scanPath as string);
  let result: Result;
  try {
    result = await generateAndAttach(cfg, { cosignKey, cosignPassword, registryPassword }, {
      exec: (tool, args, o) => exec(tool, args, o),
      upload: async (name, files, root, retentionDays) => {
        const { DefaultArtifactClient, ArtifactNotFoundError } = await import('@actions/artifact');
        const client = new DefaultArtifactClient();
        // overwrite: as actions/upload-artifact's `overwrite`, delete this run's artifact of that name
        // first (a re-run attempt replaces what an earlier attempt uploaded, instead of a 409).
        if (overwrite)
          await client.deleteArtifact(name).catch((e: unknown) => {
            if (!(e instanceof ArtifactNotFoundError)) throw e;
          });
        return client.uploadArtifact(name, files, root, { retentionDays });
      },
      transport,
      mask: maskSecret,
      info: log.info,
      warn: log.warning,
      printUntrusted: (t) => printUntrusted(t),
      oneLine,
      displayCommand,
      scrubEnv,
      lookupEnv: (n) => process.env[n],
      tempDir: ctx.temp,
      outputDir,
      scanPath,
      scanPathIsFile,
      home: process.env.HOME,
    });
  } catch (e) {
    writeSummary(`### sbom-attach: ${md.text(cfg.service)}\n\n❌ failed with an unexpected error (see the log).\n`);
    throw e;
  }

  setOutputs({
    // Newline-separated paths: what actions/upload-artifact's `path` and shell loops take as they are.
    sbom: result.files.filter((f) => f.info).map((f) => f.path).join('\n'),
    packages: result.packages ?? '',
    'artifact-name': result.artifact?.name ?? '',
    'artifact-id': result.artifact?.id ?? '',
    attached: result.attached,
    attachments: result.attachments,
    bundles: result.files.filter((f) => f.bundle).map((f) => f.bundle as string).join('\n'),
  });
  writeSummary(summary(cfg, result, scanned));
  if (result.failure) fail('sbom-attach', result.failure.reason, result.failure.message);
});
