import { readFileSync } from 'node:fs';
import {
  audit,
  exec,
  fail,
  input,
  log,
  maskSecret,
  printUntrusted,
  run,
  runnerContext,
  setOutputs,
  writeSummary,
} from '@hallmark/kit/runner';
import { keyFingerprint, verifyImage } from './flow.js';
import { describeRules } from './identity.js';
import { checkInputs } from './inputs.js';
import { summary } from './summary.js';

const ACTION = 'verify-image';

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

function eventDefaultBranch(path: string): string | undefined {
  const text = path ? readText(path) : undefined;
  if (!text) return undefined;
  try {
    const b = (JSON.parse(text) as { repository?: { default_branch?: unknown } }).repository?.default_branch;
    return typeof b === 'string' ? b : undefined;
  } catch {
    return undefined;
  }
}

await run(ACTION, async () => {
  const ctx = runnerContext();
  const publicKey = input.secret('public-key');
  const cfg = checkInputs(
    {
      imageRef: input.string('image-ref', { required: true, expected: 'an image by digest, <image>@sha256:<64 hex>' }),
      publicKey,
      workflow: input.string('workflow'),
      allowedRefs: input.raw('allowed-refs') ? input.raw('allowed-refs').split(/\r?\n/) : [],
      sourceRepository: input.string('source-repository'),
      requireProvenance: input.boolean('require-provenance', true),
      requireDefaultBranch: input.boolean('require-default-branch', false),
      defaultBranch: input.string('default-branch'),
      tlog: input.boolean('tlog', true),
      trustedRoot: input.string('trusted-root'),
    },
    {
      workspace: ctx.workspace,
      repository: ctx.repository,
      serverUrl: ctx.serverUrl,
      eventDefaultBranch: eventDefaultBranch(ctx.eventPath),
      readText,
    },
  );
  if (cfg.key) for (const v of Object.values(cfg.key.env)) maskSecret(v);
  const at = cfg.imageRef.lastIndexOf('@');
  audit.subject({ image: cfg.imageRef.slice(0, at), digest: cfg.digest });
  audit.facts({
    mode: cfg.key ? 'key' : 'keyless',
    ...(cfg.key
      ? { 'key-sha256': keyFingerprint(cfg.key.env.COSIGN_PUBLIC_KEY as string).replace(/^key:sha256:/, '') }
      : {
          'identity-regexp': cfg.policy.identityRegexp,
          issuer: cfg.policy.issuer,
          'allowed-refs': describeRules(cfg.policy.rules),
          'source-repository': cfg.policy.sourceRepository,
        }),
    'require-provenance': cfg.requireProvenance,
    ...(cfg.requireRef ? { 'require-ref': cfg.requireRef } : {}),
    tlog: cfg.tlog,
  });
  // cosign gets the public key in the env the flow passes explicitly; the kit's exec keeps INPUT_* from it.
  const o = await verifyImage(cfg, {
    exec: (tool, args, opts) => exec(tool, args, opts),
    info: (m) => log.info(`${ACTION}: ${m}`),
    warn: (m) => log.warning(`${ACTION}: ${m}`),
    untrusted: (t) => printUntrusted(t.endsWith('\n') ? t : `${t}\n`),
  });
  audit.facts({
    passed: o.passed,
    signer: o.signer || undefined,
    'cosign-version': o.cosignVersion,
    ...(o.provenance ? { 'source-ref': o.sourceRef } : {}),
  });
  setOutputs({
    passed: o.passed ? 'true' : 'false',
    signer: o.signer,
    'source-repository': o.sourceRepository,
    'source-ref': o.sourceRef,
    mode: o.mode,
  });
  writeSummary(summary(cfg, o));
  if (!o.passed) fail(ACTION, o.failureReason ?? 'signature-invalid', o.problem ?? 'not verified');
});
