import { readFileSync } from 'node:fs';
import { exec, fail, input, log, maskSecret, printUntrusted, run, runnerContext, setOutputs, writeSummary } from '@hallmark/kit';
import { verifyImage } from './flow.js';
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
    { workspace: ctx.workspace, repository: ctx.repository, serverUrl: ctx.serverUrl, eventDefaultBranch: eventDefaultBranch(ctx.eventPath), readText },
  );
  if (cfg.key) for (const v of Object.values(cfg.key.env)) maskSecret(v);
  // cosign gets no INPUT_* variables (the public key input among them).
  const scrub: Record<string, undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith('INPUT_')) scrub[k] = undefined;
  const o = await verifyImage(cfg, {
    exec: (tool, args, opts) => exec(tool, args, { ...opts, env: { ...scrub, ...opts.env } }),
    info: (m) => log.info(`${ACTION}: ${m}`),
    warn: (m) => log.warning(`${ACTION}: ${m}`),
    untrusted: (t) => printUntrusted(t.endsWith('\n') ? t : `${t}\n`),
  });
  setOutputs({
    verified: o.verified ? 'true' : 'false',
    signer: o.signer,
    'source-repository': o.sourceRepository,
    'source-ref': o.sourceRef,
    mode: o.mode,
  });
  writeSummary(summary(cfg, o));
  if (!o.verified) fail(ACTION, o.failureReason ?? 'signature-invalid', o.problem ?? 'not verified');
});
