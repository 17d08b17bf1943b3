/**
 * build → push → sign → verify → policy, over injected tools so unit tests can drive it without
 * a runner. Never throws for an expected failure: it returns a Result with `failure` set, so the
 * caller still writes outputs and the step summary.
 */
import { InputError, outputTail, toolMissing, UserError } from '@hallmark/kit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  checkVerified,
  digestRef,
  githubWorkflowIdentity,
  jwtClaims,
  keyFromInput,
  parseCosignVersion,
  parsePublicKey,
  parseVerifyOutput,
  publicKeyArgs,
  publicKeyRef,
  renderPolicy,
  repoName,
  signArgs,
  verifyArgs,
  writeScopedDockerConfig,
  CosignArgError,
  type KeyRef,
  type SigstoreOptions,
  type VerifyIdentity,
} from '@hallmark/oci';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { digestFromBuildxMetadata, digestFromDockerPush, digestFromFile, planBuild, tagRef, type Step } from './builders.js';
import { checkSigstoreFiles, type Config, type FailureReason } from './config.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Deps {
  /** Runs a tool; `stream` prints its output (inert, redacted) as it comes, for long builds. */
  exec(tool: string, args: string[], opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string; stream?: boolean }): Promise<ToolResult>;
  /** `core.getIDToken(audience)`. */
  getIdToken(audience: string): Promise<string>;
  /** Registers a secret found along the way (an auth string, a token). */
  mask(value: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** Prints tool output we did not write (inert, redacted). */
  printUntrusted(text: string): void;
  /** A command line as shown to people (quoted, secrets redacted). */
  displayCommand(tool: string, args: readonly string[]): string;
  /** Shortens untrusted text into one line of our own message. */
  oneLine(text: string, max?: number): string;
  /** Variables the tools must not inherit (e.g. INPUT_*), as `{ NAME: undefined }`. */
  scrubEnv: Record<string, undefined>;
  lookupEnv(name: string): string | undefined;
  tempDir: string;
  workspace: string;
  serverUrl: string;
  /** `https://github.com/o/r/actions/runs/1`, recorded in the policy. */
  runUrl?: string;
  buildTimeoutMs?: number;
  cosignTimeoutMs?: number;
}

export interface Secrets {
  cosignKey: string;
  cosignPassword: string;
  registryPassword: string;
}

export type VerifyResult = 'passed' | 'failed' | 'skipped';

export interface Result {
  digest?: string;
  imageRef?: string;
  /** Full tag references pushed. */
  tags: string[];
  signed: boolean;
  identity?: string;
  issuer?: string;
  verify: VerifyResult;
  verifiedSignatures?: number;
  /** Attestation bundles (SBOM, provenance) cosign 3's verify also returned for the image: counted, not judged. */
  verifiedAttestations?: number;
  /** `cosign version --json` → gitVersion, e.g. v3.1.2 (empty when cosign was not needed). */
  cosignVersion?: string;
  policy?: string;
  builtBy?: string;
  failure?: { reason: FailureReason; message: string };
}

class StepFailure extends UserError {
  declare readonly reason: FailureReason;
  constructor(reason: FailureReason, message: string) { super(message, reason); }
}

const INSTALL_HINT: Record<string, string> = {
  cosign: 'add hallmark-dev/hallmark/actions/setup-tools with `tools: cosign` before this step',
  buildah: 'install buildah on the runner (apt-get install buildah) or use builder: buildx',
  docker: 'use a runner with Docker, or builder: buildah on a daemonless runner',
};

/** A tool that is not installed fails with what to do about it, not with a generic error. */
function requireFound(tool: string, r: ToolResult, reason: FailureReason): void {
  const missing = toolMissing(tool, r, INSTALL_HINT[tool]);
  if (missing) throw new StepFailure(reason, missing);
}

const tail = (deps: Deps, r: ToolResult): string => deps.oneLine(outputTail(r), 600);

export async function buildAndSign(cfg: Config, secrets: Secrets, deps: Deps): Promise<Result> {
  const result: Result = { tags: [], signed: false, verify: 'skipped' };
  const work = mkdtempSync(join(deps.tempDir, 'hallmark-build-sign-'));
  chmodSync(work, 0o700);
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  const toolEnv: Record<string, string | undefined> = { ...deps.scrubEnv };
  try {
    // ---- the Sigstore files (private Fulcio/Rekor/TSA, air-gapped): checked before anything runs ----
    const sigstoreFiles = cfg.sign === 'none' ? {} : checkSigstoreFiles(cfg, (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined), (p) => deps.oneLine(p, 200));
    // ---- registry login: credentials only in a 0600 file under RUNNER_TEMP (removed after) ----
    if (cfg.login) {
      const dockerDir = join(work, 'docker');
      const authFile = writeScopedDockerConfig(dockerDir, cfg.registry, cfg.login.username, secrets.registryPassword, deps.mask);
      // cosign and buildah read this file; docker/buildx keep the runner's own config (builders, plugins) and log in there.
      toolEnv.REGISTRY_AUTH_FILE = authFile;
      if (cfg.builder === 'buildah' || cfg.digest) toolEnv.DOCKER_CONFIG = dockerDir;
      if (!cfg.digest && cfg.builder !== 'buildah') {
        const r = await deps.exec('docker', ['login', '--username', cfg.login.username, '--password-stdin', cfg.registry], { env: toolEnv, input: secrets.registryPassword, timeoutMs: 60_000 });
        if (r.exitCode !== 0) throw new StepFailure('push-failed', `docker login to ${cfg.registry} failed: ${tail(deps, r)}`);
        cleanups.push(async () => {
          await deps.exec('docker', ['logout', cfg.registry], { env: toolEnv, timeoutMs: 30_000 });
        });
      }
      deps.info(`Logged in to ${cfg.registry} as ${cfg.login.username} (credentials in a private file under RUNNER_TEMP, removed at the end).`);
    }
    const cosignEnv: Record<string, string | undefined> = { ...toolEnv };
    if (cfg.login) cosignEnv.DOCKER_CONFIG = join(work, 'docker');

    // ---- which cosign: 3.x writes Sigstore bundles as OCI referrers, 2.x the legacy `.sig` tag;
    // the flags for the transparency log and the admission policy's verifier type follow ----
    let cosignMajor = 3;
    if (cfg.sign !== 'none') {
      const ver = await deps.exec('cosign', ['version', '--json'], { env: cosignEnv, timeoutMs: 60_000 });
      requireFound('cosign', ver, 'sign-failed');
      const parsed = ver.exitCode === 0 ? parseCosignVersion(ver.stdout) : undefined;
      if (parsed) {
        cosignMajor = parsed.major;
        result.cosignVersion = parsed.raw;
        deps.info(`cosign ${parsed.raw} (${parsed.major >= 3 ? 'Sigstore bundle as an OCI referrer' : 'legacy .sig tag'}).`);
      } else {
        deps.warn(`Could not tell the cosign version from \`cosign version --json\` (${tail(deps, ver)}): assuming cosign 3.`);
      }
      if (cosignMajor < 3) {
        for (const [name, v] of [['signing-config', cfg.signingConfig], ['trusted-root', cfg.trustedRoot]] as const) {
          if (v) throw new InputError(name, `needs cosign 3 or later (this runner has cosign ${result.cosignVersion ?? cosignMajor}; cosign 2 reads it only in its new bundle format)`);
        }
      }
    }
    const sigstore: SigstoreOptions = { tlog: cfg.tlog, signingConfig: cfg.signingConfig, trustedRoot: cfg.trustedRoot };
    const version = { major: cosignMajor };

    // ---- who signs: settled before anything is built or pushed, so a missing OIDC permission or a
    // wrong key password fails the step without leaving an unsigned image behind ----
    let key: KeyRef | undefined;
    let publicKey: string | undefined;
    let identity = '';
    let idToken: string | undefined;
    const issuer = cfg.issuer;
    if (cfg.sign === 'key') {
      try {
        key = keyFromInput(secrets.cosignKey, secrets.cosignPassword, deps.lookupEnv);
      } catch (e) {
        throw new StepFailure('invalid-input', `input 'cosign-key' ${(e as Error).message}`);
      }
      const pk = await deps.exec('cosign', publicKeyArgs(key), { env: { ...cosignEnv, ...key.env }, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
      requireFound('cosign', pk, 'sign-failed');
      publicKey = pk.exitCode === 0 ? parsePublicKey(pk.stdout) : undefined;
      if (!publicKey) throw new StepFailure('sign-failed', `cosign could not read the signing key (wrong key or cosign-password?): ${tail(deps, pk)}`);
      // The key's identity: the SHA-256 fingerprint of its DER public key.
      identity = `sha256:${createHash('sha256').update(createPublicKey(publicKey).export({ type: 'spki', format: 'der' })).digest('hex')}`;
    } else if (cfg.sign === 'keyless') {
      let token: string;
      try {
        token = await deps.getIdToken('sigstore');
      } catch (e) {
        throw new StepFailure('sign-failed', `keyless signing needs a GitHub OIDC token: give the job 'permissions: id-token: write' (${deps.oneLine((e as Error).message, 300)})`);
      }
      deps.mask(token);
      idToken = token;
      let claims: Record<string, unknown>;
      try {
        claims = jwtClaims(token);
      } catch {
        throw new StepFailure('sign-failed', 'the OIDC token from the runner is not a JWT');
      }
      const fromToken = githubWorkflowIdentity(claims, deps.serverUrl);
      if (!fromToken) throw new StepFailure('sign-failed', "the OIDC token has no job_workflow_ref claim: cannot tell which workflow signs");
      if (typeof claims.iss === 'string' && claims.iss !== issuer) {
        deps.warn(`The OIDC token's issuer is ${deps.oneLine(claims.iss, 200)}, but 'issuer' is ${issuer}: verification will look for ${issuer}.`);
      }
      identity = cfg.identity ?? fromToken;
      if (cfg.identity && cfg.identity !== fromToken) {
        deps.warn(`'identity' is ${cfg.identity}, but this job signs as ${fromToken} (job_workflow_ref): the verify step will reject the signature.`);
      }
      deps.info(`Keyless signer (from the OIDC token's job_workflow_ref): ${fromToken}`);
      const callerRef = deps.lookupEnv('GITHUB_WORKFLOW_REF');
      if (callerRef && `${deps.serverUrl.replace(/\/+$/, '')}/${callerRef}` !== fromToken) {
        deps.info(`(This job runs in a reusable workflow called from ${deps.oneLine(callerRef, 300)}: the certificate names the reusable workflow, and so does the policy.)`);
      }
    }

    // ---- build and push, or take the given digest ----
    let digest: string | undefined = cfg.digest;
    if (!digest) {
      digest = await build(cfg, deps, work, toolEnv, result, cleanups);
    } else {
      deps.info(`Skipping the build: signing the existing ${repoName(cfg.image)}@${digest}.`);
    }
    if (!digest) {
      deps.info('The image was built but not pushed (push: false): there is no registry digest to sign.');
      return result;
    }
    result.digest = digest;
    result.imageRef = digestRef(cfg.image, digest);
    const ref = result.imageRef;
    const flags = { allowHttp: cfg.registryInsecure, version };

    if (cfg.sign === 'none') {
      deps.info('sign: none — not signing; no admission policy is written.');
      return result;
    }
    result.identity = identity;
    result.issuer = cfg.sign === 'keyless' ? issuer : undefined;

    // ---- sign by digest ----
    // Keyless: cosign gets the very token whose identity we verify next (SIGSTORE_ID_TOKEN, read by
    // cosign 2 and 3 alike; pkg/cosign/env/env.go), never as an argument.
    const signEnv = { ...cosignEnv, ...(key?.env ?? {}), ...(idToken ? { SIGSTORE_ID_TOKEN: idToken } : {}) };
    deps.info(`Signing ${ref}`);
    const s = await deps.exec('cosign', signArgs(ref, { key, ...flags, sigstore }), { env: signEnv, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
    if (s.stderr || s.stdout) deps.printUntrusted(`${s.stderr}${s.stdout}`);
    requireFound('cosign', s, 'sign-failed');
    if (s.exitCode !== 0) throw new StepFailure('sign-failed', `cosign sign failed for ${ref}: ${tail(deps, s)}`);
    result.signed = true;

    // ---- verify the exact identity, and that the payload names the built digest ----
    const who: VerifyIdentity = key && publicKey ? { key: publicKeyRef(publicKey) } : { identity, issuer };
    const verifyEnv = { ...cosignEnv, ...('key' in who ? who.key.env : {}) };
    const v = await deps.exec('cosign', verifyArgs(ref, who, flags, sigstore), { env: verifyEnv, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
    if (v.stderr) deps.printUntrusted(v.stderr);
    if (v.exitCode !== 0) {
      result.verify = 'failed';
      throw new StepFailure('verify-failed', `cosign verify rejected ${ref} for ${'key' in who ? 'the signing key' : `identity ${identity} (issuer ${issuer})`}: ${tail(deps, v)}`);
    }
    const check = checkVerified(parseVerifyOutput(v.stdout), { digest, identity: 'key' in who ? undefined : identity, issuer: 'key' in who ? undefined : issuer });
    if (!check.ok) {
      result.verify = 'failed';
      throw new StepFailure('verify-failed', `verification of ${ref} did not hold: ${deps.oneLine(check.problem, 400)}`);
    }
    result.verify = 'passed';
    result.verifiedSignatures = check.signatures;
    result.verifiedAttestations = check.attestations;
    deps.info(`Verified: ${check.signatures} signature(s) over ${digest} by ${identity}${check.attestations ? ` (cosign also verified ${check.attestations} attestation(s) on the image, not counted as signatures)` : ''}.`);

    // ---- the admission policy for exactly this signer ----
    const policyPath = isAbsolute(cfg.policy) ? cfg.policy : resolve(deps.workspace, cfg.policy);
    const yaml = renderPolicy({
      image: cfg.image,
      attestor: publicKey ? { publicKey } : { keyless: { subject: identity, issuer, ...(sigstoreFiles.rekorUrl ? { rekorUrl: sigstoreFiles.rekorUrl } : {}) } },
      digest,
      source: deps.runUrl,
      kind: cfg.policyKind,
      signatureFormat: cosignMajor >= 3 ? 'bundle' : 'legacy',
      tlog: cfg.tlog,
    });
    mkdirSync(dirname(policyPath), { recursive: true });
    writeFileSync(policyPath, yaml);
    result.policy = policyPath;
    return result;
  } catch (e) {
    if (e instanceof StepFailure) result.failure = { reason: e.reason, message: e.message };
    else if (e instanceof InputError) result.failure = { reason: 'invalid-input', message: e.message };
    else if (e instanceof CosignArgError) result.failure = { reason: 'invalid-input', message: e.message };
    else throw e;
    return result;
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        /* best effort */
      }
    }
  }
}

async function build(cfg: Config, deps: Deps, work: string, env: Record<string, string | undefined>, result: Result, cleanups: (() => Promise<void> | void)[]): Promise<string | undefined> {
  const contextDir = isAbsolute(cfg.context) ? cfg.context : resolve(deps.workspace, cfg.context);
  const file = cfg.file ? (isAbsolute(cfg.file) ? cfg.file : resolve(deps.workspace, cfg.file)) : defaultFile(contextDir);
  const plan = planBuild({ ...cfg, context: contextDir }, work, randomBytes(6).toString('hex'), file);
  result.builtBy = cfg.builder;
  const digests = new Map<string, string>();
  if (plan.localName) {
    // buildah keeps the built image in local storage: remove it afterwards, pushed or not.
    const name = plan.localName;
    const args = plan.localIsManifest ? ['manifest', 'rm', name] : ['rmi', name];
    cleanups.push(async () => {
      await deps.exec('buildah', args, { env, timeoutMs: 60_000 });
    });
  }
  for (const step of plan.steps) {
    deps.info(`${step.kind === 'build' ? 'Building' : 'Pushing'}: ${deps.oneLine(deps.displayCommand(step.tool, step.args), 2000)}`);
    const r = await deps.exec(step.tool, step.args, { env, timeoutMs: deps.buildTimeoutMs ?? 30 * 60_000, cwd: deps.workspace, stream: true });
    const out = `${r.stdout}${r.stderr}`;
    // buildx builds and pushes in one command: tell a refused push from a failed build by its output.
    const pushInBuild = step.kind === 'build' && cfg.builder === 'buildx' && cfg.push && /failed to push|push access denied|unauthorized|authentication required|denied: /i.test(out);
    const reason: FailureReason = step.kind === 'push' || pushInBuild ? 'push-failed' : 'build-failed';
    requireFound(step.tool, r, reason);
    if (r.exitCode !== 0) throw new StepFailure(reason, `${step.tool} ${step.kind} failed${r.timedOut ? ' (timed out)' : ''}: ${tail(deps, r)}`);
    const d = digestOf(step, r, plan.metadataFile, cfg);
    if (step.kind === 'push') {
      if (!d) throw new StepFailure('push-failed', `${step.tool} pushed ${tagRef(cfg, step.tag ?? '')} but reported no digest`);
      digests.set(step.tag ?? '', d);
      deps.info(`Pushed ${tagRef(cfg, step.tag ?? '')} → ${d} (digest reported by ${step.tool})`);
    }
    if (step.kind === 'build' && cfg.builder === 'buildx' && cfg.push) {
      if (!d) throw new StepFailure('push-failed', 'docker buildx pushed the image but its metadata file has no containerimage.digest');
      for (const t of cfg.tags) digests.set(t, d);
      deps.info(`Pushed ${cfg.tags.map((t) => tagRef(cfg, t)).join(', ')} → ${d} (digest from the buildx metadata file)`);
    }
  }
  if (!cfg.push) return undefined;
  const unique = new Set(digests.values());
  if (unique.size !== 1) throw new StepFailure('push-failed', `the registry stored different manifests for the tags: ${[...digests].map(([t, d]) => `${t}=${d}`).join(', ')}`);
  result.tags = cfg.tags.map((t) => tagRef(cfg, t));
  return [...unique][0];
}

function defaultFile(contextDir: string): string {
  for (const n of ['Dockerfile', 'Containerfile']) if (existsSync(join(contextDir, n))) return join(contextDir, n);
  return join(contextDir, 'Dockerfile');
}

function digestOf(step: Step, r: ToolResult, metadataFile: string | undefined, cfg: Config): string | undefined {
  if (step.digestFile) return existsSync(step.digestFile) ? digestFromFile(readFileSync(step.digestFile, 'utf8')) : undefined;
  if (step.tool === 'docker' && step.kind === 'push') return digestFromDockerPush(`${r.stdout}\n${r.stderr}`, step.tag);
  if (cfg.builder === 'buildx' && metadataFile) return existsSync(metadataFile) ? digestFromBuildxMetadata(readFileSync(metadataFile, 'utf8')) : undefined;
  return undefined;
}
