/**
 * verify-image's checked configuration: every input validated, nothing run or read from the
 * network. A bad value throws an InputError naming the input (failure-reason `invalid-input`).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { InputError, INVALID_INPUT, shown, UserError } from '@hallmark/kit';
import { checkTrustedRoot, CosignArgError, DIGEST_RE, parseImageRef, publicKeyRef, type KeyRef } from '@hallmark/oci';
import {
  DEFAULT_ALLOWED_REFS,
  DEFAULT_WORKFLOW,
  identityPolicy,
  parseAllowedRefs,
  parseRepository,
  parseWorkflow,
  PolicyInputError,
  type IdentityPolicy,
} from './identity.js';

export interface RawInputs {
  imageRef: string;
  publicKey: string;
  workflow: string;
  allowedRefs: string[];
  sourceRepository: string;
  requireProvenance: boolean;
  requireDefaultBranch: boolean;
  defaultBranch: string;
  tlog: boolean;
  trustedRoot: string;
}

export interface Runner {
  workspace: string;
  /** GITHUB_REPOSITORY: the caller's repository (the default source repository). */
  repository: string;
  serverUrl: string;
  /** The repository's default branch from the event payload, when the event names one. */
  eventDefaultBranch?: string;
  /** A file's text, or undefined when there is no such file. */
  readText(path: string): string | undefined;
}

export interface Config {
  imageRef: string;
  digest: string;
  /** Key mode: cosign `--key env://COSIGN_PUBLIC_KEY`, the PEM only in env. */
  key?: KeyRef;
  policy: IdentityPolicy;
  requireProvenance: boolean;
  /** `refs/heads/<default branch>` when the provenance's source ref must be the default branch. */
  requireRef?: string;
  tlog: boolean;
  trustedRoot?: string;
}

const IMAGE_DIGEST_REF = /^[a-z0-9][a-zA-Z0-9._:/-]*@sha256:[a-f0-9]{64}$/;

function policyError(e: unknown): never {
  if (e instanceof PolicyInputError) throw new InputError(e.input, e.message);
  throw e;
}

export function checkInputs(raw: RawInputs, runner: Runner): Config {
  const ref = raw.imageRef.trim();
  if (!ref) throw new InputError('image-ref', 'is required: an image by digest, <image>@sha256:<64 hex>');
  let digest: string;
  try {
    if (!IMAGE_DIGEST_REF.test(ref)) throw new Error('not a digest reference');
    const p = parseImageRef(ref);
    if (!p.digest || !DIGEST_RE.test(p.digest) || p.tag) throw new Error('not a digest reference');
    digest = p.digest;
  } catch {
    throw new InputError('image-ref', `must be an image by digest, <image>@sha256:<64 hex>, with no tag (got ${shown(ref)})`);
  }

  let key: KeyRef | undefined;
  if (raw.publicKey) {
    try {
      key = publicKeyRef(raw.publicKey.endsWith('\n') ? raw.publicKey : `${raw.publicKey}\n`);
    } catch {
      throw new InputError(
        'public-key',
        'must be a PEM public key (-----BEGIN PUBLIC KEY----- … -----END PUBLIC KEY-----), as `cosign generate-key-pair` writes cosign.pub',
      );
    }
  }

  let policy: IdentityPolicy;
  try {
    const workflow = parseWorkflow(raw.workflow || DEFAULT_WORKFLOW);
    const rules = parseAllowedRefs(raw.allowedRefs.length ? raw.allowedRefs : DEFAULT_ALLOWED_REFS);
    const src = raw.sourceRepository || runner.repository;
    if (!src)
      throw new PolicyInputError(
        'source-repository',
        'is required when GITHUB_REPOSITORY is not set: owner/name of the repository whose builds are admitted',
      );
    const sourceRepository = parseRepository('source-repository', src);
    policy = identityPolicy({ workflow, rules, sourceRepository, serverUrl: runner.serverUrl });
  } catch (e) {
    policyError(e);
  }

  if (!raw.tlog && !key)
    throw new InputError('tlog', 'may be false only with public-key: keyless verification requires the transparency log');

  let requireRef: string | undefined;
  if (raw.requireDefaultBranch) {
    if (!raw.requireProvenance)
      throw new InputError('require-default-branch', 'needs require-provenance: true (the source ref is read from the provenance)');
    const b = (raw.defaultBranch || runner.eventDefaultBranch || '').trim();
    if (!b)
      throw new InputError(
        'default-branch',
        'is required with require-default-branch when the event does not name the repository’s default branch',
      );
    if (!/^[A-Za-z0-9._/-]{1,200}$/.test(b) || b.includes('..') || b.startsWith('/') || b.endsWith('/'))
      throw new InputError('default-branch', `must be a branch name (got ${shown(b)})`);
    requireRef = `refs/heads/${b}`;
  }

  let trustedRoot: string | undefined;
  if (raw.trustedRoot) {
    const t = raw.trustedRoot.trim();
    const abs = resolve(runner.workspace, t);
    const rel = relative(runner.workspace, abs);
    if (isAbsolute(t) || /[\u0000-\u001f]/.test(t) || rel.startsWith('..') || isAbsolute(rel)) {
      throw new InputError('trusted-root', `must be a path inside the workspace (relative, no '..'; got ${shown(t)})`);
    }
    const text = runner.readText(abs);
    // Worded as deploy-prod has always said it (its rehearsal looks for this line).
    if (text === undefined) throw new UserError(`input 'trusted-root': no such file in the repository (${shown(t)})`, INVALID_INPUT);
    try {
      checkTrustedRoot(text);
    } catch (e) {
      throw new InputError(
        'trusted-root',
        `must be a Sigstore trusted_root.json: ${e instanceof CosignArgError ? e.message : 'unreadable'}`,
      );
    }
    trustedRoot = abs;
  }

  return { imageRef: ref, digest, key, policy, requireProvenance: raw.requireProvenance, requireRef, tlog: raw.tlog, trustedRoot };
}
