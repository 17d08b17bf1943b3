/**
 * build-sign's inputs, checked as plain data: every rule that can be decided before anything runs
 * lives here, so a bad input fails before a build, a login or a push.
 */
import { InputError, UserError } from '@hallmark/kit';
import { isAbsolute, resolve } from 'node:path';
import {
  checkSigstoreInputs,
  isDigest,
  isLoopbackRegistry,
  isTag,
  parseImageRef,
  repoName,
  RefError,
  SigstoreInputError,
  type ImageRef,
  type PolicyKind,
} from '@hallmark/oci';
import { checkBuildOptions, type BuildOptions, type RawBuildOptions } from './build-options.js';
import { mergeMetadata, ociDefaults, type MergedMetadata, type OciFacts } from './metadata.js';
import { checkProvenanceInputs, type ProvenanceConfig, type RawProvenanceInputs } from './provenance.js';

export const POLICY_KIND_VALUES: readonly PolicyKind[] = ['cluster-policy', 'image-validating-policy'];

export type Builder = 'buildx' | 'docker' | 'buildah';
export const BUILDERS: readonly Builder[] = ['buildx', 'docker', 'buildah'];
export type SignMode = 'keyless' | 'key' | 'none';
export const SIGN_MODES: readonly SignMode[] = ['keyless', 'key', 'none'];

export const FAILURE_REASONS = [
  'invalid-input',
  'build-failed',
  'push-failed',
  'sign-failed',
  'verify-failed',
  'latest-refused',
  'provenance-failed',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface RawInputs {
  image: string;
  tags: string[];
  /** True when `tags` was given by the caller (not the default). */
  tagsGiven: boolean;
  context: string;
  file: string;
  platforms: string[];
  buildArgs: string;
  builder: Builder;
  push: boolean;
  digest: string;
  sign: SignMode;
  cosignKeyGiven: boolean;
  registry: string;
  registryUsername: string;
  registryPasswordGiven: boolean;
  registryInsecure: boolean;
  identity: string;
  issuer: string;
  policy: string;
  allowLatest: boolean;
  /** Upload to / require the transparency log (default true). Key mode may opt out; keyless may not. */
  tlog: boolean;
  /** Workspace-relative (or absolute) path of a Sigstore SigningConfig for cosign 3, '' when not given. */
  signingConfig: string;
  /** Workspace-relative (or absolute) path of a Sigstore TrustedRoot, '' when not given. */
  trustedRoot: string;
  policyKind: PolicyKind;
  /** Cache, build secrets, target, labels, annotations (issue 18); absent = none given. */
  buildOptions?: RawBuildOptions;
  /** SLSA provenance (issue 17); absent = no provenance. */
  provenanceInputs?: RawProvenanceInputs;
}

export interface Config {
  image: ImageRef;
  /** Tags to push (plain tag names). Empty when signing an existing digest. */
  tags: string[];
  context: string;
  file: string;
  platforms: string[];
  buildArgs: [string, string][];
  builder: Builder;
  push: boolean;
  /** Set when the build is skipped and an existing image is signed. */
  digest?: string;
  sign: SignMode;
  /** The registry host to log in to (defaults to the image's). */
  registry: string;
  login?: { username: string };
  registryInsecure: boolean;
  identity?: string;
  issuer: string;
  policy: string;
  allowLatest: boolean;
  tlog: boolean;
  /** Absolute paths (resolved against the workspace); their contents are checked by checkSigstoreFiles. */
  signingConfig?: string;
  trustedRoot?: string;
  /** The Rekor the signing config names (checkSigstoreFiles' result, filled in by main after reading the files). */
  rekorUrl?: string;
  policyKind: PolicyKind;
  /** Cache, build secret ids and files, target, the caller's labels/annotations. */
  build: BuildOptions;
  /** Labels and annotations to write: the OCI defaults under the caller's values. */
  metadata: MergedMetadata;
  /** SLSA provenance: written when building, attested when signing, required by the policy (issue 17). */
  provenance?: ProvenanceConfig;
  /** Things worth telling the user that do not stop the step. */
  warnings: string[];
}

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;
const BUILD_ARG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST =
  /^(?:localhost|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

/** `sha-<first 7 of the commit>`: the default tag. */
export function defaultTags(sha: string): string[] {
  return /^[0-9a-f]{7,40}$/.test(sha) ? [`sha-${sha.slice(0, 7)}`] : [];
}

/** `KEY=VALUE` lines (values may contain `=` and commas); blank and `#` lines ignored. */
export function parseBuildArgs(text: string): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    const key = eq > 0 ? t.slice(0, eq).trim() : t;
    if (eq <= 0 || !BUILD_ARG_KEY.test(key))
      throw new InputError(
        'build-args',
        `must be KEY=VALUE lines with KEY a letter or _ followed by letters, digits or _ (got a line starting ${JSON.stringify(t.slice(0, 20))})`,
      );
    if (seen.has(key)) throw new InputError('build-args', `sets ${key} twice`);
    seen.add(key);
    out.push([key, t.slice(eq + 1)]);
  }
  return out;
}

/** A tag item may be a plain tag or a full reference to the same repository (as docker/metadata-action writes them). */
export function normaliseTag(item: string, image: ImageRef): string {
  if (isTag(item)) return item;
  let ref: ImageRef;
  try {
    ref = parseImageRef(item);
  } catch (e) {
    throw new InputError(
      'tags',
      `must be tags ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}) or references to ${repoName(image)} (${e instanceof RefError ? e.message : 'invalid'})`,
    );
  }
  if (ref.digest || !ref.tag) throw new InputError('tags', `must name tags, not digests (got ${JSON.stringify(item.slice(0, 80))})`);
  if (repoName(ref) !== repoName(image))
    throw new InputError('tags', `holds ${JSON.stringify(item.slice(0, 80))}, which is not a tag of ${repoName(image)}`);
  return ref.tag;
}

/** Turns the raw inputs into a Config or throws the first problem (InputError, or UserError 'latest-refused'). */
export function checkInputs(raw: RawInputs, ctx: { sha: string; workspace?: string; facts?: Omit<OciFacts, 'tags' | 'sha'> }): Config {
  // image: a repository, no tag, no digest.
  if (!raw.image) throw new InputError('image', 'is required: a repository without a tag, e.g. ghcr.io/octo-org/app');
  let image: ImageRef;
  try {
    image = parseImageRef(raw.image);
  } catch (e) {
    throw new InputError('image', `must be a repository such as ghcr.io/octo-org/app: ${e instanceof RefError ? e.message : 'invalid'}`);
  }
  if (image.tag || image.digest) {
    throw new InputError(
      'image',
      `must be a repository without a tag or digest (got ${JSON.stringify(raw.image.slice(0, 80))}); put tags in 'tags' and an existing digest in 'digest'`,
    );
  }
  image = { registry: image.registry, repository: image.repository };

  // digest: skip the build and sign what is already there.
  let digest: string | undefined;
  if (raw.digest) {
    const d = raw.digest.trim();
    if (d.includes('@')) {
      let ref: ImageRef;
      try {
        ref = parseImageRef(d);
      } catch (e) {
        throw new InputError(
          'digest',
          `must be sha256: followed by 64 lowercase hex characters, or image@sha256:… (${e instanceof RefError ? e.message : 'invalid'})`,
        );
      }
      if (repoName(ref) !== repoName(image)) throw new InputError('digest', `names ${repoName(ref)}, but 'image' is ${repoName(image)}`);
      if (ref.tag) throw new InputError('digest', 'must not carry a tag: give image@sha256:…');
      digest = ref.digest;
    } else {
      if (!isDigest(d))
        throw new InputError(
          'digest',
          `must be sha256: followed by 64 lowercase hex characters (got ${JSON.stringify(d.slice(0, 80))}, ${d.replace(/^sha256:/, '').length} characters after the prefix)`,
        );
      digest = d;
    }
  }

  // tags
  let tags: string[] = [];
  if (digest) {
    if (raw.tagsGiven && raw.tags.length)
      throw new InputError('tags', "cannot be used with 'digest': the image is already pushed; tag it where it was built");
  } else {
    tags = raw.tagsGiven ? raw.tags.map((t) => normaliseTag(t, image)) : defaultTags(ctx.sha);
    if (tags.length === 0)
      throw new InputError('tags', 'is required when GITHUB_SHA is not a commit hash (the default is sha-<short sha>)');
    tags = [...new Set(tags)];
    const latest = tags.find((t) => t.toLowerCase() === 'latest');
    if (latest && !raw.allowLatest) {
      throw new UserError(
        `tag '${latest}' is refused: a mutable tag cannot be what a deployment refers to; use sha-<short sha> or a version, or set allow-latest: true`,
        'latest-refused',
      );
    }
  }

  for (const p of raw.platforms) {
    if (!PLATFORM.test(p))
      throw new InputError(
        'platforms',
        `must be a list of os/arch[/variant], e.g. linux/amd64, linux/arm64/v8 (got ${JSON.stringify(p.slice(0, 60))})`,
      );
  }
  const platforms = [...new Set(raw.platforms)];
  if (!digest && raw.builder === 'docker' && platforms.length > 1) {
    throw new InputError(
      'platforms',
      "names more than one platform, which the classic 'docker' builder cannot build into one image: use builder buildx or buildah",
    );
  }

  const buildArgs = parseBuildArgs(raw.buildArgs);

  if (raw.sign === 'key' && !raw.cosignKeyGiven)
    throw new InputError('cosign-key', "is required when sign is 'key': the cosign private key (PEM) from a secret, or env://VAR");
  const warnings: string[] = [];
  // Reusable workflows pass every secret they were given: a key next to sign: keyless is ignored, not an error.
  if (raw.sign !== 'key' && raw.cosignKeyGiven) warnings.push(`'cosign-key' is set but sign is '${raw.sign}': the key is not used`);
  if (!digest && !raw.push && raw.sign !== 'none')
    throw new InputError('push', 'is false, but signing needs the image in a registry: set push: true or sign: none');

  const registry = raw.registry || image.registry;
  if (!HOST.test(registry))
    throw new InputError('registry', `must be a registry host[:port] such as ghcr.io (got ${JSON.stringify(registry.slice(0, 80))})`);
  if (raw.registryUsername && !/^[^\s:]{1,256}$/.test(raw.registryUsername))
    throw new InputError('registry-username', 'must be one word without spaces or colons');
  if (raw.registryUsername && !raw.registryPasswordGiven)
    throw new InputError('registry-password', "is required when 'registry-username' is set");
  if (raw.registryPasswordGiven && !raw.registryUsername)
    throw new InputError('registry-username', "is required when 'registry-password' is set");
  if (raw.registryInsecure && !isLoopbackRegistry(image.registry)) {
    throw new InputError(
      'registry-insecure',
      `may only be true for a loopback registry (127.0.0.1, localhost), not ${image.registry}: plain HTTP would expose the image and credentials`,
    );
  }

  if (raw.identity) {
    if (raw.sign !== 'keyless') throw new InputError('identity', 'only applies to sign: keyless (the expected certificate identity)');
    if (!/^https:\/\/\S+$/.test(raw.identity) && !/^[^@\s]+@[^@\s]+$/.test(raw.identity))
      throw new InputError(
        'identity',
        'must be the exact signer identity: a URI such as https://github.com/o/r/.github/workflows/release.yml@refs/heads/main, or an e-mail',
      );
    if (/[*^$]|\.\*/.test(raw.identity))
      throw new InputError('identity', 'must be exact: wildcards and regular expressions are not accepted');
  }
  if (!/^https:\/\/[^\s*]+$/.test(raw.issuer))
    throw new InputError('issuer', `must be an https URL (got ${JSON.stringify(raw.issuer.slice(0, 80))})`);
  if (!raw.policy || /\0/.test(raw.policy)) throw new InputError('policy', 'must be a file path for the generated policy');

  // Private / air-gapped Sigstore: the transparency log is optional only for a key.
  if (!raw.tlog && raw.sign === 'keyless') {
    throw new InputError(
      'tlog',
      'may only be false with sign: key: keyless signing needs the transparency log (the short-lived certificate is only trustworthy with its log entry)',
    );
  }
  if (!POLICY_KIND_VALUES.includes(raw.policyKind)) throw new InputError('policy-kind', `must be one of ${POLICY_KIND_VALUES.join(', ')}`);
  const sigstorePath = (name: string, v: string): string | undefined => {
    if (!v) return undefined;
    if (/[\0\r\n]/.test(v)) throw new InputError(name, 'must be one file path');
    return isAbsolute(v) ? v : resolve(ctx.workspace ?? '.', v);
  };
  const signingConfig = sigstorePath('signing-config', raw.signingConfig);
  const trustedRoot = sigstorePath('trusted-root', raw.trustedRoot);
  if ((signingConfig || trustedRoot) && raw.sign === 'none')
    warnings.push("'signing-config'/'trusted-root' are set but sign is 'none': they are not used");

  // Cache, build secrets, target, labels and annotations: checked against what the builder can honour.
  const noBuild: RawBuildOptions = {
    cacheFrom: '',
    cacheTo: '',
    cache: false,
    secretIds: [],
    secretFiles: '',
    target: '',
    labels: '',
    annotations: '',
  };
  const rawBuild = raw.buildOptions ?? noBuild;
  if (digest) {
    const given = (Object.entries(rawBuild) as [string, unknown][]).find(
      ([, v]) => v === true || (typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) && v.length > 0),
    );
    if (given) warnings.push(`build options (${given[0]} …) are set but 'digest' skips the build: they are not used`);
  }
  const build = checkBuildOptions(digest ? noBuild : rawBuild, { builder: raw.builder, image, platforms, workspace: ctx.workspace ?? '.' });
  const facts: OciFacts = {
    serverUrl: 'https://github.com',
    repository: '',
    ref: '',
    created: '',
    ...(ctx.facts ?? {}),
    sha: ctx.sha,
    tags,
  };
  const metadata = mergeMetadata(digest ? {} : ociDefaults(facts), build.labels, build.annotations, {
    builder: raw.builder,
    multi: platforms.length > 1,
  });
  let provenance: ProvenanceConfig | undefined;
  if (raw.provenanceInputs) {
    const p = checkProvenanceInputs(
      raw.provenanceInputs,
      {
        digest: !!digest,
        sign: raw.sign,
        policyKind: raw.policyKind,
        resolvePath: (f) => (isAbsolute(f) ? f : resolve(ctx.workspace ?? '.', f)),
      },
      (name, expected) => new InputError(name, expected),
    );
    provenance = p.config;
    warnings.push(...p.warnings);
  }

  return {
    image,
    tags,
    context: raw.context || '.',
    file: raw.file,
    platforms,
    buildArgs,
    builder: raw.builder,
    push: raw.push,
    digest,
    sign: raw.sign,
    registry,
    login: raw.registryUsername ? { username: raw.registryUsername } : undefined,
    registryInsecure: raw.registryInsecure,
    identity: raw.identity || undefined,
    issuer: raw.issuer,
    policy: raw.policy,
    allowLatest: raw.allowLatest,
    tlog: raw.tlog,
    signingConfig,
    trustedRoot,
    policyKind: raw.policyKind,
    build,
    metadata,
    ...(provenance ? { provenance } : {}),
    warnings,
  };
}

/**
 * The Sigstore inputs checked by the one rule in @hallmark/oci (checkSigstoreInputs), as input
 * errors. `read` returns a file's text, or undefined when there is no such file. Returns the Rekor
 * URL the signing config names (for the keyless policy), if any.
 */
export function checkSigstoreFiles(
  cfg: Pick<Config, 'tlog' | 'signingConfig' | 'trustedRoot' | 'sign'>,
  read: (path: string) => string | undefined,
  shownPath: (p: string) => string = (p) => p,
): { rekorUrl?: string } {
  if (cfg.sign === 'none') return {};
  try {
    return checkSigstoreInputs(
      cfg.sign,
      { tlog: cfg.tlog, signingConfig: cfg.signingConfig, trustedRoot: cfg.trustedRoot },
      read,
      shownPath,
    );
  } catch (e) {
    if (e instanceof SigstoreInputError) throw new InputError(e.input, e.message);
    throw e;
  }
}
