/**
 * Argo CD `Application` (argoproj.io/v1alpha1): the Helm parameter named `value-path` in
 * `spec.source.helm.parameters` (or in each of `spec.sources[*].helm.parameters`) gets the digest
 * (or reference) as its `value`; without such a parameter, `helm.valuesObject.<value-path>` is set.
 * `repository-path` names the parameter (or valuesObject path) holding the repository, checked.
 */
import { isMap, type Node } from 'yaml';
import { ours, readRef, repoKey, type Target } from './images.js';
import { editAtPath } from './helm-values.js';
import { EditError, getPath, mapGet, parseDocs, scalarText, seqItems, setScalar, type Splice } from './yaml-edit.js';
import type { EditResult, PathOptions } from './edit.js';

export function editArgoApplication(text: string, target: Target, file: string, opts: PathOptions): EditResult {
  const docs = parseDocs(text, file);
  const apps = docs.filter(
    (d) =>
      scalarText(mapGet(d.contents, 'kind')?.value) === 'Application' &&
      /^argoproj\.io\//.test(scalarText(mapGet(d.contents, 'apiVersion')?.value) ?? ''),
  );
  if (!apps.length) throw new EditError(`${file} holds no argoproj.io Application`, 'not-found');
  const helms: { helm: unknown; where: string }[] = [];
  for (const a of apps) {
    const name = scalarText(getPath(a.contents, ['metadata', 'name'])?.pair.value) ?? '?';
    const single = getPath(a.contents, ['spec', 'source', 'helm']);
    if (single) helms.push({ helm: single.pair.value, where: `${file} Application '${name}' spec.source.helm` });
    seqItems(getPath(a.contents, ['spec', 'sources'])?.pair.value).forEach((s, i) => {
      const h = mapGet(s, 'helm');
      if (h) helms.push({ helm: h.value, where: `${file} Application '${name}' spec.sources[${i}].helm` });
    });
  }
  const param = opts.valuePath.join('.');
  const repoParam = opts.repositoryPath?.join('.');
  const results: EditResult[] = [];
  for (const h of helms) {
    const params = seqItems(mapGet(h.helm, 'parameters')?.value).filter(isMap);
    const byName = (n: string) => params.filter((p) => scalarText(mapGet(p, 'name')?.value) === n);
    const hit = byName(param);
    if (hit.length > 1) throw new EditError(`${h.where}.parameters names ${param} ${hit.length} times`, 'ambiguous-image');
    if (hit.length === 1) {
      const p = hit[0] as import('yaml').YAMLMap;
      if (repoParam) {
        const r = byName(repoParam)[0];
        const key = repoKey(scalarText(r ? mapGet(r, 'value')?.value : undefined) ?? '');
        if (!key) throw new EditError(`${h.where}.parameters has no parameter ${repoParam}`, 'not-found');
        ours([{ key }], target, `${h.where}.parameters[${repoParam}]`);
      }
      const valuePair = mapGet(p, 'value');
      const cur = scalarText(valuePair?.value) ?? '';
      let value = target.digest;
      let previous = /^sha256:[a-f0-9]{64}$/.test(cur) ? cur : '';
      if (opts.format === 'reference') {
        const ref = readRef(cur);
        if (ref) ours([{ key: ref.key }], target, `${h.where}.parameters[${param}]`);
        previous = ref?.digest ?? '';
        value = `${ref?.repository ?? target.repository}@${target.digest}`;
      }
      if (!valuePair?.value) throw new EditError(`${h.where}.parameters[${param}] has no value`, 'not-found');
      const splices: Splice[] = cur === value ? [] : [setScalar(valuePair.value as Node, value, `${h.where}.parameters[${param}].value`)];
      results.push({ splices, previous: [previous], locations: [`${h.where}.parameters[${param}]`] });
      continue;
    }
    const vo = mapGet(h.helm, 'valuesObject');
    if (vo && getPath(vo.value, opts.valuePath)) results.push(editAtPath(vo.value, target, `${h.where}.valuesObject`, opts));
  }
  if (!results.length) throw new EditError(`${file}: no Application has a Helm parameter or valuesObject value ${param}`, 'not-found');
  return {
    splices: results.flatMap((r) => r.splices),
    previous: results.flatMap((r) => r.previous),
    locations: results.flatMap((r) => r.locations),
  };
}
