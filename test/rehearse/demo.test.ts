/**
 * The demo (`npm run demo` = node examples/demo.mjs) goes green on this machine: real buildah,
 * registry, trivy, podman and HTTP; the cosign stand-in; a Slack message printed by the local sink.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';
import { hasRealParts, missingBundles } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'smoke-test', 'slack-notify']);
const hasPodman = existsSync('/usr/bin/podman') && ['/usr/bin/runc', '/usr/sbin/runc'].some((p) => existsSync(p));
if (!hasRealParts || !hasPodman || missing.length) console.warn(`demo test skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing (registry, buildah, podman, runc, busybox-static, trivy)'}`);

describe.skipIf(!hasRealParts || !hasPodman || missing.length > 0)('npm run demo', () => {
  let dir = '';
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('builds, scans, signs, deploys, smoke-tests and notifies, green', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hallmark-demo-test-'));
    const recordFile = join(dir, 'demo-run.json');
    const child = spawn(process.execPath, [join(ROOT, 'examples/demo.mjs')], { cwd: ROOT, env: { ...process.env, DEMO_RECORD: recordFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (out += b));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code, out).toBe(0);
    expect(out).toContain('demo: GREEN');
    expect(out).toMatch(/SIMULATED TOOLS: .*cosign/);
    expect(out).toContain('Slack (local sink)');
    expect(out).toMatch(/the deployed service answered: hello from the hallmark demo/);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { status: string; jobs: { id: string; status: string; outputs: Record<string, string> }[] };
    expect(record.status).toBe('success');
    expect(record.jobs.map((j) => [j.id, j.status])).toEqual(
      expect.arrayContaining([['build', 'success'], ['scan', 'success'], ['sbom', 'success'], ['sign', 'success'], ['deploy', 'success'], ['smoke', 'success'], ['notify', 'success']]),
    );
    expect(record.jobs.find((j) => j.id === 'build')!.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  }, 90_000);
});
