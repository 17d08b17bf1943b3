/**
 * packages/oci/src/cosign-version.ts: the one rule build-sign, sbom-attach and verify-image use to
 * tell which cosign is on PATH — run against the real cosign 3.1.2 and 2.6.4 binaries, a PATH
 * without cosign, a cosign that cannot be started, and one that prints no version.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ASSUMED_COSIGN_MAJOR, cosign3OnlyInput, detectCosign, parseCosignVersion, type CosignExec } from '@hallmark/oci';
import { binDir } from '../harness/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'hallmark-oci-cosign-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A real child process on a given PATH, with the kit exec's exit codes for spawn failures (ENOENT 127, any other 126). */
function execOn(path: string, seen: { tool: string; args: string[]; timeoutMs?: number }[] = []): CosignExec {
  return (tool, args, opts) =>
    new Promise((resolve) => {
      seen.push({ tool, args, timeoutMs: opts.timeoutMs });
      let stdout = '';
      let stderr = '';
      const child = spawn(tool, args, { env: { PATH: path, HOME: scratch } });
      child.stdout.on('data', (b: Buffer) => (stdout += b));
      child.stderr.on('data', (b: Buffer) => (stderr += b));
      child.on('error', (e: NodeJS.ErrnoException) =>
        resolve({ exitCode: e.code === 'ENOENT' ? 127 : 126, stdout, stderr: `${stderr}${e.message}\n`, timedOut: false }),
      );
      child.on('close', (code) => resolve({ exitCode: code ?? 1, stdout, stderr, timedOut: false }));
    });
}

function fakeCosign(body: string, mode = 0o755): string {
  const dir = mkdtempSync(join(scratch, 'bin-'));
  writeFileSync(join(dir, 'cosign'), `#!/bin/sh\n${body}\n`);
  chmodSync(join(dir, 'cosign'), mode);
  return dir;
}

describe('detectCosign with the real binaries', () => {
  it('cosign 3.1.2: major 3 and the version it prints, asked with `version --json` under a deadline', async () => {
    const seen: { tool: string; args: string[]; timeoutMs?: number }[] = [];
    const d = await detectCosign(execOn(binDir(['cosign']), seen));
    expect(d).toEqual({ found: true, major: 3, version: { major: 3, minor: 1, patch: 2, raw: 'v3.1.2' } });
    expect(seen).toEqual([{ tool: 'cosign', args: ['version', '--json'], timeoutMs: 60_000 }]);
  });
  it('cosign 2.6.4 (a user may pin it): major 2', async () => {
    const d = await detectCosign(execOn(binDir(['cosign2'])));
    expect(d).toEqual({ found: true, major: 2, version: { major: 2, minor: 6, patch: 4, raw: 'v2.6.4' } });
  });
});

describe('detectCosign when cosign cannot tell', () => {
  it('not on PATH: not found, with the setup-tools hint', async () => {
    const d = await detectCosign(execOn(mkdtempSync(join(scratch, 'empty-'))));
    expect(d).toEqual({
      found: false,
      problem: 'cosign was not found on PATH: add hallmark-dev/hallmark/actions/setup-tools with `tools: cosign` before this step',
    });
  });
  it('on PATH but not executable: not found, saying it could not be started', async () => {
    const d = await detectCosign(execOn(fakeCosign('exit 0', 0o644)));
    expect(d.found).toBe(false);
    expect(d.found === false && d.problem).toMatch(/^cosign is on PATH but could not be started \(exit 126/);
  });
  it('prints no version it can read, or fails: cosign 3 assumed, with a warning quoting its last words on one line', async () => {
    const devel = await detectCosign(execOn(fakeCosign('echo "GitVersion: devel"')));
    expect(devel).toEqual({
      found: true,
      major: ASSUMED_COSIGN_MAJOR,
      warning: 'could not tell the cosign version from `cosign version --json` (GitVersion: devel): assuming cosign 3',
    });
    const failing = await detectCosign(execOn(fakeCosign('echo "first line" >&2\necho "Error: unknown flag: --json" >&2\nexit 1')), {
      shown: (t) => `[${t.replace(/\n/g, ' | ')}]`,
    });
    expect(failing).toEqual({
      found: true,
      major: 3,
      warning:
        'could not tell the cosign version from `cosign version --json` ([first line | Error: unknown flag: --json]): assuming cosign 3',
    });
  });
  it('a version printed on a failed run is not believed', async () => {
    const d = await detectCosign(execOn(fakeCosign('echo \'{"gitVersion":"v2.6.4"}\'\nexit 2')));
    expect(d).toMatchObject({ found: true, major: 3 });
    expect(d.found && d.version).toBeUndefined();
  });
  it('a timed-out run is said to have timed out', async () => {
    const d = await detectCosign(async () => ({ exitCode: 124, stdout: '', stderr: '', timedOut: true }));
    expect(d).toEqual({
      found: true,
      major: 3,
      warning: 'could not tell the cosign version from `cosign version --json` (timed out): assuming cosign 3',
    });
  });
});

describe('parseCosignVersion', () => {
  it('reads the JSON form and the text form, and nothing else', () => {
    expect(parseCosignVersion('{\n  "gitVersion": "v3.1.2",\n  "gitCommit": "unknown"\n}\n')).toEqual({
      major: 3,
      minor: 1,
      patch: 2,
      raw: 'v3.1.2',
    });
    expect(parseCosignVersion('  ______\nGitVersion:    v2.4.1\nGitCommit: x\n')).toEqual({ major: 2, minor: 4, patch: 1, raw: 'v2.4.1' });
    expect(parseCosignVersion('{"gitVersion":"devel"}')).toBeUndefined();
    expect(parseCosignVersion('')).toBeUndefined();
  });
});

describe('cosign3OnlyInput', () => {
  const v2 = { found: true as const, major: 2, version: { major: 2, minor: 6, patch: 4, raw: 'v2.6.4' } };
  it('names the first Sigstore file input given when cosign is 2, and nothing for cosign 3 or no input', () => {
    expect(cosign3OnlyInput(v2, { 'signing-config': undefined, 'trusted-root': '/ws/tr.json' })).toEqual({
      input: 'trusted-root',
      message: 'needs cosign 3 or later (this runner has cosign v2.6.4; cosign 2 reads it only in its new bundle format)',
    });
    expect(cosign3OnlyInput(v2, { 'signing-config': '', 'trusted-root': undefined })).toBeUndefined();
    expect(cosign3OnlyInput({ found: true, major: 3 }, { 'trusted-root': '/ws/tr.json' })).toBeUndefined();
    expect(cosign3OnlyInput({ found: false, problem: 'x' }, { 'trusted-root': '/ws/tr.json' })).toBeUndefined();
  });
});
