/** gitops-update's edits: which references are ours, and each file kind's edge cases. */
import { describe, expect, it } from 'vitest';
import { editFile, type Kind, type PathOptions } from '../../actions/gitops-update/src/edit.js';
import { makeTarget } from '../../actions/gitops-update/src/images.js';
import { EditError } from '../../actions/gitops-update/src/yaml-edit.js';

const D = `sha256:${'d'.repeat(64)}`;
const OLD = `sha256:${'0'.repeat(64)}`;
const T = makeTarget(`ghcr.io/octo-org/api@${D}`);

function refused(kind: Kind, text: string, path?: PathOptions, target = T): EditError {
  try {
    editFile(kind, text, target, 'f.yaml', path);
  } catch (e) {
    if (e instanceof EditError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('which references are ours', () => {
  it('Docker Hub short names are normalised: nginx is docker.io/library/nginx', () => {
    const t = makeTarget(`docker.io/library/nginx@${D}`);
    const r = editFile('manifests', 'kind: Pod\nspec:\n  containers:\n  - name: web\n    image: nginx:1.27\n', t, 'p.yaml', undefined);
    expect(r.text).toContain(`image: nginx@${D}`);
  });

  it('one foreign repository with our name: not-found, naming both', () => {
    const e = refused('manifests', 'kind: Pod\nspec:\n  containers:\n  - name: api\n    image: quay.io/octo-org/api:v1\n');
    expect(e.reason).toBe('not-found');
    expect(e.message).toContain('quay.io/octo-org/api');
    expect(e.message).toContain('ghcr.io/octo-org/api');
  });

  it('kustomize: two entries naming api under two repositories is ambiguous', () => {
    const e = refused(
      'kustomize',
      'images:\n- name: api\n  newName: ghcr.io/octo-org/api\n- name: api-legacy\n  newName: docker.io/octo-org/api\n',
    );
    expect(e.reason).toBe('ambiguous-image');
  });

  it('images of other names are left alone', () => {
    const text = 'kind: Pod\nspec:\n  containers:\n  - {name: api, image: ghcr.io/octo-org/api:v1}\n  - {name: db, image: postgres:16}\n';
    const r = editFile('manifests', text, T, 'p.yaml', undefined);
    expect(r.text).toBe(text.replace('ghcr.io/octo-org/api:v1', `ghcr.io/octo-org/api@${D}`));
  });
});

describe('kinds: edge cases', () => {
  it('kustomize: a flow entry with a digest is edited in place; one without cannot take a new line', () => {
    const a = `images: [{name: api, newName: ghcr.io/octo-org/api, digest: ${OLD}}]\n`;
    expect(editFile('kustomize', a, T, 'k.yaml', undefined).text).toBe(a.replace(OLD, D));
    expect(refused('kustomize', 'images: [{name: api, newName: ghcr.io/octo-org/api}]\n').reason).toBe('not-found');
  });

  it('kustomize: newTag and digest both present: digest set, newTag kept (kustomize still pins by digest)', () => {
    const a = `images:\n- name: api\n  newName: ghcr.io/octo-org/api\n  newTag: v1\n  digest: ${OLD}\n`;
    expect(editFile('kustomize', a, T, 'k.yaml', undefined).text).toBe(a.replace(OLD, D));
  });

  it('kustomize: no images list is not-found', () => {
    expect(refused('kustomize', 'resources: [a.yaml]\n').reason).toBe('not-found');
  });

  it('helm-values: repository-path naming another image is refused; a block scalar is refused; a missing path is not-found', () => {
    const p: PathOptions = { valuePath: ['image', 'digest'], repositoryPath: ['image', 'repository'], format: 'digest' };
    expect(refused('helm-values', 'image:\n  repository: ghcr.io/octo-org/web\n  digest: ""\n', p).reason).toBe('not-found');
    expect(refused('helm-values', 'image:\n  repository: ghcr.io/octo-org/api\n  digest: |\n    x\n', p).message).toMatch(/block scalar/);
    expect(refused('helm-values', 'image:\n  repository: ghcr.io/octo-org/api\n', p).reason).toBe('not-found');
  });

  it('helm-values: value-format reference keeps the repository as written and drops the tag', () => {
    const text = "api:\n  image: 'ghcr.io/octo-org/api:v1.2.3' # pinned\n";
    const r = editFile('helm-values', text, T, 'v.yaml', { valuePath: ['api', 'image'], format: 'reference' });
    expect(r.text).toBe(`api:\n  image: 'ghcr.io/octo-org/api@${D}' # pinned\n`);
  });

  it('not YAML: not-found, nothing written', () => {
    expect(refused('manifests', 'a: [1, 2\n').reason).toBe('not-found');
  });

  it('argocd: every source with the parameter is edited; a parameter named twice is ambiguous', () => {
    const src = (i: number) =>
      `  - repoURL: https://c${i}.example\n    helm:\n      parameters:\n      - name: image.digest\n        value: ${OLD}\n`;
    const text = `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  sources:\n${src(1)}${src(2)}`;
    const r = editFile('argocd-application', text, T, 'a.yaml', { valuePath: ['image', 'digest'], format: 'digest' });
    expect(r.text).toBe(text.split(OLD).join(D));
    expect(r.locations).toHaveLength(2);
    const twice = `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source:\n    helm:\n      parameters:\n      - {name: image.digest, value: x}\n      - {name: image.digest, value: y}\n`;
    expect(refused('argocd-application', twice, { valuePath: ['image', 'digest'], format: 'digest' }).reason).toBe('ambiguous-image');
    expect(
      refused('argocd-application', 'apiVersion: v1\nkind: ConfigMap\n', { valuePath: ['image', 'digest'], format: 'digest' }).reason,
    ).toBe('not-found');
  });
});
