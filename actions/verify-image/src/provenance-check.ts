/**
 * The SLSA v1 provenance check, after cosign has verified the attestation's signature.
 *
 * `cosign verify-attestation --type slsaprovenance1 --output json` (cosign 3.1.2, bundle format)
 * prints one DSSE envelope per verified attestation, one JSON object a line:
 * `{"payload":"<base64 in-toto statement>","payloadType":"application/vnd.in-toto+json","signatures":[…]}`
 * (cmd/cosign/cli/verify/verify_attestation.go, policy.AttestationToPayloadJSON at v3.1.2; read
 * from the real binary's output in test/verify-image). Only statements that cosign verified reach
 * this code: it judges what they say, not who signed them.
 *
 * The predicate format is build-sign's (actions/build-sign/src/provenance.ts):
 * runDetails.builder.id = `https://github.com/<job_workflow_ref>`,
 * buildDefinition.externalParameters.workflow = { repository, ref, path }, subject = the image.
 */
import type { IdentityPolicy } from './identity.js';
import { identityAllowed } from './identity.js';

export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Statement {
  predicateType?: unknown;
  subject?: unknown;
  predicate?: unknown;
}

/** Decoded in-toto statements from `cosign verify-attestation --output json` stdout; non-JSON lines are ignored. */
export function parseAttestations(stdout: string): Statement[] {
  const out: Statement[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let env: { payload?: unknown; payloadType?: unknown };
    try {
      env = JSON.parse(t) as typeof env;
    } catch {
      continue;
    }
    if (typeof env.payload !== 'string' || env.payloadType !== IN_TOTO_PAYLOAD_TYPE) continue;
    try {
      const st = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as unknown;
      if (st && typeof st === 'object' && !Array.isArray(st)) out.push(st as Statement);
    } catch {
      /* not a statement: ignored (cosign verified its signature, but there is nothing to judge) */
    }
  }
  return out;
}

export interface ProvenanceExpectation {
  policy: IdentityPolicy;
  /** `sha256:<64 hex>` of the image. */
  digest: string;
  /** `refs/heads/<default branch>` when the source ref must be the default branch. */
  requireRef?: string;
}

export interface ProvenanceFacts {
  builderId: string;
  sourceRepository: string;
  sourceRef: string;
  sourceCommit?: string;
}

export type ProvenanceVerdict = ({ ok: true } & ProvenanceFacts) | { ok: false; field: string; problem: string };

const get = (o: unknown, path: string[]): unknown =>
  path.reduce<unknown>((x, k) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>)[k] : undefined), o);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
const shown = (x: unknown): string => {
  const s = typeof x === 'string' ? x : (JSON.stringify(x) ?? 'nothing');
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
};

/** Judges one statement; the first field that does not match is named. */
export function checkStatement(st: Statement, e: ProvenanceExpectation): ProvenanceVerdict {
  if (st.predicateType !== SLSA_PROVENANCE_V1)
    return { ok: false, field: 'predicateType', problem: `is ${shown(st.predicateType)}, expected ${SLSA_PROVENANCE_V1}` };
  const hex = e.digest.replace(/^sha256:/, '');
  const subjects = Array.isArray(st.subject) ? st.subject : [];
  if (!subjects.some((s) => get(s, ['digest', 'sha256']) === hex)) {
    const got = subjects.map((s) => str(get(s, ['digest', 'sha256'])) ?? '?').join(', ');
    return {
      ok: false,
      field: 'subject.digest',
      problem: `is ${got ? `sha256:${got}` : 'missing'}, expected the image digest ${e.digest}`,
    };
  }
  const builderId = get(st.predicate, ['runDetails', 'builder', 'id']);
  if (typeof builderId !== 'string' || !identityAllowed(e.policy, builderId)) {
    return {
      ok: false,
      field: 'runDetails.builder.id',
      problem: `is ${shown(builderId)}, expected ${e.policy.serverUrl}/${e.policy.workflow.owner}/${e.policy.workflow.repo}/${e.policy.workflow.path} at an allowed ref`,
    };
  }
  // build-sign writes owner/name; GitHub's own buildType (actions/attest-build-provenance) writes
  // the repository URL: both name the same repository.
  const repoRaw = get(st.predicate, ['buildDefinition', 'externalParameters', 'workflow', 'repository']);
  const repo =
    typeof repoRaw === 'string' && repoRaw.startsWith(`${e.policy.serverUrl}/`) ? repoRaw.slice(e.policy.serverUrl.length + 1) : repoRaw;
  if (typeof repo !== 'string' || repo !== e.policy.sourceRepository) {
    return {
      ok: false,
      field: 'buildDefinition.externalParameters.workflow.repository',
      problem: `is ${shown(repoRaw)}, expected ${e.policy.sourceRepository}`,
    };
  }
  const ref = get(st.predicate, ['buildDefinition', 'externalParameters', 'workflow', 'ref']);
  if (typeof ref !== 'string' || !ref)
    return { ok: false, field: 'buildDefinition.externalParameters.workflow.ref', problem: `is ${shown(ref)}, expected a git ref` };
  if (e.requireRef && ref !== e.requireRef) {
    return {
      ok: false,
      field: 'buildDefinition.externalParameters.workflow.ref',
      problem: `is ${shown(ref)}, expected the default branch ${e.requireRef}`,
    };
  }
  const deps = get(st.predicate, ['buildDefinition', 'resolvedDependencies']);
  const commit = Array.isArray(deps)
    ? deps.map((d) => str(get(d, ['digest', 'gitCommit']))).find((c) => c && /^[0-9a-f]{40}$/.test(c))
    : undefined;
  return { ok: true, builderId, sourceRepository: repo, sourceRef: ref, ...(commit ? { sourceCommit: commit } : {}) };
}

/**
 * Admits the image when at least one verified SLSA v1 statement passes every check (each was
 * signed in the same identity policy). Otherwise names the field of the first statement that failed.
 */
export function checkProvenance(statements: Statement[], e: ProvenanceExpectation): ProvenanceVerdict & { judged: number } {
  if (statements.length === 0)
    return { ok: false, field: 'attestation', problem: `no verified ${SLSA_PROVENANCE_V1} statement`, judged: 0 };
  let first: ProvenanceVerdict | undefined;
  for (const st of statements) {
    const v = checkStatement(st, e);
    if (v.ok) return { ...v, judged: statements.length };
    first ??= v;
  }
  return { ...(first as ProvenanceVerdict), judged: statements.length };
}
