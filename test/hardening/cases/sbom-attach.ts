/**
 * sbom-attach bad inputs: each must fail before any tool runs or request is sent, with one
 * `::error::sbom-attach: input '<name>' …` line and failure-reason invalid-input.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const D = `sha256:${'4e'.repeat(32)}`;
const KEY_ERR = /must be a cosign private key|env:\/\//;
const KEY = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nZmFrZQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';
const ATTEST_WITH_KEY = { attach: 'attest', 'cosign-key': KEY, 'cosign-password': 'canary-pw' };

const corpus: ActionCorpus = {
  action: 'sbom-attach',
  base: {
    inputs: { image: `ghcr.io/octo-org/shop@${D}`, format: 'spdx-json', attach: 'none', upload: 'false' },
    // No OIDC: keyless signing is not configured, so attest/sign-blob without a key are input errors.
    env: { ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
  },
  setup: (workspace) => writeFileSync(join(workspace, 'not-a-dir.txt'), 'x'),
  secrets: ['cosign-key', 'cosign-password', 'registry-password'],
  bad: [
    { name: 'image by tag', inputs: { image: 'ghcr.io/octo-org/shop:1.2.3' }, input: 'image', expect: 'by digest' },
    { name: 'image tag latest', inputs: { image: 'ghcr.io/octo-org/shop:latest' }, input: 'image', expect: 'by digest' },
    { name: 'image without tag or digest', inputs: { image: 'ghcr.io/octo-org/shop' }, input: 'image', expect: 'by digest' },
    {
      name: 'image with tag and digest',
      inputs: { image: `ghcr.io/octo-org/shop:1.0@${D}` },
      input: 'image',
      expect: 'must not carry a tag',
    },
    {
      name: 'digest of the wrong length',
      inputs: { image: `ghcr.io/octo-org/shop@sha256:${'a'.repeat(63)}` },
      input: 'image',
      expect: '64 lowercase hex',
    },
    {
      name: 'digest in upper case',
      inputs: { image: `ghcr.io/octo-org/shop@sha256:${'A'.repeat(64)}` },
      input: 'image',
      expect: '64 lowercase hex',
    },
    { name: 'sha512 digest', inputs: { image: `ghcr.io/octo-org/shop@sha512:${'a'.repeat(128)}` }, input: 'image', expect: 'sha256' },
    { name: 'image with a space', inputs: { image: `ghcr.io/octo org/shop@${D}` }, input: 'image' },
    { name: 'image with upper-case repository', inputs: { image: `ghcr.io/Octo-Org/Shop@${D}` }, input: 'image' },
    { name: 'neither image nor path', inputs: { image: undefined }, input: 'image', expect: 'is required' },
    { name: 'image and path together', inputs: { path: '.' }, input: 'path', expect: 'not both' },
    {
      name: 'path that does not exist',
      inputs: { image: undefined, path: 'no/such/dir' },
      input: 'path',
      expect: 'must name an existing file or directory',
    },
    { name: 'format spdx (not a known format)', inputs: { format: 'spdx' }, input: 'format', expect: 'spdx-json, cyclonedx-json' },
    { name: 'format list with an unknown item', inputs: { format: 'spdx-json, cyclonedx-xml' }, input: 'format' },
    { name: 'format list that is empty', inputs: { format: ' , ' }, input: 'format', expect: 'at least one' },
    { name: 'unknown generator', inputs: { generator: 'grype' }, input: 'generator', expect: 'syft, trivy' },
    { name: 'generator in the wrong case', inputs: { generator: 'SYFT' }, input: 'generator' },
    { name: 'upload not a boolean', inputs: { upload: 'yes' }, input: 'upload', expect: 'true or false' },
    { name: 'retention-days zero', inputs: { 'retention-days': '0' }, input: 'retention-days' },
    { name: 'retention-days above 90', inputs: { 'retention-days': '91' }, input: 'retention-days' },
    { name: 'retention-days with a unit', inputs: { 'retention-days': '30d' }, input: 'retention-days' },
    { name: 'unknown attach mode', inputs: { attach: 'sbom' }, input: 'attach', expect: 'auto, attest, referrer, none' },
    { name: 'attach attest without any signing', inputs: { attach: 'attest' }, input: 'attach', expect: 'id-token: write' },
    {
      name: 'attach referrer for a path',
      inputs: { image: undefined, path: '.', attach: 'referrer' },
      input: 'attach',
      expect: "needs 'image'",
    },
    { name: 'sign-blob not a boolean', inputs: { 'sign-blob': 'maybe' }, input: 'sign-blob' },
    { name: 'sign-blob without any signing', inputs: { 'sign-blob': 'true' }, input: 'sign-blob', expect: 'cosign-key' },
    { name: 'service with a space', inputs: { service: 'my service' }, input: 'service' },
    { name: 'service starting with a dash', inputs: { service: '-api' }, input: 'service' },
    { name: 'artifact-name with a slash', inputs: { 'artifact-name': 'sboms/shop' }, input: 'artifact-name' },
    { name: 'artifact-name with a colon', inputs: { 'artifact-name': 'sbom:shop' }, input: 'artifact-name' },
    {
      name: 'registry-username without a password',
      inputs: { 'registry-username': 'bot' },
      input: 'registry-password',
      expect: 'is required',
    },
    {
      name: 'registry-password without a username',
      inputs: { 'registry-password': 'canary-registry-password' },
      input: 'registry-username',
      expect: 'is required',
    },
    {
      name: 'registry-username with a colon',
      inputs: { 'registry-username': 'bot:x', 'registry-password': 'canary-registry-password' },
      input: 'registry-username',
    },
    {
      name: 'registry-insecure for a public registry',
      inputs: { 'registry-insecure': 'true' },
      input: 'registry-insecure',
      expect: 'loopback',
    },
    { name: 'registry-insecure not a boolean', inputs: { 'registry-insecure': '1' }, input: 'registry-insecure' },
    {
      name: 'cosign-key that is not a key',
      inputs: { attach: 'attest', 'cosign-key': 'not-a-key-canary', 'cosign-password': 'canary-pw' },
      input: 'cosign-key',
      expect: KEY_ERR,
    },
    {
      name: 'cosign-key naming an unset variable',
      inputs: { attach: 'attest', 'cosign-key': 'env://HALLMARK_NO_SUCH_KEY' },
      input: 'cosign-key',
      expect: 'not set',
    },
    { name: 'tlog not a boolean', inputs: { ...ATTEST_WITH_KEY, tlog: 'off' }, input: 'tlog', expect: 'true or false' },
    {
      name: 'trusted-root that does not exist',
      inputs: { ...ATTEST_WITH_KEY, 'trusted-root': 'no/trusted_root.json' },
      input: 'trusted-root',
      expect: 'must name an existing file',
    },
    {
      name: 'trusted-root that is not a trusted root',
      inputs: { ...ATTEST_WITH_KEY, 'trusted-root': 'not-a-dir.txt' },
      input: 'trusted-root',
      expect: 'is not JSON',
    },
    {
      name: 'signing-config that does not exist',
      inputs: { ...ATTEST_WITH_KEY, 'signing-config': 'no/signing_config.json' },
      input: 'signing-config',
      expect: 'must name an existing file',
    },
    {
      name: 'output-dir that is a file',
      inputs: { 'output-dir': 'not-a-dir.txt' },
      input: 'output-dir',
      expect: 'must be a path to a directory',
    },
  ],
};

export default corpus;
