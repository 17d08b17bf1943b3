/**
 * packages/oci/src/registry.ts, the docker config half: writeScopedDockerConfig (the private
 * config the actions hand buildah/cosign/syft) and readDockerConfigCredentials (what
 * registry-login or docker/login-action left for a host), read back from real files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDockerConfigCredentials, writeScopedDockerConfig } from '@hallmark/oci';

const root = mkdtempSync(join(tmpdir(), 'hallmark-oci-dockercfg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `d${n++}`);
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('writeScopedDockerConfig', () => {
  it('writes one auths entry for that registry only, 0600 in a 0700 directory, and masks the auth string first', () => {
    const dir = fresh();
    const masked: string[] = [];
    const file = writeScopedDockerConfig(dir, '127.0.0.1:5000', 'bot', 'pa:ss', (s) => masked.push(s));
    expect(file).toBe(join(dir, 'config.json'));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ auths: { '127.0.0.1:5000': { auth: b64('bot:pa:ss') } } });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(masked).toEqual([b64('bot:pa:ss')]);
  });
  it('what it writes, readDockerConfigCredentials reads back (a password may hold colons)', () => {
    const dir = fresh();
    writeScopedDockerConfig(dir, 'ghcr.io', 'octo', 'a:b:c', () => undefined);
    expect(readDockerConfigCredentials(dir, 'ghcr.io', () => undefined)).toEqual({ username: 'octo', password: 'a:b:c' });
    expect(readDockerConfigCredentials(dir, 'quay.io', () => undefined)).toBeUndefined();
  });
});

describe('readDockerConfigCredentials', () => {
  const write = (auths: unknown) => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), typeof auths === 'string' ? auths : JSON.stringify({ auths }));
    return dir;
  };
  it('takes the host entry, or the https://host entry docker login writes for some hosts; masks the password only', () => {
    const masked: string[] = [];
    const dir = write({ 'https://registry.example.com': { auth: b64('u:secret-1') }, 'ghcr.io': { auth: b64('g:secret-2') } });
    expect(readDockerConfigCredentials(dir, 'registry.example.com', (s) => masked.push(s))).toEqual({
      username: 'u',
      password: 'secret-1',
    });
    expect(readDockerConfigCredentials(dir, 'ghcr.io', (s) => masked.push(s))).toEqual({ username: 'g', password: 'secret-2' });
    expect(masked).toEqual(['secret-1', 'secret-2']);
  });
  it('nothing (and nothing masked) when there is no directory, no file, no entry, no auth, a malformed auth, or not JSON', () => {
    const masked: string[] = [];
    const m = (s: string) => masked.push(s);
    expect(readDockerConfigCredentials(undefined, 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(fresh(), 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(write({ 'quay.io': { auth: b64('a:b') } }), 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(write({ 'ghcr.io': { credsStore: 'desktop' } }), 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(write({ 'ghcr.io': { auth: b64('no-colon') } }), 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(write({ 'ghcr.io': { auth: b64(':only-password') } }), 'ghcr.io', m)).toBeUndefined();
    expect(readDockerConfigCredentials(write('{not json'), 'ghcr.io', m)).toBeUndefined();
    expect(masked).toEqual([]);
  });
});
