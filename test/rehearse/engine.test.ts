/**
 * The rehearsal engine on small purpose-made workflows: needs order and parallelism, outputs,
 * if:, matrices, the runner file protocol, local reusable workflows, local node actions (and the
 * hallmark-dev/hallmark/actions/… mapping), unknown uses:, environment gates, the real tools that
 * setup-tools steps hand out, the simulated BuildKit, masking.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandMatrix, rehearse, RehearsalError, type RehearseOptions } from '../../packages/rehearse/src/engine.js';
import { realTools } from '../harness/tools.js';

const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function repo(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hallmark-rehearse-test-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

async function run(root: string, workflow: string, opts: Partial<RehearseOptions> = {}) {
  let log = '';
  const record = await rehearse({
    workflow,
    root,
    hallmarkRoot: root,
    runDir: join(root, '.run'),
    out: { write: (s: string) => (log += s) },
    ...opts,
  });
  return { record, log, job: (name: string) => record.jobs.find((j) => j.name === name) };
}

describe('needs order, outputs and if:', () => {
  const root = repo({
    '.github/workflows/w.yml': `name: w
on: push
permissions: {}
jobs:
  first:
    runs-on: ubuntu-24.04
    outputs:
      value: \${{ steps.make.outputs.value }}
      multi: \${{ steps.make.outputs.multi }}
    steps:
      - id: make
        run: |
          date +%s%N > "$RUNNER_TEMP/../../first.done"
          echo "value=42" >> "$GITHUB_OUTPUT"
          { echo "multi<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
  left:
    needs: first
    runs-on: ubuntu-24.04
    steps:
      - run: date +%s%N > "$RUNNER_TEMP/../../left.start"; sleep 0.3; date +%s%N > "$RUNNER_TEMP/../../left.done"
  right:
    needs: first
    runs-on: ubuntu-24.04
    steps:
      - run: date +%s%N > "$RUNNER_TEMP/../../right.start"; sleep 0.3; date +%s%N > "$RUNNER_TEMP/../../right.done"
  last:
    needs: [left, right, first]
    runs-on: ubuntu-24.04
    steps:
      - env:
          V: \${{ needs.first.outputs.value }}
          M: \${{ needs.first.outputs.multi }}
        run: |
          date +%s%N > "$RUNNER_TEMP/../../last.start"
          test "$V" = 42
          test "$M" = "$(printf 'line one\\nline two')"
          echo "sum=$((V + 1))" >> "$GITHUB_OUTPUT"
        id: s
      - if: steps.s.outputs.sum == '43'
        run: echo taken
        id: taken
      - if: steps.s.outputs.sum == '44'
        run: echo not taken
        id: not-taken
  skipped:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-24.04
    steps:
      - run: exit 1
  after-skipped:
    needs: skipped
    if: github.event_name == 'push'
    runs-on: ubuntu-24.04
    steps:
      - run: exit 1
  after-skipped-always:
    needs: skipped
    if: always() && needs.skipped.result == 'skipped'
    runs-on: ubuntu-24.04
    steps:
      - run: exit 0
`,
  });

  it('runs jobs after their needs, independent ones side by side, and passes outputs through', async () => {
    const { record, job } = await run(root, '.github/workflows/w.yml');
    expect(record.status).toBe('success');
    const jobsDir = join(root, '.run', 'jobs');
    const t = (n: string) => {
      // each job's RUNNER_TEMP is .run/jobs/<job>/temp, so ../../<n>.done lands in .run/jobs
      return BigInt(readFileSync(join(jobsDir, n), 'utf8').trim());
    };
    const first = t('first.done');
    expect(t('left.start') > first).toBe(true);
    expect(t('right.start') > first).toBe(true);
    // independent jobs overlap: each started before the other finished
    expect(t('left.start') < t('right.done')).toBe(true);
    expect(t('right.start') < t('left.done')).toBe(true);
    expect(t('last.start') > t('left.done') && t('last.start') > t('right.done')).toBe(true);
    expect(job('first')!.outputs).toEqual({ value: '42', multi: 'line one\nline two' });
    const last = job('last')!;
    expect(last.steps.map((s) => [s.id, s.status])).toEqual([
      ['s', 'success'],
      ['taken', 'success'],
      ['not-taken', 'skipped'],
    ]);
    expect(job('skipped')!.status).toBe('skipped');
    // a skipped need skips the dependant (implicit success()), unless its if: uses a status function
    expect(job('after-skipped')!.status).toBe('skipped');
    expect(job('after-skipped-always')!.status).toBe('success');
    const onDisk = JSON.parse(readFileSync(record.recordFile, 'utf8'));
    expect(onDisk.jobs).toHaveLength(7);
    expect(onDisk.criticalPath.map((j: { name: string }) => j.name)[0]).toBe('first');
  });
});

describe('failure handling', () => {
  const root = repo({
    '.github/workflows/f.yml': `name: f
on: push
permissions: {}
jobs:
  breaks:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "::error::the build broke"; exit 3
      - run: echo never
      - if: failure()
        run: echo "cleanup ran" >> "$GITHUB_STEP_SUMMARY"
      - if: always()
        id: tolerated
        continue-on-error: true
        run: exit 1
  downstream:
    needs: breaks
    runs-on: ubuntu-24.04
    steps:
      - run: exit 0
  on-failure:
    needs: [breaks, downstream]
    if: failure()
    runs-on: ubuntu-24.04
    steps:
      - env:
          R: \${{ needs.breaks.result }}
          D: \${{ needs.downstream.result }}
        run: test "$R" = failure && test "$D" = skipped
`,
  });

  it('stops a job at the failing step, runs failure()/always() steps, skips dependants, runs failure() jobs', async () => {
    const { record, job, log } = await run(root, '.github/workflows/f.yml');
    expect(record.status).toBe('failure');
    const b = job('breaks')!;
    expect(b.steps.map((s) => s.status)).toEqual(['failure', 'skipped', 'success', 'failure']);
    expect(b.steps[0]!.exitCode).toBe(3);
    expect(b.summary).toContain('cleanup ran');
    expect(job('downstream')!.status).toBe('skipped');
    expect(job('on-failure')!.status).toBe('success');
    expect(log).toContain('error: the build broke');
  });
});

describe('matrix', () => {
  it('expands axes, exclude and include the way GitHub does', () => {
    expect(
      expandMatrix({
        os: ['a', 'b'],
        v: [1, 2],
        exclude: [{ os: 'b', v: 2 }],
        include: [
          { os: 'a', extra: 'x' },
          { os: 'c', v: 9 },
        ],
      }),
    ).toEqual([
      { os: 'a', v: 1, extra: 'x' },
      { os: 'a', v: 2, extra: 'x' },
      { os: 'b', v: 1 },
      { os: 'c', v: 9 },
    ]);
    expect(expandMatrix(undefined)).toEqual([undefined]);
  });

  it('runs one leg per combination with matrix.* in scope; leg outputs overwrite each other', async () => {
    const root = repo({
      '.github/workflows/m.yml': `on: push
permissions: {}
jobs:
  legs:
    strategy:
      matrix:
        image: [api, worker]
        include: [{ image: api, port: 8080 }]
    runs-on: ubuntu-24.04
    outputs:
      last: \${{ steps.o.outputs.image }}
    steps:
      - id: o
        env: { IMAGE: "\${{ matrix.image }}", PORT: "\${{ matrix.port }}", TOTAL: "\${{ strategy.job-total }}" }
        run: |
          echo "image=$IMAGE" >> "$GITHUB_OUTPUT"
          echo "$IMAGE:$PORT:$TOTAL" > "$RUNNER_TEMP/../../leg-$IMAGE"
  after:
    needs: legs
    runs-on: ubuntu-24.04
    steps:
      - env: { L: "\${{ needs.legs.outputs.last }}" }
        run: test "$L" = api || test "$L" = worker
`,
    });
    const { record } = await run(root, '.github/workflows/m.yml');
    expect(record.status).toBe('success');
    expect(record.jobs.filter((j) => j.id === 'legs').map((j) => j.matrix)).toEqual([{ image: 'api', port: 8080 }, { image: 'worker' }]);
    expect(readFileSync(join(root, '.run', 'jobs', 'leg-api'), 'utf8').trim()).toBe('api:8080:2');
    expect(readFileSync(join(root, '.run', 'jobs', 'leg-worker'), 'utf8').trim()).toBe('worker::2');
  });
});

describe('runner file protocol', () => {
  it('GITHUB_ENV and GITHUB_PATH carry to later steps; STEP_SUMMARY is kept; GITHUB_OUTPUT heredocs parse', async () => {
    const root = repo({
      '.github/workflows/p.yml': `on: push
permissions: {}
jobs:
  p:
    runs-on: ubuntu-24.04
    env:
      LEVEL: job
    steps:
      - run: |
          mkdir -p "$RUNNER_TEMP/bin"
          printf '#!/bin/sh\\necho from-path-tool\\n' > "$RUNNER_TEMP/bin/hallmark-probe"
          chmod +x "$RUNNER_TEMP/bin/hallmark-probe"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
          echo "FROM_STEP=one" >> "$GITHUB_ENV"
          { echo "MULTI<<X"; echo "a"; echo "b"; echo "X"; } >> "$GITHUB_ENV"
          echo "# hello summary" >> "$GITHUB_STEP_SUMMARY"
      - id: check
        env:
          LEVEL: step
        run: |
          test "$FROM_STEP" = one
          test "$MULTI" = "$(printf 'a\\nb')"
          test "$LEVEL" = step
          test "$(hallmark-probe)" = from-path-tool
          test -n "$GITHUB_WORKSPACE" && test "$PWD" = "$GITHUB_WORKSPACE"
          echo "ok=yes" >> "$GITHUB_OUTPUT"
      - run: test "$LEVEL" = job
`,
    });
    const { record, job } = await run(root, '.github/workflows/p.yml');
    expect(record.status).toBe('success');
    expect(job('p')!.steps[1]!.outputs).toEqual({ ok: 'yes' });
    expect(job('p')!.summary).toContain('# hello summary');
  });
});

describe('reusable workflows, our actions, local equivalents, masking', () => {
  const root = repo({
    'actions/echo-input/action.yml': `name: echo-input
inputs:
  message: { description: m, required: true }
  suffix: { description: s, default: '!' }
  token: { description: t, default: '\${{ github.token }}' }
outputs:
  said: { description: what it said }
runs:
  using: node24
  main: index.mjs
`,
    'actions/echo-input/index.mjs': `import { appendFileSync } from 'node:fs';
const said = process.env['INPUT_MESSAGE'] + process.env['INPUT_SUFFIX'];
appendFileSync(process.env.GITHUB_OUTPUT, 'said=' + said + '\\n');
console.log('secret is ' + process.env.INPUT_TOKEN);
console.log('node ' + process.versions.node);
`,
    '.github/workflows/reusable.yml': `on:
  workflow_call:
    inputs:
      who: { type: string, required: true }
      loud: { type: boolean, default: false }
    secrets:
      token: { required: true }
    outputs:
      said: { value: "\${{ jobs.say.outputs.said }}" }
permissions: {}
jobs:
  say:
    runs-on: ubuntu-24.04
    outputs:
      said: \${{ steps.e.outputs.said }}
    steps:
      - id: e
        uses: hallmark-dev/hallmark/actions/echo-input@main
        with:
          message: \${{ inputs.loud && format('HELLO {0}', inputs.who) || format('hello {0}', inputs.who) }}
          token: \${{ secrets.token }}
`,
    '.github/workflows/caller.yml': `on: workflow_dispatch
permissions: {}
jobs:
  call:
    uses: ./.github/workflows/reusable.yml
    with:
      who: rehearsal
      loud: true
    secrets:
      token: \${{ secrets.MY_TOKEN }}
  use:
    needs: call
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - id: local
        uses: ./actions/echo-input
        with:
          message: \${{ needs.call.outputs.said }}
      - env: { S: "\${{ steps.local.outputs.said }}" }
        run: |
          test "$S" = 'HELLO rehearsal!!'
          test -f actions/echo-input/action.yml
          mkdir out && echo report > out/r.txt
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with: { name: report, path: out/ }
  fetch:
    needs: use
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with: { name: report, path: got }
      - run: test "$(cat got/r.txt)" = report
`,
  });

  it('calls a local reusable workflow with inputs and secrets, maps our actions to local bundles, masks secrets', async () => {
    const { record, job, log } = await run(root, '.github/workflows/caller.yml', {
      event: 'workflow_dispatch',
      secrets: { MY_TOKEN: 'canary-token-81x' },
      verbose: true,
    });
    expect(record.error).toBeUndefined();
    expect(record.status, log).toBe('success');
    expect(job('call')!.outputs).toEqual({ said: 'HELLO rehearsal!' });
    expect(job('call / say')!.steps[0]!.outputs).toEqual({ said: 'HELLO rehearsal!' });
    expect(log).toContain('secret is ***');
    expect(log).not.toContain('canary-token-81x');
    expect(readFileSync(record.recordFile, 'utf8')).not.toContain('canary-token-81x');
    expect(log).toMatch(/node 24\./);
    expect(job('fetch')!.status).toBe('success');
    // The critical path goes through the called workflow's own jobs.
    expect(record.criticalPath.map((j) => j.name)).toEqual(['call / say', 'use', 'fetch']);
  });

  it('refuses a missing required input of a called workflow before running anything', async () => {
    const r2 = repo({
      '.github/workflows/reusable.yml': `on:\n  workflow_call:\n    inputs:\n      who: { type: string, required: true }\n    secrets:\n      token: { required: true }\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: touch "$RUNNER_TEMP/../../ran"\n`,
      '.github/workflows/bad.yml': `on: push\npermissions: {}\njobs:\n  call:\n    uses: ./.github/workflows/reusable.yml\n    secrets: { token: x }\n`,
    });
    const { record } = await run(r2, '.github/workflows/bad.yml');
    expect(record.status).toBe('failure');
    expect(record.error).toMatch(/required input 'who' is missing/);
    expect(existsSync(join(r2, '.run', 'jobs', 'ran'))).toBe(false);
  });
});

describe('what the rehearsal refuses', () => {
  it('an unknown uses: is an error naming the job and step, before any job runs', async () => {
    const root = repo({
      '.github/workflows/u.yml': `on: push
permissions: {}
jobs:
  first:
    runs-on: ubuntu-24.04
    steps:
      - run: touch "$RUNNER_TEMP/../../ran"
  second:
    runs-on: ubuntu-24.04
    steps:
      - name: Publish
        uses: someone/publish-action@0123456789abcdef0123456789abcdef01234567
`,
    });
    await expect(run(root, '.github/workflows/u.yml')).rejects.toThrow(RehearsalError);
    await expect(run(root, '.github/workflows/u.yml')).rejects.toThrow(/job 'second' step 'Publish' uses 'someone\/publish-action@0123456/);
    expect(existsSync(join(root, '.run', 'jobs', 'ran'))).toBe(false);
  });
});

describe('environment gates', () => {
  const root = repo({
    '.github/workflows/g.yml': `on:
  workflow_dispatch:
    inputs:
      environment: { type: choice, options: [staging, production], default: staging }
permissions: {}
jobs:
  plan:
    runs-on: ubuntu-24.04
    steps:
      - run: echo planned
  apply:
    needs: plan
    environment: \${{ inputs.environment }}
    runs-on: ubuntu-24.04
    steps:
      - run: touch "$RUNNER_TEMP/../../applied"
`,
  });

  it('fails with a clear message when there is no terminal to ask and no --approve', async () => {
    const { record, job } = await run(root, '.github/workflows/g.yml', {
      inputs: { environment: 'production' },
      runDir: join(root, '.run-a'),
    });
    expect(record.status).toBe('failure');
    expect(job('apply')!.error).toBe(
      "job 'apply' waits for approval of environment 'production', and there is no terminal to ask: rerun with --approve to approve it",
    );
    expect(existsSync(join(root, '.run-a', 'jobs', 'applied'))).toBe(false);
  });

  it('passes with --approve and records the approval', async () => {
    const { record } = await run(root, '.github/workflows/g.yml', {
      inputs: { environment: 'production' },
      approve: true,
      runDir: join(root, '.run-b'),
    });
    expect(record.status).toBe('success');
    expect(record.approvals).toEqual([{ job: 'apply', environment: 'production', approved: true, by: '--approve' }]);
    expect(existsSync(join(root, '.run-b', 'jobs', 'applied'))).toBe(true);
  });

  it('asks, and a "no" stops the job', async () => {
    const asked: string[] = [];
    const { record } = await run(root, '.github/workflows/g.yml', {
      runDir: join(root, '.run-c'),
      ask: (job, env) => {
        asked.push(`${job}:${env}`);
        return false;
      },
    });
    expect(asked).toEqual(['apply:staging']);
    expect(record.status).toBe('failure');
  });

  it('refuses an input outside the choice options', async () => {
    await expect(run(root, '.github/workflows/g.yml', { inputs: { environment: 'prod' } })).rejects.toThrow(
      /input 'environment' must be one of staging, production/,
    );
  });

  it('the CLI without a TTY exits 1 and says how to approve', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(__dirname, '../../dist/rehearse/cli.js'),
        '.github/workflows/g.yml',
        '--input',
        'environment=production',
        '--run-dir',
        join(root, '.run-d'),
      ],
      {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, INIT_CWD: root },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('rerun with --approve');
  });
});

describe('setup-tools runs for real, from a loopback mirror of the real tools of npm run tools', () => {
  // The job's PATH starts with an impostor cosign: only the setup-tools step can put the real one first.
  const root = repo({
    'impostor/cosign': '#!/bin/sh\necho impostor\n',
    '.github/workflows/t.yml': `on: push
permissions: {}
jobs:
  before:
    runs-on: ubuntu-24.04
    steps:
      - id: w
        run: echo "cosign=$(command -v cosign || echo none)" >> "$GITHUB_OUTPUT"
  latest:
    runs-on: ubuntu-24.04
    steps:
      - id: st
        uses: ./actions/setup-tools
        with:
          tools: cosign, terraform, kubectl
      - id: w
        run: |
          echo "target=$(readlink -f "$(command -v cosign)")" >> "$GITHUB_OUTPUT"
          echo "sha=$(sha256sum "$(command -v cosign)" | cut -c1-64)" >> "$GITHUB_OUTPUT"
          echo "kubectl-sha=$(sha256sum "$(command -v kubectl)" | cut -c1-64)" >> "$GITHUB_OUTPUT"
          echo "version=$(cosign version --json | sed -n 's/.*"gitVersion": *"\\([^"]*\\)".*/\\1/p')" >> "$GITHUB_OUTPUT"
          echo "terraform=$(terraform version -json | sed -n 's/.*"terraform_version": *"\\([^"]*\\)".*/\\1/p')" >> "$GITHUB_OUTPUT"
          echo "kubectl=$(command -v kubectl)" >> "$GITHUB_OUTPUT"
  pinned:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/setup-tools
        with:
          tools: cosign@2.6.4
      - id: w
        run: |
          echo "version=$(cosign version --json | sed -n 's/.*"gitVersion": *"\\([^"]*\\)".*/\\1/p')" >> "$GITHUB_OUTPUT"
`,
    '.github/workflows/bad.yml': `on: push
permissions: {}
jobs:
  old:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/setup-tools
        with:
          tools: cosign@1.13.1
      - run: echo never
  absent:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/setup-tools
        with:
          tools: hallmark-no-such-tool
`,
  });

  const bare = () => {
    chmodSync(join(root, 'impostor/cosign'), 0o755);
    return { PATH: `${join(root, 'impostor')}:/usr/bin:/bin` };
  };

  it("installs the real cosign 3 (and 2.6 when pinned), terraform and the machine's kubectl with the real setup-tools, first on the job's PATH, and says so", async () => {
    const { record, log, job } = await run(root, '.github/workflows/t.yml', { env: bare(), verbose: true });
    expect(record.status, log).toBe('success');
    expect(job('before')!.steps[0]!.outputs).toEqual({ cosign: join(root, 'impostor/cosign') });
    const real = realTools();
    const out = job('latest')!.steps[1]!.outputs!;
    // Installed by setup-tools into the job's own tool cache: the real binary's bytes, not a link to it.
    expect(out.target!.startsWith(join(root, '.run', 'jobs'))).toBe(true);
    expect(out.target).toMatch(/\/toolcache\/cosign\/[\d.]+\/x64\/cosign$/);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    expect(out.sha).toBe(sha(real.cosign.path));
    expect(out['kubectl-sha']).toBe(sha('/usr/bin/kubectl'));
    // What the binary itself says (sigs.k8s.io/release-utils/version, read from the module build info).
    expect(out.version).toBe(`v${real.cosign.version}`);
    expect(out.terraform).toBe(real.terraform.version.replace(/^opentofu-/, ''));
    expect(out.kubectl).toMatch(/\/toolcache\/kubectl\/[\d.]+\/x64\/kubectl$/);
    expect(job('pinned')!.steps[1]!.outputs).toEqual({ version: 'v2.6.4' });
    const listed = JSON.parse(job('latest')!.steps[0]!.outputs!.tools!) as Record<string, { version: string; path: string }>;
    expect(Object.keys(listed).sort()).toEqual(['cosign', 'kubectl', 'terraform']);
    expect(listed.cosign!.version).toBe(real.cosign.version);
    // Keyed like npm run tools: the pinned 2.6 line is its own entry.
    expect(record.realTools.cosign).toEqual({ version: real.cosign.version, path: real.cosign.path });
    expect(record.realTools.cosign2).toEqual({ version: '2.6.4', path: real.cosign2.path });
    expect(record.simulatedTools).toEqual([]);
    expect(log).toMatch(/┌ SIMULATED: GitHub \(this rehearsal runs the workflow[^\n]*\n/);
    expect(log).not.toMatch(/SIMULATED:[^\n]*BuildKit/);
    expect(log).toContain(
      `└ REAL: setup-tools (dist/setup-tools, verify: checksum) installs from a loopback mirror of cosign ${real.cosign.version}, cosign 2.6.4,`,
    );
    expect(log).toContain(
      `setup-tools (rehearsal mirror, verify: checksum): cosign@${real.cosign.version} served from ${real.cosign.path} (real, npm run tools)`,
    );
  });

  it('refuses a version line it does not have and a tool that is nowhere, naming them', async () => {
    const { record, log, job } = await run(root, '.github/workflows/bad.yml', { env: bare() });
    expect(record.status).toBe('failure');
    // The real setup-tools says it: the mirror has no cosign 1.x; no tool of that name exists.
    expect(job('old')!.steps[0]!.status).toBe('failure');
    expect(job('old')!.steps[0]!.outputs).toMatchObject({ 'failure-reason': 'download-failed' });
    expect(log).toMatch(/old │ .*cosign 1\.13\.1[^\n]*404/);
    expect(job('old')!.steps[1]!.status).toBe('skipped');
    expect(job('absent')!.steps[0]!.outputs).toMatchObject({ 'failure-reason': 'invalid-input' });
    expect(log).toMatch(/absent │ [^\n]*hallmark-no-such-tool/);
  });
});

describe('--simulate-buildkit', () => {
  it('installs the docker buildx stand-in as a docker CLI plugin of its own DOCKER_CONFIG, says so, and counts its calls', async () => {
    const root = repo({
      'fake-buildx': '#!/bin/sh\n# a test stand-in for the docker-buildx stand-in\necho "buildx-args:$*"\n',
      '.github/workflows/b.yml': `on: push
permissions: {}
jobs:
  b:
    runs-on: ubuntu-24.04
    steps:
      - id: p
        run: echo "out=$("$DOCKER_CONFIG/cli-plugins/docker-buildx" buildx version)" >> "$GITHUB_OUTPUT"
`,
    });
    chmodSync(join(root, 'fake-buildx'), 0o755);
    const { record, log, job } = await run(root, '.github/workflows/b.yml', {
      simulateBuildkit: true,
      buildkitStandIn: join(root, 'fake-buildx'),
    });
    expect(record.status, log).toBe('success');
    expect(job('b')!.steps[0]!.outputs).toEqual({ out: 'buildx-args:buildx version' });
    expect(record.simulatedTools).toEqual(['docker-buildx']);
    expect(log).toMatch(/┌ SIMULATED: GitHub [^\n]*; BuildKit \(docker buildx is test\/stand-ins\/docker-buildx/);
    expect(record.simulatedUsed).toEqual({ 'docker-buildx': 1 });
    expect(log).toContain('SIMULATED BuildKit used: docker-buildx (1 call)');
  });

  it('takes --stand-ins as its old name, and then simulates nothing but BuildKit', async () => {
    const root = repo({
      '.github/workflows/o.yml': 'on: push\npermissions: {}\njobs:\n  o:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: "true"\n',
    });
    const { record, log } = await run(root, '.github/workflows/o.yml', { standIns: true });
    expect(record.status, log).toBe('success');
    expect(log).toContain('note: --stand-ins is now --simulate-buildkit');
    expect(record.simulatedTools).toEqual(['docker-buildx']);
    expect(record.simulatedUsed).toEqual({});
    expect(log).toContain('the simulated BuildKit was not used');
  });
});

describe('permissions the rehearsal enforces', () => {
  it('hands out the OIDC request variables only to jobs with id-token: write (inherited from the calling job)', async () => {
    const root = repo({
      '.github/workflows/called.yml': `on: workflow_call
permissions: {}
jobs:
  inner:
    runs-on: ubuntu-24.04
    permissions: { id-token: write }
    steps:
      - run: echo "inner=\${ACTIONS_ID_TOKEN_REQUEST_URL:-none}" >> "$RUNNER_TEMP/../../oidc-$GITHUB_RUN_ATTEMPT-$(basename "$(dirname "$RUNNER_TEMP")")"
`,
      // No permissions of its own: the nested job gets the calling job's token permissions.
      '.github/workflows/called-inherit.yml': `on: workflow_call
jobs:
  inner:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "inner=\${ACTIONS_ID_TOKEN_REQUEST_URL:-none}" >> "$RUNNER_TEMP/../../oidc-$GITHUB_RUN_ATTEMPT-$(basename "$(dirname "$RUNNER_TEMP")")"
`,
      '.github/workflows/o.yml': `on: push
permissions: {}
jobs:
  without:
    runs-on: ubuntu-24.04
    permissions: { contents: read }
    steps:
      - id: o
        run: echo "url=\${ACTIONS_ID_TOKEN_REQUEST_URL:-none}" >> "$GITHUB_OUTPUT"
  with:
    runs-on: ubuntu-24.04
    permissions: { id-token: write }
    steps:
      - id: o
        run: echo "url=\${ACTIONS_ID_TOKEN_REQUEST_URL:-none}" >> "$GITHUB_OUTPUT"
  call-granted:
    permissions: { id-token: write }
    uses: ./.github/workflows/called.yml
  call-not-granted:
    permissions: { contents: read }
    uses: ./.github/workflows/called-inherit.yml
  call-inherits-grant:
    permissions: { id-token: write }
    uses: ./.github/workflows/called-inherit.yml
`,
    });
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:9/oidc', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    const { record, job } = await run(root, '.github/workflows/o.yml', { env });
    expect(record.status).toBe('success');
    expect(job('without')!.steps[0]!.outputs).toEqual({ url: 'none' });
    expect(job('with')!.steps[0]!.outputs).toEqual({ url: 'http://127.0.0.1:9/oidc' });
    const { readdirSync } = await import('node:fs');
    const seen = readdirSync(join(root, '.run', 'jobs'))
      .filter((f) => f.startsWith('oidc-'))
      .map((f) => [f.replace(/^oidc-1-/, '').replace(/-[0-9a-f]{6}$/, ''), readFileSync(join(root, '.run', 'jobs', f), 'utf8').trim()])
      .sort();
    expect(seen).toEqual([
      ['call-granted_inner', 'inner=http://127.0.0.1:9/oidc'],
      ['call-inherits-grant_inner', 'inner=http://127.0.0.1:9/oidc'],
      ['call-not-granted_inner', 'inner=none'],
    ]);
  });
});

describe('upload-artifact against an artifact service (the real @actions/artifact client)', () => {
  const wf = (overwrite: boolean) => `name: a
on: push
permissions: {}
jobs:
  one:
    runs-on: ubuntu-24.04
    steps:
      - run: echo v1 > report.txt
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with: { name: report, path: report.txt }
  two:
    needs: one
    runs-on: ubuntu-24.04
    steps:
      - run: echo v2 > report.txt
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with: { name: report, path: report.txt, overwrite: ${overwrite} }
  three:
    needs: two
    runs-on: ubuntu-24.04
    outputs:
      got: \${{ steps.read.outputs.got }}
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with: { name: report, path: in }
      - id: read
        run: echo "got=$(cat in/report.txt)" >> "$GITHUB_OUTPUT"
`;

  it('overwrite: true replaces an artifact of the same name, as actions/upload-artifact v4 does; without it the second upload fails', async () => {
    const { startGitHubServices } = await import('../harness/github.js');
    const gh = await startGitHubServices();
    try {
      const root = repo({ '.github/workflows/o.yml': wf(true), '.github/workflows/n.yml': wf(false) });
      const env = { ...gh.env, PATH: process.env.PATH ?? '/usr/bin:/bin' };
      const over = await run(root, '.github/workflows/o.yml', { env, runDir: join(root, '.run-o') });
      expect(over.record.status, over.log).toBe('success');
      expect(over.job('three')?.outputs.got).toBe('v2');
      expect([...gh.artifacts.values()].filter((a) => a.name === 'report' && a.finalized)).toHaveLength(1);

      gh.artifacts.clear();
      const plain = await run(root, '.github/workflows/n.yml', { env, runDir: join(root, '.run-n') });
      expect(plain.record.status).toBe('failure');
      expect(plain.job('two')?.status).toBe('failure');
      expect(plain.log).toMatch(/already exists/);
      expect(plain.job('three')?.status).toBe('skipped');
    } finally {
      await gh.close();
    }
  });
});
