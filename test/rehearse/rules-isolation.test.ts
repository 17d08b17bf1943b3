/**
 * Rule: every job starts like a fresh runner. Its own HOME, RUNNER_TEMP, RUNNER_TOOL_CACHE,
 * container storage and registry logins; only artifacts, caches and outputs cross jobs. Job A
 * writes ~/x, logs in with the real buildah (to a real loopback docker-registry) and with a docker
 * config in ~/.docker, caches a file in its tool cache and creates a working container in its
 * storage; job B, after it, must see none of that, while job A itself sees all of it (the passing
 * counterpart) and the artifact and output A hands over do reach B.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRegistry, startRegistry, type Registry } from '../harness/registry.js';
import { cleanup, repo, run } from './rules-kit.js';

const hasBuildah = existsSync('/usr/bin/buildah');

describe.runIf(hasRegistry && hasBuildah)('per-job isolation', () => {
  let registry: Registry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
    cleanup();
  });

  // What a job can see of logins, HOME, tool cache and container storage, as outputs.
  const look = (id: string) => `
      - id: ${id}
        run: |
          echo "home=$(cat ~/x 2>/dev/null || echo none)" >> "$GITHUB_OUTPUT"
          echo "docker=$(grep -c '"auths"' ~/.docker/config.json 2>/dev/null || echo none)" >> "$GITHUB_OUTPUT"
          echo "buildah=$(buildah login --get-login --tls-verify=false "$REG" 2>/dev/null || echo none)" >> "$GITHUB_OUTPUT"
          echo "toolcache=$(cat "$RUNNER_TOOL_CACHE/t/1.0/x64/mark" 2>/dev/null || echo none)" >> "$GITHUB_OUTPUT"
          echo "containers=$(buildah containers -q | wc -l)" >> "$GITHUB_OUTPUT"
          echo "temp=$(ls "$RUNNER_TEMP" | grep -c '^left-by-a$' || true)" >> "$GITHUB_OUTPUT"`;

  const workflow = () => `on: push
permissions: {}
env:
  REG: ${registry.host}
jobs:
  a:
    runs-on: ubuntu-24.04
    outputs:
      handed: \${{ steps.w.outputs.handed }}
    steps:
      - id: w
        run: |
          echo from-a > ~/x
          buildah login --tls-verify=false -u alice -p "s3cret-a" "$REG"
          mkdir -p ~/.docker && printf '{"auths":{"%s":{"auth":"YWxpY2U6czNjcmV0LWE="}}}' "$REG" > ~/.docker/config.json
          mkdir -p "$RUNNER_TOOL_CACHE/t/1.0/x64" && echo cached-by-a > "$RUNNER_TOOL_CACHE/t/1.0/x64/mark"
          buildah from scratch
          touch "$RUNNER_TEMP/left-by-a"
          mkdir -p out && echo artifact-of-a > out/a.txt
          echo "handed=output-of-a" >> "$GITHUB_OUTPUT"
${look('self')}
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with: { name: from-a, path: out/a.txt }
  b:
    needs: a
    runs-on: ubuntu-24.04
    steps:
${look('other')}
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with: { name: from-a, path: got }
      - id: got
        env:
          HANDED: \${{ needs.a.outputs.handed }}
        run: |
          echo "artifact=$(cat got/a.txt)" >> "$GITHUB_OUTPUT"
          echo "output=$HANDED" >> "$GITHUB_OUTPUT"
`;

  it('job B sees nothing of job A but its artifact and outputs; job A sees its own', async () => {
    const root = repo({ '.github/workflows/iso.yml': workflow() });
    const { record, log, job } = await run(root, '.github/workflows/iso.yml', { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(record.status, log).toBe('success');
    const self = job('a')!.steps.find((s) => s.id === 'self')!.outputs;
    expect(self).toEqual({ home: 'from-a', docker: '1', buildah: 'alice', toolcache: 'cached-by-a', containers: '1', temp: '1' });
    const other = job('b')!.steps.find((s) => s.id === 'other')!.outputs;
    expect(other).toEqual({ home: 'none', docker: 'none', buildah: 'none', toolcache: 'none', containers: '0', temp: '0' });
    expect(job('b')!.steps.find((s) => s.id === 'got')!.outputs).toEqual({ artifact: 'artifact-of-a', output: 'output-of-a' });
  });

  it('hands a job no login, HOME or storage of the machine that runs the rehearsal', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const root = repo({
      '.github/workflows/m.yml': `on: push
permissions: {}
env:
  REG: ${registry.host}
jobs:
  m:
    runs-on: ubuntu-24.04
    steps:
${look('m')}
      - id: vars
        run: echo "vars=\${DOCKER_CONFIG:-unset},\${REGISTRY_AUTH_FILE:-unset}" >> "$GITHUB_OUTPUT"
`,
    });
    // The machine's user is logged in three ways; a job must see none of them.
    const machine = join(root, 'machine');
    mkdirSync(join(machine, 'home', '.docker'), { recursive: true });
    writeFileSync(join(machine, 'home', 'x'), 'machine-home');
    const auths = JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('mallory:pw').toString('base64') } } });
    writeFileSync(join(machine, 'home', '.docker', 'config.json'), auths);
    mkdirSync(join(machine, 'dc'));
    writeFileSync(join(machine, 'dc', 'config.json'), auths);
    writeFileSync(join(machine, 'auth.json'), auths);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: join(machine, 'home'),
      DOCKER_CONFIG: join(machine, 'dc'),
      REGISTRY_AUTH_FILE: join(machine, 'auth.json'),
    };
    const { record, log, job } = await run(root, '.github/workflows/m.yml', { env });
    expect(record.status, log).toBe('success');
    expect(job('m')!.steps.find((s) => s.id === 'm')!.outputs).toMatchObject({ home: 'none', docker: 'none', buildah: 'none' });
    expect(job('m')!.steps.find((s) => s.id === 'vars')!.outputs).toEqual({ vars: 'unset,unset' });
  });
});
