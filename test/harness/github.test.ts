import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, startGitHubServices, type GitHubServices } from './github.js';
import { runnerHome, runtimes, ROOT } from './runner.js';

const run = promisify(execFile);

describe('loopback GitHub services accept the real @actions clients', () => {
  let gh: GitHubServices;
  beforeAll(async () => {
    gh = await startGitHubServices();
    gh.addComment(7, 'someone else');
  });
  afterAll(() => gh.close());

  it('artifact, cache, OIDC and REST round trips', async () => {
    const home = runnerHome();
    const { stdout } = await run(runtimes()[0]!.node, ['test/harness/github-client.mjs'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: home.root,
        RUNNER_TEMP: home.temp,
        GITHUB_WORKSPACE: home.workspace,
        GITHUB_REPOSITORY: 'octo-org/shop',
        ...gh.env,
      },
      timeout: 60_000,
    });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.downloaded).toBe('hello artifact\n');
    expect(out.upload.size).toBe(gh.artifactBytes('probe')?.length);
    expect(out.saved).toBeGreaterThan(0);
    expect(out.restored).toBe('probe-key-1');
    expect(out.idToken).toBe(3);
    expect(out.comments).toEqual(['someone else', 'two']);
    const oidc = gh.requests.find((r) => r.path === '/oidc/token');
    expect(oidc?.url).toContain('audience=sigstore');
    expect(decodeJwt(gh.env.ACTIONS_RUNTIME_TOKEN!).scp).toContain('Actions.Results:run-backend-1:job-backend-1');
  });
});
