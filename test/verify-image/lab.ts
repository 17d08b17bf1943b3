/**
 * Real parts for verify-image's tests: a real docker-registry on loopback holding tiny OCI images
 * pushed over the registry API, the loopback Sigstore of test/harness/sigstore.ts (@sigstore/mock's
 * Fulcio and Rekor in one HTTP server; its certificates carry the GitHub claims of the OIDC token we
 * hand cosign, so each test chooses the signer's `job_workflow_ref` and `repository`), and the REAL
 * cosign 3.1.2 from `npm run tools` signing and attesting (keyless with a token we make, or with a key).
 *
 * The OIDC token is unsigned (`alg: none`): the mock Fulcio never checks token signatures. That is
 * the one simulated part: a real Fulcio would check GitHub's signature; everything after it (the
 * certificate, the Rekor entry, cosign's verification) is real.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSigstore, type LoopbackSigstore } from '../harness/sigstore.js';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { toolPath } from '../harness/tools.js';
import {
  DEFAULT_ALLOWED_REFS,
  DEFAULT_WORKFLOW,
  identityPolicy,
  parseAllowedRefs,
  parseWorkflow,
} from '../../actions/verify-image/src/identity.js';

const run = promisify(execFile);
export { hasRegistry };

export const OWNER_REPO = 'hallmark-dev/hallmark';
export const WORKFLOW = `${OWNER_REPO}/.github/workflows/build-sign-scan.yml`;
export const CALLER = 'octo-org/shop';
export const SHA = '0123456789abcdef0123456789abcdef01234567';
export const ISSUER = 'https://token.actions.githubusercontent.com';

/** For the unit tests: hallmark's workflow as a signer, an image by digest, and the default identity policy for a caller. */
export const GH = `https://github.com/${WORKFLOW}`;
export const DIGEST = `sha256:${'a'.repeat(64)}`;
export const IMG = `127.0.0.1:5000/shop/api@${DIGEST}`;
export const policy = (refs = DEFAULT_ALLOWED_REFS, repo = CALLER) =>
  identityPolicy({ workflow: parseWorkflow(DEFAULT_WORKFLOW), rules: parseAllowedRefs(refs), sourceRepository: repo });

export interface Claims {
  /** `owner/name/path@ref` of the reusable workflow (what Fulcio puts in the SAN). */
  job_workflow_ref: string;
  /** The caller's repository (the 1.3.6.1.4.1.57264.1.5 extension: --certificate-github-workflow-repository). */
  repository?: string;
  [k: string]: unknown;
}

export interface VerifyLab {
  dir: string;
  registry: Registry;
  sigstore: LoopbackSigstore;
  /** A fresh image (one random layer) pushed to `<host>/<repo>`; returns `<host>/<repo>@sha256:…`. */
  pushImage(repo?: string): Promise<string>;
  /** Real `cosign sign` keyless, as the signer `claims` (through the loopback Fulcio and Rekor). */
  signKeyless(ref: string, claims: Claims): Promise<void>;
  /** Real `cosign attest --type slsaprovenance1` keyless, as `claims`, with `predicate` (an object). */
  attestKeyless(ref: string, claims: Claims, predicate: unknown): Promise<void>;
  /** Key mode, no transparency log (`--use-signing-config=false --tlog-upload=false`). */
  signKey(ref: string): Promise<void>;
  attestKey(ref: string, predicate: unknown): Promise<void>;
  /** The PEM of the lab's cosign public key (made by the real `cosign generate-key-pair`). */
  publicKey: string;
  /** Its private key (encrypted PEM) and password, for signing with another cosign (2.6.4). */
  privateKey: string;
  password: string;
  close(): Promise<void>;
}

const b64url = (s: string) => Buffer.from(s).toString('base64url');
export function token(claims: Claims): string {
  const t = Math.floor(Date.now() / 1000);
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ iss: ISSUER, aud: 'sigstore', sub: `repo:${claims.repository ?? CALLER}:ref:refs/heads/main`, iat: t, nbf: t, exp: t + 600, repository: CALLER, ...claims }))}.sig`;
}

async function putBlob(reg: Registry, repo: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: ${start.status}`);
  const loc = new URL(start.headers.get('location') ?? '', reg.url);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob put: ${put.status}`);
  return digest;
}

/** A single OCI provenance predicate in H4's format (build-sign's provenance.ts), with the fields tests vary. */
export function provenance(o: {
  builder: string;
  repository?: string;
  ref?: string;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const repository = o.repository ?? CALLER;
  const ref = o.ref ?? 'refs/heads/main';
  return {
    buildDefinition: {
      buildType: `https://github.com/${OWNER_REPO}/buildtypes/build-sign/v1`,
      externalParameters: {
        workflow: { repository, ref, path: '.github/workflows/release.yml' },
        build: { context: '.', file: 'Containerfile', platforms: ['linux/amd64'], buildArgs: [], builder: 'buildah' },
      },
      internalParameters: {
        github: { event_name: 'push', repository_id: '1', repository_owner_id: '2', runner_environment: 'github-hosted' },
      },
      resolvedDependencies: [{ uri: `git+https://github.com/${repository}@${ref}`, digest: { gitCommit: SHA } }],
    },
    runDetails: {
      builder: { id: o.builder },
      metadata: {
        invocationId: `https://github.com/${repository}/actions/runs/1/attempts/1`,
        startedOn: '2026-12-01T10:00:00Z',
        finishedOn: '2026-12-01T10:01:00Z',
      },
    },
    ...o.extra,
  };
}

export async function startVerifyLab(): Promise<VerifyLab> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-verify-image-lab-'));
  const registry = await startRegistry();
  const sigstore = await startSigstore(mkdtempSync(join(dir, 'sigstore-')));
  const home = join(dir, 'home');
  mkdirSync(home);
  const cosign = toolPath('cosign');
  const password = 'verify-lab-pw-31';
  const keys = join(dir, 'keys');
  mkdirSync(keys);
  execFileSync(cosign, ['generate-key-pair', '--output-key-prefix', join(keys, 'cosign')], {
    env: { ...process.env, HOME: home, COSIGN_PASSWORD: password },
    stdio: 'pipe',
  });
  const privateKey = readFileSync(join(keys, 'cosign.key'), 'utf8');
  const publicKey = readFileSync(join(keys, 'cosign.pub'), 'utf8');
  const env = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...extra });
  const cos = async (args: string[], extra: Record<string, string> = {}) => {
    try {
      await run(cosign, args, { env: env(extra), maxBuffer: 32 << 20 });
    } catch (e) {
      const err = e as { stderr?: string; message: string };
      throw new Error(`cosign ${args[0]} failed: ${err.stderr ?? err.message}`);
    }
  };
  const keyless = ['--signing-config', sigstore.signingConfigPath, '--trusted-root', sigstore.trustedRootPath, '--allow-http-registry'];
  const noTlog = ['--use-signing-config=false', '--tlog-upload=false', '--allow-http-registry'];
  const predicateFile = (p: unknown) => {
    const f = join(mkdtempSync(join(dir, 'pred-')), 'predicate.json');
    writeFileSync(f, JSON.stringify(p));
    return f;
  };
  const keyEnv = { LAB_KEY: privateKey, COSIGN_PASSWORD: password };
  return {
    dir,
    registry,
    sigstore,
    publicKey,
    privateKey,
    password,
    async pushImage(repo = 'shop/api') {
      const layer = Buffer.from(`layer ${Date.now()} ${Math.random()}\n`);
      const layerDigest = await putBlob(registry, repo, layer);
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [layerDigest] }, config: {} }),
      );
      const configDigest = await putBlob(registry, repo, config);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
        }),
      );
      const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
      const r = await fetch(`${registry.url}/v2/${repo}/manifests/${digest}`, {
        method: 'PUT',
        body: manifest,
        headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      });
      if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${await r.text()}`);
      return `${registry.host}/${repo}@${digest}`;
    },
    signKeyless: (ref, claims) => cos(['sign', '--yes', ...keyless, ref], { SIGSTORE_ID_TOKEN: token(claims) }),
    attestKeyless: (ref, claims, predicate) =>
      cos(['attest', '--yes', '--type', 'slsaprovenance1', '--predicate', predicateFile(predicate), ...keyless, ref], {
        SIGSTORE_ID_TOKEN: token(claims),
      }),
    signKey: (ref) => cos(['sign', '--yes', '--key', 'env://LAB_KEY', ...noTlog, ref], keyEnv),
    attestKey: (ref, predicate) =>
      cos(
        ['attest', '--yes', '--type', 'slsaprovenance1', '--predicate', predicateFile(predicate), '--key', 'env://LAB_KEY', ...noTlog, ref],
        keyEnv,
      ),
    async close() {
      await Promise.allSettled([registry.stop(), sigstore.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
