/**
 * gitops-update's checked configuration: every input validated before anything is cloned,
 * requested or written. A bad value throws an InputError naming the input (`invalid-input`).
 */
import { InputError } from '@hallmark/kit';
import { parseImageRef, RefError } from '@hallmark/oci';
import { KINDS, type Kind, type PathOptions } from './edit.js';
import { makeTarget, type Target } from './images.js';

export interface RawInputs {
  repository: string;
  file: string;
  kind: string;
  imageRef: string;
  valuePath: string;
  repositoryPath: string;
  valueFormat: string;
  mode: string;
  branch: string;
  environment: string;
  token: string;
  sourceCommit: string;
  scanVerdict: string;
  pushAttempts: string;
  /** 40-hex commit of an earlier bump to revert ('' for a bump). */
  rollbackOf?: string;
  /** Why (rollback only): one line for the commit message and pull request. */
  reason?: string;
}

export interface Config {
  repository: string;
  file: string;
  kind: Kind;
  /** The image to pin ('' for a rollback). */
  imageRef: string;
  /** The image to pin (undefined for a rollback). */
  target: Target | undefined;
  path?: PathOptions;
  mode: 'commit' | 'pull-request';
  branch: string;
  environment: string;
  /** The branch a pull request comes from: `hallmark/gitops/<environment>`. */
  prBranch: string;
  token: string;
  sourceCommit: string;
  scanVerdict: string;
  pushAttempts: number;
  /** The bump commit to revert ('' for a bump). */
  rollbackOf: string;
  /** Why the rollback ('' when not given). */
  reason: string;
}

const REPO = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const PATH_KEY = /^[A-Za-z0-9_-]{1,100}$/;
const ENV = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const VERDICT = /^[A-Za-z0-9][A-Za-z0-9 ._:,()/+-]{0,199}$/;
/** A reason: one line of printable text (no control characters, no backticks or markdown/HTML brackets), at most 200 characters. */
const REASON = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029`<>|[\]\\]{1,200}$/u;

/** A git branch name we accept: git check-ref-format's rules, narrowed (no leading dash, no `..`, no `@{`, no control/space/~^:?*[\). */
export function isBranch(b: string): boolean {
  return (
    /^[A-Za-z0-9._/-]{1,200}$/.test(b) &&
    !b.startsWith('-') &&
    !b.startsWith('/') &&
    !b.endsWith('/') &&
    !b.endsWith('.') &&
    !b.endsWith('.lock') &&
    !b.includes('..') &&
    !b.includes('//') &&
    !b.split('/').some((c) => c.startsWith('.'))
  );
}

function dotPath(name: string, v: string): string[] {
  const parts = v.split('.');
  if (!v || parts.length > 20 || !parts.every((p) => PATH_KEY.test(p)))
    throw new InputError(name, `must be a dot path of keys ([A-Za-z0-9_-]), such as image.digest (got ${JSON.stringify(v.slice(0, 80))})`);
  return parts;
}

export function checkInputs(raw: RawInputs, runner: { sha: string }): Config {
  if (!REPO.test(raw.repository) || raw.repository.split('/').some((p) => p === '.' || p === '..'))
    throw new InputError('repository', `must be the config repository as owner/name (got ${JSON.stringify(raw.repository.slice(0, 80))})`);
  const file = raw.file.replace(/^\.\//, '');
  if (
    !file ||
    file.startsWith('/') ||
    file.startsWith('-') ||
    /[\\\0\r\n]/.test(file) ||
    file.split('/').some((p) => p === '..' || p === '.' || p === '' || p === '.git') ||
    file.length > 500
  ) {
    throw new InputError('file', 'must be a relative path inside the config repository (no .., no leading /, not under .git)');
  }
  if (!(KINDS as readonly string[]).includes(raw.kind))
    throw new InputError('kind', `must be one of ${KINDS.join(', ')} (got ${JSON.stringify(raw.kind.slice(0, 40))})`);
  const kind = raw.kind as Kind;
  const rollbackOf = raw.rollbackOf ?? '';
  if (rollbackOf && !/^[0-9a-f]{40}$/.test(rollbackOf))
    throw new InputError(
      'rollback-of',
      `must be the 40-hex (lowercase) commit SHA of the bump to revert (got ${JSON.stringify(rollbackOf.slice(0, 80))})`,
    );
  const reason = (raw.reason ?? '').trim();
  if (reason && !rollbackOf) throw new InputError('reason', "applies only with 'rollback-of'");
  if (reason && !REASON.test(reason))
    throw new InputError('reason', 'must be one line of at most 200 characters, without control characters, backticks, | [ ] \\ < >');
  const imageRef = raw.imageRef;
  let target: Target | undefined;
  if (rollbackOf) {
    if (imageRef)
      throw new InputError('image-ref', "cannot be used with 'rollback-of' (a rollback reverts that commit, whatever image it pinned)");
  } else {
    let ref: ReturnType<typeof parseImageRef>;
    try {
      ref = parseImageRef(imageRef);
    } catch (e) {
      throw new InputError(
        'image-ref',
        `must be an image by digest, <image>@sha256:<64 hex>: ${e instanceof RefError ? e.message : 'not a reference'}`,
      );
    }
    if (!ref.digest || /\s/.test(imageRef) || imageRef.includes('://') || imageRef.startsWith('-'))
      throw new InputError('image-ref', 'must be an image by digest, <image>@sha256:<64 hex> (tags are refused)');
    if (ref.tag) throw new InputError('image-ref', 'must be an image by digest with no tag, <image>@sha256:<64 hex>');
    target = makeTarget(imageRef);
  }
  const pathKinds = kind === 'helm-values' || kind === 'argocd-application';
  if (!['', 'digest', 'reference'].includes(raw.valueFormat))
    throw new InputError('value-format', `must be digest or reference (got ${JSON.stringify(raw.valueFormat.slice(0, 40))})`);
  let path: PathOptions | undefined;
  if (pathKinds) {
    if (!raw.valuePath && !rollbackOf)
      throw new InputError('value-path', `is required with kind ${kind}: the dot path of the value to set, such as image.digest`);
    path = {
      valuePath: raw.valuePath ? dotPath('value-path', raw.valuePath) : [],
      format: (raw.valueFormat || 'digest') as 'digest' | 'reference',
    };
    if (raw.repositoryPath) path.repositoryPath = dotPath('repository-path', raw.repositoryPath);
  } else {
    for (const [n, v] of [
      ['value-path', raw.valuePath],
      ['repository-path', raw.repositoryPath],
      ['value-format', raw.valueFormat],
    ] as const) {
      if (v) throw new InputError(n, `applies only to kind helm-values or argocd-application (kind is ${kind})`);
    }
  }
  if (raw.mode !== 'commit' && raw.mode !== 'pull-request')
    throw new InputError('mode', `must be commit or pull-request (got ${JSON.stringify(raw.mode.slice(0, 40))})`);
  const branch = raw.branch || 'main';
  if (!isBranch(branch)) throw new InputError('branch', `must be a branch name (got ${JSON.stringify(branch.slice(0, 80))})`);
  if (!ENV.test(raw.environment))
    throw new InputError(
      'environment',
      `is required: the environment name, letters, digits, . _ - (got ${JSON.stringify(raw.environment.slice(0, 80))})`,
    );
  if (!raw.token) throw new InputError('token', 'is required: a token that can push to the config repository (and open pull requests)');
  if (/[\s\0]/.test(raw.token) || raw.token.length > 1000) throw new InputError('token', 'must be a single token with no whitespace');
  const sourceCommit = raw.sourceCommit || runner.sha;
  if (sourceCommit && !/^[a-f0-9]{40}$/.test(sourceCommit)) throw new InputError('source-commit', 'must be a 40-hex commit SHA');
  if (raw.scanVerdict && !VERDICT.test(raw.scanVerdict))
    throw new InputError('scan-verdict', 'must be one short line (letters, digits, spaces and . _ : , ( ) / + -), at most 200 characters');
  const pushAttempts = raw.pushAttempts === '' ? 3 : Number(raw.pushAttempts);
  if (!/^\d{1,2}$/.test(raw.pushAttempts || '3') || !Number.isInteger(pushAttempts) || pushAttempts < 1 || pushAttempts > 10)
    throw new InputError('push-attempts', 'must be an integer from 1 to 10');
  // A revert pull request has a branch of its own (not under hallmark/gitops/<env>: git cannot have a ref and a directory of the same name).
  const prBranch = rollbackOf ? `hallmark/gitops-revert/${raw.environment}` : `hallmark/gitops/${raw.environment}`;
  if (mode(raw.mode) === 'pull-request' && prBranch === branch)
    throw new InputError('branch', `cannot be the pull request's own branch ${prBranch}`);
  return {
    repository: raw.repository,
    file,
    kind,
    imageRef,
    target,
    path,
    mode: mode(raw.mode),
    branch,
    environment: raw.environment,
    prBranch,
    token: raw.token,
    sourceCommit,
    scanVerdict: raw.scanVerdict,
    pushAttempts,
    rollbackOf,
    reason,
  };
}

function mode(m: string): 'commit' | 'pull-request' {
  return m === 'commit' ? 'commit' : 'pull-request';
}
