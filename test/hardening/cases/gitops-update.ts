/**
 * gitops-update's bad inputs: each must fail with one `::error::` naming the input before git or
 * the API is touched (the git server and the API are this corpus's recording loopback server: no
 * request, no clone under RUNNER_TEMP or elsewhere). The token is the secret input (masked on read).
 */
import type { ActionCorpus } from '../corpus.js';

const D = `sha256:${'a'.repeat(64)}`;

const corpus: ActionCorpus = {
  action: 'gitops-update',
  base: {
    inputs: {
      repository: 'octo-org/deploy-config',
      file: 'envs/prod/kustomization.yaml',
      kind: 'kustomize',
      'image-ref': `ghcr.io/octo-org/api@${D}`,
      mode: 'commit',
      environment: 'prod',
      token: 'ghs_hardeningCanaryToken00000000000000',
    },
    env: { GITHUB_SERVER_URL: '{url}', GITHUB_API_URL: '{url}' },
  },
  secrets: ['token'],
  bad: [
    { name: 'repository missing', inputs: { repository: undefined }, input: 'repository', expect: /owner\/name/ },
    { name: 'repository owner only', inputs: { repository: 'octo-org' }, input: 'repository' },
    { name: 'repository three parts', inputs: { repository: 'octo-org/deploy/x' }, input: 'repository' },
    { name: 'repository a URL', inputs: { repository: 'https://github.com/octo-org/deploy-config' }, input: 'repository' },
    { name: 'repository with ..', inputs: { repository: 'octo-org/..' }, input: 'repository' },
    { name: 'file missing', inputs: { file: undefined }, input: 'file', expect: /relative path/ },
    { name: 'file absolute', inputs: { file: '/etc/passwd' }, input: 'file' },
    { name: 'file escaping the repository', inputs: { file: '../../etc/passwd' }, input: 'file' },
    { name: 'file under .git', inputs: { file: '.git/config' }, input: 'file' },
    { name: 'file starting with a dash', inputs: { file: '--output=/etc/passwd' }, input: 'file' },
    { name: 'kind missing', inputs: { kind: undefined }, input: 'kind', expect: /kustomize, helm-values, manifests, argocd-application/ },
    { name: 'kind unknown', inputs: { kind: 'jsonnet' }, input: 'kind' },
    { name: 'image-ref missing', inputs: { 'image-ref': undefined }, input: 'image-ref', expect: /by digest/ },
    { name: 'image-ref by tag', inputs: { 'image-ref': 'ghcr.io/octo-org/api:v1' }, input: 'image-ref', expect: /by digest/ },
    {
      name: 'image-ref with tag and digest',
      inputs: { 'image-ref': `ghcr.io/octo-org/api:v1@${D}` },
      input: 'image-ref',
      expect: /no tag/,
    },
    { name: 'image-ref short digest', inputs: { 'image-ref': 'ghcr.io/octo-org/api@sha256:abc' }, input: 'image-ref' },
    { name: 'image-ref uppercase digest', inputs: { 'image-ref': `ghcr.io/octo-org/api@sha256:${'A'.repeat(64)}` }, input: 'image-ref' },
    { name: 'image-ref starting with a dash', inputs: { 'image-ref': `-o/etc/passwd@${D}` }, input: 'image-ref' },
    { name: 'image-ref a URL', inputs: { 'image-ref': `https://ghcr.io/octo-org/api@${D}` }, input: 'image-ref' },
    {
      name: 'value-path with kustomize',
      inputs: { 'value-path': 'image.digest' },
      input: 'value-path',
      expect: /only to kind helm-values/,
    },
    { name: 'value-format with manifests', inputs: { kind: 'manifests', 'value-format': 'digest' }, input: 'value-format' },
    { name: 'value-path missing for helm-values', inputs: { kind: 'helm-values' }, input: 'value-path', expect: /required/ },
    {
      name: 'value-path with brackets',
      inputs: { kind: 'helm-values', 'value-path': 'images[0].digest' },
      input: 'value-path',
      expect: /dot path/,
    },
    { name: 'value-path empty segment', inputs: { kind: 'argocd-application', 'value-path': 'image..digest' }, input: 'value-path' },
    {
      name: 'repository-path a template',
      inputs: { kind: 'helm-values', 'value-path': 'image.digest', 'repository-path': '{{ .Values.x }}' },
      input: 'repository-path',
    },
    {
      name: 'value-format unknown',
      inputs: { kind: 'helm-values', 'value-path': 'image.digest', 'value-format': 'tag' },
      input: 'value-format',
    },
    { name: 'mode unknown', inputs: { mode: 'push' }, input: 'mode', expect: /commit or pull-request/ },
    { name: 'branch with ..', inputs: { branch: 'a..b' }, input: 'branch' },
    { name: 'branch starting with a dash', inputs: { branch: '--upload-pack=touch /tmp/x' }, input: 'branch' },
    { name: 'branch a refspec', inputs: { branch: 'main:refs/heads/evil' }, input: 'branch' },
    { name: 'branch the PR branch itself', inputs: { mode: 'pull-request', branch: 'hallmark/gitops/prod' }, input: 'branch' },
    { name: 'environment missing', inputs: { environment: undefined }, input: 'environment', expect: /required/ },
    { name: 'environment with a slash', inputs: { environment: 'prod/../main' }, input: 'environment' },
    { name: 'rollback-of short', inputs: { 'image-ref': undefined, 'rollback-of': 'abc1234' }, input: 'rollback-of', expect: /40-hex/ },
    {
      name: 'rollback-of an option',
      inputs: { 'image-ref': undefined, 'rollback-of': '--upload-pack=touch /tmp/x' },
      input: 'rollback-of',
    },
    {
      name: 'rollback-of with image-ref',
      inputs: { 'rollback-of': 'a'.repeat(40) },
      input: 'image-ref',
      expect: /cannot be used with 'rollback-of'/,
    },
    {
      name: 'reason with a newline and a command',
      inputs: { 'image-ref': undefined, 'rollback-of': 'a'.repeat(40), reason: 'x\n::error::injected' },
      input: 'reason',
    },
    { name: 'reason without rollback-of', inputs: { reason: 'because' }, input: 'reason', expect: /only with 'rollback-of'/ },
    { name: 'token missing', inputs: { token: undefined }, input: 'token', expect: /required/ },
    { name: 'token with a space', inputs: { token: 'ghs_hardening canary token' }, input: 'token', expect: /no whitespace/ },
    { name: 'source-commit short', inputs: { 'source-commit': 'abc1234' }, input: 'source-commit', expect: /40-hex/ },
    { name: 'scan-verdict two lines', inputs: { 'scan-verdict': 'passed\nfailed' }, input: 'scan-verdict' },
    { name: 'scan-verdict markdown', inputs: { 'scan-verdict': 'passed [click](https://evil.example)' }, input: 'scan-verdict' },
    { name: 'push-attempts zero', inputs: { 'push-attempts': '0' }, input: 'push-attempts', expect: /1 to 10/ },
    { name: 'push-attempts huge', inputs: { 'push-attempts': '1000' }, input: 'push-attempts' },
    { name: 'push-attempts not a number', inputs: { 'push-attempts': 'three' }, input: 'push-attempts' },
  ],
};

export default corpus;
