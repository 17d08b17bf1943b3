/**
 * The demo (`npm run demo` = node examples/demo.mjs) goes green on this machine with every tool
 * real: buildah, docker-registry, podman, HTTP, and the cosign 3, syft and trivy 0.74 that
 * `npm run tools` built (a Trivy DB built locally and served by the loopback registry; cosign key
 * mode without a transparency log). Its banner names only what is still simulated: GitHub (the
 * rehearsal) and Slack (a local sink).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../harness/runner.js';
import { realTools } from '../harness/tools.js';
import { hasRealParts, missingBundles } from './lab.js';

const missing = missingBundles(['build-sign', 'trivy-gate', 'sbom-attach', 'smoke-test', 'slack-notify']);
const hasPodman = existsSync('/usr/bin/podman') && ['/usr/bin/runc', '/usr/sbin/runc'].some((p) => existsSync(p));
if (!hasRealParts || !hasPodman || missing.length)
  console.warn(
    `demo test skipped: ${missing.length ? `not built yet: ${missing.join(', ')}` : 'real parts missing (registry, buildah, podman, runc, busybox-static)'}`,
  );

describe.skipIf(!hasRealParts || !hasPodman || missing.length > 0)('npm run demo', () => {
  let dir = '';
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('builds, scans, signs, deploys, smoke-tests and notifies with the real tools, green, and says that only GitHub and Slack are simulated', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hallmark-demo-test-'));
    const recordFile = join(dir, 'demo-run.json');
    const child = spawn(process.execPath, [join(ROOT, 'examples/demo.mjs')], {
      cwd: ROOT,
      env: { ...process.env, DEMO_RECORD: recordFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b));
    child.stderr.on('data', (b: Buffer) => (out += b));
    const code = await new Promise<number | null>((res) => child.on('close', res));
    expect(code, out).toBe(0);
    expect(out).toContain('demo: GREEN');
    const real = realTools();
    // The banner: what is simulated (GitHub and Slack, nothing else) and the real tools by version.
    const banner = out.split('\n').find((l) => l.startsWith('demo: ┌ SIMULATED (only): '));
    expect(banner, out).toBeDefined();
    const simulated = banner!
      .slice('demo: ┌ SIMULATED (only): '.length)
      .replace(/\([^)]*\)/g, '')
      .split(';')
      .map((x) => x.trim());
    expect(simulated).toEqual(['GitHub', 'Slack']);
    expect(out).toContain(
      `demo: └ REAL: buildah, docker-registry, podman, cosign ${real.cosign.version}, syft ${real.syft.version}, trivy ${real.trivy.version}`,
    );
    expect(out).not.toMatch(/stand-in/i);
    expect(out).toContain('Slack (local sink)');
    expect(out).toMatch(/the deployed service answered: hello from the hallmark demo/);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as {
      status: string;
      simulatedTools: string[];
      realTools: Record<string, { version: string; path: string }>;
      jobs: {
        id: string;
        status: string;
        outputs: Record<string, string>;
        steps: { name: string; status: string; outputs?: Record<string, string> }[];
      }[];
    };
    expect(record.status).toBe('success');
    expect(record.jobs.map((j) => [j.id, j.status])).toEqual(
      expect.arrayContaining([
        ['build', 'success'],
        ['scan', 'success'],
        ['sbom', 'success'],
        ['sign', 'success'],
        ['deploy', 'success'],
        ['smoke', 'success'],
        ['notify', 'success'],
      ]),
    );
    expect(record.jobs.find((j) => j.id === 'build')!.outputs.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    // The setup-tools steps handed out exactly the binaries npm run tools built; nothing simulated.
    expect(record.simulatedTools).toEqual([]);
    for (const t of ['cosign', 'syft', 'trivy'] as const)
      expect(record.realTools[t], t).toEqual({ version: real[t].version, path: real[t].path });
    // syft catalogued the image (the static busybox is a package it knows), so the count is syft's.
    expect(Number(record.jobs.find((j) => j.id === 'sbom')!.outputs['package-count'])).toBeGreaterThan(0);
  }, 300_000);
});
