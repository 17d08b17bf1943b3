/** gitops-update's domain: inputs, the matching rule, each kind's edge cases, git's words. */
import { describe, expect, it } from 'vitest';
import { InputError } from '@hallmark/kit';
import { editFile, type Kind, type PathOptions } from '../../actions/gitops-update/src/edit.js';
import { cloneArgs, gitEnv, isMissing, isNonFastForward, pushArgs } from '../../actions/gitops-update/src/git.js';
import { makeTarget } from '../../actions/gitops-update/src/images.js';
import { checkInputs, isBranch, type RawInputs } from '../../actions/gitops-update/src/inputs.js';
import { EditError } from '../../actions/gitops-update/src/yaml-edit.js';

const D = `sha256:${'d'.repeat(64)}`;
const OLD = `sha256:${'0'.repeat(64)}`;
const T = makeTarget(`ghcr.io/octo-org/api@${D}`);
const SHA = 'f'.repeat(40);

const RAW: RawInputs = {
  repository: 'octo-org/deploy-config',
  file: 'envs/prod/kustomization.yaml',
  kind: 'kustomize',
  imageRef: `ghcr.io/octo-org/api@${D}`,
  valuePath: '',
  repositoryPath: '',
  valueFormat: '',
  mode: 'pull-request',
  branch: '',
  environment: 'prod',
  token: 'ghs_x',
  sourceCommit: '',
  scanVerdict: '',
  pushAttempts: '',
};

function refused(kind: Kind, text: string, path?: PathOptions, target = T): EditError {
  try {
    editFile(kind, text, target, 'f.yaml', path);
  } catch (e) {
    if (e instanceof EditError) return e;
    throw e;
  }
  throw new Error('not refused');
}

describe('inputs', () => {
  it('defaults: branch main, PR branch per environment, source commit from the run, 3 push attempts', () => {
    const c = checkInputs(RAW, { sha: SHA });
    expect(c).toMatchObject({ branch: 'main', prBranch: 'hallmark/gitops/prod', sourceCommit: SHA, pushAttempts: 3, mode: 'pull-request', file: 'envs/prod/kustomization.yaml' });
    expect(c.target).toEqual({ repository: 'ghcr.io/octo-org/api', key: 'ghcr.io/octo-org/api', name: 'api', digest: D });
  });

  it('helm-values needs value-path and reads repository-path and value-format', () => {
    expect(() => checkInputs({ ...RAW, kind: 'helm-values' }, { sha: SHA })).toThrow(/input 'value-path' is required/);
    const c = checkInputs({ ...RAW, kind: 'helm-values', valuePath: 'api.image.tag', repositoryPath: 'api.image.repository', valueFormat: 'reference' }, { sha: SHA });
    expect(c.path).toEqual({ valuePath: ['api', 'image', 'tag'], repositoryPath: ['api', 'image', 'repository'], format: 'reference' });
  });

  it.each([
    ['image-ref', { imageRef: 'ghcr.io/octo-org/api:v1' }],
    ['image-ref', { imageRef: `ghcr.io/octo-org/api:v1@${D}` }],
    ['file', { file: 'a/../../b' }],
    ['file', { file: '.git/hooks/pre-commit' }],
    ['branch', { branch: '-f' }],
    ['branch', { mode: 'pull-request', branch: 'hallmark/gitops/prod' }],
    ['token', { token: '' }],
    ['push-attempts', { pushAttempts: '11' }],
    ['value-path', { valuePath: 'image.digest' }],
  ] as const)('refuses a bad %s', (name, patch) => {
    let e: unknown;
    try {
      checkInputs({ ...RAW, ...patch }, { sha: SHA });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).input).toBe(name);
  });

  it('branch names', () => {
    for (const b of ['main', 'release/v1', 'env.prod', 'hallmark/gitops/prod']) expect(isBranch(b), b).toBe(true);
    for (const b of ['', '-x', 'a..b', 'a/', '/a', 'a.lock', 'a//b', 'a b', 'a:b', 'a~1', 'a^', '.hidden', 'x/.y', 'a@{1}']) expect(isBranch(b), b).toBe(false);
  });
});

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
    const e = refused('kustomize', 'images:\n- name: api\n  newName: ghcr.io/octo-org/api\n- name: api-legacy\n  newName: docker.io/octo-org/api\n');
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
    const src = (i: number) => `  - repoURL: https://c${i}.example\n    helm:\n      parameters:\n      - name: image.digest\n        value: ${OLD}\n`;
    const text = `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  sources:\n${src(1)}${src(2)}`;
    const r = editFile('argocd-application', text, T, 'a.yaml', { valuePath: ['image', 'digest'], format: 'digest' });
    expect(r.text).toBe(text.split(OLD).join(D));
    expect(r.locations).toHaveLength(2);
    const twice = `apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source:\n    helm:\n      parameters:\n      - {name: image.digest, value: x}\n      - {name: image.digest, value: y}\n`;
    expect(refused('argocd-application', twice, { valuePath: ['image', 'digest'], format: 'digest' }).reason).toBe('ambiguous-image');
    expect(refused('argocd-application', 'apiVersion: v1\nkind: ConfigMap\n', { valuePath: ['image', 'digest'], format: 'digest' }).reason).toBe('not-found');
  });
});

describe('git', () => {
  it('the token is only in the extraheader value, base64 inside basic auth, never in argv', () => {
    const env = gitEnv('https://github.com', 'ghs_secret');
    const all = [...cloneArgs('https://github.com/o/r.git', 'main', '/tmp/x'), ...pushArgs('main', false)].join(' ');
    expect(all).not.toContain('ghs_secret');
    expect(Object.entries(env).filter(([, v]) => v?.includes('ghs_secret'))).toEqual([]);
    expect(env.GIT_CONFIG_KEY_0).toBe('http.https://github.com/.extraheader');
    expect(env.GIT_CONFIG_VALUE_0).toBe(`AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_secret').toString('base64')}`);
    expect(cloneArgs('u', 'b', 'd').slice(-3)).toEqual(['--', 'u', 'd']);
  });

  it("reads git's words for a moved branch, and only those", () => {
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone')).toBe(true);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[rejected] (non-fast-forward)')).toBe(true);
    expect(isNonFastForward("remote: error: cannot lock ref 'refs/heads/main': is at 1a2b but expected 3c4d")).toBe(true);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[remote rejected] (pre-receive hook declined)')).toBe(false);
    expect(isNonFastForward('!\tHEAD:refs/heads/main\t[remote rejected] (protected branch hook declined)')).toBe(false);
    expect(isMissing("warning: Could not find remote branch release to clone.\nfatal: Remote branch release not found in upstream origin")).toBe(true);
    expect(isMissing('fatal: Authentication failed for')).toBe(false);
  });
});
