/**
 * audit-trail's inputs, checked as plain data before anything is read, signed or uploaded.
 */
import { InputError } from '@hallmark/kit';
import { checkSigstoreOptions, CosignArgError, type SigstoreOptions } from '@hallmark/oci';

export const SIGNING_MODES = ['keyless', 'key', 'none'] as const;
export type SigningMode = (typeof SIGNING_MODES)[number];

export const FAILURE_REASONS = ['invalid-input', 'no-parts', 'part-broken', 'sign-failed', 'upload-failed'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

/** GitHub's job results, as `toJSON(needs)` gives them. */
export const JOB_RESULTS = ['success', 'failure', 'cancelled', 'skipped'] as const;

const FACT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** What actions/upload-artifact accepts in a name, kept to the plain subset. */
const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const JOB_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
/** Fact values given by the workflow: identifiers, never free text. */
const MAX_FACT_VALUE = 256;

export interface RawInputs {
  /** The directory holding the downloaded parts (resolved by main with input.path). */
  parts: string;
  signing: SigningMode;
  cosignKeyGiven: boolean;
  tlog: boolean;
  signingConfig: string;
  trustedRoot: string;
  artifactName: string;
  upload: boolean;
  overwrite: boolean;
  retentionDays: number;
  /** `toJSON(needs)` of the audit job, or undefined. */
  jobs: unknown;
  /** Extra non-secret facts for the seal (environment, deploy method …). */
  facts: Record<string, string>;
}

export interface Config {
  parts: string;
  signing: SigningMode;
  sigstore: SigstoreOptions;
  artifactName: string;
  upload: boolean;
  overwrite: boolean;
  retentionDays: number;
  /** job id → result, from `jobs`. */
  jobResults: Record<string, string>;
  facts: Record<string, string>;
}

export function defaultArtifactName(runId: string, runAttempt: string): string {
  return `audit-${runId || 'local'}-${runAttempt || '1'}`;
}

export function checkInputs(raw: RawInputs, ctx: { runId: string; runAttempt: string }): Config {
  if (raw.signing === 'key' && !raw.cosignKeyGiven)
    throw new InputError('cosign-key', 'is required with signing: key (a cosign private key PEM from a secret, or env://VAR)');
  if (raw.signing !== 'key' && raw.cosignKeyGiven)
    throw new InputError('cosign-key', `is only used with signing: key (signing is ${raw.signing})`);
  if (raw.signing === 'none' && (raw.signingConfig || raw.trustedRoot)) {
    throw new InputError(
      raw.signingConfig ? 'signing-config' : 'trusted-root',
      'is only used when the trail is signed (signing: keyless or key)',
    );
  }
  const sigstore: SigstoreOptions = {
    tlog: raw.tlog,
    ...(raw.signingConfig ? { signingConfig: raw.signingConfig } : {}),
    ...(raw.trustedRoot ? { trustedRoot: raw.trustedRoot } : {}),
  };
  if (raw.signing !== 'none') {
    try {
      checkSigstoreOptions(raw.signing, sigstore);
    } catch (e) {
      if (e instanceof CosignArgError) throw new InputError('tlog', e.message);
      throw e;
    }
  }
  const artifactName = raw.artifactName || defaultArtifactName(ctx.runId, ctx.runAttempt);
  if (!ARTIFACT_NAME.test(artifactName))
    throw new InputError(
      'artifact-name',
      'must be an artifact name of letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit)',
    );
  if (!Number.isInteger(raw.retentionDays) || raw.retentionDays < 1 || raw.retentionDays > 90)
    throw new InputError('retention-days', 'must be a whole number of days from 1 to 90');
  const jobResults = checkJobs(raw.jobs);
  const facts: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw.facts)) {
    if (!FACT_NAME.test(k))
      throw new InputError(
        'facts',
        `must use fact names of letters, digits, "_", "." and "-" (at most 64): ${JSON.stringify(k.slice(0, 64))} is not one`,
      );
    if (
      k.startsWith('job.') ||
      ['record-count', 'part-count', 'signing-mode', 'signer-identity', 'signer-issuer', 'signer-key-sha256'].includes(k)
    ) {
      throw new InputError('facts', `must not set ${k}: the action records it itself`);
    }
    if (v.length > MAX_FACT_VALUE || /[\u0000-\u001f\u007f]/.test(v))
      throw new InputError('facts', `must give each fact a one-line value of at most ${MAX_FACT_VALUE} characters (${k} does not)`);
    if (v !== '') facts[k] = v;
  }
  return {
    parts: raw.parts,
    signing: raw.signing,
    sigstore,
    artifactName,
    upload: raw.upload,
    overwrite: raw.overwrite,
    retentionDays: raw.retentionDays,
    jobResults,
    facts,
  };
}

/** `toJSON(needs)`: `{ build: { result: 'success', outputs: {…} }, … }` → `{ build: 'success' }` (outputs are not recorded). */
export function checkJobs(jobs: unknown): Record<string, string> {
  if (jobs === undefined || jobs === null || jobs === '') return {};
  if (typeof jobs !== 'object' || Array.isArray(jobs))
    throw new InputError('jobs', 'must be the JSON of the needs context (${{ toJSON(needs) }}): a mapping of job ids to { result }');
  const out: Record<string, string> = {};
  for (const [id, v] of Object.entries(jobs as Record<string, unknown>)) {
    if (!JOB_ID.test(id)) throw new InputError('jobs', `must map job ids to results: ${JSON.stringify(id.slice(0, 64))} is not a job id`);
    const result = v && typeof v === 'object' ? (v as { result?: unknown }).result : undefined;
    if (typeof result !== 'string' || !(JOB_RESULTS as readonly string[]).includes(result)) {
      throw new InputError('jobs', `must give each job a result of ${JOB_RESULTS.join(', ')} (job ${id} has none)`);
    }
    out[id] = result;
  }
  return out;
}
