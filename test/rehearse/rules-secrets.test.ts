/**
 * Rule: secret names as GitHub stores them (letters, digits and _; not starting with a digit or
 * GITHUB_; not case-sensitive), in --secret, in on.workflow_call.secrets, in the secrets a job passes
 * to a called workflow and in secrets.<name> references. A bad name stops the rehearsal before any
 * job starts (the CLI exits 2 naming it); good names, `secrets: inherit` and secrets.GITHUB_TOKEN pass.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RehearsalError } from '../../packages/rehearse/src/engine.js';
import { secretNameProblem } from '../../packages/rehearse/src/rules.js';
import { ROOT } from '../harness/runner.js';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

const called = (declared: string, ref: string) => `on:
  workflow_call:
    secrets:
      ${declared}: { required: true }
permissions: {}
jobs:
  inner:
    runs-on: ubuntu-24.04
    steps:
      - id: s
        env:
          V: \${{ secrets.${ref} }}
        run: echo "len=\${#V}" >> "$GITHUB_OUTPUT"
`;

describe('secret names', () => {
  it("knows GitHub's naming rule", () => {
    expect(secretNameProblem('COSIGN_PUBLIC_KEY')).toBeUndefined();
    expect(secretNameProblem('_x9')).toBeUndefined();
    expect(secretNameProblem('cosign-public-key')).toMatch(/letters, digits and _/);
    expect(secretNameProblem('9LIVES')).toMatch(/digit/);
    expect(secretNameProblem('github_pat')).toMatch(/GITHUB_/);
    expect(secretNameProblem('MY KEY')).toMatch(/letters, digits and _/);
  });

  it('refuses a hyphenated --secret before any job starts', async () => {
    const root = repo({
      '.github/workflows/w.yml':
        'on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: touch "$RUNNER_TEMP/../../ran"\n',
    });
    await expect(run(root, '.github/workflows/w.yml', { secrets: { 'slack-webhook-url': 'https://hooks.example/x' } })).rejects.toThrow(
      /'slack-webhook-url' may hold only letters, digits and _/,
    );
    expect(existsSync(join(root, '.run', 'jobs'))).toBe(false);
    await expect(run(root, '.github/workflows/w.yml', { secrets: { Token: 'a', TOKEN: 'b' } })).rejects.toThrow(
      /'Token' and 'TOKEN' are one secret/,
    );
  });

  it.each([
    [
      'a secrets.<name> reference',
      called('COSIGN_PUBLIC_KEY', 'cosign-public-key'),
      /'cosign-public-key' in jobs\.inner\.steps\[0\]\.env\.V may hold only/,
    ],
    [
      'a workflow_call.secrets declaration',
      called('cosign-public-key', 'COSIGN_PUBLIC_KEY'),
      /'cosign-public-key' in on\.workflow_call\.secrets may hold only/,
    ],
    [
      "a secrets['<name>'] reference",
      called('K', "['2FA_SEED']"),
      /'2FA_SEED' in jobs\.inner\.steps\[0\]\.env\.V must not start with a digit/,
    ],
    [
      'a GITHUB_ prefix',
      called('GITHUB_APP_KEY', 'GITHUB_APP_KEY'),
      /'GITHUB_APP_KEY' in on\.workflow_call\.secrets must not start with GITHUB_/,
    ],
  ])('refuses %s in a called workflow, with exit 2 from the CLI, before any job starts', async (_what, calledYml, message) => {
    const root = repo({
      '.github/workflows/called.yml': calledYml.replace("secrets.['2FA_SEED']", "secrets['2FA_SEED']"),
      '.github/workflows/caller.yml':
        'on: push\npermissions: {}\njobs:\n  call:\n    uses: ./.github/workflows/called.yml\n    secrets: inherit\n',
    });
    await expect(run(root, '.github/workflows/caller.yml')).rejects.toThrow(message);
    expect(existsSync(join(root, '.run', 'jobs'))).toBe(false);
    const cli = spawnSync(
      process.execPath,
      [join(ROOT, 'dist/rehearse/cli.js'), '.github/workflows/caller.yml', '--run-dir', join(root, '.cli')],
      { cwd: root, encoding: 'utf8', env: { ...process.env, INIT_CWD: root } },
    );
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(message);
    expect(existsSync(join(root, '.cli', 'jobs'))).toBe(false);
  });

  it('refuses a hyphenated name in the secrets a job passes to a called workflow', async () => {
    const root = repo({
      '.github/workflows/called.yml': called('K', 'K'),
      '.github/workflows/caller.yml':
        'on: push\npermissions: {}\njobs:\n  call:\n    uses: ./.github/workflows/called.yml\n    secrets:\n      K: x\n      my-key: y\n',
    });
    await expect(run(root, '.github/workflows/caller.yml')).rejects.toThrow(/'my-key' in jobs\.call\.secrets may hold only/);
  });

  it("passes valid names through secrets: inherit and an explicit mapping, case-insensitively; secrets.GITHUB_TOKEN is GitHub's own", async () => {
    const root = repo({
      '.github/workflows/called.yml': called('COSIGN_PUBLIC_KEY', 'cosign_public_key'),
      '.github/workflows/caller.yml': `on: push
permissions: {}
jobs:
  inherit:
    uses: ./.github/workflows/called.yml
    secrets: inherit
  mapped:
    uses: ./.github/workflows/called.yml
    secrets:
      COSIGN_PUBLIC_KEY: \${{ secrets.OTHER_KEY }}
  token:
    runs-on: ubuntu-24.04
    steps:
      - id: t
        env:
          T: \${{ secrets.GITHUB_TOKEN }}
        run: echo "len=\${#T}" >> "$GITHUB_OUTPUT"
`,
    });
    const { record, log, job } = await run(root, '.github/workflows/caller.yml', {
      secrets: { COSIGN_PUBLIC_KEY: 'pub-key-1234567', OTHER_KEY: 'other-12' },
    });
    expect(record.status, log).toBe('success');
    expect(job('inherit / inner')!.steps[0]!.outputs).toEqual({ len: '15' });
    expect(job('mapped / inner')!.steps[0]!.outputs).toEqual({ len: '8' });
    expect(Number(job('token')!.steps[0]!.outputs!.len)).toBeGreaterThan(20);
  });

  it("is a RehearsalError (the CLI's exit 2)", async () => {
    const root = repo({
      '.github/workflows/w.yml':
        'on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ secrets.a-b }}"\n',
    });
    await expect(run(root, '.github/workflows/w.yml')).rejects.toBeInstanceOf(RehearsalError);
  });
});

describe('job outputs that hold a secret', () => {
  it('are not passed on, as the runner skips them; other outputs are', async () => {
    const root = repo({
      'w.yml': `on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-24.04
    outputs:
      leaked: \${{ steps.s.outputs.leaked }}
      plain: \${{ steps.s.outputs.plain }}
    steps:
      - id: s
        env:
          K: \${{ secrets.DEPLOY_KEY }}
        run: |
          echo "leaked=key:$K" >> "$GITHUB_OUTPUT"
          echo "plain=fine" >> "$GITHUB_OUTPUT"
  b:
    needs: a
    runs-on: ubuntu-24.04
    steps:
      - id: r
        env:
          L: \${{ needs.a.outputs.leaked }}
          P: \${{ needs.a.outputs.plain }}
        run: echo "got=[$L][$P]" >> "$GITHUB_OUTPUT"
`,
    });
    const { record, log, job } = await run(root, 'w.yml', { secrets: { DEPLOY_KEY: 'k-5f3a9c1e' } });
    expect(record.status, log).toBe('success');
    expect(job('b')!.steps[0]!.outputs).toEqual({ got: '[][fine]' });
    expect(job('a')!.skippedOutputs).toEqual(['leaked']);
    expect(log).toContain("Skip output 'leaked' since it may contain secret.");
  });
});

describe('contexts GitHub refuses in if:', () => {
  it.each([
    [
      'secrets in a step if:',
      "      - if: secrets.SLACK_WEBHOOK_URL != ''\n        run: 'true'\n",
      '',
      /jobs\.j\.steps\[0\]\.if uses the 'secrets' context/,
    ],
    ['env in a job if:', "      - run: 'true'\n", "    if: ${{ env.DEPLOY == 'yes' }}\n", /jobs\.j\.if uses the 'env' context/],
  ])('refuses %s before any job starts', async (_what, steps, jobIf, message) => {
    const root = repo({ 'w.yml': `on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n${jobIf}    steps:\n${steps}` });
    await expect(run(root, 'w.yml')).rejects.toThrow(message);
  });

  it('accepts the usual pattern: the secret through env:, tested in a step if:', async () => {
    const root = repo({
      'w.yml': `on: push
permissions: {}
jobs:
  j:
    runs-on: ubuntu-24.04
    if: github.event_name == 'push'
    env:
      HOOK: \${{ secrets.SLACK_WEBHOOK_URL }}
    steps:
      - id: s
        if: env.HOOK != '' && !contains('secrets.x', 'y')
        run: echo "ran=yes" >> "$GITHUB_OUTPUT"
`,
    });
    const { record, job } = await run(root, 'w.yml', { secrets: { SLACK_WEBHOOK_URL: 'https://hooks.example/1' } });
    expect(record.status).toBe('success');
    expect(job('j')!.steps[0]!.outputs).toEqual({ ran: 'yes' });
  });
});
