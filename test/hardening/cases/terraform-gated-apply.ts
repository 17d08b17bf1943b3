/**
 * terraform-gated-apply's bad inputs: each must fail with one `::error::` naming the input, before
 * terraform runs, an artifact is touched or a comment is posted. The base is a valid plan-mode run
 * over a plan JSON in the workspace (so a passing base needs no terraform). `github-token` is the
 * secret input.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionCorpus } from '../corpus.js';

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const apply = { mode: 'apply', 'plan-sha256': SHA, 'plan-json': undefined };

const corpus: ActionCorpus = {
  action: 'terraform-gated-apply',
  base: {
    inputs: {
      mode: 'plan',
      'working-directory': 'infra',
      'plan-json': 'plan.json',
      environment: 'production',
      'github-token': 'ghs_hardeningCanaryToken0123456789',
    },
  },
  setup: (workspace) => {
    mkdirSync(join(workspace, 'infra', 'a-directory'), { recursive: true });
    writeFileSync(join(workspace, 'infra', 'main.tf'), 'resource "null_resource" "x" {}\n');
    writeFileSync(join(workspace, 'infra', 'prod.tfvars'), 'a = 1\n');
    writeFileSync(join(workspace, 'plan.json'), JSON.stringify({ format_version: '1.2', planned_values: {}, resource_changes: [] }));
  },
  secrets: ['github-token'],
  bad: [
    { name: 'mode missing', inputs: { mode: undefined }, input: 'mode', expect: /required/ },
    { name: 'mode unknown', inputs: { mode: 'destroy' }, input: 'mode', expect: /plan, apply/ },
    { name: 'mode in capitals', inputs: { mode: 'PLAN' }, input: 'mode' },
    { name: 'mode with a newline', inputs: { mode: 'plan\napply' }, input: 'mode' },
    {
      name: 'apply without plan-sha256',
      inputs: { ...apply, 'plan-sha256': undefined },
      input: 'plan-sha256',
      expect: /required in apply mode/,
    },
    { name: 'plan-sha256 too short', inputs: { ...apply, 'plan-sha256': SHA.slice(1) }, input: 'plan-sha256', expect: /64-hex-digit/ },
    { name: 'plan-sha256 too long', inputs: { ...apply, 'plan-sha256': `${SHA}0` }, input: 'plan-sha256' },
    { name: 'plan-sha256 not hex', inputs: { ...apply, 'plan-sha256': `${SHA.slice(0, 63)}g` }, input: 'plan-sha256' },
    { name: 'plan-sha256 sha512 prefix', inputs: { ...apply, 'plan-sha256': `sha512:${SHA}` }, input: 'plan-sha256' },
    {
      name: 'plan-sha256 with a space inside',
      inputs: { ...apply, 'plan-sha256': `${SHA.slice(0, 32)} ${SHA.slice(32)}` },
      input: 'plan-sha256',
    },
    {
      name: 'working-directory missing',
      inputs: { 'working-directory': 'no/such/dir' },
      input: 'working-directory',
      expect: /existing directory/,
    },
    { name: 'working-directory is a file', inputs: { 'working-directory': 'plan.json' }, input: 'working-directory' },
    { name: 'working-directory missing in apply mode', inputs: { ...apply, 'working-directory': 'gone' }, input: 'working-directory' },
    { name: 'environment with a slash', inputs: { environment: 'prod/eu' }, input: 'environment', expect: /letters, digits/ },
    { name: 'environment with spaces', inputs: { environment: 'prod eu' }, input: 'environment' },
    { name: 'environment starting with a dot', inputs: { environment: '.hidden' }, input: 'environment' },
    { name: 'environment too long', inputs: { environment: 'e'.repeat(101) }, input: 'environment' },
    { name: 'environment with markdown', inputs: { environment: 'prod-->' }, input: 'environment' },
    { name: 'artifact-name with a colon', inputs: { 'artifact-name': 'tfplan:prod' }, input: 'artifact-name', expect: /artifact name/ },
    { name: 'artifact-name with a path', inputs: { 'artifact-name': '../tfplan' }, input: 'artifact-name' },
    { name: 'artifact-name too long', inputs: { 'artifact-name': 'a'.repeat(201) }, input: 'artifact-name' },
    {
      name: 'var-files names a missing file',
      inputs: { 'var-files': 'prod.tfvars\nmissing.tfvars' },
      input: 'var-files',
      expect: /existing file/,
    },
    { name: 'var-files names a directory', inputs: { 'var-files': 'a-directory' }, input: 'var-files' },
    {
      name: 'backend-config neither key=value nor a file',
      inputs: { 'backend-config': 'bucket=ok\nnot-a-file.hcl' },
      input: 'backend-config',
      expect: /key=value or an existing file/,
    },
    { name: 'backend-config with a flag-like key', inputs: { 'backend-config': '-backend=false' }, input: 'backend-config' },
    { name: 'plan-json missing', inputs: { 'plan-json': 'missing.json' }, input: 'plan-json', expect: /existing file/ },
    { name: 'plan-json a directory', inputs: { 'plan-json': 'infra' }, input: 'plan-json' },
    { name: 'allow-destroy yes', inputs: { 'allow-destroy': 'yes' }, input: 'allow-destroy', expect: /true or false/ },
    { name: 'comment 1', inputs: { comment: '1' }, input: 'comment' },
    { name: 'lock-timeout not a duration', inputs: { 'lock-timeout': 'five minutes' }, input: 'lock-timeout', expect: /duration/ },
    { name: 'lock-timeout over a day', inputs: { 'lock-timeout': '25h' }, input: 'lock-timeout' },
  ],
};

export default corpus;
