/**
 * Bad inputs fail before any side effect: one `::error::build-sign: input '<name>' …` line,
 * failure-reason invalid-input (latest-refused for `latest`), exit 1, no stack trace, no tool run,
 * nothing written under RUNNER_TEMP or the workspace.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction, runtimes } from '../harness/runner.js';
import { cosignCalls, makeLab, writeContext, type Lab } from '../harness/build-lab.js';
import { cleanupTracked, trackedHome } from '../harness/tracked.js';

let lab: Lab;
beforeAll(() => {
  lab = makeLab();
});
afterAll(() => {
  cleanupTracked();
  lab.cleanup();
});

const D64 = 'a'.repeat(64);
const base = { image: '127.0.0.1:5000/octo-org/shop', builder: 'buildah', context: 'app', 'registry-insecure': 'true', sign: 'none' };

const cases: { name: string; inputs: Record<string, string>; input: string; reason?: string; message: RegExp }[] = [
  { name: 'tag latest', inputs: { tags: 'v1, latest' }, input: 'tags', reason: 'latest-refused', message: /tag 'latest' is refused/ },
  {
    name: 'image with a tag',
    inputs: { image: '127.0.0.1:5000/octo-org/shop:v1' },
    input: 'image',
    message: /input 'image' must be a repository without a tag or digest/,
  },
  {
    name: 'image with a digest',
    inputs: { image: `127.0.0.1:5000/octo-org/shop@sha256:${D64}` },
    input: 'image',
    message: /input 'image' must be a repository without a tag or digest/,
  },
  { name: 'malformed image', inputs: { image: 'Not A Repo' }, input: 'image', message: /input 'image' must be a repository/ },
  {
    name: 'digest of the wrong length',
    inputs: { digest: `sha256:${'a'.repeat(63)}` },
    input: 'digest',
    message: /input 'digest' must be sha256: followed by 64 lowercase hex characters .*63 characters/,
  },
  { name: 'digest that is not sha256', inputs: { digest: `sha512:${D64}` }, input: 'digest', message: /input 'digest' must be sha256:/ },
  {
    name: 'digest of another repository',
    inputs: { digest: `127.0.0.1:5000/other/app@sha256:${D64}` },
    input: 'digest',
    message: /names 127\.0\.0\.1:5000\/other\/app/,
  },
  {
    name: 'sign: key without cosign-key',
    inputs: { sign: 'key' },
    input: 'cosign-key',
    message: /input 'cosign-key' is required when sign is 'key'/,
  },
  {
    name: 'unknown builder',
    inputs: { builder: 'kaniko' },
    input: 'builder',
    message: /input 'builder' must be one of buildx, docker, buildah \(got "kaniko"\)/,
  },
  { name: 'unknown sign mode', inputs: { sign: 'maybe' }, input: 'sign', message: /input 'sign' must be one of keyless, key, none/ },
  {
    name: 'platform outside os/arch[/variant]',
    inputs: { platforms: 'linux/amd64, amd64' },
    input: 'platforms',
    message: /input 'platforms' must be a list of os\/arch\[\/variant\].*"amd64"/,
  },
  {
    name: 'two platforms for the classic docker builder',
    inputs: { builder: 'docker', platforms: 'linux/amd64,linux/arm64' },
    input: 'platforms',
    message: /classic 'docker' builder/,
  },
  {
    name: 'plain HTTP to a non-loopback registry',
    inputs: { image: 'ghcr.io/octo-org/shop' },
    input: 'registry-insecure',
    message: /only be true for a loopback registry/,
  },
  {
    name: 'identity given as a regexp',
    inputs: { sign: 'keyless', identity: 'https://github.com/octo-org/.*' },
    input: 'identity',
    message: /must be exact/,
  },
  {
    name: 'identity in key mode',
    inputs: { sign: 'key', 'cosign-key': 'env://NOPE', identity: 'https://github.com/o/r/.github/workflows/x.yml@refs/heads/main' },
    input: 'identity',
    message: /only applies to sign: keyless/,
  },
  {
    name: 'push false while signing',
    inputs: { push: 'false', sign: 'keyless' },
    input: 'push',
    message: /signing needs the image in a registry/,
  },
  { name: 'build-args not KEY=VALUE', inputs: { 'build-args': 'GOOD=1\nnot a pair' }, input: 'build-args', message: /KEY=VALUE/ },
  {
    name: 'tags of another repository',
    inputs: { tags: 'ghcr.io/evil/app:v1' },
    input: 'tags',
    message: /not a tag of 127\.0\.0\.1:5000\/octo-org\/shop/,
  },
  {
    name: 'password without user',
    inputs: { 'registry-password': 'pw-canary-123' },
    input: 'registry-username',
    message: /is required when 'registry-password' is set/,
  },
  {
    name: 'registry user with a newline',
    inputs: { 'registry-username': 'bot\n::set-output name=x::y', 'registry-password': 'pw-canary-456' },
    input: 'registry-username',
    message: /one word/,
  },
  {
    name: 'env:// key variable not set',
    inputs: { sign: 'key', 'cosign-key': 'env://HALLMARK_NOT_SET' },
    input: 'cosign-key',
    message: /HALLMARK_NOT_SET.*not set/,
  },
  {
    name: 'missing context',
    inputs: { context: 'nope' },
    input: 'context',
    message: /input 'context' must name an existing directory in the workspace \(got "nope": not found\)/,
  },
  { name: 'tags with digest', inputs: { digest: `sha256:${D64}`, tags: 'v1' }, input: 'tags', message: /cannot be used with 'digest'/ },
  { name: 'tlog not a boolean', inputs: { tlog: 'maybe' }, input: 'tlog', message: /input 'tlog' must be true or false \(got "maybe"\)/ },
  {
    name: 'keyless without the transparency log',
    inputs: { sign: 'keyless', tlog: 'false' },
    input: 'tlog',
    message: /input 'tlog' may only be false with sign: key/,
  },
  {
    name: 'trusted-root file missing',
    inputs: { sign: 'keyless', 'trusted-root': 'sigstore/trusted_root.json' },
    input: 'trusted-root',
    message: /input 'trusted-root' must name an existing file \(.*sigstore\/trusted_root\.json does not exist\)/,
  },
  {
    name: 'signing-config file missing',
    inputs: { sign: 'keyless', 'signing-config': 'nope.json' },
    input: 'signing-config',
    message: /input 'signing-config' must name an existing file/,
  },
  {
    name: 'signing-config that is not one',
    inputs: { sign: 'keyless', 'signing-config': 'app/Containerfile' },
    input: 'signing-config',
    message: /input 'signing-config' is not JSON/,
  },
  {
    name: 'unknown policy kind',
    inputs: { 'policy-kind': 'pod-policy' },
    input: 'policy-kind',
    message: /input 'policy-kind' must be one of cluster-policy, image-validating-policy/,
  },
];

describe.each(runtimes())('build-sign bad inputs ($name)', (rt) => {
  it.each(cases)('$name → one error naming the input, nothing run', async (c) => {
    const home = trackedHome();
    writeContext(home.workspace);
    const before = cosignCalls(lab).length;
    const r = await runAction('build-sign', { runtime: rt, home, inputs: { ...base, ...c.inputs }, env: lab.env(), timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^build-sign: /);
    expect(r.errors[0]).toMatch(c.message);
    if (!c.reason) expect(r.errors[0]).toContain(`input '${c.input}'`);
    expect(r.outputs['failure-reason']).toBe(c.reason ?? 'invalid-input');
    expect(r.stdout).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/); // no stack trace
    expect(r.stdout).not.toContain('Building');
    expect(cosignCalls(lab).length).toBe(before);
    // Nothing in RUNNER_TEMP but this run's audit record, which says it failed and why.
    expect(readdirSync(home.temp)).toEqual(['hallmark-audit.jsonl']);
    const records = readFileSync(join(home.temp, 'hallmark-audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records).toEqual([
      expect.objectContaining({ action: 'build-sign', verdict: 'failed', failureReason: c.reason ?? 'invalid-input' }),
    ]);
    expect(existsSync(`${home.workspace}/hallmark-policy.yaml`)).toBe(false);
    if (c.inputs['registry-password']) expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(c.inputs['registry-password']);
  });
});

it('a secret is never echoed back in an input error', async () => {
  const home = trackedHome();
  writeContext(home.workspace);
  writeFileSync(`${home.workspace}/x`, '');
  const canary = 'not-a-pem-canary-value-5ac1';
  const r = await runAction('build-sign', {
    home,
    inputs: { ...base, sign: 'key', 'cosign-key': canary },
    env: lab.env(),
    timeoutMs: 15_000,
  });
  expect(r.code).toBe(1);
  expect(r.outputs['failure-reason']).toBe('invalid-input');
  expect(r.errors[0]).toContain("input 'cosign-key'");
  expect(r.everything.replace(/::add-mask::.*\n/g, '')).not.toContain(canary);
});
