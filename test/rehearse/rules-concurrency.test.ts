/**
 * Rules: `concurrency` (one running and one pending per group; a newer run cancels the older
 * pending one; cancel-in-progress cancels the running one), `strategy.fail-fast` and
 * `max-parallel`, and job-level `continue-on-error`, as GitHub documents them
 * (docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/control-the-concurrency-of-workflows-and-jobs
 * and …/running-variations-of-jobs-in-a-workflow#handling-failures). Jobs wait on files the test
 * creates, so the order is forced, never timed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rehearse, type RunRecord } from '../../packages/rehearse/src/engine.js';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 600; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
};

/** Starts a rehearsal without awaiting it; its log is readable while it runs. */
function start(root: string, workflow: string, runDir: string, state: string) {
  const h = { log: '', record: undefined as RunRecord | undefined, done: undefined as unknown as Promise<RunRecord> };
  h.done = rehearse({
    workflow,
    root,
    hallmarkRoot: root,
    runDir,
    concurrencyState: state,
    out: { write: (s: string) => (h.log += s) },
  }).then((r) => (h.record = r));
  return h;
}

// Waits (up to 30 s) for a file the test creates; `$SHARED` is a directory outside every run.
const waitStep = (file: string) =>
  `for i in $(seq 600); do test -e "$SHARED/${file}" && break; sleep 0.05; done; test -e "$SHARED/${file}"`;

describe('concurrency groups', () => {
  it('keeps one pending run per group: a newer run cancels the older pending one; the running one finishes', async () => {
    const root = repo({});
    const shared = join(root, 'shared');
    const wf = (name: string) => `on: push
concurrency: deploy-prod
env:
  SHARED: ${shared}
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - run: mkdir -p "$SHARED" && touch "$SHARED/${name}-started"
      - run: ${waitStep(`release-${name}`)}
      - id: o
        run: echo "first-done=$(test -e "$SHARED/a-done" && echo yes || echo no)" >> "$GITHUB_OUTPUT"
      - run: touch "$SHARED/${name}-done"
`;
    for (const n of ['a', 'b', 'c']) writeFileSync(join(root, `${n}.yml`), wf(n));
    const state = join(root, 'concurrency.json');
    const a = start(root, 'a.yml', join(root, 'run-a'), state);
    await waitFor(() => existsSync(join(shared, 'a-started')), 'run a to start');
    const b = start(root, 'b.yml', join(root, 'run-b'), state);
    await waitFor(() => b.log.includes("◔ concurrency group 'deploy-prod'"), 'run b to queue');
    const c = start(root, 'c.yml', join(root, 'run-c'), state);
    const rb = await b.done;
    expect(rb.status).toBe('cancelled');
    expect(rb.cancelledBy).toMatch(/a newer run in concurrency group 'deploy-prod'/);
    expect(rb.jobs).toEqual([]);
    expect(existsSync(join(shared, 'b-started'))).toBe(false);
    // c waits behind a; a was not cancelled by either newcomer.
    expect(existsSync(join(shared, 'c-started'))).toBe(false);
    writeFileSync(join(shared, 'release-a'), '');
    writeFileSync(join(shared, 'release-c'), '');
    const ra = await a.done;
    expect(ra.status, a.log).toBe('success');
    const rc = await c.done;
    expect(rc.status, c.log).toBe('success');
    // c's job ran after a's had finished.
    expect(rc.jobs[0]!.steps.find((s) => s.id === 'o')!.outputs).toEqual({ 'first-done': 'yes' });
  });

  it('with cancel-in-progress, cancels the running run (its always() step still runs) and runs the newer one', async () => {
    const root = repo({});
    const shared = join(root, 'shared');
    const wf = (name: string) => `on: push
concurrency:
  group: ci-\${{ github.ref }}
  cancel-in-progress: true
env:
  SHARED: ${shared}
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - run: mkdir -p "$SHARED" && touch "$SHARED/${name}-started"
      - run: touch "$SHARED/${name}-waiting"; ${waitStep(`release-${name}`)}
      - if: always()
        run: touch "$SHARED/${name}-cleanup"
`;
    writeFileSync(join(root, 'd.yml'), wf('d'));
    writeFileSync(join(root, 'e.yml'), wf('e'));
    const state = join(root, 'concurrency.json');
    const d = start(root, 'd.yml', join(root, 'run-d'), state);
    await waitFor(() => existsSync(join(shared, 'd-waiting')), 'run d to reach its waiting step');
    writeFileSync(join(shared, 'release-e'), '');
    const e = start(root, 'e.yml', join(root, 'run-e'), state);
    const rd = await d.done;
    expect(rd.status, d.log).toBe('cancelled');
    expect(rd.jobs[0]!.status).toBe('cancelled');
    expect(rd.jobs[0]!.steps.map((s) => s.status)).toEqual(['success', 'cancelled', 'success']);
    expect(existsSync(join(shared, 'd-cleanup'))).toBe(true);
    expect((await e.done).status, e.log).toBe('success');
  });

  it('queues a job whose job-level group is taken and cancels the older pending job', async () => {
    const root = repo({});
    const shared = join(root, 'shared');
    writeFileSync(
      join(root, 'j.yml'),
      `on: push
env:
  SHARED: ${shared}
permissions: {}
jobs:
  first:
    runs-on: ubuntu-24.04
    concurrency: env-prod
    steps:
      - run: mkdir -p "$SHARED" && touch "$SHARED/first-started"
      - run: ${waitStep('release-first')}
  second:
    runs-on: ubuntu-24.04
    steps:
      - run: ${waitStep('first-started')}
  queued:
    needs: second
    runs-on: ubuntu-24.04
    concurrency: env-prod
    steps:
      - run: touch "$SHARED/queued-ran"
  newest:
    needs: queued-marker
    runs-on: ubuntu-24.04
    concurrency: env-prod
    steps:
      - run: touch "$SHARED/newest-ran"
  queued-marker:
    needs: second
    runs-on: ubuntu-24.04
    steps:
      - run: sleep 0.3
`,
    );
    const h = start(root, 'j.yml', join(root, 'run'), join(root, 'concurrency.json'));
    await waitFor(() => h.log.includes('⊘ queued: cancelled while pending'), 'the older pending job to be cancelled');
    writeFileSync(join(shared, 'release-first'), '');
    const r = await h.done;
    const status = Object.fromEntries(r.jobs.map((j) => [j.name, j.status]));
    expect(status).toMatchObject({ first: 'success', queued: 'cancelled', newest: 'success' });
    expect(existsSync(join(shared, 'queued-ran'))).toBe(false);
    expect(existsSync(join(shared, 'newest-ran'))).toBe(true);
  });
});

describe('strategy: fail-fast and max-parallel', () => {
  const matrixWf = (strategy: string, go: string) => `on: push
permissions: {}
jobs:
  m:
    runs-on: ubuntu-24.04
    strategy:
${strategy}
      matrix:
        leg: [a, b, c]
    steps:
      - run: |
          if [ "\${{ matrix.leg }}" = a ]; then exit 3; fi
          # b runs until cancelled (or 30 s); c is queued behind it with max-parallel 2
          if [ "\${{ matrix.leg }}" = b ]; then for i in $(seq 600); do test -e "${go}" && break; sleep 0.05; done; fi
          true
`;

  it('fail-fast (the default) cancels the running leg and never starts the queued one', async () => {
    const root = repo({});
    writeFileSync(join(root, 'w.yml'), matrixWf('      max-parallel: 2', join(root, 'never')));
    const { record, log } = await run(root, 'w.yml');
    expect(record.status, log).toBe('failure');
    const legs = Object.fromEntries(record.jobs.map((j) => [j.name, j.status]));
    expect(legs).toEqual({ 'm (a)': 'failure', 'm (b)': 'cancelled', 'm (c)': 'cancelled' });
    expect(record.jobs.find((j) => j.name === 'm (c)')!.steps).toEqual([]);
  });

  it('without fail-fast, the other legs run to the end', async () => {
    const root = repo({ go: '' });
    writeFileSync(join(root, 'w.yml'), matrixWf('      fail-fast: false\n      max-parallel: 2', join(root, 'go')));
    const { record, log } = await run(root, 'w.yml');
    expect(record.status, log).toBe('failure');
    expect(Object.fromEntries(record.jobs.map((j) => [j.name, j.status]))).toEqual({
      'm (a)': 'failure',
      'm (b)': 'success',
      'm (c)': 'success',
    });
  });

  it('runs at most max-parallel legs at once', async () => {
    const legsWf = (mp: string) => `on: push
permissions: {}
jobs:
  m:
    runs-on: ubuntu-24.04
    strategy:
${mp}
      matrix:
        n: [1, 2, 3, 4]
    steps:
      - id: s
        run: |
          d="$RUNNER_TEMP/../../running"; mkdir -p "$d"; touch "$d/\${{ matrix.n }}"
          sleep 0.4
          echo "seen=$(ls "$d" | wc -l)" >> "$GITHUB_OUTPUT"
          rm "$d/\${{ matrix.n }}"
`;
    const root = repo({ 'two.yml': legsWf('      max-parallel: 2'), 'all.yml': legsWf('      fail-fast: true') });
    const two = await run(root, 'two.yml', {}, join(root, 'r2'));
    expect(two.record.status, two.log).toBe('success');
    expect(two.record.jobs.map((j) => Number(j.steps[0]!.outputs!.seen)).every((n) => n <= 2)).toBe(true);
    expect(two.record.matrices.m).toMatchObject({ legs: 4, peakParallel: 2, maxParallel: 2 });
    const all = await run(root, 'all.yml', {}, join(root, 'r4'));
    expect(all.record.matrices.m).toMatchObject({ legs: 4, peakParallel: 4, maxParallel: null });
  });
});

describe('job-level continue-on-error', () => {
  const wf = (coe: string) => `on: push
permissions: {}
jobs:
  flaky:
    runs-on: ubuntu-24.04
${coe}
    steps:
      - run: exit 1
  after:
    needs: flaky
    runs-on: ubuntu-24.04
    steps:
      - id: s
        run: echo "result=\${{ needs.flaky.result }}" >> "$GITHUB_OUTPUT"
`;

  it('keeps the run going and successful when the job fails', async () => {
    const root = repo({ 'w.yml': wf('    continue-on-error: true') });
    const { record, log, job } = await run(root, 'w.yml');
    expect(record.status, log).toBe('success');
    expect(job('flaky')).toMatchObject({ status: 'failure', continueOnError: true });
    expect(job('after')!.steps[0]!.outputs).toEqual({ result: 'success' });
  });

  it('without it, the run fails and dependants are skipped', async () => {
    const root = repo({ 'w.yml': wf('') });
    const { record, job } = await run(root, 'w.yml');
    expect(record.status).toBe('failure');
    expect(job('after')!.status).toBe('skipped');
  });

  it('a failing matrix leg with continue-on-error does not trigger fail-fast', async () => {
    const root = repo({
      'w.yml': `on: push
permissions: {}
jobs:
  m:
    runs-on: ubuntu-24.04
    continue-on-error: \${{ matrix.experimental }}
    strategy:
      matrix:
        v: [stable]
        experimental: [false]
        include:
          - v: nightly
            experimental: true
    steps:
      - run: |
          if [ "\${{ matrix.v }}" = nightly ]; then exit 1; fi
          sleep 0.3
`,
    });
    const { record, log } = await run(root, 'w.yml');
    expect(record.status, log).toBe('success');
    expect(Object.fromEntries(record.jobs.map((j) => [j.name, j.status]))).toEqual({
      'm (stable, false)': 'success',
      'm (nightly, true)': 'failure',
    });
  });
});
