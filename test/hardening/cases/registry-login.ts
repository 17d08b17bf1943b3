/**
 * registry-login's bad inputs: each must fail with one `::error::` naming the input, before any
 * request reaches the registry and before anything is written or exported. The password and the
 * job token are the secret inputs.
 */
import type { ActionCorpus } from '../corpus.js';

const corpus: ActionCorpus = {
  action: 'registry-login',
  base: {
    inputs: {
      registry: '{url}',
      username: 'ci-bot',
      password: 'hardening-registry-pw-canary',
      insecure: 'true',
      'github-token': 'ghs_hardeningcanarytoken0123456789',
    },
  },
  secrets: ['password', 'github-token'],
  bad: [
    { name: 'timeout not a duration', inputs: { timeout: 'soon' }, input: 'timeout', expect: /duration/ },
    { name: 'timeout above 5 minutes', inputs: { timeout: '10m' }, input: 'timeout', expect: /at most/ },
    { name: 'neither registry nor image', inputs: { registry: undefined }, input: 'registry', expect: /required/ },
    { name: 'registry with a path', inputs: { registry: 'ghcr.io/acme', insecure: undefined }, input: 'registry', expect: /host\[:port\]/ },
    { name: 'registry with a space', inputs: { registry: 'ghcr .io', insecure: undefined }, input: 'registry' },
    { name: 'registry with a newline', inputs: { registry: 'ghcr.io\nevil.example', insecure: undefined }, input: 'registry' },
    { name: 'registry port out of range', inputs: { registry: '127.0.0.1:70000' }, input: 'registry', expect: /port/ },
    { name: 'image not a reference', inputs: { registry: undefined, image: 'Not An Image' }, input: 'image' },
    { name: 'insecure off loopback', inputs: { registry: 'registry.example.com' }, input: 'insecure', expect: /loopback/ },
    { name: 'insecure not a boolean', inputs: { insecure: 'yes please' }, input: 'insecure' },
    { name: 'verify not a boolean', inputs: { verify: 'maybe' }, input: 'verify' },
    { name: 'username without password', inputs: { password: undefined }, input: 'password', expect: /required with username/ },
    { name: 'password without username', inputs: { username: undefined }, input: 'username', expect: /required with password/ },
    { name: 'username with a colon', inputs: { username: 'ci:bot' }, input: 'username' },
    { name: 'github-registry with a path', inputs: { 'github-registry': 'ghcr.io/x' }, input: 'github-registry' },
    { name: 'github-registry with a space', inputs: { 'github-registry': 'ghcr .io' }, input: 'github-registry' },
    { name: 'github-registry port out of range', inputs: { 'github-registry': 'ghcr.io:99999' }, input: 'github-registry', expect: /port/ },
    { name: 'registry with credentials in it', inputs: { registry: 'bot:pw@ghcr.io', insecure: undefined }, input: 'registry' },
    { name: 'registry with a query', inputs: { registry: 'ghcr.io?x=1', insecure: undefined }, input: 'registry' },
    { name: 'registry port zero', inputs: { registry: '127.0.0.1:0' }, input: 'registry', expect: /port/ },
    { name: 'registry half an IPv6 literal', inputs: { registry: '[::1', insecure: undefined }, input: 'registry' },
    { name: 'image with a space', inputs: { registry: undefined, image: 'ghcr.io/acme/ api' }, input: 'image' },
    { name: 'image with upper-case repository', inputs: { registry: undefined, image: 'ghcr.io/Acme/API' }, input: 'image' },
    {
      name: 'image with a short digest',
      inputs: { registry: undefined, image: 'ghcr.io/acme/api@sha256:abc' },
      input: 'image',
      expect: /digest/,
    },
    { name: 'image with a bad tag', inputs: { registry: undefined, image: 'ghcr.io/acme/api:-bad' }, input: 'image' },
    { name: 'username with a space', inputs: { username: 'ci bot' }, input: 'username' },
    { name: 'username with a newline', inputs: { username: 'ci\nbot' }, input: 'username' },
    { name: 'insecure as on', inputs: { insecure: 'on' }, input: 'insecure' },
  ],
};
export default corpus;
