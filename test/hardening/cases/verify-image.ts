/**
 * verify-image's bad inputs: each must fail with one `::error::` naming the input before cosign
 * runs (no registry request, nothing written outside RUNNER_TEMP). The public key is the secret
 * input (masked on read, never echoed). Regexp-shaped values in the identity inputs are refused,
 * never turned into a pattern.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const D = `sha256:${'a'.repeat(64)}`;
const IMG = `127.0.0.1:1/shop/api@${D}`;
const PUB =
  '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhardeningcanarypublickeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n-----END PUBLIC KEY-----';

const corpus: ActionCorpus = {
  action: 'verify-image',
  base: { inputs: { 'image-ref': IMG } },
  setup: (ws) => {
    mkdirSync(join(ws, 'sigstore'), { recursive: true });
    writeFileSync(join(ws, 'sigstore', 'not-a-root.json'), '{"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json"}');
  },
  secrets: ['public-key'],
  bad: [
    { name: 'image-ref missing', inputs: { 'image-ref': undefined }, input: 'image-ref', expect: /required/ },
    { name: 'image-ref by tag', inputs: { 'image-ref': '127.0.0.1:1/shop/api:v1' }, input: 'image-ref', expect: /by digest/ },
    {
      name: 'image-ref with tag and digest',
      inputs: { 'image-ref': `127.0.0.1:1/shop/api:v1@${D}` },
      input: 'image-ref',
      expect: /no tag/,
    },
    { name: 'image-ref short digest', inputs: { 'image-ref': '127.0.0.1:1/shop/api@sha256:abc' }, input: 'image-ref' },
    { name: 'image-ref uppercase digest', inputs: { 'image-ref': `127.0.0.1:1/shop/api@sha256:${'A'.repeat(64)}` }, input: 'image-ref' },
    { name: 'image-ref sha512', inputs: { 'image-ref': `127.0.0.1:1/shop/api@sha512:${'a'.repeat(128)}` }, input: 'image-ref' },
    { name: 'image-ref starting with a dash', inputs: { 'image-ref': `-o/etc/passwd@${D}` }, input: 'image-ref' },
    { name: 'image-ref with a newline', inputs: { 'image-ref': `${IMG}\nx` }, input: 'image-ref' },
    { name: 'image-ref a URL', inputs: { 'image-ref': `https://127.0.0.1:1/shop/api@${D}` }, input: 'image-ref' },
    {
      name: 'public-key not a PEM',
      inputs: { 'public-key': 'hardening-canary-not-a-key-4d1e' },
      input: 'public-key',
      expect: /PEM public key/,
    },
    {
      name: 'public-key a private key',
      inputs: {
        'public-key':
          '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nhardeningcanaryprivate\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----',
      },
      input: 'public-key',
      expect: /PEM public key/,
    },
    {
      name: 'workflow with an @ref',
      inputs: { workflow: 'hallmark-dev/hallmark/.github/workflows/build-sign-scan.yml@refs/tags/v1' },
      input: 'workflow',
      expect: /allowed-refs/,
    },
    { name: 'workflow a regexp', inputs: { workflow: 'hallmark-dev/hallmark/.github/workflows/.*' }, input: 'workflow' },
    { name: 'workflow an alternation', inputs: { workflow: 'hallmark-dev/(hallmark|evil)/.github/workflows/b.yml' }, input: 'workflow' },
    { name: 'workflow outside .github/workflows', inputs: { workflow: 'hallmark-dev/hallmark/workflows/b.yml' }, input: 'workflow' },
    { name: 'workflow in a subdirectory', inputs: { workflow: 'hallmark-dev/hallmark/.github/workflows/sub/b.yml' }, input: 'workflow' },
    { name: 'workflow a URL', inputs: { workflow: 'https://github.com/hallmark-dev/hallmark/.github/workflows/b.yml' }, input: 'workflow' },
    { name: 'workflow not YAML', inputs: { workflow: 'hallmark-dev/hallmark/.github/workflows/b.sh' }, input: 'workflow' },
    {
      name: 'allowed-refs branches regexp',
      inputs: { 'allowed-refs': 'branches: main|.*' },
      input: 'allowed-refs',
      expect: /not a valid branch name/,
    },
    { name: 'allowed-refs tags regexp', inputs: { 'allowed-refs': 'tags: v1.*' }, input: 'allowed-refs', expect: /release major/ },
    { name: 'allowed-refs sha pattern', inputs: { 'allowed-refs': 'sha: [0-9a-f]{40}' }, input: 'allowed-refs', expect: /40-hex/ },
    { name: 'allowed-refs short sha', inputs: { 'allowed-refs': 'sha: 0123456' }, input: 'allowed-refs' },
    { name: 'allowed-refs a raw ref', inputs: { 'allowed-refs': 'refs/heads/main' }, input: 'allowed-refs', expect: /tags, tags: v1, sha/ },
    { name: 'allowed-refs unknown rule', inputs: { 'allowed-refs': 'any' }, input: 'allowed-refs' },
    { name: 'allowed-refs branches empty', inputs: { 'allowed-refs': 'branches:' }, input: 'allowed-refs' },
    { name: 'allowed-refs branch with ..', inputs: { 'allowed-refs': 'branches: a..b' }, input: 'allowed-refs' },
    { name: 'allowed-refs only comments', inputs: { 'allowed-refs': '# nothing' }, input: 'allowed-refs', expect: /at least one rule/ },
    { name: 'source-repository owner only', inputs: { 'source-repository': 'octo-org' }, input: 'source-repository' },
    { name: 'source-repository three parts', inputs: { 'source-repository': 'octo-org/shop/x' }, input: 'source-repository' },
    { name: 'source-repository regexp', inputs: { 'source-repository': 'octo-org/.*' }, input: 'source-repository' },
    {
      name: 'require-provenance not a boolean',
      inputs: { 'require-provenance': 'yes' },
      input: 'require-provenance',
      expect: /true or false/,
    },
    { name: 'require-default-branch not a boolean', inputs: { 'require-default-branch': 'maybe' }, input: 'require-default-branch' },
    {
      name: 'require-default-branch without a known default branch',
      inputs: { 'require-default-branch': 'true' },
      input: 'default-branch',
      expect: /required/,
    },
    {
      name: 'require-default-branch without provenance',
      inputs: { 'require-default-branch': 'true', 'require-provenance': 'false', 'default-branch': 'main' },
      input: 'require-default-branch',
    },
    {
      name: 'default-branch not a branch',
      inputs: { 'require-default-branch': 'true', 'default-branch': 'a..b' },
      input: 'default-branch',
    },
    { name: 'tlog not a boolean', inputs: { tlog: 'off' }, input: 'tlog' },
    { name: 'tlog false keyless', inputs: { tlog: 'false' }, input: 'tlog', expect: /only with public-key/ },
    { name: 'trusted-root outside the workspace', inputs: { 'trusted-root': '../trusted_root.json' }, input: 'trusted-root' },
    { name: 'trusted-root absolute', inputs: { 'trusted-root': '/etc/passwd' }, input: 'trusted-root' },
    { name: 'trusted-root missing', inputs: { 'trusted-root': 'sigstore/missing.json' }, input: 'trusted-root', expect: /no such file/ },
    {
      name: 'trusted-root not a trusted root',
      inputs: { 'trusted-root': 'sigstore/not-a-root.json' },
      input: 'trusted-root',
      expect: /trusted root/,
    },
    { name: 'public-key fine but tlog garbage', inputs: { 'public-key': PUB, tlog: 'nope' }, input: 'tlog' },
  ],
};

export default corpus;
