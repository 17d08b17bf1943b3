/**
 * An action's `post:` runs at the end of its job, as on GitHub: after every other step, last action
 * first, with the STATE_<name> values its main saved in GITHUB_STATE; `post-if` (default always())
 * decides; a failing post step fails the job. (registry-login removes its config this way.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, repo, run } from './rules-kit.js';

afterAll(cleanup);

const action = (name: string, postIf?: string) => ({
  [`actions/${name}/action.yml`]: `name: ${name}\nruns:\n  using: node20\n  main: main.js\n  post: post.js\n${postIf ? `  post-if: ${postIf}\n` : ''}`,
  [`actions/${name}/main.js`]: `const fs = require('node:fs');
const f = process.env.RUNNER_TEMP + '/${name}.cfg';
fs.writeFileSync(f, 'secret-config');
fs.appendFileSync(process.env.GITHUB_STATE, 'file=' + f + '\\n');
fs.appendFileSync(process.env.RUNNER_TEMP + '/../../order', 'main ${name}\\n');
`,
  [`actions/${name}/post.js`]: `const fs = require('node:fs');
fs.appendFileSync(process.env.RUNNER_TEMP + '/../../order', 'post ${name} ' + (process.env.STATE_file || 'no-state') + ' ' + (process.env.INPUT_FAIL || '-') + '\\n');
fs.rmSync(process.env.STATE_file, { force: true });
if (process.env.INPUT_FAIL === 'yes') { console.log('::error::post failed'); process.exit(1); }
`,
});

describe('post: steps of actions', () => {
  it('run after the last step, last action first, with the saved state; a failing post fails the job', async () => {
    const root = repo({
      ...action('one'),
      ...action('two'),
      ...action('only-on-failure', 'failure()'),
      'w.yml': `on: push
permissions: {}
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/one
      - uses: ./actions/only-on-failure
      - uses: ./actions/two
        with:
          fail: \${{ github.run_attempt == 2 && 'yes' || 'no' }}
      - id: mid
        run: echo "files=$(ls "$RUNNER_TEMP" | grep -c '\\.cfg$')" >> "$GITHUB_OUTPUT"
`,
    });
    const ok = await run(root, 'w.yml', {}, join(root, 'r1'));
    expect(ok.record.status, ok.log).toBe('success');
    const order = readFileSync(join(root, 'r1', 'jobs', 'order'), 'utf8')
      .trim()
      .split('\n');
    const tmp = (n: string, input: string) => new RegExp(`^post ${n} /.+/temp/${n}\\.cfg ${input}$`);
    expect(order.slice(0, 3)).toEqual(['main one', 'main only-on-failure', 'main two']);
    expect(order[3]).toMatch(tmp('two', 'no'));
    expect(order[4]).toMatch(tmp('one', '-'));
    expect(order).toHaveLength(5);
    expect(ok.job('j')!.steps.find((s) => s.id === 'mid')!.outputs).toEqual({ files: '3' });
    expect(
      ok
        .job('j')!
        .steps.filter((s) => s.post)
        .map((s) => [s.name, s.status]),
    ).toEqual([
      ['Post Run ./actions/two', 'success'],
      ['Post Run ./actions/only-on-failure', 'skipped'],
      ['Post Run ./actions/one', 'success'],
    ]);

    const bad = await run(root, 'w.yml', { runAttempt: 2 }, join(root, 'r2'));
    expect(bad.record.status).toBe('failure');
    expect(bad.job('j')!.status).toBe('failure');
    expect(bad.job('j')!.steps.find((s) => s.name === 'Post Run ./actions/two')!.status).toBe('failure');
  });
});
