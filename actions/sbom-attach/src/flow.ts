/**
 * generate → parse and check → (sign-blob) → upload → attach, over injected tools so unit tests can
 * drive it without a runner. Expected failures come back as `Result.failure` (never thrown), so the
 * caller still writes outputs and the step summary.
 */
import { requireFound as requireTool, StepFailure, tail } from '@hallmark/kit';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  ASSUMED_COSIGN_MAJOR,
  attestArgs,
  cosign3OnlyInput,
  detectCosign,
  digestRef,
  keyFromInput,
  RegistryClient,
  RegistryError,
  readDockerConfigCredentials,
  setupToolsHint,
  signBlobArgs,
  writeScopedDockerConfig,
  CosignArgError,
  type KeyRef,
  type Transport,
} from '@hallmark/oci';
import { SUFFIX, type Config, type FailureReason, type Format } from './inputs.js';
import { ATTEST_TYPE, MEDIA_TYPE, plan } from './generate.js';
import { checkSubject, expectedKind, parseSbom, SbomError, type SbomInfo } from './sbom.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Deps {
  exec(
    tool: string,
    args: string[],
    opts: { env?: Record<string, string | undefined>; timeoutMs?: number; cwd?: string },
  ): Promise<ToolResult>;
  /** `@actions/artifact` uploadArtifact. */
  upload(name: string, files: string[], rootDir: string, retentionDays: number): Promise<{ id?: number; size?: number }>;
  /** HTTP for the registry client (the kit's http.request). */
  transport: Transport;
  mask(value: string): void;
  info(message: string): void;
  warn(message: string): void;
  printUntrusted(text: string): void;
  oneLine(text: string, max?: number): string;
  displayCommand(tool: string, args: readonly string[]): string;
  lookupEnv(name: string): string | undefined;
  tempDir: string;
  /** Absolute output directory for the SBOM files. */
  outputDir: string;
  /** Absolute path to scan (path mode). */
  scanPath?: string;
  scanPathIsFile?: boolean;
  /** Runner home: where an existing `~/.docker/config.json` login would be. */
  home?: string;
  generateTimeoutMs?: number;
  cosignTimeoutMs?: number;
}

export interface Secrets {
  cosignKey: string;
  cosignPassword: string;
  registryPassword: string;
}

export interface FileResult {
  format: Format;
  path: string;
  info?: SbomInfo;
  bundle?: string;
}

export interface Result {
  files: FileResult[];
  /** Package count of the first format (the formats describe the same packages). */
  packageCount?: number;
  artifact?: { name: string; id?: number; size?: number };
  attached: Config['attach'];
  /** References written to the registry: referrer manifests (`repo@sha256:…`) or, with cosign 2, the `.att` tag. */
  attachments: string[];
  /** The cosign version that signed (`v3.1.2`), when cosign ran. */
  cosignVersion?: string;
  attachVia?: 'api' | 'tag';
  failure?: { reason: FailureReason; message: string };
}

const INSTALL_HINT: Record<string, string> = {
  syft: setupToolsHint('syft'),
  trivy: setupToolsHint('trivy'),
  cosign: setupToolsHint('cosign'),
};

/** A tool that is not installed fails with what to do about it (the kit's requireFound, with our hints). */
const requireFound = (tool: string, r: ToolResult, reason: FailureReason): void => requireTool(tool, r, reason, INSTALL_HINT[tool]);

/** Basic credentials the runner already holds for `host` (docker/login-action writes them to ~/.docker/config.json). */
function runnerCredentials(deps: Deps, host: string): { username: string; password: string } | undefined {
  return readDockerConfigCredentials(
    deps.lookupEnv('DOCKER_CONFIG') || (deps.home ? join(deps.home, '.docker') : undefined),
    host,
    deps.mask,
  );
}

/** A client for the image's registry: the step's login when given, else the runner's own docker login. */
function registryClient(cfg: Config, secrets: Secrets, deps: Deps, host: string): RegistryClient {
  const credentials = cfg.login ? { username: cfg.login.username, password: secrets.registryPassword } : runnerCredentials(deps, host);
  return new RegistryClient({ host, transport: deps.transport, insecure: cfg.registryInsecure, credentials });
}

/** cosign 3 stores each attestation as a Sigstore bundle in an OCI referrer manifest of this artifactType. */
export const BUNDLE_ARTIFACT_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** Lists the Sigstore bundle referrers of the image (cosign 3 attestations); undefined when the registry cannot be read. */
function bundleLister(
  cfg: Config,
  secrets: Secrets,
  deps: Deps,
): { list(): Promise<string[] | undefined>; via(): 'api' | 'tag' | undefined } {
  const img = cfg.image as NonNullable<Config['image']>;
  const client = registryClient(cfg, secrets, deps, img.registry);
  let via: 'api' | 'tag' | undefined;
  return {
    via: () => via,
    async list() {
      try {
        const r = await client.referrers(img.repository, img.digest, BUNDLE_ARTIFACT_TYPE);
        via = r.via;
        return r.manifests.map((m) => m.digest);
      } catch (e) {
        deps.warn(
          `could not list the attestations of ${digestRef(img, img.digest)}: ${deps.oneLine((e as Error).message ?? String(e), 300)}`,
        );
        return undefined;
      }
    },
  };
}

export async function generateAndAttach(cfg: Config, secrets: Secrets, deps: Deps): Promise<Result> {
  const result: Result = { files: [], attached: 'none', attachments: [] };
  const work = mkdtempSync(join(deps.tempDir, 'hallmark-sbom-attach-'));
  chmodSync(work, 0o700);
  // The kit's exec keeps INPUT_* and our secrets from the tools; what a tool needs is given here explicitly.
  const toolEnv: Record<string, string | undefined> = {};
  try {
    // ---- registry credentials: a private docker config under RUNNER_TEMP, removed at the end ----
    if (cfg.login && cfg.image) {
      const dockerDir = join(work, 'docker');
      toolEnv.REGISTRY_AUTH_FILE = writeScopedDockerConfig(
        dockerDir,
        cfg.image.registry,
        cfg.login.username,
        secrets.registryPassword,
        deps.mask,
      );
      toolEnv.DOCKER_CONFIG = dockerDir;
    }

    // ---- generate ----
    mkdirSync(deps.outputDir, { recursive: true });
    const files = Object.fromEntries(cfg.formats.map((f) => [f, join(deps.outputDir, `${cfg.artifactName}.${SUFFIX[f]}`)])) as Record<
      Format,
      string
    >;
    for (const f of cfg.formats) rmSync(files[f], { force: true });
    const target = cfg.image ? digestRef(cfg.image, cfg.image.digest) : (deps.scanPath as string);
    for (const inv of plan(cfg, files, { path: deps.scanPath, pathIsFile: deps.scanPathIsFile })) {
      deps.info(
        `Generating ${Object.keys(inv.writes).join(' and ')} for ${target}: ${deps.oneLine(deps.displayCommand(inv.tool, inv.args), 2000)}`,
      );
      const r = await deps.exec(inv.tool, inv.args, { env: { ...toolEnv, ...inv.env }, timeoutMs: deps.generateTimeoutMs ?? 20 * 60_000 });
      requireFound(inv.tool, r, 'generate-failed');
      if (r.exitCode !== 0) {
        if (r.stderr) deps.printUntrusted(r.stderr);
        throw new StepFailure('generate-failed', `${inv.tool} failed for ${target}${r.timedOut ? ' (timed out)' : ''}: ${tail(r)}`);
      }
      for (const [f, p] of Object.entries(inv.writes)) {
        if (!existsSync(p)) throw new StepFailure('generate-failed', `${inv.tool} exited 0 but wrote no ${f} file`);
      }
    }

    // ---- parse and check what was written ----
    for (const f of cfg.formats) {
      const fr: FileResult = { format: f, path: files[f] };
      result.files.push(fr);
      let info: SbomInfo;
      try {
        info = parseSbom(readFileSync(files[f], 'utf8'));
      } catch (e) {
        throw new StepFailure(
          'bad-sbom',
          `the ${f} SBOM from ${cfg.generator} ${e instanceof SbomError ? e.message : 'could not be read'}`,
        );
      }
      if (info.kind !== expectedKind(f)) throw new StepFailure('bad-sbom', `${cfg.generator} was asked for ${f} but wrote ${info.spec}`);
      if (cfg.image) {
        const problem = checkSubject(info, cfg.image.digest);
        if (problem) throw new StepFailure('bad-sbom', `the ${f} SBOM does not describe the image: ${deps.oneLine(problem, 400)}`);
      }
      fr.info = info;
      if (cfg.image && info.measured.length && !info.measured.includes(cfg.image.digest)) {
        deps.info(
          `${f}: ${cfg.generator} read manifest ${info.measured.join(', ')} for ${cfg.image.digest} (one platform image of a multi-platform index).`,
        );
      }
      deps.info(
        `${f}: ${info.spec}, ${info.packages} package(s), written by ${info.generator ? `${info.generator.name} ${info.generator.version}` : 'an unnamed tool'}.`,
      );
    }
    result.packageCount = result.files[0]?.info?.packages;

    // ---- signing material (attest, sign-blob) ----
    let key: KeyRef | undefined;
    if (cfg.signing === 'key') {
      try {
        key = keyFromInput(secrets.cosignKey, secrets.cosignPassword, deps.lookupEnv);
      } catch (e) {
        throw new StepFailure('invalid-input', `input 'cosign-key' ${(e as Error).message}`);
      }
    }
    const cosignEnv = { ...toolEnv, ...(key?.env ?? {}) };
    const sigstore = cfg.sigstore;
    // Which cosign: 3 stores attestations as Sigstore bundles in OCI referrers, 2 under the `.att` tag; flags differ too.
    let cosignMajor = ASSUMED_COSIGN_MAJOR;
    if (cfg.signing !== 'none') {
      const found = await detectCosign(deps.exec, { env: toolEnv, shown: (t) => deps.oneLine(t, 600) });
      if (!found.found) throw new StepFailure(cfg.signBlob ? 'sign-failed' : 'attach-failed', found.problem);
      cosignMajor = found.major;
      if (found.version) {
        result.cosignVersion = found.version.raw;
        deps.info(`cosign ${found.version.raw}${sigstore.tlog ? '' : ', transparency log off (tlog: false)'}`);
      } else if (found.warning) deps.warn(found.warning);
      const v2 = cosign3OnlyInput(found, { 'signing-config': sigstore.signingConfig, 'trusted-root': sigstore.trustedRoot });
      if (v2) throw new StepFailure('invalid-input', `input '${v2.input}' ${v2.message}`);
    }

    // ---- sign-blob: a Sigstore bundle next to each SBOM ----
    if (cfg.signBlob) {
      for (const fr of result.files) {
        const bundle = `${fr.path}.sigstore.json`;
        rmSync(bundle, { force: true });
        // cosign 3 writes a Sigstore bundle by default (`--new-bundle-format` is deprecated there); cosign 2 needs the flag.
        const args = signBlobArgs(fr.path, { bundle, key, sigstore, version: { major: cosignMajor } });
        const r = await deps.exec('cosign', args, { env: cosignEnv, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
        requireFound('cosign', r, 'sign-failed');
        if (r.exitCode !== 0 || !existsSync(bundle))
          throw new StepFailure('sign-failed', `cosign sign-blob failed for ${fr.path}: ${tail(r)}`);
        fr.bundle = bundle;
        deps.info(`Signed ${fr.path} → ${bundle}`);
      }
    }

    // ---- upload: one artifact holding every SBOM (and bundle) ----
    if (cfg.upload) {
      const list = result.files.flatMap((f) => [f.path, ...(f.bundle ? [f.bundle] : [])]);
      try {
        const up = await deps.upload(cfg.artifactName, list, deps.outputDir, cfg.retentionDays);
        result.artifact = { name: cfg.artifactName, id: up.id, size: up.size };
        deps.info(`Uploaded artifact ${cfg.artifactName}${up.id !== undefined ? ` (id ${up.id})` : ''}, kept ${cfg.retentionDays} day(s).`);
      } catch (e) {
        const msg = deps.oneLine((e as Error).message ?? String(e), 400);
        const hint = /conflict|already exists|409/i.test(msg)
          ? ` — an artifact named ${cfg.artifactName} already exists in this run (a matrix leg with the same service?): set 'service' or 'artifact-name' per leg`
          : '';
        throw new StepFailure('upload-failed', `uploading artifact ${cfg.artifactName} failed: ${msg}${hint}`);
      }
    }

    // ---- attach to the image, by digest ----
    if (cfg.image && cfg.attach === 'attest') {
      const img = cfg.image;
      const ref = digestRef(img, img.digest);
      // cosign 3 pushes each attestation as a referrer (a Sigstore bundle; on registries without the
      // referrers API it is listed in the `sha256-<hex>` tag's index): read the list before and after
      // to name what was written.
      const listing = cosignMajor >= 3 ? bundleLister(cfg, secrets, deps) : undefined;
      const before = listing ? await listing.list() : undefined;
      for (const fr of result.files) {
        const args = attestArgs(ref, {
          predicate: fr.path,
          type: ATTEST_TYPE[fr.format],
          key,
          allowHttp: cfg.registryInsecure,
          sigstore,
          version: { major: cosignMajor },
        });
        deps.info(`Attesting ${fr.format} to ${ref}`);
        const r = await deps.exec('cosign', args, { env: cosignEnv, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
        if (r.stderr) deps.printUntrusted(r.stderr);
        requireFound('cosign', r, 'attach-failed');
        if (r.exitCode !== 0)
          throw new StepFailure('attach-failed', `cosign attest (${ATTEST_TYPE[fr.format]}) failed for ${ref}: ${tail(r)}`);
      }
      result.attached = 'attest';
      if (!listing) result.attachments.push(`${img.registry}/${img.repository}:${img.digest.replace(':', '-')}.att`);
      else {
        const after = await listing.list();
        if (before && after) {
          const added = after.filter((d) => !before.includes(d));
          result.attachments.push(...added.map((d) => `${img.registry}/${img.repository}@${d}`));
          deps.info(
            `cosign stored ${added.length} attestation bundle(s) as referrers of ${ref}${listing.via() === 'tag' ? ` (no referrers API: listed in the ${img.digest.replace(':', '-')} tag)` : ''}.`,
          );
        }
      }
    } else if (cfg.image && cfg.attach === 'referrer') {
      const img = cfg.image;
      const client = registryClient(cfg, secrets, deps, img.registry);
      try {
        const subject = await client.descriptor(img.repository, img.digest);
        if (!subject) throw new StepFailure('attach-failed', `${digestRef(img, img.digest)} is not in the registry (manifest unknown)`);
        for (const fr of result.files) {
          const bytes = readFileSync(fr.path);
          const a = await client.attachArtifact(img.repository, subject, {
            artifactType: MEDIA_TYPE[fr.format],
            files: [{ mediaType: MEDIA_TYPE[fr.format], bytes, title: fr.path.split('/').pop() }],
            annotations: {
              'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
              'dev.hallmark.sbom.generator': fr.info?.generator ? `${fr.info.generator.name} ${fr.info.generator.version}` : cfg.generator,
            },
          });
          result.attachVia = a.via;
          result.attachments.push(`${img.registry}/${img.repository}@${a.digest}`);
          deps.info(
            `Attached ${fr.format} to ${digestRef(img, img.digest)} as ${a.digest} (${a.via === 'api' ? 'the registry indexed it through the referrers API' : `no referrers API: listed in the ${img.digest.replace(':', '-')} referrers tag`}).`,
          );
        }
      } catch (e) {
        if (e instanceof StepFailure) throw e;
        const msg = e instanceof RegistryError ? e.message : ((e as Error).message ?? String(e));
        throw new StepFailure(
          'attach-failed',
          `pushing the SBOM as a referrer of ${digestRef(img, img.digest)} failed: ${deps.oneLine(msg, 400)}`,
        );
      }
      result.attached = 'referrer';
    }
    return result;
  } catch (e) {
    if (e instanceof StepFailure) result.failure = { reason: e.reason as FailureReason, message: e.message };
    else if (e instanceof CosignArgError) result.failure = { reason: 'invalid-input', message: e.message };
    else throw e;
    return result;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
