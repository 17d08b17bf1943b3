/**
 * Golden files, one per supported kind: the edit turns `<case>.before.yaml` into exactly
 * `<case>.after.yaml`, and, computed independently of the editor, the only lines that differ are
 * the ones listed here, each now holding the new digest; everything else (comments, quoting,
 * ordering, CRLF line ends, flow mappings) is byte for byte the same.
 * GITOPS_GOLDEN_WRITE=1 rewrites the after files (then read the diff before committing).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { editFile, type Kind, type PathOptions } from '../../actions/gitops-update/src/edit.js';
import { makeTarget } from '../../actions/gitops-update/src/images.js';
import { EditError } from '../../actions/gitops-update/src/yaml-edit.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const NEW = `sha256:${'abcdef0123456789'.repeat(4)}`;
const API = `ghcr.io/octo-org/api@${NEW}`;

interface Case {
  name: string;
  kind: Kind;
  path?: PathOptions;
  /** 1-based line numbers (in the after file) that change; `inserted` lines are new. */
  changed: number[];
  inserted?: number[];
  previous: string;
  values: number;
}

const cases: Case[] = [
  { name: 'kustomize-digest', kind: 'kustomize', changed: [12], previous: `sha256:${'1'.repeat(64)}`, values: 1 },
  { name: 'kustomize-newtag', kind: 'kustomize', changed: [6], previous: '', values: 1 },
  { name: 'kustomize-insert', kind: 'kustomize', changed: [], inserted: [6], previous: '', values: 1 },
  {
    name: 'helm-digest',
    kind: 'helm-values',
    path: { valuePath: ['image', 'digest'], format: 'digest' },
    changed: [8],
    previous: '',
    values: 1,
  },
  {
    name: 'helm-repo-tag',
    kind: 'helm-values',
    path: { valuePath: ['api', 'image', 'tag'], repositoryPath: ['api', 'image', 'repository'], format: 'digest' },
    changed: [6],
    previous: `sha256:${'3'.repeat(64)}`,
    values: 1,
  },
  { name: 'manifests', kind: 'manifests', changed: [11, 15, 39], previous: `sha256:${'4'.repeat(64)}`, values: 3 },
  {
    name: 'argocd-parameters',
    kind: 'argocd-application',
    path: { valuePath: ['image', 'digest'], repositoryPath: ['image', 'repository'], format: 'digest' },
    changed: [17],
    previous: `sha256:${'5'.repeat(64)}`,
    values: 1,
  },
  {
    name: 'argocd-valuesobject',
    kind: 'argocd-application',
    path: { valuePath: ['image', 'digest'], repositoryPath: ['image', 'repository'], format: 'digest' },
    changed: [14],
    previous: `sha256:${'6'.repeat(64)}`,
    values: 1,
  },
];

const lines = (t: string) => t.split('\n');

describe('golden before/after files: only the value changes', () => {
  it.each(cases)('$name', (c) => {
    const before = readFileSync(join(GOLDEN, `${c.name}.before.yaml`), 'utf8');
    const r = editFile(c.kind, before, makeTarget(API), `${c.name}.yaml`, c.path);
    const afterPath = join(GOLDEN, `${c.name}.after.yaml`);
    if (process.env.GITOPS_GOLDEN_WRITE) writeFileSync(afterPath, r.text);
    expect(existsSync(afterPath)).toBe(true);
    const after = readFileSync(afterPath, 'utf8');
    expect(r.text).toBe(after);
    expect(r.changed).toBe(true);
    expect(r.previousDigest).toBe(c.previous);
    expect(r.locations).toHaveLength(c.values);
    // Independent line diff: drop the inserted lines, then compare line by line.
    const a = lines(after).filter((_, i) => !(c.inserted ?? []).includes(i + 1));
    const b = lines(before);
    expect(a.length).toBe(b.length);
    const differing = a.map((l, i) => (l === b[i] ? 0 : i + 1)).filter(Boolean);
    expect(differing).toEqual(c.changed);
    for (const n of [...c.changed, ...(c.inserted ?? [])]) expect(lines(after)[n - 1]).toContain(NEW);
    // The new digest appears exactly once per edited value.
    expect(after.split(NEW).length - 1).toBe(c.values);
    // Editing again is a no-op.
    const again = editFile(c.kind, after, makeTarget(API), `${c.name}.yaml`, c.path);
    expect(again.changed).toBe(false);
    expect(again.text).toBe(after);
  });

  it('a CRLF file stays CRLF', () => {
    const after = readFileSync(join(GOLDEN, 'kustomize-insert.after.yaml'), 'utf8');
    expect(after.split('\r\n').length).toBe(after.split('\n').length);
  });

  it('refuses an image named under two repositories, naming both', () => {
    const text = readFileSync(join(GOLDEN, 'manifests-ambiguous.yaml'), 'utf8');
    let err: unknown;
    try {
      editFile('manifests', text, makeTarget(API), 'm.yaml', undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EditError);
    expect((err as EditError).reason).toBe('ambiguous-image');
    expect((err as EditError).message).toContain('ghcr.io/octo-org/api');
    expect((err as EditError).message).toContain('registry.example.com/legacy/api');
  });
});
