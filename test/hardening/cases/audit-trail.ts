/**
 * audit-trail's bad inputs: each must fail with one `::error::` naming the input before any part
 * is read, cosign runs or anything is uploaded. The key and its password are the secret inputs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const KEY = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nhardeningcanaryprivatekey\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----';

const corpus: ActionCorpus = {
  action: 'audit-trail',
  base: { inputs: { parts: 'parts', signing: 'none', upload: 'false' } },
  setup: (ws) => {
    mkdirSync(join(ws, 'parts', 'hallmark-audit-part-x__build'), { recursive: true });
    writeFileSync(join(ws, 'parts', 'hallmark-audit-part-x__build', 'hallmark-audit.jsonl'), '');
    writeFileSync(join(ws, 'file.txt'), 'x');
  },
  secrets: ['cosign-key', 'cosign-password'],
  bad: [
    { name: 'parts missing', inputs: { parts: undefined }, input: 'parts', expect: /required/ },
    { name: 'parts a file', inputs: { parts: 'file.txt' }, input: 'parts', expect: /directory/ },
    { name: 'parts with a newline', inputs: { parts: 'parts\nx' }, input: 'parts', expect: /one line/ },
    { name: 'signing unknown', inputs: { signing: 'gpg' }, input: 'signing', expect: /keyless, key, none/ },
    { name: 'signing upper case', inputs: { signing: 'KEYLESS' }, input: 'signing' },
    { name: 'key mode without a key', inputs: { signing: 'key' }, input: 'cosign-key', expect: /required with signing: key/ },
    {
      name: 'a key without key mode',
      inputs: { signing: 'keyless', 'cosign-key': KEY },
      input: 'cosign-key',
      expect: /only used with signing: key/,
    },
    {
      name: 'a key that is not a PEM',
      inputs: { signing: 'key', 'cosign-key': 'hardening-canary-not-a-key' },
      input: 'cosign-key',
      expect: /private key/,
    },
    {
      name: 'a key naming an unset variable',
      inputs: { signing: 'key', 'cosign-key': 'env://HALLMARK_NO_SUCH_VAR' },
      input: 'cosign-key',
      expect: /not set/,
    },
    { name: 'a key naming a bad variable', inputs: { signing: 'key', 'cosign-key': 'env://1X' }, input: 'cosign-key' },
    { name: 'tlog not a boolean', inputs: { tlog: 'off' }, input: 'tlog' },
    { name: 'tlog false keyless', inputs: { signing: 'keyless', tlog: 'false' }, input: 'tlog' },
    {
      name: 'signing-config missing',
      inputs: { signing: 'keyless', 'signing-config': 'nope.json' },
      input: 'signing-config',
      expect: /existing file/,
    },
    {
      name: 'trusted-root missing',
      inputs: { signing: 'keyless', 'trusted-root': 'nope.json' },
      input: 'trusted-root',
      expect: /existing file/,
    },
    {
      name: 'signing-config unsigned',
      inputs: { 'signing-config': 'file.txt' },
      input: 'signing-config',
      expect: /only used when the trail is signed/,
    },
    { name: 'artifact-name with a slash', inputs: { 'artifact-name': 'a/b' }, input: 'artifact-name' },
    { name: 'artifact-name with ..', inputs: { 'artifact-name': '../audit' }, input: 'artifact-name' },
    { name: 'artifact-name with a colon', inputs: { 'artifact-name': 'audit:1' }, input: 'artifact-name' },
    { name: 'artifact-name too long', inputs: { 'artifact-name': 'a'.repeat(129) }, input: 'artifact-name' },
    { name: 'artifact-name a workflow command', inputs: { 'artifact-name': '::error::x' }, input: 'artifact-name' },
    { name: 'upload not a boolean', inputs: { upload: 'yes' }, input: 'upload' },
    { name: 'overwrite not a boolean', inputs: { overwrite: 'always' }, input: 'overwrite' },
    { name: 'retention-days zero', inputs: { 'retention-days': '0' }, input: 'retention-days' },
    { name: 'retention-days 91', inputs: { 'retention-days': '91' }, input: 'retention-days' },
    { name: 'retention-days not a number', inputs: { 'retention-days': 'ninety' }, input: 'retention-days' },
    { name: 'jobs not JSON', inputs: { jobs: '{"build": ' }, input: 'jobs' },
    { name: 'jobs a list', inputs: { jobs: '["build"]' }, input: 'jobs', expect: /needs context/ },
    { name: 'jobs with an unknown result', inputs: { jobs: '{"build": {"result": "great"}}' }, input: 'jobs', expect: /result/ },
    { name: 'jobs with a bad job id', inputs: { jobs: '{"a b": {"result": "success"}}' }, input: 'jobs', expect: /job id/ },
    { name: 'facts a list', inputs: { facts: '- a\n- b' }, input: 'facts' },
    { name: 'facts with a bad name', inputs: { facts: '"x y": 1' }, input: 'facts', expect: /fact names/ },
    { name: 'facts setting a job result', inputs: { facts: 'job.deploy: success' }, input: 'facts', expect: /records it itself/ },
    { name: 'facts setting the signer', inputs: { facts: 'signer-identity: https://evil' }, input: 'facts', expect: /records it itself/ },
    { name: 'facts with a multi-line value', inputs: { facts: 'a: "x\\ny"' }, input: 'facts', expect: /one-line/ },
    { name: 'facts with a long value', inputs: { facts: `a: ${'x'.repeat(300)}` }, input: 'facts', expect: /one-line/ },
    { name: 'facts with a nested mapping', inputs: { facts: 'a: { b: 1 }' }, input: 'facts' },
  ],
};
export default corpus;
