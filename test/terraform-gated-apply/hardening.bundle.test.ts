/**
 * Runs this action's hardening corpus (test/hardening/cases/terraform-gated-apply.ts) through the
 * bundle, with the real terraform first on PATH: every bad input gives exactly one error naming
 * its input, invalid-input, exit 1, no stack, no request to the loopback services, terraform never
 * started (it would have written its TF_LOG_PATH log); the base itself passes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import corpus from '../hardening/cases/terraform-gated-apply.js';
import { startGitHubServices, type GitHubServices } from '../harness/github.js';
import { runAction, runnerHome } from '../harness/runner.js';
import { tfEnv } from './stack.js';

let gh: GitHubServices;
beforeAll(async () => {
  gh = await startGitHubServices();
});
afterAll(() => gh?.close());

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

async function run(inputs: Record<string, string | undefined>) {
  const home = runnerHome('hallmark-tf-hard-');
  corpus.setup?.(home.workspace);
  const before = files(home.workspace);
  const merged: Record<string, string | undefined> = { ...corpus.base.inputs };
  for (const [k, v] of Object.entries(inputs)) merged[k] = v;
  const requests = gh.requests.length;
  const r = await runAction(corpus.action, {
    home,
    inputs: merged,
    env: { ...gh.env, ...corpus.base.env, ...tfEnv(home) },
  });
  const started = existsSync(join(home.root, 'terraform.log')) || existsSync(join(home.root, 'tf-data'));
  return { r, requests: gh.requests.length - requests, started, touched: files(home.workspace).join('\n') !== before.join('\n') };
}

describe('terraform-gated-apply hardening corpus', () => {
  it('has at least 25 cases with unique names', () => {
    expect(corpus.bad.length).toBeGreaterThanOrEqual(25);
    expect(new Set(corpus.bad.map((c) => c.name)).size).toBe(corpus.bad.length);
  });

  it('the base is valid', async () => {
    const { r } = await run({});
    expect(r.code, r.stdout).toBe(0);
    expect(r.errors).toEqual([]);
  });

  it('the "terraform never started" check can fail: without plan-json the real terraform runs and leaves its log', async () => {
    const { started } = await run({ 'plan-json': undefined });
    expect(started).toBe(true);
  });

  // Each case is its own process: run them side by side (the assertions use the test's own expect).
  it.concurrent.for(corpus.bad)('$name', async (c, { expect }) => {
    const { r, requests, started, touched } = await run(c.inputs);
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(`input '${c.input}'`);
    if (c.expect) expect(r.errors[0]).toMatch(c.expect);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
    expect(requests).toBe(0);
    expect(started).toBe(false);
    expect(touched).toBe(false);
    for (const s of corpus.secrets ?? []) {
      const v = (corpus.base.inputs as Record<string, string>)[s];
      if (v) expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(v);
    }
  });
});
