/** registry-login's inputs (actions/registry-login/src/inputs.ts): which credentials a job gets, and the inputs refused. */
import { describe, expect, it } from 'vitest';
import { authKeys } from '../../actions/registry-login/src/flow.js';
import { checkInputs, type RawInputs } from '../../actions/registry-login/src/inputs.js';
import { runAction } from '../harness/runner.js';

const raw = (o: Partial<RawInputs> = {}): RawInputs => ({
  registry: '',
  image: '',
  username: '',
  passwordGiven: false,
  githubTokenGiven: true,
  githubRegistry: 'ghcr.io',
  insecure: false,
  verify: true,
  actor: 'octocat',
  ...o,
});

describe('which credentials', () => {
  it('explicit username/password win; GHCR falls back to the job token as github.actor; any other registry gets nothing', () => {
    expect(checkInputs(raw({ image: 'ghcr.io/acme/api:1', username: 'bot', passwordGiven: true }))).toMatchObject({
      registry: 'ghcr.io',
      credentials: 'explicit',
      username: 'bot',
    });
    expect(checkInputs(raw({ image: `ghcr.io/acme/api@sha256:${'a'.repeat(64)}` }))).toMatchObject({
      registry: 'ghcr.io',
      credentials: 'github-token',
      username: 'octocat',
    });
    expect(checkInputs(raw({ image: 'registry.example.com/acme/api' }))).toMatchObject({ credentials: 'none' });
    expect(checkInputs(raw({ image: 'nginx' }))).toMatchObject({ registry: 'docker.io', credentials: 'none' });
    expect(checkInputs(raw({ image: 'ghcr.io/acme/api', githubTokenGiven: false }))).toMatchObject({ credentials: 'none' });
    expect(checkInputs(raw({ registry: 'GHCR.IO' })).registry).toBe('ghcr.io');
  });
  it('Docker Hub is written under both keys the tools look up', () => {
    expect(authKeys('docker.io')).toEqual(['https://index.docker.io/v1/', 'docker.io']);
    expect(authKeys('ghcr.io')).toEqual(['ghcr.io']);
  });
});

describe('refused inputs', () => {
  it.each([
    [raw(), /input 'registry' or input `image` is required/],
    [raw({ registry: 'https://ex ample.com' }), /input 'registry' must be a registry host/],
    [raw({ registry: 'ghcr.io/acme' }), /input 'registry' must be a registry host/],
    [raw({ image: 'Not A Ref' }), /input 'image' must be an image reference/],
    [raw({ registry: 'ghcr.io', insecure: true }), /input 'insecure' may be true only for a loopback registry/],
    [raw({ registry: 'ghcr.io', username: 'bot' }), /input 'password' is required with username/],
    [raw({ registry: 'ghcr.io', passwordGiven: true }), /input 'username' is required with password/],
    [raw({ registry: 'ghcr.io', username: 'a:b', passwordGiven: true }), /input 'username' must not contain whitespace or a colon/],
  ])('%#', (r, msg) => expect(() => checkInputs(r)).toThrow(msg));

  it('through the bundle: one ::error:: naming the input, invalid-input, nothing written', async () => {
    const r = await runAction('registry-login', {
      inputs: { registry: 'registry.example.com', insecure: 'true', username: 'bot', password: 'pw-canary-1234' },
    });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual([
      "registry-login: input 'insecure' may be true only for a loopback registry (127.0.0.1, localhost, ::1), not registry.example.com",
    ]);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.env).toEqual({});
    // Masked on read (the runner's ::add-mask:: registration), shown nowhere else.
    expect(r.everything.replace('::add-mask::pw-canary-1234', '')).not.toContain('pw-canary-1234');
  });
});
