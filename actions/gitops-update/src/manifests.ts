/**
 * Plain Kubernetes manifests (one or many documents): every `containers` / `initContainers` /
 * `ephemeralContainers` entry whose image repository is ours gets `image: <repository>@sha256:…`
 * (the repository as written; a tag is dropped, so the pin is by digest only). Works for any kind
 * that nests a pod spec (Deployment, StatefulSet, Job, CronJob, Pod …).
 */
import { isMap, type Node } from 'yaml';
import { ours, readRef, type Target } from './images.js';
import { lineOf, mapGet, parseDocs, scalarText, seqItems, setScalar, walkMaps, EditError, type Splice } from './yaml-edit.js';
import type { EditResult } from './edit.js';

const LISTS = ['initContainers', 'containers', 'ephemeralContainers'];

export function editManifests(text: string, target: Target, file: string): EditResult {
  const docs = parseDocs(text, file);
  const found: { key: string; node: Node; repository: string; digest?: string; where: string }[] = [];
  docs.forEach((d, i) => {
    walkMaps(d.contents, (m) => {
      for (const list of LISTS) {
        const p = mapGet(m, list);
        if (!p) continue;
        for (const c of seqItems(p.value)) {
          if (!isMap(c)) continue;
          const img = mapGet(c, 'image');
          const v = scalarText(img?.value);
          const ref = v ? readRef(v) : undefined;
          if (!img?.value || !ref) continue;
          const name = scalarText(mapGet(c, 'name')?.value) ?? '?';
          const at = img.value.range?.[0] ?? 0;
          found.push({
            key: ref.key,
            node: img.value,
            repository: ref.repository,
            digest: ref.digest,
            where: `${file}:${lineOf(text, at)} (document ${i + 1}, ${list} '${name}')`,
          });
        }
      }
    });
  });
  if (!found.length) throw new EditError(`${file} has no container images`, 'not-found');
  const mine = ours(found, target, file);
  const splices: Splice[] = [];
  for (const r of mine) {
    const value = `${r.repository}@${target.digest}`;
    if (scalarText(r.node) !== value) splices.push(setScalar(r.node, value, r.where));
  }
  return { splices, previous: mine.map((r) => r.digest ?? ''), locations: mine.map((r) => r.where) };
}
