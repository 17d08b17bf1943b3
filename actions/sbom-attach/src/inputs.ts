/**
 * sbom-attach's inputs, checked as plain data: everything that can be decided before a tool runs
 * or a request is sent is decided here.
 */
import { InputError } from '@hallmark/kit';
import {
  checkSigstoreOptions,
  CosignArgError,
  isDigest,
  isLoopbackRegistry,
  parseImageRef,
  RefError,
  type ImageRef,
  type SigstoreOptions,
} from '@hallmark/oci';

export type Format = 'spdx-json' | 'cyclonedx-json';
export const FORMATS: readonly Format[] = ['spdx-json', 'cyclonedx-json'];
export type Generator = 'syft' | 'trivy';
export const GENERATORS: readonly Generator[] = ['syft', 'trivy'];
export type AttachMode = 'attest' | 'referrer' | 'none';
export const ATTACH_INPUTS = ['auto', 'attest', 'referrer', 'none'] as const;
export type AttachInput = (typeof ATTACH_INPUTS)[number];

export const FAILURE_REASONS = ['invalid-input', 'generate-failed', 'bad-sbom', 'sign-failed', 'upload-failed', 'attach-failed'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** File suffix per format: `<artifact-name>.spdx.json`, `<artifact-name>.cdx.json`. */
export const SUFFIX: Record<Format, string> = { 'spdx-json': 'spdx.json', 'cyclonedx-json': 'cdx.json' };

export interface RawInputs {
  image: string;
  path: string;
  formats: string[];
  generator: Generator;
  service: string;
  artifactName: string;
  upload: boolean;
  retentionDays: number;
  attach: AttachInput;
  signBlob: boolean;
  /** cosign-key was given (key-mode signing). */
  cosignKeyGiven: boolean;
  /** The job can mint a GitHub OIDC token (permissions: id-token: write): keyless signing works. */
  oidcAvailable: boolean;
  registryUsername: string;
  registryPasswordGiven: boolean;
  registryInsecure: boolean;
  outputDir: string;
  /** Record attestations and sign-blob signatures in the transparency log (Rekor). false: key mode only. */
  tlog: boolean;
  /** A Sigstore SigningConfig file (as given, relative to the workspace or absolute), or ''. */
  signingConfig: string;
  /** A Sigstore TrustedRoot file (as given), or ''. */
  trustedRoot: string;
}

export interface Config {
  /** Set in image mode: the image by digest. */
  image?: ImageRef & { digest: string };
  /** Set in path mode (as given; resolved against the workspace by the caller). */
  path?: string;
  formats: Format[];
  generator: Generator;
  service: string;
  artifactName: string;
  upload: boolean;
  retentionDays: number;
  attach: AttachMode;
  /** How cosign signs (attest, sign-blob): with the given key, or keyless through OIDC. */
  signing: 'key' | 'keyless' | 'none';
  signBlob: boolean;
  login?: { username: string };
  registryInsecure: boolean;
  outputDir: string;
  /**
   * tlog / signing-config / trusted-root, applied alike to `cosign attest` and `cosign sign-blob`.
   * The paths are as given until main.ts resolves them to absolute ones and checks them.
   */
  sigstore: SigstoreOptions;
  /** Things worth telling the user that do not stop the step. */
  notes: string[];
}

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Characters @actions/artifact refuses in a name (plus control characters). */
const ARTIFACT_BAD = /["':<>|*?\\/\r\n\u0000-\u001f]/;

export function shortSha(sha: string): string | undefined {
  return /^[0-9a-f]{7,64}$/.test(sha) ? sha.slice(0, 7) : undefined;
}

/** `sbom-<service>-<short sha>`: one per service and commit, so matrix legs building different services do not collide. */
export function defaultArtifactName(service: string, sha: string): string {
  const s = shortSha(sha);
  return s ? `sbom-${service}-${s}` : `sbom-${service}`;
}

export function checkInputs(raw: RawInputs, ctx: { sha: string; repository: string }): Config {
  const notes: string[] = [];
  if (raw.image && raw.path)
    throw new InputError('path', "cannot be used together with 'image': give the image by digest, or a path to scan, not both");
  if (!raw.image && !raw.path)
    throw new InputError(
      'image',
      "is required (an image by digest, e.g. ghcr.io/o/app@sha256:…), unless 'path' names a directory or file to scan",
    );

  let image: Config['image'];
  if (raw.image) {
    let ref: ImageRef;
    try {
      ref = parseImageRef(raw.image);
    } catch (e) {
      throw new InputError(
        'image',
        `must be an image by digest such as ghcr.io/octo-org/app@sha256:<64 hex>: ${e instanceof RefError ? e.message : 'invalid'}`,
      );
    }
    if (!ref.digest || !isDigest(ref.digest))
      throw new InputError(
        'image',
        `must name the image by digest (repo@sha256:<64 hex>), not by tag: a tag can move between the scan and the attach (got ${JSON.stringify(raw.image.slice(0, 80))}); use build-sign's image-ref output`,
      );
    if (ref.tag) throw new InputError('image', 'must not carry a tag next to its digest: give repo@sha256:<64 hex>');
    image = { registry: ref.registry, repository: ref.repository, digest: ref.digest };
  } else if (/\0/.test(raw.path)) {
    throw new InputError('path', 'must be a file or directory path');
  }

  if (raw.formats.length === 0) throw new InputError('format', `must list at least one of ${FORMATS.join(', ')}`);
  const formats: Format[] = [];
  for (const f of raw.formats) {
    const hit = FORMATS.find((x) => x === f.toLowerCase());
    if (!hit) throw new InputError('format', `must be a list of ${FORMATS.join(', ')} (got ${JSON.stringify(f.slice(0, 40))})`);
    if (!formats.includes(hit)) formats.push(hit);
  }

  const fallbackService = image ? (image.repository.split('/').pop() as string) : (ctx.repository.split('/').pop() ?? '');
  const service = raw.service || fallbackService;
  if (!SERVICE.test(service)) {
    throw new InputError(
      'service',
      `must be a name of letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)${raw.service ? ` (got ${JSON.stringify(raw.service.slice(0, 40))})` : ': set it, the default from the repository name does not fit'}`,
    );
  }
  const artifactName = raw.artifactName || defaultArtifactName(service, ctx.sha);
  if (ARTIFACT_BAD.test(artifactName) || artifactName.length > 200 || /^[.\s]|[.\s]$/.test(artifactName)) {
    throw new InputError(
      'artifact-name',
      `must be an artifact name without " : < > | * ? \\ / or control characters, at most 200 characters, not starting or ending with a dot or space (got ${JSON.stringify(artifactName.slice(0, 60))})`,
    );
  }

  if (!Number.isInteger(raw.retentionDays) || raw.retentionDays < 1 || raw.retentionDays > 90)
    throw new InputError('retention-days', 'must be a whole number from 1 to 90');

  const signing: Config['signing'] = raw.cosignKeyGiven ? 'key' : raw.oidcAvailable ? 'keyless' : 'none';
  let attach: AttachMode;
  if (raw.attach === 'auto') {
    attach = image && signing !== 'none' ? 'attest' : 'none';
    if (image && signing === 'none')
      notes.push(
        'attach: no signing is configured (no cosign-key, no id-token: write permission), so the SBOM is not attached to the image; set attach: referrer to push it as an OCI artifact instead',
      );
  } else attach = raw.attach;
  if (attach !== 'none' && !image)
    throw new InputError(
      'attach',
      `is '${attach}', which needs 'image' (an image by digest); a path SBOM can only be uploaded (attach: none)`,
    );
  if (attach === 'attest' && signing === 'none')
    throw new InputError(
      'attach',
      "is 'attest', which signs the SBOM with cosign: give cosign-key, or give the job 'permissions: id-token: write' for keyless signing",
    );
  if (raw.cosignKeyGiven && attach !== 'attest' && !raw.signBlob)
    notes.push(`'cosign-key' is set but nothing is signed (attach is '${attach}', sign-blob is false): the key is not used`);
  if (raw.signBlob && signing === 'none')
    throw new InputError(
      'sign-blob',
      "is true, which signs the SBOM files with cosign: give cosign-key, or give the job 'permissions: id-token: write' for keyless signing",
    );

  if (raw.registryUsername && !/^[^\s:]{1,256}$/.test(raw.registryUsername))
    throw new InputError('registry-username', 'must be one word without spaces or colons');
  if (raw.registryUsername && !raw.registryPasswordGiven)
    throw new InputError('registry-password', "is required when 'registry-username' is set");
  if (raw.registryPasswordGiven && !raw.registryUsername)
    throw new InputError('registry-username', "is required when 'registry-password' is set");
  if (raw.registryInsecure && !(image && isLoopbackRegistry(image.registry))) {
    throw new InputError(
      'registry-insecure',
      `may only be true for an image in a loopback registry (127.0.0.1, localhost)${image ? `, not ${image.registry}` : ''}: plain HTTP would expose the image and credentials`,
    );
  }
  if (/\0/.test(raw.outputDir)) throw new InputError('output-dir', 'must be a directory path');

  // ---- tlog / signing-config / trusted-root: the same meaning as build-sign's ----
  for (const [name, v] of [
    ['signing-config', raw.signingConfig],
    ['trusted-root', raw.trustedRoot],
  ] as const) {
    if (v && /[\0\r\n]/.test(v)) throw new InputError(name, 'must be one file path (a Sigstore JSON file in the workspace)');
  }
  const effectiveSigning: Config['signing'] = attach === 'attest' || raw.signBlob ? signing : 'none';
  if (effectiveSigning !== 'none') {
    try {
      checkSigstoreOptions(effectiveSigning, { tlog: raw.tlog });
    } catch (e) {
      if (e instanceof CosignArgError)
        throw new InputError(
          'tlog',
          `must stay true for keyless signing (no cosign-key): ${e.message}. Give cosign-key to sign without the log`,
        );
      throw e;
    }
  } else if (!raw.tlog || raw.signingConfig || raw.trustedRoot) {
    notes.push(
      'tlog, signing-config and trusted-root only apply when cosign signs (attach: attest, or sign-blob: true); nothing is signed here, so they are not used',
    );
  }

  return {
    image,
    path: image ? undefined : raw.path,
    formats,
    generator: raw.generator,
    service,
    artifactName,
    upload: raw.upload,
    retentionDays: raw.retentionDays,
    attach,
    signing: effectiveSigning,
    signBlob: raw.signBlob,
    login: raw.registryUsername ? { username: raw.registryUsername } : undefined,
    registryInsecure: raw.registryInsecure,
    outputDir: raw.outputDir,
    sigstore: { tlog: raw.tlog, signingConfig: raw.signingConfig || undefined, trustedRoot: raw.trustedRoot || undefined },
    notes,
  };
}
