/**
 * The verification, over injected Deps (exec, log): the cosign version, then `cosign verify` of the
 * image signature in the identity policy, then (when required) `cosign verify-attestation --type
 * slsaprovenance1` in the same policy and our own check of the provenance predicate.
 *
 * Keyless: `--certificate-identity-regexp <anchored pattern built in identity.ts>`,
 * `--certificate-oidc-issuer https://token.actions.githubusercontent.com`,
 * `--certificate-github-workflow-repository <source repository>` (cosign 3.1.2
 * cmd/cosign/cli/options/certificate.go; cosign checks the last against the certificate's
 * 1.3.6.1.4.1.57264.1.5 extension, pkg/cosign/verify.go). Key mode: `--key env://COSIGN_PUBLIC_KEY`
 * (the key is the identity; the provenance checks still apply).
 */
import { createHash, createPublicKey } from 'node:crypto';
import {
  checkVerified,
  CosignArgError,
  cosign3OnlyInput,
  detectCosign,
  parseVerifyOutput,
  verifyArgs,
  verifyAttestationArgs,
  type SigstoreOptions,
  type VerifyIdentity,
} from '@hallmark/oci';
import { describeRules } from './identity.js';
import type { Config } from './inputs.js';
import { checkProvenance, parseAttestations, type ProvenanceFacts } from './provenance-check.js';

export type FailureReason = 'signature-invalid' | 'identity-rejected' | 'provenance-rejected' | 'tool-failed';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Deps {
  exec(tool: string, args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number }): Promise<ExecResult>;
  info(message: string): void;
  warn(message: string): void;
  /** Prints text we did not write (cosign's output), inert and redacted. */
  untrusted(text: string): void;
}

export interface Outcome {
  passed: boolean;
  mode: 'keyless' | 'key';
  failureReason?: FailureReason;
  /** What did not match, in words (for the ::error:: line and the summary). */
  problem?: string;
  /** The provenance field that did not match (provenance-rejected). */
  field?: string;
  signer: string;
  sourceRepository: string;
  sourceRef: string;
  cosignVersion?: string;
  signatures: number;
  provenance?: ProvenanceFacts & { judged: number };
  /** The cosign command lines run (argv, no secrets: the key is only ever in env). */
  commands: string[][];
}

export const COSIGN_TIMEOUT_MS = 5 * 60_000;
const PLACEHOLDER_IDENTITY = 'https://verify-image.invalid/identity-placeholder';

/** `key:sha256:<hex>` of the public key's SubjectPublicKeyInfo (what `cosign public-key` prints, hashed). */
export function keyFingerprint(pem: string): string {
  const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
  return `key:sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/**
 * cosign arguments for one verification. @hallmark/oci's builders take an exact identity only;
 * the regexp policy is put in place of the exact-identity pair here (see the report: a
 * `VerifyIdentity` variant with an anchored regexp belongs in @hallmark/oci).
 */
export function cosignArgs(cfg: Config, kind: 'verify' | 'verify-attestation', major: number): string[] {
  const sigstore: SigstoreOptions = { tlog: cfg.tlog, ...(cfg.trustedRoot ? { trustedRoot: cfg.trustedRoot } : {}) };
  const who: VerifyIdentity = cfg.key ? { key: cfg.key } : { identity: PLACEHOLDER_IDENTITY, issuer: cfg.policy.issuer };
  const flags = { version: { major } };
  const args =
    kind === 'verify'
      ? verifyArgs(cfg.imageRef, who, flags, sigstore)
      : verifyAttestationArgs(cfg.imageRef, who, 'slsaprovenance1', flags, sigstore);
  if (cfg.key) return args;
  const i = args.indexOf('--certificate-identity');
  if (i < 0 || args[i + 1] !== PLACEHOLDER_IDENTITY) throw new CosignArgError('unexpected cosign arguments from @hallmark/oci');
  const re = cfg.policy.identityRegexp;
  if (!re.startsWith('^') || !re.endsWith('$')) throw new CosignArgError('the identity pattern must be anchored');
  args.splice(i, 2, '--certificate-identity-regexp', re, '--certificate-github-workflow-repository', cfg.policy.sourceRepository);
  return args;
}

/** Why cosign refused, from its stderr (cosign 3.1.2 / sigstore-go wording, read from the real binary). */
export function classify(r: ExecResult): 'tool' | 'identity' | 'signature' {
  if (r.timedOut || r.exitCode === 127 || r.exitCode === 126) return 'tool';
  const t = `${r.stderr}\n${r.stdout}`;
  if (
    /unexpected status code (5\d\d|429)|TOOMANYREQUESTS|dial tcp|connection refused|i\/o timeout|no such host|TLS handshake|x509: certificate signed by unknown authority.*(registry|https?:)|UNAUTHORIZED|DENIED|MANIFEST_UNKNOWN|NAME_UNKNOWN|unknown flag|unknown shorthand flag|Error: accepts/i.test(
      t,
    )
  )
    return 'tool';
  if (
    /certificate identity|CertificateIdentity|expected GithubWorkflowRepository|none of the expected identities matched|expected identity not found|subject alternative name|expected SAN|GitHub Workflow Repository/i.test(
      t,
    )
  )
    return 'identity';
  return 'signature';
}

const lastLine = (s: string) =>
  s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(Verification for|The following checks| {2}-|- )/.test(l))
    .at(-1) ?? '';

export async function verifyImage(cfg: Config, deps: Deps): Promise<Outcome> {
  const mode = cfg.key ? 'key' : 'keyless';
  const out: Outcome = { passed: false, mode, signer: '', sourceRepository: '', sourceRef: '', signatures: 0, commands: [] };
  const env: Record<string, string | undefined> = { ...(cfg.key?.env ?? {}) };
  const fail = (failureReason: FailureReason, problem: string, field?: string): Outcome =>
    Object.assign(out, { passed: false, failureReason, problem, ...(field ? { field } : {}) });

  // ---- which cosign ----
  const found = await detectCosign(deps.exec, { env });
  if (!found.found) return fail('tool-failed', found.problem);
  const major = found.major;
  if (found.version) out.cosignVersion = found.version.raw;
  else if (found.warning) deps.warn(`${found.warning}.`);
  const v2 = cosign3OnlyInput(found, { 'trusted-root': cfg.trustedRoot });
  if (v2) return fail('tool-failed', `${v2.input} ${v2.message}`);

  deps.info(
    cfg.key
      ? `Verifying ${cfg.imageRef} against the public key (${keyFingerprint(cfg.key.env.COSIGN_PUBLIC_KEY as string)}).`
      : `Verifying ${cfg.imageRef}: signer ${cfg.policy.serverUrl}/${cfg.policy.workflow.owner}/${cfg.policy.workflow.repo}/${cfg.policy.workflow.path} at ${describeRules(cfg.policy.rules)}, for ${cfg.policy.sourceRepository}.`,
  );

  // ---- the signature ----
  const vargs = cosignArgs(cfg, 'verify', major);
  out.commands.push(vargs);
  const v = await deps.exec('cosign', vargs, { env, timeoutMs: COSIGN_TIMEOUT_MS });
  if (v.stderr.trim()) deps.untrusted(v.stderr);
  if (v.exitCode !== 0) {
    const why = lastLine(v.stderr) || `cosign exited ${v.exitCode}`;
    const c = classify(v);
    if (c === 'tool') return fail('tool-failed', `cosign verify could not run to a verdict: ${why}`);
    if (c === 'identity') return fail('identity-rejected', `the signature is not from the allowed signer: ${why}`);
    return fail('signature-invalid', `no valid signature: ${why}`);
  }
  const check = checkVerified(parseVerifyOutput(v.stdout), { digest: cfg.digest });
  if (!check.ok) return fail('signature-invalid', check.problem);
  out.signatures = check.signatures;
  out.signer = cfg.key ? keyFingerprint(cfg.key.env.COSIGN_PUBLIC_KEY as string) : cfg.policy.identityRegexp;
  out.sourceRepository = cfg.key ? '' : cfg.policy.sourceRepository;
  deps.info(`Signature verified: ${check.signatures} signature${check.signatures === 1 ? '' : 's'} over ${cfg.digest}.`);

  // ---- the provenance ----
  if (cfg.requireProvenance) {
    const aargs = cosignArgs(cfg, 'verify-attestation', major);
    out.commands.push(aargs);
    const a = await deps.exec('cosign', aargs, { env, timeoutMs: COSIGN_TIMEOUT_MS });
    if (a.stderr.trim()) deps.untrusted(a.stderr);
    if (a.exitCode !== 0) {
      const why = lastLine(a.stderr) || `cosign exited ${a.exitCode}`;
      if (classify(a) === 'tool') return fail('tool-failed', `cosign verify-attestation could not run to a verdict: ${why}`);
      return fail('provenance-rejected', `no SLSA provenance attestation verifies in the signer policy: ${why}`, 'attestation');
    }
    const verdict = checkProvenance(parseAttestations(a.stdout), { policy: cfg.policy, digest: cfg.digest, requireRef: cfg.requireRef });
    if (!verdict.ok) return fail('provenance-rejected', `provenance ${verdict.field} ${verdict.problem}`, verdict.field);
    out.provenance = {
      builderId: verdict.builderId,
      sourceRepository: verdict.sourceRepository,
      sourceRef: verdict.sourceRef,
      judged: verdict.judged,
      ...(verdict.sourceCommit ? { sourceCommit: verdict.sourceCommit } : {}),
    };
    if (!cfg.key) out.signer = verdict.builderId;
    out.sourceRepository = verdict.sourceRepository;
    out.sourceRef = verdict.sourceRef;
    deps.info(
      `Provenance verified: built by ${verdict.builderId} from ${verdict.sourceRepository} at ${verdict.sourceRef}${verdict.sourceCommit ? ` (${verdict.sourceCommit})` : ''}.`,
    );
  }
  out.passed = true;
  return out;
}
