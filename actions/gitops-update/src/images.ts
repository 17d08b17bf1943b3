/**
 * Which image references in a file are "ours". A reference names our image when the last path
 * component of its repository equals the target's name (`api` for `ghcr.io/octo-org/api`); then
 * its full repository (registry + path, Docker Hub short names normalised) must be the target's.
 * The same name under two different repositories is ambiguous and refused; under one other
 * repository only, it is not the image we were asked to bump (not-found).
 */
import { parseImageRef, repoName } from '@hallmark/oci';
import { EditError } from './yaml-edit.js';

export interface Target {
  /** `ghcr.io/octo-org/api` as the input wrote it (no digest). */
  repository: string;
  /** `registry/repository`, normalised (docker.io/library/… for Hub short names). */
  key: string;
  /** The last path component: `api`. */
  name: string;
  /** `sha256:<64 hex>`. */
  digest: string;
}

export function makeTarget(imageRef: string): Target {
  const at = imageRef.indexOf('@');
  const repository = imageRef.slice(0, at);
  const r = parseImageRef(imageRef);
  return { repository, key: repoName(r), name: lastSegment(r.repository), digest: r.digest ?? '' };
}

export function lastSegment(repo: string): string {
  return repo.slice(repo.lastIndexOf('/') + 1);
}

export interface Written {
  /** The repository as written in the file (no tag/digest). */
  repository: string;
  key: string;
  tag?: string;
  digest?: string;
}

/** Parses an image reference as written in a file; undefined when it is not one (a template, say). */
export function readRef(text: string): Written | undefined {
  try {
    const r = parseImageRef(text);
    const at = text.indexOf('@');
    let repository = at >= 0 ? text.slice(0, at) : text;
    if (r.tag) repository = repository.slice(0, repository.length - r.tag.length - 1);
    return { repository, key: repoName(r), tag: r.tag, digest: r.digest };
  } catch {
    return undefined;
  }
}

/** The normalised key of a bare repository as written (`api`, `ghcr.io/o/api`), or undefined. */
export function repoKey(text: string): string | undefined {
  return readRef(text)?.key;
}

/**
 * Keeps the references that name our image; refuses ambiguity (two different repositories with our
 * image's name) and a single foreign repository (not-found). `where` names the file for messages.
 */
export function ours<T extends { key: string }>(refs: T[], target: Target, where: string): T[] {
  const named = refs.filter((r) => lastSegment(r.key) === target.name);
  const keys = [...new Set(named.map((r) => r.key))];
  if (keys.length > 1) {
    throw new EditError(
      `${where} names image '${target.name}' under ${keys.length} different repositories (${keys.sort().join(', ')}); refusing to guess which one is meant`,
      'ambiguous-image',
    );
  }
  if (!named.length) throw new EditError(`${where} has no reference to image '${target.name}' (${target.key})`, 'not-found');
  if (keys[0] !== target.key) throw new EditError(`${where} references '${target.name}' as ${keys[0]}, not ${target.key}`, 'not-found');
  return named;
}
