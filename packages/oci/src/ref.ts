/**
 * Image references, parsed the way the Docker/OCI distribution reference grammar does:
 * `[registry[:port]/]repository[:tag][@sha256:<64 hex>]`. Docker Hub short names get
 * `docker.io` and `library/`. Everything after a build uses `repository@digest`.
 */
export interface ImageRef {
  /** `ghcr.io`, `127.0.0.1:5000`, `docker.io` */
  registry: string;
  /** `octo-org/app`, `library/nginx` */
  repository: string;
  tag?: string;
  digest?: string;
}

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPO_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HOST_RE =
  /^(?:localhost|(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;

export class RefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefError';
  }
}

/** Registries that may be used over plain HTTP (`insecure`): loopback only (`localhost`, `127.x.x.x`, `[::1]`, any port). */
export function isLoopbackRegistry(host: string): boolean {
  const h = host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function isTag(s: string): boolean {
  return TAG_RE.test(s);
}

/** Parses an image reference; throws RefError saying what is wrong. */
export function parseImageRef(input: string): ImageRef {
  const s = input.trim();
  if (!s) throw new RefError('an image reference is empty');
  if (/\s/.test(s)) throw new RefError('an image reference cannot contain whitespace');
  if (s.length > 1024) throw new RefError('an image reference is longer than 1024 characters');
  let rest = s;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest))
      throw new RefError(`digest must be sha256: followed by 64 lowercase hex characters (got ${JSON.stringify(digest.slice(0, 80))})`);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')) {
      if (!HOST_RE.test(first)) throw new RefError(`registry host ${JSON.stringify(first)} is not a valid host[:port]`);
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isTag(tag)) throw new RefError(`tag ${JSON.stringify(tag.slice(0, 80))} is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
  }
  if (!REPO_RE.test(rest))
    throw new RefError(`repository ${JSON.stringify(rest.slice(0, 80))} is not valid (lowercase letters, digits and separators . _ - /)`);
  let repository = rest;
  if (registry === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

/** `registry/repository` as written by people: Docker Hub's `docker.io/library/` prefix kept, so it is unambiguous. */
export function repoName(ref: Pick<ImageRef, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

export function formatRef(ref: ImageRef): string {
  return `${repoName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `registry/repository@sha256:…` (no tag): what is signed, scanned and deployed. */
export function digestRef(ref: Pick<ImageRef, 'registry' | 'repository'>, digest: string): string {
  if (!isDigest(digest))
    throw new RefError(`digest must be sha256: followed by 64 lowercase hex characters (got ${JSON.stringify(digest.slice(0, 80))})`);
  return `${repoName(ref)}@${digest}`;
}

/** The referrers tag schema's fallback tag for a digest: `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}
