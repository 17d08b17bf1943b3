/**
 * The Kyverno admission policy that enforces what build-sign signed, in one of two kinds:
 *
 * - `cluster-policy` (default): a `kyverno.io/v1` `ClusterPolicy` with a `verifyImages` rule
 *   (per-rule `failureAction: Enforce`, mutateDigest and verifyDigest on, so pods run the verified
 *   digest) whose attestor is exactly the signer that was just verified (keyless subject + issuer +
 *   Rekor URL, or the key's public PEM), and a rule refusing `:latest`.
 * - `image-validating-policy`: the same rules as a `policies.kyverno.io/v1`
 *   `ImageValidatingPolicy` (Kyverno ≥ 1.17, where ClusterPolicy is deprecated): matchImageReferences,
 *   one cosign attestor, CEL validations.
 *
 * What was read at kyverno v1.19.0 to get this right:
 * - api/kyverno/v1/image_verification_types.go: `type` defaults to `Cosign`, which reads only the
 *   legacy `sha256-<hex>.sig` tag (what cosign 2.x writes); `SigstoreBundle`
 *   (pkg/image/verifiers/cpol/cosign/sigstore.go) reads Sigstore bundles stored as OCI referrers
 *   (what cosign ≥ 3 writes by default). Per-attestor `rekor.ignoreTlog` and `ctlog.ignoreSCT`; with
 *   a static key and both set, sigstore.go's getTrustedMaterial needs no TUF root (no network).
 * - api/kyverno/v1/spec_types.go: `validationFailureAction`/`webhookTimeoutSeconds` are deprecated for
 *   per-rule `failureAction` and `webhookConfiguration.timeoutSeconds`.
 * - pkg/engine/utils/image.go + ext/wildcard/match.go (github.com/IGLOU-EU/go-wildcard v1.0.3): an
 *   `imageReferences` entry is a glob where `*` matches any run of characters, `/` included, applied
 *   to pkg/utils/image/infos.go `ImageInfo.String()`, which is always `registry/path:tag` (an untagged
 *   image gets `:latest`) or `registry/path@digest` (the tag is dropped when there is a digest). So
 *   `<repo>:*` + `<repo>@*` is exactly the repository, where `<repo>*` also took `<repo>-worker`.
 * - ImageValidatingPolicy (github.com/kyverno/api policies.kyverno.io/v1alpha1, aliased by v1):
 *   matchImageReferences globs are github.com/gobwas/glob over the image string as written in the
 *   Pod (pkg/cel/compiler/images.go), and only matching images are in `images.*`
 *   (pkg/image/verification/evaluator/policy.go); the cosign verifier detects bundle or legacy format
 *   by itself (pkg/image/verifiers/ivpol/cosign/verifier.go); `ctlog.insecureIgnoreTlog` /
 *   `insecureIgnoreSCT`.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { repoName, type ImageRef } from './ref.js';

export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev';

export type Attestor = { keyless: { subject: string; issuer: string; rekorUrl?: string } } | { publicKey: string };

export type PolicyKind = 'cluster-policy' | 'image-validating-policy';
export const POLICY_KINDS: readonly PolicyKind[] = ['cluster-policy', 'image-validating-policy'];

/** Where the signature is: 'bundle' (cosign ≥ 3, OCI referrer), 'legacy' (cosign 2.x `.sig` tag). */
export type SignatureFormat = 'bundle' | 'legacy';

export interface PolicyOptions {
  image: Pick<ImageRef, 'registry' | 'repository'>;
  attestor: Attestor;
  /** metadata.name; default `hallmark-verify-<repository>` (DNS-1123, ≤ 63 characters). */
  name?: string;
  /** Recorded as an annotation: the digest that was signed when the policy was generated. */
  digest?: string;
  /** Recorded as an annotation: where the policy came from (run URL). */
  source?: string;
  /** Default 'cluster-policy'. */
  kind?: PolicyKind;
  /**
   * ClusterPolicy verifier type: 'bundle' → `SigstoreBundle`, 'legacy' → `Cosign`. Default 'bundle'.
   * An ImageValidatingPolicy needs no type: its cosign verifier detects the format itself.
   */
  signatureFormat?: SignatureFormat;
  /** false: the policy must not require a Rekor entry (key mode only; keyless requires the log). Default true. */
  tlog?: boolean;
  /** Keyless: the Rekor the signature is in (default the attestor's rekorUrl, then the public Rekor). */
  rekorUrl?: string;
  /**
   * Also require an SLSA v1 provenance attestation (predicate type `https://slsa.dev/provenance/v1`)
   * by the same attestor, whose predicate names an allowed builder and the source repository
   * (ClusterPolicy: `provenanceAttestation`; ImageValidatingPolicy: `provenanceValidations`).
   */
  requireProvenance?: ProvenanceRequirement;
}

export const SLSA_PROVENANCE_V1_TYPE = 'https://slsa.dev/provenance/v1';

export class PolicyArgError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyArgError';
  }
}

/** What the provenance predicate must say. Build `builderIdRegexp` with `builderIdRegexp()`. */
export interface ProvenanceRequirement {
  /** RE2 over `runDetails.builder.id`, without backslashes (it sits in a JMESPath raw string). */
  builderIdRegexp: string;
  /** `buildDefinition.externalParameters.workflow.repository`, exactly (`owner/name`). */
  sourceRepository: string;
  /** Optional: `buildDefinition.externalParameters.workflow.ref`, exactly (e.g. `refs/heads/main`). */
  sourceRef?: string;
}

/** Characters allowed in a builder workflow identity and an allowed ref pattern. */
const BUILDER_SAFE = /^[A-Za-z0-9._\-/:@+*]+$/;

/**
 * RE2 (Go) / JS regexp without backslashes (so it can sit unescaped in a JMESPath raw string and a
 * CEL string) matching `<workflow>@<ref>` for one of `refs`. A `*` in a ref matches within one
 * path segment (no `/`); `.` and `+` are literal. e.g.
 * `builderIdRegexp('https://github.com/hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml', ['refs/tags/v*'])`.
 */
export function builderIdRegexp(workflow: string, refs: string[]): string {
  if (!/^https:\/\/[^@\s*]+$/.test(workflow) || !BUILDER_SAFE.test(workflow)) {
    throw new PolicyArgError(
      `the builder workflow must be https://<host>/<owner>/<repo>/<path> without @ or * (got ${JSON.stringify(workflow.slice(0, 120))})`,
    );
  }
  if (refs.length === 0) throw new PolicyArgError('at least one allowed builder ref is needed');
  const lit = (s: string) => s.replace(/[.+]/g, (c) => `[${c}]`);
  const alts = refs.map((r) => {
    if (!/^refs\/(heads|tags)\/\S+$/.test(r) || !BUILDER_SAFE.test(r) || r.includes('@')) {
      throw new PolicyArgError(
        `an allowed builder ref must be refs/tags/… or refs/heads/… (a * matches within one segment), got ${JSON.stringify(r.slice(0, 120))}`,
      );
    }
    return r.split('*').map(lit).join('[^/]*');
  });
  return `^${lit(workflow)}@(${alts.join('|')})$`;
}

/**
 * ImageValidatingPolicy validations for the provenance, in order (Kyverno reports the first that
 * fails): the attestation verifies for the signer, then its predicate's builder id, source
 * repository (and ref). verifyAttestationSignatures must run before extractPayload, which only
 * returns payloads already verified (pkg/cel/libs/imageverify/impl.go at v1.19.0).
 */
function provenanceValidations(req: ProvenanceRequirement, repo: string): { expression: string; message: string }[] {
  checkProvenanceRequirement(req);
  const imgs = '(images.containers + images.initContainers + images.ephemeralContainers)';
  // extractPayload gives the whole in-toto statement (what kyverno apply 1.19.0 showed: `.runDetails` at the top is "no such key").
  const payload = 'extractPayload(i, attestations.provenance).predicate';
  const out = [
    {
      expression: `${imgs}.all(i, verifyAttestationSignatures(i, attestations.provenance, [attestors.signer]) > 0)`,
      message: `${repo} must carry SLSA provenance (${SLSA_PROVENANCE_V1_TYPE}) by the same signer`,
    },
    {
      expression: `${imgs}.all(i, ${payload}.runDetails.builder.id.matches('${req.builderIdRegexp}'))`,
      message: 'the provenance builder id is not an allowed hallmark build-sign-scan ref',
    },
    {
      expression: `${imgs}.all(i, ${payload}.buildDefinition.externalParameters.workflow.repository == '${req.sourceRepository}')`,
      message: `the provenance source repository is not ${req.sourceRepository}`,
    },
  ];
  if (req.sourceRef)
    out.push({
      expression: `${imgs}.all(i, ${payload}.buildDefinition.externalParameters.workflow.ref == '${req.sourceRef}')`,
      message: `the provenance source ref is not ${req.sourceRef}`,
    });
  return out;
}

function checkProvenanceRequirement(p: ProvenanceRequirement): void {
  // The regexp goes into a JMESPath raw string: no quote, no backslash, nothing that ends `{{ }}`.
  if (!p.builderIdRegexp || /['\\{}]/.test(p.builderIdRegexp))
    throw new PolicyArgError(
      'the builder id regexp must be non-empty, without quotes, backslashes or braces (build it with builderIdRegexp)',
    );
  if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(p.sourceRepository))
    throw new PolicyArgError(`the source repository must be owner/name (got ${JSON.stringify(p.sourceRepository.slice(0, 120))})`);
  if (p.sourceRef !== undefined && !/^refs\/[A-Za-z0-9._\-/]+$/.test(p.sourceRef))
    throw new PolicyArgError(
      `the source ref must be a full ref such as refs/heads/main (got ${JSON.stringify(p.sourceRef.slice(0, 120))})`,
    );
}

/**
 * The ClusterPolicy `verifyImages[].attestations` entry: the provenance attestation must be there,
 * signed by `entry` (the same attestor as the image signature), and its predicate must match.
 * Kyverno evaluates `conditions` with the predicate as the root of the JMESPath context
 * (pkg/engine/internal/utils.go EvaluateConditions at v1.19.0), and the SigstoreBundle verifier
 * keeps only the DSSE in-toto bundles of that predicate type (pkg/image/verifiers/cpol/cosign/sigstore.go
 * fetchBundles); none found → "attestions not found for predicate type" (imageverifier.go).
 */
export function provenanceAttestation(req: ProvenanceRequirement, entry: Record<string, unknown>): Record<string, unknown> {
  checkProvenanceRequirement(req);
  const all: Record<string, unknown>[] = [
    {
      key: `{{ regex_match('${req.builderIdRegexp}', runDetails.builder.id) }}`,
      operator: 'Equals',
      value: true,
      message: 'the provenance builder id is not an allowed hallmark build-sign-scan ref',
    },
    {
      key: '{{ buildDefinition.externalParameters.workflow.repository }}',
      operator: 'Equals',
      value: req.sourceRepository,
      message: `the provenance source repository is not ${req.sourceRepository}`,
    },
  ];
  if (req.sourceRef)
    all.push({
      key: '{{ buildDefinition.externalParameters.workflow.ref }}',
      operator: 'Equals',
      value: req.sourceRef,
      message: `the provenance source ref is not ${req.sourceRef}`,
    });
  return { type: SLSA_PROVENANCE_V1_TYPE, attestors: [{ entries: [entry] }], conditions: [{ all }] };
}

/** A DNS-1123 label of at most 63 characters, with a short hash suffix when shortened. */
export function policyName(image: Pick<ImageRef, 'registry' | 'repository'>): string {
  const base = `hallmark-verify-${image.repository}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (base.length <= 63) return base;
  const h = createHash('sha256').update(repoName(image)).digest('hex').slice(0, 8);
  return `${base.slice(0, 54).replace(/-$/, '')}-${h}`;
}

/**
 * The spellings under which a Pod can name the repository. Docker Hub images are also written
 * without `docker.io/` and without `library/`; every other registry only one way.
 */
export function repositorySpellings(image: Pick<ImageRef, 'registry' | 'repository'>): string[] {
  const full = repoName(image);
  if (image.registry !== 'docker.io') return [full];
  const paths = [image.repository];
  if (image.repository.startsWith('library/')) paths.push(image.repository.slice('library/'.length));
  return [...new Set([full, ...paths.map((p) => `docker.io/${p}`), ...paths])];
}

/**
 * ClusterPolicy `imageReferences`: `<repo>:*` and `<repo>@*` for every spelling. Kyverno matches
 * them against `registry/path:tag` or `registry/path@digest` (never a bare name), so no other
 * repository (`<repo>-worker`, `<repo>front`, `<repo>/sub`) can match.
 */
export function clusterPolicyImageReferences(image: Pick<ImageRef, 'registry' | 'repository'>): string[] {
  return repositorySpellings(image).flatMap((r) => [`${r}:*`, `${r}@*`]);
}

/** gobwas/glob metacharacters, escaped with a backslash (an IPv6 registry host has brackets). */
const globEscape = (s: string): string => s.replace(/[\\*?[\]{}]/g, (c) => `\\${c}`);

/**
 * ImageValidatingPolicy `matchImageReferences` globs: the raw image string of the Pod, so the bare
 * repository (untagged), `<repo>:*` and `<repo>@*` for every spelling.
 */
export function imageValidatingPolicyGlobs(image: Pick<ImageRef, 'registry' | 'repository'>): string[] {
  return repositorySpellings(image).flatMap((r) => {
    const e = globEscape(r);
    return [e, `${e}:*`, `${e}@*`];
  });
}

/**
 * RE2 (Go regexp) matching an image reference that uses `:latest`: the tag `latest` in any case
 * (with or without a digest), or no tag and no digest at all (which means `:latest`).
 * No backslashes, so it can sit unescaped in a JMESPath raw string and in a CEL string.
 */
export const LATEST_IMAGE_RE = '^([^@]*/)?[^/:@]+$|:(?i:latest)(@.*)?$';

export const LATEST_MESSAGE =
  "An image must not use the 'latest' tag: ':latest' (any case), an untagged image (which means ':latest') and 'name:latest@sha256:…' are refused.";

const pods = () => ({ any: [{ resources: { kinds: ['Pod'] } }] });

function checkAttestor(opts: PolicyOptions): void {
  if ('keyless' in opts.attestor) {
    const k = opts.attestor.keyless;
    if (!k.subject || /[*?]/.test(k.subject)) throw new Error('the policy subject must be the exact signer identity, without wildcards');
    if (!k.issuer || /[*?]/.test(k.issuer)) throw new Error('the policy issuer must be exact, without wildcards');
    if (opts.tlog === false) throw new Error('keyless signatures require the transparency log: tlog false is for key mode only');
  } else if (!/-----BEGIN PUBLIC KEY-----/.test(opts.attestor.publicKey)) {
    throw new Error('the policy public key must be a PEM public key');
  }
  if (opts.kind !== undefined && !POLICY_KINDS.includes(opts.kind))
    throw new Error(`policy kind must be one of ${POLICY_KINDS.join(', ')}`);
  if (opts.signatureFormat !== undefined && opts.signatureFormat !== 'bundle' && opts.signatureFormat !== 'legacy') {
    throw new Error("signature format must be 'bundle' or 'legacy'");
  }
  if (opts.requireProvenance) checkProvenanceRequirement(opts.requireProvenance);
}

const rekorUrlOf = (opts: PolicyOptions): string =>
  opts.rekorUrl ?? ('keyless' in opts.attestor ? opts.attestor.keyless.rekorUrl : undefined) ?? DEFAULT_REKOR_URL;

function metadata(opts: PolicyOptions): Record<string, unknown> {
  const who =
    'publicKey' in opts.attestor
      ? 'the embedded cosign public key'
      : `${opts.attestor.keyless.subject} (issuer ${opts.attestor.keyless.issuer})`;
  const annotations: Record<string, string> = {
    'policies.kyverno.io/title': `Verify ${repoName(opts.image)}`,
    'policies.kyverno.io/category': 'Software Supply Chain Security',
    'policies.kyverno.io/severity': 'high',
    'policies.kyverno.io/subject': 'Pod',
    'policies.kyverno.io/minversion': opts.kind === 'image-validating-policy' ? '1.17.0' : '1.13.0',
    'policies.kyverno.io/description':
      `Generated by hallmark build-sign. Pods may run ${repoName(opts.image)} only by a digest signed by ${who}` +
      `${opts.tlog === false ? ' (no transparency log)' : ''}` +
      `${opts.requireProvenance ? `, carrying SLSA v1 provenance by the same signer from an allowed builder for ${opts.requireProvenance.sourceRepository}` : ''}` +
      '; image tags are rewritten to the verified digest; no image may use the :latest tag.',
  };
  if (opts.digest) annotations['hallmark.dev/signed-digest'] = opts.digest;
  if (opts.source) annotations['hallmark.dev/source'] = opts.source;
  return { name: opts.name ?? policyName(opts.image), annotations };
}

function clusterPolicy(opts: PolicyOptions): Record<string, unknown> {
  const noTlog = opts.tlog === false;
  const entry =
    'publicKey' in opts.attestor
      ? {
          keys: {
            publicKeys: `${opts.attestor.publicKey.trim()}\n`,
            ...(noTlog ? { rekor: { ignoreTlog: true }, ctlog: { ignoreSCT: true } } : {}),
          },
        }
      : {
          keyless: {
            subject: opts.attestor.keyless.subject,
            issuer: opts.attestor.keyless.issuer,
            rekor: { url: rekorUrlOf(opts) },
          },
        };
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: metadata(opts),
    spec: {
      background: false,
      webhookConfiguration: { timeoutSeconds: 30 },
      rules: [
        {
          name: 'verify-image-signature',
          match: pods(),
          verifyImages: [
            {
              type: opts.signatureFormat === 'legacy' ? 'Cosign' : 'SigstoreBundle',
              failureAction: 'Enforce',
              imageReferences: clusterPolicyImageReferences(opts.image),
              mutateDigest: true,
              verifyDigest: true,
              required: true,
              attestors: [{ entries: [entry] }],
              ...(opts.requireProvenance ? { attestations: [provenanceAttestation(opts.requireProvenance, entry)] } : {}),
            },
          ],
        },
        {
          name: 'disallow-latest-tag',
          match: pods(),
          validate: {
            failureAction: 'Enforce',
            message: LATEST_MESSAGE,
            foreach: [
              {
                list: 'request.object.spec.[ephemeralContainers, initContainers, containers][]',
                deny: {
                  conditions: {
                    any: [{ key: `{{ regex_match('${LATEST_IMAGE_RE}', element.image) }}`, operator: 'Equals', value: true }],
                  },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

function imageValidatingPolicy(opts: PolicyOptions): Record<string, unknown> {
  const noTlog = opts.tlog === false;
  const cosign =
    'publicKey' in opts.attestor
      ? {
          key: { data: `${opts.attestor.publicKey.trim()}\n` },
          ...(noTlog ? { ctlog: { insecureIgnoreTlog: true, insecureIgnoreSCT: true } } : {}),
        }
      : {
          keyless: { identities: [{ subject: opts.attestor.keyless.subject, issuer: opts.attestor.keyless.issuer }] },
          ctlog: { url: rekorUrlOf(opts) },
        };
  // Every container of the Pod (not only the matched images): object.spec, which Kyverno's autogen
  // rewrites for pod controllers (pkg/cel/autogen/data.go).
  const allImages =
    'object.spec.?containers.orValue([]).map(c, c.image) + object.spec.?initContainers.orValue([]).map(c, c.image) + object.spec.?ephemeralContainers.orValue([]).map(c, c.image)';
  return {
    apiVersion: 'policies.kyverno.io/v1',
    kind: 'ImageValidatingPolicy',
    metadata: metadata(opts),
    spec: {
      validationActions: ['Deny'],
      failurePolicy: 'Fail',
      webhookConfiguration: { timeoutSeconds: 30 },
      evaluation: { background: { enabled: false } },
      matchConstraints: {
        resourceRules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['pods'] }],
      },
      matchImageReferences: imageValidatingPolicyGlobs(opts.image).map((glob) => ({ glob })),
      validationConfigurations: { mutateDigest: true, verifyDigest: true, required: true },
      attestors: [{ name: 'signer', cosign }],
      ...(opts.requireProvenance ? { attestations: [{ name: 'provenance', intoto: { type: SLSA_PROVENANCE_V1_TYPE } }] } : {}),
      validations: [
        {
          expression: `(${allImages}).all(i, !i.matches('${LATEST_IMAGE_RE}'))`,
          message: LATEST_MESSAGE,
        },
        {
          expression:
            '(images.containers + images.initContainers + images.ephemeralContainers).all(i, verifyImageSignatures(i, [attestors.signer]) > 0)',
          message: `${repoName(opts.image)} must be signed by ${'publicKey' in opts.attestor ? 'the embedded cosign public key' : opts.attestor.keyless.subject}`,
        },
        ...(opts.requireProvenance ? provenanceValidations(opts.requireProvenance, repoName(opts.image)) : []),
      ],
    },
  };
}

export function policyObject(opts: PolicyOptions): Record<string, unknown> {
  checkAttestor(opts);
  return opts.kind === 'image-validating-policy' ? imageValidatingPolicy(opts) : clusterPolicy(opts);
}

/** The policy as YAML, ready to `kubectl apply -f`. */
export function renderPolicy(opts: PolicyOptions): string {
  return `# Generated by hallmark build-sign: do not edit by hand; regenerate from the pipeline.\n${stringify(policyObject(opts), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
