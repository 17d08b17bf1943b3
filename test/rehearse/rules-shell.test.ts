/**
 * Rule: the runner's default shell. Without `shell:`, a run step is `bash -e {0}` (no pipefail:
 * a failure inside a pipeline goes unnoticed); with `shell: bash` (or defaults.run.shell) it is
 * `bash --noprofile --norc -eo pipefail {0}`. A rehearsal that always used pipefail would pass a
 * workflow whose `tool | tee` hides the tool's failure on GitHub.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

describe('the default shell', () => {
  it('hides a failure inside a pipeline without shell:, and fails it with shell: bash', async () => {
    const root = repo({
      'w.yml': `on: push
permissions: {}
jobs:
  implicit:
    runs-on: ubuntu-24.04
    steps:
      - run: false | tee /dev/null
  explicit:
    runs-on: ubuntu-24.04
    steps:
      - shell: bash
        run: false | tee /dev/null
  by-default:
    runs-on: ubuntu-24.04
    defaults:
      run:
        shell: bash
    steps:
      - run: false | tee /dev/null
  still-errexit:
    runs-on: ubuntu-24.04
    steps:
      - run: |
          false
          echo never
`,
    });
    const { job } = await run(root, 'w.yml');
    expect(job('implicit')!.status).toBe('success');
    expect(job('explicit')!.status).toBe('failure');
    expect(job('by-default')!.status).toBe('failure');
    expect(job('still-errexit')!.status).toBe('failure');
  });
});
