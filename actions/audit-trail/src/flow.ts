/**
 * audit-trail: join one run's audit parts into one trail, sign it, upload it.
 *   parts (one chained file per job) → verify each → order by time, then job → re-chain → seal
 *   → audit-<run_id>-<attempt>.jsonl → cosign sign-blob --bundle → artifact audit-<run_id>-<attempt>
 * The signer is settled before the seal is written: the seal names it, and the signature covers the seal.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditRecordError,
  type AuditFacts,
  type AuditRecord,
  type AuditRun,
  joinParts,
  PartError,
  type StoryStep,
  storySteps,
  tellStory,
} from '@hallmark/audit';
import { oneLine, requireFound, StepFailure, tail, type StdDeps } from '@hallmark/kit';
import {
  ASSUMED_COSIGN_MAJOR,
  cosign3OnlyInput,
  detectCosign,
  GITHUB_ISSUER,
  githubWorkflowIdentity,
  jwtClaims,
  keyFromInput,
  type KeyRef,
  parsePublicKey,
  publicKeyArgs,
  signBlobArgs,
} from '@hallmark/oci';
import type { Config, FailureReason } from './inputs.js';
import { collectParts } from './parts.js';

export interface Deps extends Pick<StdDeps, 'exec' | 'log' | 'mask' | 'now'> {
  tempDir: string;
  serverUrl: string;
  /** The audit job's own run facts (for the seal). */
  run: AuditRun;
  version: string;
  getIdToken(audience: string): Promise<string>;
  lookupEnv(name: string): string | undefined;
  upload(name: string, files: string[], root: string, retentionDays: number, overwrite: boolean): Promise<{ id?: number; size?: number }>;
  cosignTimeoutMs?: number;
}

export interface Secrets {
  cosignKey: string;
  cosignPassword: string;
}

export interface Result {
  trail?: string;
  bundle?: string;
  sha256?: string;
  /** Records in the trail, the seal included. */
  recordCount: number;
  parts: { name: string; records: number }[];
  signed: boolean;
  signer?: string;
  artifact?: { name: string; id?: number };
  steps: StoryStep[];
  story?: string;
}

const fail = (reason: FailureReason, message: string) => new StepFailure<FailureReason>(reason, message);

export async function joinSignUpload(cfg: Config, secrets: Secrets, deps: Deps): Promise<Result> {
  const result: Result = { recordCount: 0, parts: [], signed: false, steps: [] };

  // ---- the parts ----
  const parts = collectParts(cfg.parts, (s) => oneLine(s, 200));
  if (parts.length === 0)
    throw fail(
      'no-parts',
      'no audit part (*.jsonl) under the parts directory: did every job upload its hallmark-audit.jsonl, and did the download pattern match?',
    );

  // ---- who signs (settled before the seal, which names the signer) ----
  const facts: AuditFacts = { ...cfg.facts };
  for (const [job, r] of Object.entries(cfg.jobResults)) facts[`job.${job}`] = r;
  let key: KeyRef | undefined;
  let idToken: string | undefined;
  let cosignMajor = ASSUMED_COSIGN_MAJOR;
  if (cfg.signing !== 'none') {
    const found = await detectCosign(deps.exec, { shown: (t) => oneLine(t, 600) });
    if (!found.found) throw fail('sign-failed', found.problem);
    cosignMajor = found.major;
    if (found.warning) deps.log.warning(found.warning);
    const v2 = cosign3OnlyInput(found, { 'signing-config': cfg.sigstore.signingConfig, 'trusted-root': cfg.sigstore.trustedRoot });
    if (v2) throw fail('invalid-input', `input '${v2.input}' ${v2.message}`);
    if (found.version) facts['cosign-version'] = found.version.raw;
    facts['signing-mode'] = cfg.signing;
  }
  if (cfg.signing === 'key') {
    try {
      key = keyFromInput(secrets.cosignKey, secrets.cosignPassword, deps.lookupEnv);
    } catch (e) {
      throw fail('invalid-input', `input 'cosign-key' ${(e as Error).message}`);
    }
    const pk = await deps.exec('cosign', publicKeyArgs(key), { env: key.env, timeoutMs: deps.cosignTimeoutMs ?? 120_000 });
    requireFound('cosign', pk, 'sign-failed');
    const pem = pk.exitCode === 0 ? parsePublicKey(pk.stdout) : undefined;
    if (!pem) throw fail('sign-failed', `cosign could not read the signing key (wrong key or cosign-password?): ${tail(pk)}`);
    const fp = createHash('sha256')
      .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
      .digest('hex');
    facts['signer-key-sha256'] = fp;
    result.signer = `key sha256:${fp}`;
  } else if (cfg.signing === 'keyless') {
    try {
      idToken = await deps.getIdToken('sigstore');
    } catch (e) {
      throw fail(
        'sign-failed',
        `keyless signing needs a GitHub OIDC token: give the audit job 'permissions: id-token: write' (${oneLine((e as Error).message, 300)})`,
      );
    }
    deps.mask(idToken);
    let identity: string | undefined;
    try {
      identity = githubWorkflowIdentity(jwtClaims(idToken), deps.serverUrl);
    } catch {
      throw fail('sign-failed', 'the OIDC token from the runner is not a JWT');
    }
    if (!identity) throw fail('sign-failed', 'the OIDC token has no job_workflow_ref claim: cannot tell which workflow signs');
    facts['signer-identity'] = identity;
    facts['signer-issuer'] = GITHUB_ISSUER;
    result.signer = identity;
  }

  // ---- join: verify each part, order, re-chain, seal ----
  let joined: ReturnType<typeof joinParts>;
  try {
    joined = joinParts(parts, { time: deps.now().toISOString(), version: deps.version, run: deps.run, facts });
  } catch (e) {
    if (e instanceof PartError)
      throw fail('part-broken', `audit part ${oneLine(e.part, 200)} does not verify: ${oneLine(e.message, 1200)}`);
    if (e instanceof AuditRecordError)
      throw fail('part-broken', `an audit part holds a record the trail cannot carry: ${oneLine(e.message, 400)}`);
    throw e;
  }
  const records: AuditRecord[] = joined.records;
  result.recordCount = records.length;
  for (const p of parts) result.parts.push({ name: p.name, records: records.filter((r) => r.origin?.part === p.name).length });
  result.sha256 = joined.sha256;
  result.steps = storySteps(records);

  const dir = join(deps.tempDir, 'hallmark-audit-trail');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
  const trail = join(dir, `${cfg.artifactName}.jsonl`);
  writeFileSync(trail, joined.text, { mode: 0o644 });
  result.trail = trail;
  deps.log.info(`Joined ${parts.length} part(s) into ${records.length} record(s): ${trail} (sha256 ${joined.sha256}).`);

  // ---- sign ----
  if (cfg.signing !== 'none') {
    const bundle = `${trail}.sigstore.json`;
    const args = signBlobArgs(trail, { bundle, key, sigstore: cfg.sigstore, version: { major: cosignMajor } });
    const env = { ...(key?.env ?? {}), ...(idToken ? { SIGSTORE_ID_TOKEN: idToken } : {}) };
    deps.log.info(`Signing the trail (${cfg.signing}${cfg.signing === 'keyless' ? `, as ${result.signer}` : ''}).`);
    const s = await deps.exec('cosign', args, { env, timeoutMs: deps.cosignTimeoutMs ?? 300_000 });
    if (s.stderr || s.stdout) deps.log.untrusted(`${s.stderr}${s.stdout}`);
    requireFound('cosign', s, 'sign-failed');
    if (s.exitCode !== 0 || !existsSync(bundle)) throw fail('sign-failed', `cosign sign-blob failed for the trail: ${tail(s)}`);
    result.bundle = bundle;
    result.signed = true;
  } else {
    deps.log.warning('signing: none — the trail is not signed: audit:verify will only check its chain (--unsigned).');
  }
  result.story = tellStory(records, {
    file: `${cfg.artifactName}.jsonl`,
    sha256: joined.sha256,
    ...(result.signer ? { signature: `${cfg.signing}: ${result.signer}` } : {}),
  });

  // ---- upload ----
  if (cfg.upload) {
    const files = [trail, ...(result.bundle ? [result.bundle] : [])];
    try {
      const up = await deps.upload(cfg.artifactName, files, dir, cfg.retentionDays, cfg.overwrite);
      result.artifact = { name: cfg.artifactName, ...(up.id !== undefined ? { id: up.id } : {}) };
      deps.log.info(`Uploaded artifact ${cfg.artifactName}${up.id !== undefined ? ` (id ${up.id})` : ''}.`);
    } catch (e) {
      throw fail('upload-failed', `uploading artifact ${cfg.artifactName} failed: ${oneLine((e as Error).message ?? String(e), 400)}`);
    }
  }
  return result;
}
