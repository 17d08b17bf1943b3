/**
 * Rule: re-runs as GitHub makes them. `runAttempt` sets github.run_attempt / GITHUB_RUN_ATTEMPT;
 * `rerunFailed` re-runs the failed jobs of an earlier run record as the next attempt of the same
 * run: same run id, same artifact store (attempt 1's artifacts are still there, so an artifact name
 * taken in attempt 1 cannot be uploaded again), successful jobs not run again and their outputs kept.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

const workflow = (sigName: string, shared: string) => `on: push
permissions: {}
env:
  SHARED: ${shared}
jobs:
  build:
    runs-on: ubuntu-24.04
    outputs:
      digest: \${{ steps.b.outputs.digest }}
    steps:
      - id: b
        run: |
          mkdir -p "$SHARED" out && echo run >> "$SHARED/build-runs"
          echo "image-bytes-$RANDOM" > out/image.txt
          echo "digest=sha256:$(sha256sum out/image.txt | cut -c1-12)" >> "$GITHUB_OUTPUT"
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with: { name: image, path: out/image.txt }
  sign:
    needs: build
    runs-on: ubuntu-24.04
    outputs:
      seen: \${{ steps.s.outputs.seen }}
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with: { name: image, path: in }
      - id: s
        env:
          DIGEST: \${{ needs.build.outputs.digest }}
        run: |
          mkdir -p sig && echo "signed $DIGEST" > sig/sig.txt
          test "$DIGEST" = "sha256:$(sha256sum in/image.txt | cut -c1-12)"
          echo "seen=$DIGEST attempt $GITHUB_RUN_ATTEMPT of run $GITHUB_RUN_ID" >> "$GITHUB_OUTPUT"
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: ${sigName}
          path: sig/sig.txt
      - name: flake on the first attempt
        run: test "$GITHUB_RUN_ATTEMPT" != 1
`;

describe('re-run of failed jobs', () => {
  it("re-runs only the failed job as attempt 2 of the same run, with attempt 1's artifact and outputs", async () => {
    const root = repo({});
    const shared = join(root, 'shared');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'w.yml'), workflow('signature-${{ github.run_attempt }}', shared));
    const first = await run(root, 'w.yml', { record: join(root, 'attempt1.json') }, join(root, 'a1'));
    expect(first.record.status, first.log).toBe('failure');
    expect(first.job('sign')!.status).toBe('failure');
    const digest = first.job('build')!.outputs.digest;

    const second = await run(root, 'w.yml', { rerunFailed: join(root, 'attempt1.json') }, join(root, 'a2'));
    expect(second.record.status, second.log).toBe('success');
    expect(second.record.runAttempt).toBe(2);
    expect(second.record.runId).toBe(first.record.runId);
    expect(second.job('build')).toMatchObject({ status: 'success', reusedFrom: 1, outputs: { digest } });
    // build ran once in all; sign saw attempt 1's output and artifact.
    expect(readFileSync(join(shared, 'build-runs'), 'utf8')).toBe('run\n');
    expect(second.job('sign')!.outputs.seen).toBe(`${digest} attempt 2 of run ${first.record.runId}`);
    // Both attempts' signatures are in the one artifact store.
    expect(existsSync(join(first.record.artifactsDir, 'signature-1', 'sig.txt'))).toBe(true);
    expect(existsSync(join(first.record.artifactsDir, 'signature-2', 'sig.txt'))).toBe(true);
    expect(second.log).toContain('↺ build succeeded in attempt 1: not re-run, its outputs kept');
  });

  it('fails attempt 2 when the job uploads an artifact name attempt 1 already took', async () => {
    const root = repo({});
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(root, 'w.yml'), workflow('signature', join(root, 'shared')));
    await run(root, 'w.yml', { record: join(root, 'attempt1.json') }, join(root, 'a1'));
    const second = await run(root, 'w.yml', { rerunFailed: join(root, 'attempt1.json') }, join(root, 'a2'));
    expect(second.record.status).toBe('failure');
    const upload = second.job('sign')!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
    expect(upload.error).toMatch(/an artifact named 'signature' already exists in this run/);
  });

  it('--run-attempt sets github.run_attempt; the CLI refuses a bad one and a re-run of a successful run', async () => {
    const root = repo({
      'a.yml':
        'on: push\npermissions: {}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n      - id: s\n        run: echo "a=$GITHUB_RUN_ATTEMPT/${{ github.run_attempt }}" >> "$GITHUB_OUTPUT"\n',
    });
    const { record, job } = await run(root, 'a.yml', { runAttempt: 3, record: join(root, 'ok.json') });
    expect(record.status).toBe('success');
    expect(job('j')!.steps[0]!.outputs).toEqual({ a: '3/3' });
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'dist/rehearse/cli.js'), 'a.yml', '--run-dir', join(root, 'c'), ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, INIT_CWD: root },
      });
    const bad = cli('--run-attempt', '0');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--run-attempt expects a whole number from 1, got '0'");
    const done = cli('--rerun-failed', 'ok.json');
    expect(done.status).toBe(2);
    expect(done.stderr).toContain('that run succeeded; there is no failed job to re-run');
  });
});
