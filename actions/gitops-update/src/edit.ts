/** One file's edit, whatever its kind: the splices to make, the digests it held, where. */
import { editArgoApplication } from './argocd.js';
import { editHelmValues } from './helm-values.js';
import type { Target } from './images.js';
import { editKustomization } from './kustomize.js';
import { editManifests } from './manifests.js';
import { applySplices } from './yaml-edit.js';

export const KINDS = ['kustomize', 'helm-values', 'manifests', 'argocd-application'] as const;
export type Kind = (typeof KINDS)[number];

export interface PathOptions {
  valuePath: string[];
  repositoryPath?: string[];
  format: 'digest' | 'reference';
}

export interface EditResult {
  splices: import('./yaml-edit.js').Splice[];
  /** The digest each edited reference held before ('' for a tag or nothing). */
  previous: string[];
  locations: string[];
}

export interface FileEdit {
  text: string;
  changed: boolean;
  previousDigest: string;
  locations: string[];
}

export function editFile(kind: Kind, text: string, target: Target, file: string, path: PathOptions | undefined): FileEdit {
  const r =
    kind === 'kustomize'
      ? editKustomization(text, target, file)
      : kind === 'manifests'
        ? editManifests(text, target, file)
        : kind === 'helm-values'
          ? editHelmValues(text, target, file, path as PathOptions)
          : editArgoApplication(text, target, file, path as PathOptions);
  const out = applySplices(text, r.splices);
  return { text: out, changed: out !== text, previousDigest: r.previous.find((d) => d) ?? '', locations: r.locations };
}
