import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { displayCommand, InputError, oneLine } from '@hallmark/kit';
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
  uploadArtifact,
  writeSummary,
} from '@hallmark/kit/runner';
import { checkSigstoreInputs, CosignArgError, digestRef, httpTransport, keyFromInput, repoName, SigstoreInputError } from '@hallmark/oci';
import { ATTACH_INPUTS, checkInputs, GENERATORS } from './inputs.js';
import { generateAndAttach } from './flow.js';
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
  if (cfg.image) audit.subject({ image: repoName(cfg.image), digest: cfg.image.digest });
  audit.facts({
    format: cfg.formats.join(','),
    generator: cfg.generator,
    attach: cfg.attach,
    signing: cfg.signing,
    'sign-blob': cfg.signBlob,
    tlog: cfg.sigstore.tlog,
  });
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
    const file = (name: 'signing-config' | 'trusted-root', given: string | undefined) =>
      given ? input.resolvePath(name, given, { kind: 'file' }) : undefined;
    cfg.sigstore.signingConfig = file('signing-config', cfg.sigstore.signingConfig);
    cfg.sigstore.trustedRoot = file('trusted-root', cfg.sigstore.trustedRoot);
    try {
      checkSigstoreInputs(
        cfg.signing,
        cfg.sigstore,
        (p) => readFileSync(p, 'utf8'),
        (p) => oneLine(p, 200),
      );
    } catch (e) {
      if (e instanceof SigstoreInputError) throw new InputError(e.input, e.message);
      throw e;
    }
  }
  const scanPath = cfg.path ? input.resolvePath('path', cfg.path, { kind: 'any' }) : undefined;
  const scanPathIsFile = scanPath ? statSync(scanPath).isFile() : false;
  const outputDir = cfg.outputDir
    ? input.resolvePath('output-dir', cfg.outputDir, { kind: 'dir', mustExist: false })
    : join(ctx.temp, 'sbom-attach');
  for (const n of cfg.notes) log.notice(n);

  const overwrite = input.boolean('overwrite', false);
  const scanned = cfg.image ? digestRef(cfg.image, cfg.image.digest) : (scanPath as string);
  const result = await generateAndAttach(
    cfg,
    { cosignKey, cosignPassword, registryPassword },
    {
      exec: (tool, args, o) => exec(tool, args, o),
      // overwrite: a re-run attempt replaces what an earlier attempt uploaded, instead of a 409.
      upload: (name, files, root, retentionDays) => uploadArtifact(name, files, root, { retentionDays, overwrite }),
      transport: httpTransport(http.request),
      mask: maskSecret,
      info: log.info,
      warn: log.warning,
      printUntrusted: (t) => printUntrusted(t),
      oneLine,
      displayCommand,
      lookupEnv: (n) => process.env[n],
      tempDir: ctx.temp,
      outputDir,
      scanPath,
      scanPathIsFile,
      home: process.env.HOME,
    },
  );

  audit.facts({
    attached: result.attached,
    attested: result.attached === 'attest',
    'package-count': result.packageCount,
    'cosign-version': result.cosignVersion,
    'attachment-count': result.attachments.length,
  });
  setOutputs({
    // Newline-separated paths: what actions/upload-artifact's `path` and shell loops take as they are.
    sbom: result.files
      .filter((f) => f.info)
      .map((f) => f.path)
      .join('\n'),
    'package-count': result.packageCount ?? '',
    'artifact-name': result.artifact?.name ?? '',
    'artifact-id': result.artifact?.id ?? '',
    attached: result.attached,
    attachments: result.attachments,
    bundles: result.files
      .filter((f) => f.bundle)
      .map((f) => f.bundle as string)
      .join('\n'),
  });
  writeSummary(summary(cfg, result, scanned));
  if (result.failure) fail('sbom-attach', result.failure.reason, result.failure.message);
});
