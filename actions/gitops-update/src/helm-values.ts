/**
 * Helm values files: the scalar at `value-path` (a dot path such as `image.digest` or
 * `api.image.tag`) is set to the digest (`value-format: digest` → `sha256:…`) or to the full
 * reference (`reference` → `<repository>@sha256:…`). When `repository-path` is given (such as
 * `api.image.repository`), the repository written there must be ours; it is checked, not edited.
 * With format `reference`, the repository in the current value must be ours.
 */
import { ours, readRef, repoKey, type Target } from './images.js';
import { EditError, getPath, parseDocs, scalarText, setScalar, type Splice } from './yaml-edit.js';
import type { EditResult, PathOptions } from './edit.js';

export function editHelmValues(text: string, target: Target, file: string, opts: PathOptions): EditResult {
  const docs = parseDocs(text, file);
  const doc = docs[0];
  if (!doc || docs.length > 1) throw new EditError(`${file} must hold exactly one YAML document (a values file)`, 'not-found');
  return editAtPath(doc.contents, target, file, opts);
}

/** Shared by Helm values and an Argo CD Application's `helm.valuesObject`. */
export function editAtPath(root: unknown, target: Target, where: string, opts: PathOptions): EditResult {
  const at = getPath(root, opts.valuePath);
  const dotted = opts.valuePath.join('.');
  if (!at) throw new EditError(`${where} has no value at ${dotted}`, 'not-found');
  if (opts.repositoryPath) {
    const rp = getPath(root, opts.repositoryPath);
    const repo = scalarText(rp?.pair.value);
    const key = repo ? repoKey(repo) : undefined;
    if (!key) throw new EditError(`${where} has no repository at ${opts.repositoryPath.join('.')}`, 'not-found');
    ours([{ key }], target, `${where} (${opts.repositoryPath.join('.')})`);
  }
  const cur = scalarText(at.pair.value);
  if (cur === undefined) throw new EditError(`${where}: ${dotted} is not a scalar`, 'not-found');
  let value: string;
  let previous = '';
  if (opts.format === 'reference') {
    const ref = cur ? readRef(cur) : undefined;
    if (ref) {
      ours([{ key: ref.key }], target, `${where} (${dotted})`);
      previous = ref.digest ?? '';
    }
    value = `${ref?.repository ?? target.repository}@${target.digest}`;
  } else {
    previous = /^sha256:[a-f0-9]{64}$/.test(cur) ? cur : '';
    value = target.digest;
  }
  const splices: Splice[] = cur === value ? [] : [setScalar(at.pair.value, value, `${where}: ${dotted}`)];
  return { splices, previous: [previous], locations: [`${where}: ${dotted}`] };
}
