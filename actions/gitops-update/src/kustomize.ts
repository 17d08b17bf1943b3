/**
 * kustomization.yaml: the `images:` entry for our image gets `digest: sha256:…`. An entry is ours
 * when its effective repository (`newName`, else `name`) is the target's. An existing `digest` is
 * replaced (a `newTag` beside it is left alone: kustomize then writes `name:tag@digest`, still
 * pinned by digest); an entry with only `newTag` has that pair turned into `digest: sha256:…`
 * (kustomize with a digest alone writes `name@digest`); otherwise a `digest:` line is added to the
 * entry. Read in kustomize/v5.8.1 api/filters/imagetag/updater.go (SetImageValue). Only those
 * bytes change.
 */
import { isMap } from 'yaml';
import { ours, repoKey, type Target } from './images.js';
import { EditError, insertPair, mapGet, parseDocs, scalarText, seqItems, setScalar, type Splice } from './yaml-edit.js';
import type { EditResult } from './edit.js';

export function editKustomization(text: string, target: Target, file: string): EditResult {
  const docs = parseDocs(text, file);
  const entries: { key: string; map: import('yaml').YAMLMap; where: string }[] = [];
  for (const d of docs) {
    const images = mapGet(d.contents, 'images');
    if (!images) continue;
    for (const e of seqItems(images.value)) {
      if (!isMap(e)) continue;
      const name = scalarText(mapGet(e, 'newName')?.value) ?? scalarText(mapGet(e, 'name')?.value);
      const key = name ? repoKey(name) : undefined;
      if (key) entries.push({ key, map: e, where: `${file} images[name=${scalarText(mapGet(e, 'name')?.value) ?? '?'}]` });
    }
  }
  if (!entries.length && !docs.some((d) => mapGet(d.contents, 'images'))) throw new EditError(`${file} has no images: list`, 'not-found');
  const mine = ours(entries, target, file);
  const splices: Splice[] = [];
  const previous: string[] = [];
  for (const e of mine) {
    const digest = mapGet(e.map, 'digest');
    const tag = mapGet(e.map, 'newTag');
    if (digest) {
      const cur = scalarText(digest.value) ?? '';
      previous.push(cur);
      if (cur !== target.digest) splices.push(setScalar(digest.value, target.digest, `${e.where}.digest`));
    } else if (tag) {
      previous.push('');
      const k = tag.key as import('yaml').Scalar;
      if (!k.range || k.type !== 'PLAIN') throw new EditError(`${e.where}.newTag: cannot locate the key`, 'not-found');
      splices.push({ start: k.range[0], end: k.range[1], text: 'digest' });
      splices.push(setScalar(tag.value, target.digest, `${e.where}.newTag`));
    } else {
      previous.push('');
      splices.push(insertPair(text, e.map, 'digest', target.digest, e.where));
    }
  }
  return { splices, previous, locations: mine.map((e) => e.where) };
}
