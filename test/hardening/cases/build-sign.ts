/**
 * build-sign's bad inputs: each fails with one `::error::` naming the input before any login,
 * build, push, OIDC request or signature (the loopback `{url}` stands in for the OIDC endpoint and
 * must see nothing). Secret inputs: cosign-key, cosign-password, registry-password, secrets.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const HEX = 'a'.repeat(64);
const KEY = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nZmFrZQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';

const corpus: ActionCorpus = {
  action: 'build-sign',
  base: {
    inputs: { image: 'ghcr.io/octo-org/shop', context: 'app', builder: 'buildah', sign: 'keyless', tags: 'sha-4f1c6b9' },
    // Were a case to get past validation, keyless signing would ask this loopback server for a token.
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: '{url}/oidc/token?x=1', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'hardening-oidc-request-token' },
  },
  setup: (workspace) => {
    mkdirSync(join(workspace, 'app'), { recursive: true });
    writeFileSync(join(workspace, 'app', 'Containerfile'), 'FROM scratch\nCOPY . /\n');
  },
  secrets: ['cosign-key', 'cosign-password', 'registry-password', 'secrets'],
  bad: [
    { name: 'image missing', inputs: { image: undefined }, input: 'image', expect: /is required/ },
    { name: 'image with a tag', inputs: { image: 'ghcr.io/octo-org/shop:v1' }, input: 'image', expect: /without a tag or digest/ },
    {
      name: 'image with a digest',
      inputs: { image: `ghcr.io/octo-org/shop@sha256:${HEX}` },
      input: 'image',
      expect: /without a tag or digest/,
    },
    { name: 'image in upper case', inputs: { image: 'ghcr.io/Octo-Org/Shop' }, input: 'image' },
    { name: 'image as command substitution', inputs: { image: 'ghcr.io/$(id)/shop' }, input: 'image' },
    {
      name: 'image with a newline and a command',
      inputs: { image: 'ghcr.io/octo-org/shop\n::set-output name=digest::sha256:0' },
      input: 'image',
    },
    { name: 'image as a leading-dash flag', inputs: { image: '--output=/etc/passwd' }, input: 'image' },
    { name: 'tags with a shell separator', inputs: { tags: 'v1;id' }, input: 'tags' },
    { name: 'tags with a leading dash', inputs: { tags: '-v1' }, input: 'tags' },
    {
      name: 'tags of another repository',
      inputs: { tags: 'docker.io/evil/shop:v1' },
      input: 'tags',
      expect: /not a tag of ghcr\.io\/octo-org\/shop/,
    },
    { name: 'tags naming a digest', inputs: { tags: `ghcr.io/octo-org/shop@sha256:${HEX}` }, input: 'tags', expect: /not digests/ },
    { name: 'tags longer than 128 characters', inputs: { tags: 'v'.repeat(129) }, input: 'tags' },
    { name: 'platforms without an arch', inputs: { platforms: 'linux' }, input: 'platforms', expect: /os\/arch/ },
    { name: 'platforms with a shell tail', inputs: { platforms: 'linux/amd64;id' }, input: 'platforms' },
    {
      name: 'two platforms for the docker builder',
      inputs: { builder: 'docker', platforms: 'linux/amd64,linux/arm64' },
      input: 'platforms',
      expect: /more than one platform/,
    },
    { name: 'builder kaniko', inputs: { builder: 'kaniko' }, input: 'builder', expect: /buildx, docker, buildah/ },
    { name: 'builder with a shell tail', inputs: { builder: 'buildah; id' }, input: 'builder' },
    { name: 'push yes', inputs: { push: 'yes' }, input: 'push', expect: /true or false/ },
    { name: 'push false while signing', inputs: { push: 'false' }, input: 'push', expect: /signing needs the image in a registry/ },
    { name: 'digest too short', inputs: { tags: undefined, digest: 'sha256:abc' }, input: 'digest', expect: /64 lowercase hex/ },
    {
      name: 'digest of another repository',
      inputs: { tags: undefined, digest: `docker.io/evil/shop@sha256:${HEX}` },
      input: 'digest',
      expect: /names docker\.io\/evil\/shop/,
    },
    { name: 'digest in upper case', inputs: { tags: undefined, digest: `sha256:${HEX.toUpperCase()}` }, input: 'digest' },
    { name: 'digest together with tags', inputs: { digest: `sha256:${HEX}` }, input: 'tags', expect: /cannot be used with 'digest'/ },
    { name: 'sign sometimes', inputs: { sign: 'sometimes' }, input: 'sign', expect: /keyless, key, none/ },
    { name: 'tlog not a boolean', inputs: { tlog: 'off' }, input: 'tlog', expect: /true or false/ },
    {
      name: 'keyless without the transparency log',
      inputs: { tlog: 'false' },
      input: 'tlog',
      expect: /keyless signing needs the transparency log/,
    },
    {
      name: 'trusted-root that does not exist',
      inputs: { sign: 'key', 'cosign-key': KEY, 'trusted-root': 'no/trusted_root.json' },
      input: 'trusted-root',
      expect: /must name an existing file/,
    },
    {
      name: 'signing-config that does not exist',
      inputs: { sign: 'key', 'cosign-key': KEY, tlog: 'false', 'signing-config': 'no/signing_config.json' },
      input: 'signing-config',
      expect: /must name an existing file/,
    },
    {
      name: 'policy-kind unknown',
      inputs: { 'policy-kind': 'admission-policy' },
      input: 'policy-kind',
      expect: /cluster-policy, image-validating-policy/,
    },
    { name: 'sign key without a key', inputs: { sign: 'key' }, input: 'cosign-key', expect: /is required when sign is 'key'/ },
    {
      name: 'cosign-key not a PEM key',
      inputs: { sign: 'key', 'cosign-key': 'hardening-not-a-key-canary' },
      input: 'cosign-key',
      expect: /PEM/,
    },
    {
      name: 'cosign-key env:// with a bad name',
      inputs: { sign: 'key', 'cosign-key': 'env://1BAD' },
      input: 'cosign-key',
      expect: /does not name an environment variable/,
    },
    {
      name: 'cosign-key env:// of an unset variable',
      inputs: { sign: 'key', 'cosign-key': 'env://HARDENING_UNSET_KEY' },
      input: 'cosign-key',
      expect: /not set or empty/,
    },
    { name: 'registry as a URL', inputs: { registry: 'https://ghcr.io' }, input: 'registry', expect: /host\[:port\]/ },
    {
      name: 'registry-username without a password',
      inputs: { 'registry-username': 'octocat' },
      input: 'registry-password',
      expect: /is required/,
    },
    {
      name: 'registry-password without a user',
      inputs: { 'registry-password': 'hardening-password-canary' },
      input: 'registry-username',
      expect: /is required/,
    },
    {
      name: 'registry-username with a colon',
      inputs: { 'registry-username': 'octo:cat', 'registry-password': 'hardening-password-canary' },
      input: 'registry-username',
      expect: /without spaces or colons/,
    },
    {
      name: 'registry-insecure for a public registry',
      inputs: { 'registry-insecure': 'true' },
      input: 'registry-insecure',
      expect: /loopback/,
    },
    { name: 'registry-insecure not a boolean', inputs: { 'registry-insecure': 'sure' }, input: 'registry-insecure' },
    {
      name: 'identity with sign none',
      inputs: { sign: 'none', identity: 'https://github.com/octo-org/ci/.github/workflows/r.yml@refs/heads/main' },
      input: 'identity',
      expect: /only applies to sign: keyless/,
    },
    {
      name: 'identity as a regular expression',
      inputs: { identity: 'https://github.com/octo-org/.*' },
      input: 'identity',
      expect: /wildcards/,
    },
    { name: 'identity neither URI nor e-mail', inputs: { identity: 'octo-org' }, input: 'identity' },
    { name: 'issuer plain http', inputs: { issuer: 'http://token.actions.githubusercontent.com' }, input: 'issuer', expect: /https URL/ },
    { name: 'build-args without =', inputs: { 'build-args': 'NONCE' }, input: 'build-args', expect: /KEY=VALUE/ },
    { name: 'build-args key with a shell char', inputs: { 'build-args': '$(id)=1' }, input: 'build-args' },
    { name: 'build-args key twice', inputs: { 'build-args': 'A=1\nA=2' }, input: 'build-args', expect: /twice/ },
    { name: 'context missing', inputs: { context: 'nope' }, input: 'context', expect: /must name an existing directory/ },
    { name: 'file missing', inputs: { file: 'app/Dockerfile.nope' }, input: 'file', expect: /must name an existing file/ },
    { name: 'allow-latest maybe', inputs: { 'allow-latest': 'maybe' }, input: 'allow-latest' },
    { name: 'cache-from type=gha with buildah', inputs: { 'cache-from': 'type=gha' }, input: 'cache-from', expect: /gha/ },
    { name: 'secret-files naming a missing file', inputs: { 'secret-files': 'npmrc=app/.npmrc-nope' }, input: 'secret-files' },
    {
      name: 'secrets line without an id',
      inputs: { secrets: '=hardening-secret-canary' },
      input: 'secrets',
      expect: /values are not shown/,
    },
    {
      name: 'annotations for the index of a single-platform build',
      inputs: { annotations: 'index:org.example.a=b' },
      input: 'annotations',
    },
    { name: 'target with a space', inputs: { target: 'a b' }, input: 'target' },
  ],
};

export default corpus;
