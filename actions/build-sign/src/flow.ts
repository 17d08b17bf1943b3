/**
 * build → push → sign → verify → policy, over injected tools so unit tests can drive it without
 * a runner. Never throws for an expected failure: it returns a Result with `failure` set, so the
 * caller still writes outputs and the step summary.
 */
import { InputError, requireFound as requireTool, StepFailure, tail } from '@hallmark/kit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import {
  checkVerified,
  digestRef,
  githubWorkflowIdentity,
  jwtClaims,
  keyFromInput,
  ASSUMED_COSIGN_MAJOR,
  cosign3OnlyInput,
  detectCosign,
  parsePublicKey,
  parseVerifyOutput,
  publicKeyArgs,
  publicKeyRef,
  renderPolicy,
  repoName,
  setupToolsHint,
  signArgs,
  verifyArgs,
  writeScopedDockerConfig,
  attestArgs,
  builderIdRegexp,
  RegistryClient,
  isLoopbackRegistry,
  readDockerConfigCredentials,
  verifyAttestationArgs,
  CosignArgError,
  type ImageRef,
  type KeyRef,
  type ProvenanceRequirement,
  type SigstoreOptions,
  type Transport,
  type VerifyIdentity,
} from '@hallmark/oci';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import {
  digestFromBuildxMetadata,
  digestFromDockerPush,
  digestFromFile,
  planBuild,
  secretValueFile,
  tagRef,
  type BuilderCaps,
  type Step,
} from './builders.js';
import type { BuildSecret } from './build-options.js';
import { annotationsByLevel, buildahCacheStats, type CacheStats } from './metadata.js';
import type { Config, FailureReason } from './inputs.js';
import {
  checkStatementFile,
  COSIGN_PROVENANCE_TYPE,
  externalBases,
  parseFromLines,
  ProvenanceError,
  provenanceStatement,
  SLSA_PROVENANCE_V1,
  withBuilderId,
  type GithubFacts,
  type ProvenanceStatement,
} from './provenance.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Deps {
  /** Runs a tool; `stream` prints its output (inert, redacted) as it comes, for long builds. */
  exec(
    tool: string,
    args: string[],
    opts: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; cwd?: string; stream?: boolean },
  ): Promise<ToolResult>;
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
  lookupEnv(name: string): string | undefined;
  tempDir: string;
  workspace: string;
  serverUrl: string;
  /** `https://github.com/o/r/actions/runs/1`, recorded in the policy. */
  runUrl?: string;
  buildTimeoutMs?: number;
  cosignTimeoutMs?: number;
  /** HTTP to registries (the kit's http.request): resolves FROM base images for provenance. */
  transport?: Transport;
  /** Runner facts recorded in the provenance (GITHUB_*); without them no provenance is written. */
  github?: GithubFacts;
  now?: () => Date;
}

export interface Secrets {
  cosignKey: string;
  cosignPassword: string;
  registryPassword: string;
  /** `secrets` (id=VALUE): written to 0600 files under RUNNER_TEMP for the build, removed right after it. */
  buildSecrets?: BuildSecret[];
}

/** The `metadata` output: what the image carries and what the cache did. */
export interface BuildMetadata {
  labels: Record<string, string>;
  /** level (`manifest`, `index`, …) → key → value. */
  annotations: Record<string, Record<string, string>>;
  target?: string;
  /** Build secret ids (never values). */
  secrets: string[];
  cache: {
    from: string[];
    to: string[];
    /** buildah's own count of cache hits; absent when the builder does not report them (buildx, docker). */
    stats?: CacheStats;
  };
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
  /** Set when a build ran (the `metadata` output). */
  metadata?: BuildMetadata;
  /** Path of the SLSA provenance statement written (and, when `provenanceAttested`, attested). */
  provenance?: string;
  provenanceAttested?: boolean;
  failure?: { reason: FailureReason; message: string };
}

const INSTALL_HINT: Record<string, string> = {
  cosign: setupToolsHint('cosign'),
  buildah: 'install buildah on the runner (apt-get install buildah) or use builder: buildx',
  docker: 'use a runner with Docker, or builder: buildah on a daemonless runner',
};

/** A tool that is not installed fails with what to do about it (the kit's requireFound, with our hints). */
const requireFound = (tool: string, r: ToolResult, reason: FailureReason): void => requireTool(tool, r, reason, INSTALL_HINT[tool]);

export async function buildAndSign(cfg: Config, secrets: Secrets, deps: Deps): Promise<Result> {
  const result: Result = { tags: [], signed: false, verify: 'skipped' };
  const work = mkdtempSync(join(deps.tempDir, 'hallmark-build-sign-'));
  chmodSync(work, 0o700);
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  // The kit's exec keeps INPUT_* and our secrets from the tools; what a tool needs is given here explicitly.
  const toolEnv: Record<string, string | undefined> = {};
  try {
    // ---- registry login: credentials only in a 0600 file under RUNNER_TEMP (removed after) ----
    if (cfg.login) {
      const dockerDir = join(work, 'docker');
      const authFile = writeScopedDockerConfig(dockerDir, cfg.registry, cfg.login.username, secrets.registryPassword, deps.mask);
      // cosign and buildah read this file; docker/buildx keep the runner's own config (builders, plugins) and log in there.
      toolEnv.REGISTRY_AUTH_FILE = authFile;
      if (cfg.builder === 'buildah' || cfg.digest) toolEnv.DOCKER_CONFIG = dockerDir;
      if (!cfg.digest && cfg.builder !== 'buildah') {
        const r = await deps.exec('docker', ['login', '--username', cfg.login.username, '--password-stdin', cfg.registry], {
          env: toolEnv,
          input: secrets.registryPassword,
          timeoutMs: 60_000,
        });
        if (r.exitCode !== 0) throw new StepFailure('push-failed', `docker login to ${cfg.registry} failed: ${tail(r)}`);
        cleanups.push(async () => {
          await deps.exec('docker', ['logout', cfg.registry], { env: toolEnv, timeoutMs: 30_000 });
        });
      }
      deps.info(
        `Logged in to ${cfg.registry} as ${cfg.login.username} (credentials in a private file under RUNNER_TEMP, removed at the end).`,
      );
    }
    const cosignEnv: Record<string, string | undefined> = { ...toolEnv };
    if (cfg.login) cosignEnv.DOCKER_CONFIG = join(work, 'docker');

    // ---- which cosign: 3.x writes Sigstore bundles as OCI referrers, 2.x the legacy `.sig` tag;
    // the flags for the transparency log and the admission policy's verifier type follow ----
    let cosignMajor = ASSUMED_COSIGN_MAJOR;
    if (cfg.sign !== 'none') {
      const found = await detectCosign(deps.exec, { env: cosignEnv, shown: (t) => deps.oneLine(t, 600) });
      if (!found.found) throw new StepFailure('sign-failed', found.problem);
      cosignMajor = found.major;
      if (found.version) {
        result.cosignVersion = found.version.raw;
        deps.info(`cosign ${found.version.raw} (${found.major >= 3 ? 'Sigstore bundle as an OCI referrer' : 'legacy .sig tag'}).`);
      } else if (found.warning) deps.warn(`${found.warning}.`);
      const v2 = cosign3OnlyInput(found, { 'signing-config': cfg.signingConfig, 'trusted-root': cfg.trustedRoot });
      if (v2) throw new InputError(v2.input, v2.message);
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
      const pk = await deps.exec('cosign', publicKeyArgs(key), {
        env: { ...cosignEnv, ...key.env },
        timeoutMs: deps.cosignTimeoutMs ?? 300_000,
      });
      requireFound('cosign', pk, 'sign-failed');
      publicKey = pk.exitCode === 0 ? parsePublicKey(pk.stdout) : undefined;
      if (!publicKey)
        throw new StepFailure('sign-failed', `cosign could not read the signing key (wrong key or cosign-password?): ${tail(pk)}`);
      // The key's identity: the SHA-256 fingerprint of its DER public key.
      identity = `sha256:${createHash('sha256')
        .update(createPublicKey(publicKey).export({ type: 'spki', format: 'der' }))
        .digest('hex')}`;
    } else if (cfg.sign === 'keyless') {
      let token: string;
      try {
        token = await deps.getIdToken('sigstore');
      } catch (e) {
        throw new StepFailure(
          'sign-failed',
          `keyless signing needs a GitHub OIDC token: give the job 'permissions: id-token: write' (${deps.oneLine((e as Error).message, 300)})`,
        );
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
      if (!fromToken)
        throw new StepFailure('sign-failed', 'the OIDC token has no job_workflow_ref claim: cannot tell which workflow signs');
      if (typeof claims.iss === 'string' && claims.iss !== issuer) {
        deps.warn(
          `The OIDC token's issuer is ${deps.oneLine(claims.iss, 200)}, but 'issuer' is ${issuer}: verification will look for ${issuer}.`,
        );
      }
      identity = cfg.identity ?? fromToken;
      if (cfg.identity && cfg.identity !== fromToken) {
        deps.warn(
          `'identity' is ${cfg.identity}, but this job signs as ${fromToken} (job_workflow_ref): the verify step will reject the signature.`,
        );
      }
      deps.info(`Keyless signer (from the OIDC token's job_workflow_ref): ${fromToken}`);
      const callerRef = deps.lookupEnv('GITHUB_WORKFLOW_REF');
      if (callerRef && `${deps.serverUrl.replace(/\/+$/, '')}/${callerRef}` !== fromToken) {
        deps.info(
          `(This job runs in a reusable workflow called from ${deps.oneLine(callerRef, 300)}: the certificate names the reusable workflow, and so does the policy.)`,
        );
      }
    }

    // ---- build and push, or take the given digest ----
    let digest: string | undefined = cfg.digest;
    let statement: ProvenanceStatement | undefined;
    if (!digest) {
      const startedOn = (deps.now ?? (() => new Date()))();
      const bases = cfg.provenance?.attest ? await resolveBaseImages(cfg, deps, secrets) : undefined;
      digest = await build(cfg, deps, work, toolEnv, result, cleanups, secrets.buildSecrets ?? []);
      if (digest && bases) statement = writeProvenance(cfg, deps, result, digest, bases, startedOn, identity);
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
    if (cfg.digest && cfg.provenance?.file) statement = readProvenanceFile(cfg, deps, result, digest);

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
    const s = await deps.exec('cosign', signArgs(ref, { key, ...flags, sigstore }), {
      env: signEnv,
      timeoutMs: deps.cosignTimeoutMs ?? 300_000,
    });
    if (s.stderr || s.stdout) deps.printUntrusted(`${s.stderr}${s.stdout}`);
    requireFound('cosign', s, 'sign-failed');
    if (s.exitCode !== 0) throw new StepFailure('sign-failed', `cosign sign failed for ${ref}: ${tail(s)}`);
    result.signed = true;

    // ---- verify the exact identity, and that the payload names the built digest ----
    const who: VerifyIdentity = key && publicKey ? { key: publicKeyRef(publicKey) } : { identity, issuer };
    const verifyEnv = { ...cosignEnv, ...('key' in who ? who.key.env : {}) };
    const v = await deps.exec('cosign', verifyArgs(ref, who, flags, sigstore), {
      env: verifyEnv,
      timeoutMs: deps.cosignTimeoutMs ?? 300_000,
    });
    if (v.stderr) deps.printUntrusted(v.stderr);
    if (v.exitCode !== 0) {
      result.verify = 'failed';
      throw new StepFailure(
        'verify-failed',
        `cosign verify rejected ${ref} for ${'key' in who ? 'the signing key' : `identity ${identity} (issuer ${issuer})`}: ${tail(v)}`,
      );
    }
    const check = checkVerified(parseVerifyOutput(v.stdout), {
      digest,
      identity: 'key' in who ? undefined : identity,
      issuer: 'key' in who ? undefined : issuer,
    });
    if (!check.ok) {
      result.verify = 'failed';
      throw new StepFailure('verify-failed', `verification of ${ref} did not hold: ${deps.oneLine(check.problem, 400)}`);
    }
    result.verify = 'passed';
    result.verifiedSignatures = check.signatures;
    result.verifiedAttestations = check.attestations;
    deps.info(
      `Verified: ${check.signatures} signature(s) over ${digest} by ${identity}${check.attestations ? ` (cosign also verified ${check.attestations} attestation(s) on the image, not counted as signatures)` : ''}.`,
    );

    // ---- SLSA provenance: attested by digest in the same identity, then verified ----
    let builderId: string | undefined;
    if (statement && cfg.provenance?.attest) {
      builderId = await provenanceBuilderId(cfg, deps, identity);
      await attestProvenance(cfg, deps, result, withBuilderId(statement, builderId), {
        ref,
        digest,
        work,
        key,
        who,
        signEnv,
        verifyEnv,
        flags,
        sigstore,
      });
    }
    let requireProvenance: ProvenanceRequirement | undefined;
    if (cfg.provenance?.require) {
      builderId ??= await provenanceBuilderId(cfg, deps, identity);
      requireProvenance = provenanceRequirement(cfg, deps, builderId);
    }

    // ---- the admission policy for exactly this signer ----
    const policyPath = isAbsolute(cfg.policy) ? cfg.policy : resolve(deps.workspace, cfg.policy);
    const yaml = renderPolicy({
      image: cfg.image,
      attestor: publicKey ? { publicKey } : { keyless: { subject: identity, issuer, ...(cfg.rekorUrl ? { rekorUrl: cfg.rekorUrl } : {}) } },
      digest,
      source: deps.runUrl,
      kind: cfg.policyKind,
      signatureFormat: cosignMajor >= 3 ? 'bundle' : 'legacy',
      tlog: cfg.tlog,
      ...(requireProvenance ? { requireProvenance } : {}),
    });
    mkdirSync(dirname(policyPath), { recursive: true });
    writeFileSync(policyPath, yaml);
    result.policy = policyPath;
    return result;
  } catch (e) {
    if (e instanceof StepFailure) result.failure = { reason: e.reason as FailureReason, message: e.message };
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

/** buildah's version (`buildah version --json`), asked only when an option depends on it. */
async function buildahVersion(deps: Deps, env: Record<string, string | undefined>): Promise<[number, number] | undefined> {
  const r = await deps.exec('buildah', ['version', '--json'], { env, timeoutMs: 60_000 });
  requireFound('buildah', r, 'build-failed');
  try {
    const m = /^(\d+)\.(\d+)/.exec(String((JSON.parse(r.stdout) as { version?: unknown }).version ?? ''));
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the runner's builder can honour of the build options, settled before the build: several
 * cache repositories need buildah 1.29 (pkg/cli/common.go turned --cache-from/--cache-to into
 * StringArray flags), annotations on the index itself buildah 1.35 (`manifest annotate --index`).
 */
async function builderCaps(cfg: Config, deps: Deps, env: Record<string, string | undefined>): Promise<BuilderCaps> {
  if (cfg.builder !== 'buildah') return {};
  const b = cfg.build;
  const multiCache = b.cacheFrom.length > 1 || b.cacheTo.length > 1;
  const index = cfg.platforms.length > 1 ? cfg.metadata.annotations.filter((a) => a.levels.includes('index')) : [];
  if (!multiCache && !index.length) return {};
  const v = await buildahVersion(deps, env);
  const atLeast = (maj: number, min: number) => !!v && (v[0] > maj || (v[0] === maj && v[1] >= min));
  const shown = v ? `${v[0]}.${v[1]}` : 'of unknown version';
  if (multiCache && !atLeast(1, 29)) {
    throw new InputError(
      b.cacheFrom.length > 1 ? 'cache-from' : 'cache-to',
      `names several caches, but this runner's buildah ${shown} takes one repository each (several need buildah 1.29): keep one line`,
    );
  }
  if (index.length && !atLeast(1, 35)) {
    const asked = index.find((a) => a.fromInput && a.levels.length === 1);
    if (asked)
      throw new InputError(
        'annotations',
        `puts ${asked.key} on the index only, but this runner's buildah ${shown} cannot annotate an index (buildah manifest annotate --index needs 1.35): use manifest: or builder buildx`,
      );
    deps.warn(`buildah ${shown} cannot annotate the index itself (needs 1.35): the OCI annotations are on each platform's manifest only.`);
    return { indexAnnotations: false };
  }
  return { indexAnnotations: index.length > 0 };
}

async function build(
  cfg: Config,
  deps: Deps,
  work: string,
  env: Record<string, string | undefined>,
  result: Result,
  cleanups: (() => Promise<void> | void)[],
  buildSecrets: BuildSecret[],
): Promise<string | undefined> {
  const contextDir = isAbsolute(cfg.context) ? cfg.context : resolve(deps.workspace, cfg.context);
  const file = cfg.file ? (isAbsolute(cfg.file) ? cfg.file : resolve(deps.workspace, cfg.file)) : defaultFile(contextDir);
  // Build secrets: files named in secret-files must exist; values are masked and written 0600.
  for (const f of cfg.build.secretFiles) {
    if (!existsSync(f.path)) throw new InputError('secret-files', `names ${deps.oneLine(f.path, 200)} for ${f.id}, which does not exist`);
  }
  const caps = await builderCaps(cfg, deps, env);
  const plan = planBuild({ ...cfg, context: contextDir }, work, randomBytes(6).toString('hex'), file, caps);
  const secretDir = join(work, 'secrets');
  const removeSecrets = () => rmSync(secretDir, { recursive: true, force: true });
  if (cfg.build.secretIds.length) {
    mkdirSync(secretDir, { recursive: true, mode: 0o700 });
    cleanups.push(removeSecrets);
    for (const id of cfg.build.secretIds) {
      const s = buildSecrets.find((x) => x.id === id);
      if (!s) throw new InputError('secrets', `has no value for ${id}`);
      deps.mask(s.value);
      writeFileSync(secretValueFile(work, id), s.value, { mode: 0o600 });
    }
  }
  result.metadata = {
    labels: cfg.metadata.labels,
    // What is really written: an older buildah leaves the index out (warned above).
    annotations: annotationsByLevel(
      cfg.builder === 'buildah' && !caps.indexAnnotations
        ? cfg.metadata.annotations.map((a) => ({ ...a, levels: a.levels.filter((l) => l !== 'index') }))
        : cfg.metadata.annotations,
    ),
    ...(cfg.build.target ? { target: cfg.build.target } : {}),
    secrets: [...cfg.build.secretIds, ...cfg.build.secretFiles.map((f) => f.id)],
    cache: { from: cfg.build.cacheFrom.map((c) => c.ref ?? c.type), to: cfg.build.cacheTo.map((c) => c.ref ?? c.type) },
  };
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
    deps.info(
      `${step.kind === 'build' ? 'Building' : step.kind === 'annotate' ? 'Annotating the index' : 'Pushing'}: ${deps.oneLine(deps.displayCommand(step.tool, step.args), 2000)}`,
    );
    const r = await deps.exec(step.tool, step.args, {
      env,
      timeoutMs: deps.buildTimeoutMs ?? 30 * 60_000,
      cwd: deps.workspace,
      stream: true,
    });
    const out = `${r.stdout}${r.stderr}`;
    if (step.kind === 'build') {
      // The secrets were needed by this one command only.
      removeSecrets();
      if (cfg.builder === 'buildah' && (cfg.build.cacheFrom.length || cfg.build.cacheTo.length)) {
        const stats = buildahCacheStats(r.stdout);
        if (stats && result.metadata) {
          result.metadata.cache.stats = stats;
          deps.info(
            `Layer cache: ${stats.cached} of ${stats.steps} step(s) from the cache (${stats.pulled} pulled from the registry, ${stats.pushed} pushed to it).`,
          );
        }
      }
    }
    // buildx builds and pushes in one command: tell a refused push from a failed build by its output.
    const pushInBuild =
      step.kind === 'build' &&
      cfg.builder === 'buildx' &&
      cfg.push &&
      /failed to push|push access denied|unauthorized|authentication required|denied: /i.test(out);
    const reason: FailureReason = step.kind === 'push' || pushInBuild ? 'push-failed' : 'build-failed';
    requireFound(step.tool, r, reason);
    if (r.exitCode !== 0) throw new StepFailure(reason, `${step.tool} ${step.kind} failed${r.timedOut ? ' (timed out)' : ''}: ${tail(r)}`);
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
  if (unique.size !== 1)
    throw new StepFailure(
      'push-failed',
      `the registry stored different manifests for the tags: ${[...digests].map(([t, d]) => `${t}=${d}`).join(', ')}`,
    );
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
  if (cfg.builder === 'buildx' && metadataFile)
    return existsSync(metadataFile) ? digestFromBuildxMetadata(readFileSync(metadataFile, 'utf8')) : undefined;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// SLSA provenance (issue 17): the domain is in provenance.ts; here the registry, files and cosign.
// ---------------------------------------------------------------------------------------------

const workspaceRelative = (deps: Deps, p: string): string => {
  const ws = resolve(deps.workspace);
  const abs = resolve(ws, p);
  return abs === ws ? '.' : abs.startsWith(`${ws}/`) ? abs.slice(ws.length + 1) : abs;
};

/** The Containerfile's external FROM bases, each resolved to the digest its registry serves (a digest-pinned base as written). */
async function resolveBaseImages(cfg: Config, deps: Deps, secrets: Secrets): Promise<{ ref: ImageRef; digest: string }[]> {
  const contextDir = isAbsolute(cfg.context) ? cfg.context : resolve(deps.workspace, cfg.context);
  const file = cfg.file ? (isAbsolute(cfg.file) ? cfg.file : resolve(deps.workspace, cfg.file)) : defaultFile(contextDir);
  const shown = deps.oneLine(workspaceRelative(deps, file), 200);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new StepFailure('provenance-failed', `cannot read ${shown} to record its base images in the provenance`);
  }
  let froms: ReturnType<typeof parseFromLines>;
  try {
    froms = parseFromLines(text, { buildArgs: cfg.buildArgs, targetPlatform: cfg.platforms[0] });
  } catch (e) {
    if (e instanceof ProvenanceError)
      throw new StepFailure(
        'provenance-failed',
        `${shown}: ${deps.oneLine(e.message, 300)} (set provenance: false to build without provenance)`,
      );
    throw e;
  }
  const out: { ref: ImageRef; digest: string }[] = [];
  for (const b of externalBases(froms)) {
    if (b.ref.digest) {
      out.push({ ref: b.ref, digest: b.ref.digest });
      continue;
    }
    if (!deps.transport)
      throw new StepFailure('provenance-failed', `cannot resolve the base image ${deps.oneLine(b.image, 200)}: no registry transport`);
    const credentials =
      cfg.login && b.ref.registry === cfg.registry
        ? { username: cfg.login.username, password: secrets.registryPassword }
        : dockerConfigCredentials(deps, b.ref.registry);
    const client = new RegistryClient({
      host: b.ref.registry,
      transport: deps.transport,
      insecure: cfg.registryInsecure && isLoopbackRegistry(b.ref.registry),
      credentials,
    });
    let m: Awaited<ReturnType<RegistryClient['getManifest']>>;
    try {
      m = await client.getManifest(b.ref.repository, b.ref.tag ?? 'latest');
    } catch (e) {
      throw new StepFailure(
        'provenance-failed',
        `could not resolve the base image ${deps.oneLine(b.image, 200)} to a digest: ${deps.oneLine((e as Error).message, 300)}`,
      );
    }
    if (!m) throw new StepFailure('provenance-failed', `the base image ${deps.oneLine(b.image, 200)} is not in ${b.ref.registry}`);
    deps.info(
      `Base image ${deps.oneLine(b.image, 200)} → ${m.digest} (resolved by ${b.ref.registry} before the build; recorded in the provenance)`,
    );
    out.push({ ref: b.ref, digest: m.digest });
  }
  return out;
}

/** Where the statement goes: RUNNER_TEMP (a later step, upload-artifact, reads it), under a fixed file name. */
function statementPath(deps: Deps, digest: string): string {
  const dir = join(deps.tempDir, 'hallmark-provenance', digest.replace(':', '-'));
  mkdirSync(dir, { recursive: true });
  return join(dir, 'provenance.intoto.json');
}

/** Credentials for `host` from the runner's docker config (registry-login writes one): base64 user:password in `auths`. */
function dockerConfigCredentials(deps: Deps, host: string): { username: string; password: string } | undefined {
  const home = deps.lookupEnv('HOME');
  return readDockerConfigCredentials(deps.lookupEnv('DOCKER_CONFIG') || (home ? join(home, '.docker') : undefined), host, deps.mask);
}

/** The unsigned builder id of a build step: the signer identity when known, else the caller's workflow (replaced when attested). */
function provisionalBuilderId(deps: Deps, identity: string): string {
  if (/^https:\/\/\S+@\S+$/.test(identity)) return identity;
  const wf = deps.github?.workflowRef;
  return wf ? `${deps.serverUrl.replace(/\/+$/, '')}/${wf}` : '';
}

function writeProvenance(
  cfg: Config,
  deps: Deps,
  result: Result,
  digest: string,
  bases: { ref: ImageRef; digest: string }[],
  startedOn: Date,
  identity: string,
): ProvenanceStatement | undefined {
  if (!deps.github) {
    deps.warn('No runner facts (GITHUB_REPOSITORY, GITHUB_SHA …): no provenance is written.');
    return undefined;
  }
  const contextDir = isAbsolute(cfg.context) ? cfg.context : resolve(deps.workspace, cfg.context);
  const file = cfg.file ? (isAbsolute(cfg.file) ? cfg.file : resolve(deps.workspace, cfg.file)) : defaultFile(contextDir);
  let s: ProvenanceStatement;
  try {
    s = provenanceStatement({
      image: cfg.image,
      digest,
      build: {
        context: workspaceRelative(deps, contextDir),
        file: workspaceRelative(deps, file),
        ...(cfg.build?.target ? { target: cfg.build.target } : {}),
        platforms: cfg.platforms,
        // Names only: a value never reaches the statement (build secrets are not build args and are not listed).
        buildArgNames: cfg.buildArgs.map(([k]) => k),
        builder: cfg.builder,
      },
      github: deps.github,
      builderId: provisionalBuilderId(deps, identity) || 'https://invalid/unknown@unknown',
      bases,
      startedOn,
      finishedOn: (deps.now ?? (() => new Date()))(),
    });
  } catch (e) {
    if (e instanceof ProvenanceError)
      throw new StepFailure('provenance-failed', `cannot write the provenance: ${deps.oneLine(e.message, 300)}`);
    throw e;
  }
  const path = statementPath(deps, digest);
  writeFileSync(path, `${JSON.stringify(s, null, 2)}\n`);
  result.provenance = path;
  deps.info(
    `SLSA provenance statement written to ${path} (${s.predicate.buildDefinition.resolvedDependencies.length - 1} base image(s) resolved).`,
  );
  return s;
}

function readProvenanceFile(cfg: Config, deps: Deps, result: Result, digest: string): ProvenanceStatement {
  const path = cfg.provenance?.file as string;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError('provenance-file', `must name the statement file of the build step (${deps.oneLine(path, 200)} cannot be read)`);
  }
  try {
    const s = checkStatementFile(text, { image: cfg.image, digest, ...(deps.github?.runId ? { run: deps.github } : {}) });
    result.provenance = path;
    return s;
  } catch (e) {
    if (e instanceof ProvenanceError)
      throw new InputError(
        'provenance-file',
        `must be the statement build-sign wrote for ${repoName(cfg.image)}@${digest} in this run: it ${deps.oneLine(e.message, 300)}`,
      );
    throw e;
  }
}

/**
 * The builder id is what the attesting job can prove: keyless, the certificate identity (the OIDC
 * token's job_workflow_ref); key mode, the job_workflow_ref of an OIDC token when the job may have
 * one (id-token: write), else the caller's GITHUB_WORKFLOW_REF with a warning (it names the
 * reusable workflow only when there is none).
 */
async function provenanceBuilderId(cfg: Config, deps: Deps, identity: string): Promise<string> {
  if (cfg.sign === 'keyless') return identity;
  try {
    const token = await deps.getIdToken('sigstore');
    deps.mask(token);
    const id = githubWorkflowIdentity(jwtClaims(token), deps.serverUrl);
    if (id) return id;
  } catch {
    /* no id-token permission: fall back below */
  }
  const fallback = provisionalBuilderId(deps, '');
  if (!fallback)
    throw new StepFailure(
      'provenance-failed',
      'cannot tell the builder id: no OIDC token (permissions: id-token: write) and no GITHUB_WORKFLOW_REF',
    );
  deps.warn(
    `Key mode without an OIDC token: the provenance builder id is the calling workflow ${fallback}, not a reusable workflow's job_workflow_ref (give the job 'id-token: write' to record that).`,
  );
  return fallback;
}

function provenanceRequirement(cfg: Config, deps: Deps, builderId: string): ProvenanceRequirement {
  const at = builderId.lastIndexOf('@');
  const workflow = builderId.slice(0, at);
  const refs = cfg.provenance?.builderRefs.length ? cfg.provenance.builderRefs : [builderId.slice(at + 1)];
  const repository = deps.github?.repository;
  if (!repository)
    throw new StepFailure('provenance-failed', 'require-provenance needs GITHUB_REPOSITORY (the source repository the policy requires)');
  try {
    return { builderIdRegexp: builderIdRegexp(workflow, refs), sourceRepository: repository };
  } catch (e) {
    throw new InputError(
      'builder-refs',
      `cannot be required of builder ${deps.oneLine(builderId, 200)}: ${deps.oneLine((e as Error).message, 300)}`,
    );
  }
}

/** A DSSE envelope line of `cosign verify-attestation --output json` → its in-toto statement. */
export function statementsFromVerifyAttestation(stdout: string): {
  predicateType?: string;
  subject?: { name?: string; digest?: { sha256?: string } }[];
  predicate?: { runDetails?: { builder?: { id?: string } } };
}[] {
  const out = [];
  for (const line of stdout.split(/\r?\n/)) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const env = JSON.parse(t) as { payloadType?: string; payload?: string };
      if (env.payloadType !== 'application/vnd.in-toto+json' || typeof env.payload !== 'string') continue;
      out.push(JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')));
    } catch {
      /* not an envelope */
    }
  }
  return out;
}

async function attestProvenance(
  cfg: Config,
  deps: Deps,
  result: Result,
  s: ProvenanceStatement,
  c: {
    ref: string;
    digest: string;
    work: string;
    key?: KeyRef;
    who: VerifyIdentity;
    signEnv: Record<string, string | undefined>;
    verifyEnv: Record<string, string | undefined>;
    flags: { allowHttp: boolean; version: { major: number } };
    sigstore: SigstoreOptions;
  },
): Promise<void> {
  const predicateFile = join(c.work, 'provenance-predicate.json');
  writeFileSync(predicateFile, JSON.stringify(s.predicate), { mode: 0o600 });
  deps.info(`Attesting SLSA provenance (builder ${s.predicate.runDetails.builder.id}) for ${c.ref}`);
  const a = await deps.exec(
    'cosign',
    attestArgs(c.ref, { predicate: predicateFile, type: COSIGN_PROVENANCE_TYPE, key: c.key, sigstore: c.sigstore, ...c.flags }),
    { env: c.signEnv, timeoutMs: deps.cosignTimeoutMs ?? 300_000 },
  );
  if (a.stderr || a.stdout) deps.printUntrusted(`${a.stderr}${a.stdout}`);
  if (a.exitCode !== 0)
    throw new StepFailure('provenance-failed', `cosign attest --type ${COSIGN_PROVENANCE_TYPE} failed for ${c.ref}: ${tail(a)}`);
  const v = await deps.exec('cosign', verifyAttestationArgs(c.ref, c.who, COSIGN_PROVENANCE_TYPE, c.flags, c.sigstore), {
    env: c.verifyEnv,
    timeoutMs: deps.cosignTimeoutMs ?? 300_000,
  });
  if (v.exitCode !== 0)
    throw new StepFailure(
      'provenance-failed',
      `cosign verify-attestation --type ${COSIGN_PROVENANCE_TYPE} rejected the provenance of ${c.ref}: ${tail(v)}`,
    );
  const mine = statementsFromVerifyAttestation(v.stdout).filter(
    (x) =>
      x.predicateType === SLSA_PROVENANCE_V1 &&
      x.subject?.some((sub) => `sha256:${sub.digest?.sha256}` === c.digest) &&
      x.predicate?.runDetails?.builder?.id === s.predicate.runDetails.builder.id,
  );
  if (mine.length === 0)
    throw new StepFailure(
      'provenance-failed',
      `cosign verify-attestation returned no SLSA v1 provenance over ${c.digest} by builder ${s.predicate.runDetails.builder.id}`,
    );
  // The file holds what was attested, as cosign wrote it: cosign 3.1.2 re-encodes the predicate
  // through the SLSA v1 protobuf (pkg/cosign/attestation/attestation.go generateStatementSLSA1, unknown
  // fields dropped) in an in-toto Statement v0.1 envelope.
  const path = result.provenance && !cfg.provenance?.file ? result.provenance : statementPath(deps, c.digest);
  writeFileSync(path, `${JSON.stringify(mine[0], null, 2)}\n`);
  result.provenance = path;
  result.provenanceAttested = true;
  deps.info(`Verified: SLSA v1 provenance over ${c.digest} (builder ${s.predicate.runDetails.builder.id}).`);
}
