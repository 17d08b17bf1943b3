/**
 * setup-tools bundle tests: dist/setup-tools/index.js run as the runner runs it, downloading from
 * a loopback mirror that serves releases built by the test in each vendor's real layout, naming
 * and checksum format (see mirror.ts). The installed "tools" are shell scripts, so every test can
 * run what landed on PATH.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAction, runnerHome, runtimes, type ActionResult, type RunnerHome, type Runtime } from '../harness/runner.js';
import { ALL, DEFAULTS, GOARCH, listTree, sha256, startMirror, type Mirror, type Tool } from './mirror.js';
import { pgpKey, startTestSigstore, type TestSigstore } from './signing.js';

const ARCH = GOARCH === 'amd64' ? 'x64' : 'arm64';
let mirror: Mirror;

beforeAll(async () => {
  mirror = await startMirror([
    ...ALL.map((t) => [t, DEFAULTS[t]] as [Tool, string]),
    ['cosign', '2.6.4'],
    ['helm', '3.21.4'],
    ['kubectl', '1.25.0'],
  ]);
  lab = mkdtempSync(join(tmpdir(), 'st-bundle-sig-'));
  testSigstore = await startTestSigstore(lab);
}, 60_000);
afterAll(async () => {
  await mirror?.close();
  await testSigstore?.close();
  if (lab) rmSync(lab, { recursive: true, force: true });
});
let lab: string;
let testSigstore: TestSigstore;
beforeEach(() => {
  mirror.reset();
  trivyOriginal ??= mirror.files.get(assetPath('trivy'));
});

function setup(tools: string, opts: { runtime?: Runtime; home?: RunnerHome; inputs?: Record<string, string> } = {}): Promise<ActionResult> {
  return runAction('setup-tools', {
    runtime: opts.runtime,
    home: opts.home,
    // `verify: checksum` for the download mechanics below; the vendor-signature runs set `verify` themselves.
    inputs: { tools, mirror: mirror.url, 'retry-delay': '50ms', 'download-timeout': '5s', verify: 'checksum', ...opts.inputs },
    timeoutMs: 30_000,
  });
}

const rel = (t: Tool, v: string = DEFAULTS[t]) => mirror.releases.get(`${t}@${v}`) as NonNullable<ReturnType<Mirror['releases']['get']>>;
const assetPath = (t: Tool, v: string = DEFAULTS[t]) => `/${t}/${v}/${rel(t, v).asset}`;
const checksumPath = (t: Tool, v: string = DEFAULTS[t]) => `/${t}/${v}/${rel(t, v).checksum}`;

/** Runs `tool` the way a later `run:` step would: by name, through the PATH entries the step added. */
function runFromPath(r: ActionResult, tool: string): string {
  const p = spawnSync(tool, [], { env: { PATH: `${[...r.path].reverse().join(':')}:/usr/bin:/bin` }, encoding: 'utf8' });
  if (p.error) throw p.error;
  return p.stdout.trim();
}

/** Every file under a directory with its bytes' hash: to prove a directory was not touched. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of listTree(dir)) {
    const p = join(dir, f);
    out[f] = lstatSync(p).isFile() ? sha256(readFileSync(p)) : 'dir';
  }
  return out;
}

/** The trivy archive as the vendor built it (the mirror's original, before a test tampers with it). */
let trivyOriginal: Buffer | undefined;
const originalTrivy = () => trivyOriginal as Buffer;

function toolsOut(r: ActionResult): Record<string, { version: string; path: string; cached: boolean }> {
  return JSON.parse(r.outputs.tools ?? '{}');
}

describe.each(runtimes())('setup-tools on $name', (rt) => {
  it('cold install of all seven tools: verified downloads in vendor layout, on PATH, in the tool cache', async () => {
    const home = runnerHome();
    const mark = mirror.mark();
    const r = await setup(ALL.join(', '), { runtime: rt, home });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.outputs['cache-hit']).toBe('false');
    const out = toolsOut(r);
    expect(Object.keys(out).sort()).toEqual([...ALL].sort());
    // Exactly one checksum file and one asset per tool, each once, from the mirror layout.
    const got = mirror
      .since(mark)
      .map((q) => q.path)
      .sort();
    expect(got).toEqual(ALL.flatMap((t) => [assetPath(t), checksumPath(t)]).sort());
    for (const t of ALL) {
      expect(out[t]).toEqual({ version: DEFAULTS[t], path: join(home.toolCache, t, DEFAULTS[t], ARCH), cached: false });
      expect(r.path).toContain(out[t]?.path);
      // The binary sits at the top of the PATH entry, executable, and runs by name.
      expect(lstatSync(join(out[t]?.path as string, t)).mode & 0o111).not.toBe(0);
      expect(existsSync(`${out[t]?.path}.complete`)).toBe(true);
      expect(runFromPath(r, t)).toBe(rel(t).banner);
    }
    // helm's binary came out of linux-<arch>/; trivy keeps its contrib templates next to the binary.
    expect(existsSync(join(out.helm?.path as string, 'LICENSE'))).toBe(true);
    expect(existsSync(join(out.trivy?.path as string, 'contrib', 'html.tpl'))).toBe(true);
    // The summary names each tool with the hash it verified (computed here from the served bytes).
    for (const t of ALL) {
      const served = mirror.files.get(assetPath(t)) as Buffer;
      expect(r.summary).toContain(`\`${sha256(served).slice(0, 16)}\``);
    }
    expect(r.summary).toContain('| Tool | Version | Source | SHA-256 verified |');
  });

  it('warm run: every tool from the tool cache, no request to the mirror', async () => {
    const home = runnerHome();
    const first = await setup(ALL.join(','), { runtime: rt, home });
    expect(first.code).toBe(0);
    const before = listTree(home.toolCache);
    const mark = mirror.mark();
    const r = await setup(ALL.join(','), { runtime: rt, home });
    expect(r.code).toBe(0);
    expect(mirror.since(mark)).toEqual([]);
    expect(r.outputs['cache-hit']).toBe('true');
    const out = toolsOut(r);
    for (const t of ALL) {
      expect(out[t]).toEqual({ version: DEFAULTS[t], path: join(home.toolCache, t, DEFAULTS[t], ARCH), cached: true });
      expect(runFromPath(r, t)).toBe(rel(t).banner);
    }
    expect(listTree(home.toolCache)).toEqual(before);
    expect(r.summary.match(/\| tool cache \|/g)?.length).toBe(ALL.length);
  });

  it('wrong checksum: fails checksum-mismatch naming tool and asset; PATH and tool cache untouched', async () => {
    const home = runnerHome();
    // A tool cache that already holds something, to show it is left exactly as it was.
    expect((await setup('kubectl', { runtime: rt, home })).code).toBe(0);
    const before = snapshot(home.toolCache);
    const tampered = Buffer.concat([originalTrivy(), Buffer.from('x')]);
    mirror.replace(assetPath('trivy'), tampered);
    const r = await setup('trivy', { runtime: rt, home });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('checksum-mismatch');
    expect(r.errors).toEqual([
      `setup-tools: trivy ${DEFAULTS.trivy}: ${rel('trivy').asset} has SHA-256 ${sha256(tampered)} but trivy_${DEFAULTS.trivy}_checksums.txt lists ${sha256(originalTrivy())}; it was not installed (a corrupted download, or a mirror or release that changed)`,
    ]);
    // GITHUB_PATH of this run is empty; no PATH line, no env line.
    expect(r.path).toEqual([]);
    expect(r.env).toEqual({});
    expect(snapshot(home.toolCache)).toEqual(before);
    expect(listTree(home.toolCache).some((f) => f.startsWith('trivy'))).toBe(false);
    // Nothing unverified left behind in RUNNER_TEMP either.
    expect(listTree(home.temp).filter((f) => f.includes('trivy'))).toEqual([]);
    expect(r.summary).toContain('checksum-mismatch');
  });

  it('unknown tool: one input error listing what is accepted, no request', async () => {
    const mark = mirror.mark();
    const r = await setup('cosign, kubeclt', { runtime: rt });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toEqual([
      `setup-tools: input 'tools' names an unknown tool "kubeclt": accepted are cosign, helm, kubectl, kyverno, syft, terraform, trivy, each as name or name@X.Y.Z (e.g. trivy@0.74.0)`,
    ]);
    expect(r.stdout + r.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(mirror.since(mark)).toEqual([]);
    expect(r.path).toEqual([]);
  });
});

describe('setup-tools (node24): faults and inputs', () => {
  it('503 then 200: the download is retried and succeeds', async () => {
    mirror.fault(assetPath('kyverno'), { status: 503 }, { status: 503 });
    const mark = mirror.mark();
    const r = await setup('kyverno');
    expect(r.code).toBe(0);
    expect(mirror.since(mark).filter((q) => q.path === assetPath('kyverno'))).toHaveLength(3);
    expect(r.stdout).toMatch(
      /kyverno 1\.19\.0: GET http:\/\/127\.0\.0\.1:\d+\/kyverno\/1\.19\.0\/kyverno-cli_v1\.19\.0_linux_\w+\.tar\.gz: HTTP 503; retry 1\/3/,
    );
    expect(runFromPath(r, 'kyverno')).toBe(rel('kyverno').banner);
  });

  it('429 with Retry-After, on the checksum file and on the archive: waits as asked, then installs', async () => {
    mirror.fault(checksumPath('helm'), { status: 429, retryAfter: '1' });
    mirror.fault(assetPath('helm'), { status: 429, retryAfter: '1' });
    const mark = mirror.mark();
    const r = await setup('helm');
    expect(r.code).toBe(0);
    expect(mirror.since(mark).map((q) => q.path)).toEqual([
      checksumPath('helm'),
      checksumPath('helm'),
      assetPath('helm'),
      assetPath('helm'),
    ]);
    // retry-delay is 50ms, so a 1.0s wait can only come from the header.
    expect(r.stdout).toMatch(/helm 4\.2\.4: checksum file: .*HTTP 429; retry 1\/3 in 1\.0s as the server asked \(Retry-After\)/);
    expect(r.stdout).toMatch(
      /helm 4\.2\.4: GET \S+helm-v4\.2\.4-linux-\w+\.tar\.gz: HTTP 429; retry 1\/3 in 1\.0s as the server asked \(Retry-After\)/,
    );
    expect(runFromPath(r, 'helm')).toBe(rel('helm').banner);
  });

  it('truncated body (Content-Length larger than the body) is retried; once whole, it installs', async () => {
    mirror.fault(assetPath('terraform'), { truncate: true });
    const mark = mirror.mark();
    const r = await setup('terraform');
    expect(r.code).toBe(0);
    expect(mirror.since(mark).filter((q) => q.path === assetPath('terraform'))).toHaveLength(2);
    expect(r.stdout).toMatch(/terraform 1\.15\.9: .*(connection closed|truncated)/);
    expect(runFromPath(r, 'terraform')).toBe(rel('terraform').banner);
  });

  it('a stalled download hits the per-try deadline and is retried', async () => {
    mirror.fault(assetPath('syft'), { stall: true });
    const mark = mirror.mark();
    const r = await setup('syft', { inputs: { 'download-timeout': '300ms' } });
    expect(r.code).toBe(0);
    expect(mirror.since(mark).filter((q) => q.path === assetPath('syft'))).toHaveLength(2);
    expect(r.stdout).toMatch(/syft 1\.51\.0: GET \S+: no complete response within 0\.3s; retry 1\/3/);
    expect(runFromPath(r, 'syft')).toBe(rel('syft').banner);
  });

  it('a body truncated on every try fails download-failed and installs nothing', async () => {
    const home = runnerHome();
    mirror.fault(assetPath('terraform'), { truncate: true }, { truncate: true }, { truncate: true });
    const r = await setup('terraform', { home, inputs: { retries: '2' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('download-failed');
    expect(r.errors[0]).toMatch(
      new RegExp(`^setup-tools: terraform 1\\.15\\.9: could not download terraform_1\\.15\\.9_linux_${GOARCH}\\.zip: `),
    );
    expect(r.path).toEqual([]);
    expect(listTree(home.toolCache)).toEqual([]);
  });

  it('malformed version: one input error, no request', async () => {
    const mark = mirror.mark();
    const r = await setup('trivy@latest');
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^setup-tools: input 'tools' has a malformed version in "trivy@latest": expected trivy@X\.Y\.Z/);
    expect(mirror.since(mark)).toEqual([]);
  });

  it('refuses the malicious trivy 0.69.4 and the deleted releases before any request', async () => {
    const mark = mirror.mark();
    for (const v of ['0.69.4', 'v0.50.0']) {
      const r = await setup(`trivy@${v}`);
      expect(r.code).toBe(1);
      expect(r.outputs['failure-reason']).toBe('invalid-input');
      expect(r.errors[0]).toContain('aquasecurity/trivy#10345');
    }
    expect(mirror.since(mark)).toEqual([]);
  });

  it('missing checksum entry: checksum-mismatch, and the asset is never downloaded', async () => {
    const home = runnerHome();
    const sums = (mirror.files.get(checksumPath('syft')) as Buffer).toString('utf8');
    mirror.replace(
      checksumPath('syft'),
      sums
        .split('\n')
        .filter((l) => !l.endsWith(rel('syft').asset))
        .join('\n'),
    );
    const mark = mirror.mark();
    const r = await setup('syft', { home });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('checksum-mismatch');
    expect(r.errors).toEqual([
      `setup-tools: syft 1.51.0: checksum file syft_1.51.0_checksums.txt has no entry for ${rel('syft').asset}; ${rel('syft').asset} was not installed`,
    ]);
    expect(mirror.since(mark).map((q) => q.path)).toEqual([checksumPath('syft')]);
    expect(listTree(home.toolCache)).toEqual([]);
  });

  it('pinned versions and overrides: `cosign, cosign@2.6.4` installs 2.6.4; helm@v3.21.4 keeps Helm 3', async () => {
    const r = await setup('cosign, helm@v3.21.4\ncosign@2.6.4');
    expect(r.code).toBe(0);
    const out = toolsOut(r);
    expect(out.cosign?.version).toBe('2.6.4');
    expect(out.helm?.version).toBe('3.21.4');
    expect(runFromPath(r, 'cosign')).toBe(rel('cosign', '2.6.4').banner);
    expect(runFromPath(r, 'helm')).toBe(rel('helm', '3.21.4').banner);
  });

  it('cache: false verifies and installs under RUNNER_TEMP, writing nothing to the tool cache', async () => {
    const home = runnerHome();
    const r = await setup('kubectl, cosign', { home, inputs: { cache: 'false' } });
    expect(r.code).toBe(0);
    const out = toolsOut(r);
    expect(out.kubectl?.path.startsWith(home.temp)).toBe(true);
    expect(out.cosign?.path.startsWith(home.temp)).toBe(true);
    expect(listTree(home.toolCache)).toEqual([]);
    expect(runFromPath(r, 'kubectl')).toBe(rel('kubectl').banner);
    expect(runFromPath(r, 'cosign')).toBe(rel('cosign').banner);
    expect(r.summary).toContain('tool cache off');
  });

  it('one failing tool among several: each failure named, nothing added to PATH, verified tools still cached', async () => {
    const home = runnerHome();
    mirror.replace(assetPath('cosign'), 'not cosign');
    mirror.fault(assetPath('helm'), { status: 404 });
    const r = await setup('cosign, helm, kubectl', { home });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('checksum-mismatch');
    expect(r.errors).toHaveLength(3);
    expect(r.errors[0]).toContain(`cosign ${DEFAULTS.cosign}: cosign-linux-${GOARCH} has SHA-256 ${sha256('not cosign')}`);
    expect(r.errors[1]).toContain(`helm ${DEFAULTS.helm}: could not download helm-v${DEFAULTS.helm}-linux-${GOARCH}.tar.gz`);
    expect(r.errors[1]).toContain('HTTP 404');
    expect(r.errors[2]).toBe('setup-tools: 2 of 3 tools failed (cosign: checksum-mismatch, helm: download-failed); none was added to PATH');
    expect(r.path).toEqual([]);
    expect(listTree(home.toolCache).filter((f) => !f.startsWith('kubectl'))).toEqual([]);
    expect(r.summary).toContain('2 of 3 tools failed');
  });

  it('without RUNNER_TOOL_CACHE: warns and installs under RUNNER_TEMP', async () => {
    const home = runnerHome();
    const r = await runAction('setup-tools', {
      home,
      inputs: { tools: 'kubectl', mirror: mirror.url, verify: 'checksum' },
      env: { RUNNER_TOOL_CACHE: undefined },
    });
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([
      'setup-tools: RUNNER_TOOL_CACHE is not set, so nothing can be cached; installing under RUNNER_TEMP as with cache: false',
    ]);
    expect(toolsOut(r).kubectl?.path.startsWith(home.temp)).toBe(true);
    expect(runFromPath(r, 'kubectl')).toBe(rel('kubectl').banner);
  });

  it('rejects a mirror URL with credentials, before any request', async () => {
    const r = await runAction('setup-tools', { inputs: { tools: 'cosign', mirror: 'https://user:hunter22@mirror.example/tools' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors[0]).toMatch(/^setup-tools: input 'mirror' must not carry credentials/);
    expect(r.everything).not.toContain('hunter22');
  });
});

describe.each(runtimes())('setup-tools on $name: vendor signatures (default verify: signature)', (rt) => {
  const TRIVY_SIGNER = `https://github.com/aquasecurity/trivy/.github/workflows/reusable-release.yaml@refs/tags/v${DEFAULTS.trivy}`;

  it('the mirror serves no signature: signature-invalid naming tool, version and signer; nothing on PATH or in the tool cache', async () => {
    const home = runnerHome();
    const mark = mirror.mark();
    const r = await setup('trivy', { runtime: rt, home, inputs: { verify: '' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toContain(
      `trivy ${DEFAULTS.trivy}: signature check failed: the vendor signs trivy ${DEFAULTS.trivy}, but trivy_${DEFAULTS.trivy}_checksums.txt.sigstore.json is missing (HTTP 404`,
    );
    expect(r.errors[0]).toContain(`expected signer: ${TRIVY_SIGNER} (issuer https://token.actions.githubusercontent.com)`);
    expect(r.path).toEqual([]);
    expect(listTree(home.toolCache)).toEqual([]);
    // The bundle was asked for in the mirror's layout; the archive never was (the signature covers the checksum file).
    const paths = mirror.since(mark).map((q) => q.path);
    expect(paths).toContain(`/trivy/${DEFAULTS.trivy}/trivy_${DEFAULTS.trivy}_checksums.txt.sigstore.json`);
    expect(paths).not.toContain(assetPath('trivy'));
    expect(r.summary).toContain('signature-invalid');
  });

  it('a well-formed bundle with the right identity from a CA outside the pinned public-good root is refused', async () => {
    const home = runnerHome();
    const sums = mirror.files.get(checksumPath('trivy')) as Buffer;
    const bundle = await testSigstore.bundle(sums, { san: TRIVY_SIGNER, issuer: 'https://token.actions.githubusercontent.com' });
    mirror.replace(`/trivy/${DEFAULTS.trivy}/trivy_${DEFAULTS.trivy}_checksums.txt.sigstore.json`, bundle);
    const r = await setup('trivy', { runtime: rt, home, inputs: { verify: 'signature' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    expect(r.errors[0]).toMatch(/trivy_0\.74\.0_checksums\.txt\.sigstore\.json over trivy_0\.74\.0_checksums\.txt does not verify/);
    expect(r.path).toEqual([]);
    expect(listTree(home.toolCache)).toEqual([]);
  });

  it("terraform's SHA256SUMS signed by a key that is not HashiCorp's: refused, naming the key; helm's .asc likewise", async () => {
    const home = runnerHome();
    const mallory = await pgpKey('Mallory');
    const sums = mirror.files.get(checksumPath('terraform')) as Buffer;
    mirror.replace(
      `/terraform/${DEFAULTS.terraform}/terraform_${DEFAULTS.terraform}_SHA256SUMS.72D7468F.sig`,
      await mallory.sign(sums, false),
    );
    mirror.replace(`${assetPath('helm')}.asc`, await mallory.sign(mirror.files.get(assetPath('helm')) as Buffer, true));
    const r = await setup('terraform, helm', { runtime: rt, home, inputs: { verify: 'signature' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    const all = r.errors.join('\n');
    expect(all).toContain(
      `terraform ${DEFAULTS.terraform}: signature check failed: terraform_${DEFAULTS.terraform}_SHA256SUMS.72D7468F.sig over terraform_${DEFAULTS.terraform}_SHA256SUMS is made by key ${mallory.fingerprint.slice(-16)}, which is not a pinned key; expected signer: HashiCorp Security <security@hashicorp.com>, key C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F`,
    );
    expect(all).toContain(
      `helm ${DEFAULTS.helm}: signature check failed: ${rel('helm').asset}.asc over ${rel('helm').asset} is made by key ${mallory.fingerprint.slice(-16)}, which is not a pinned key`,
    );
    expect(r.path).toEqual([]);
    expect(listTree(home.toolCache)).toEqual([]);
  });

  it("syft's .sig/.pem pair from a CA outside the pinned root: refused", async () => {
    const home = runnerHome();
    const sums = mirror.files.get(checksumPath('syft')) as Buffer;
    const { sig, pem } = await testSigstore.pair(sums, {
      san: 'https://github.com/anchore/syft/.github/workflows/release.yaml@refs/heads/main',
      issuer: 'https://token.actions.githubusercontent.com',
    });
    mirror.replace(`/syft/${DEFAULTS.syft}/syft_${DEFAULTS.syft}_checksums.txt.sig`, sig);
    mirror.replace(`/syft/${DEFAULTS.syft}/syft_${DEFAULTS.syft}_checksums.txt.pem`, pem);
    const r = await setup('syft', { runtime: rt, home, inputs: { verify: 'signature' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    expect(r.errors[0]).toContain(
      `syft ${DEFAULTS.syft}: signature check failed: syft_${DEFAULTS.syft}_checksums.txt.sig over syft_${DEFAULTS.syft}_checksums.txt certificate does not chain to a trusted Fulcio CA`,
    );
    expect(listTree(home.toolCache)).toEqual([]);
  });

  it('a version its vendor does not sign installs on its checksum, with one warning saying so', async () => {
    const home = runnerHome();
    const r = await setup('kubectl@1.25.0', { runtime: rt, home, inputs: { verify: 'signature' } });
    expect(r.errors).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.warnings).toEqual([
      'kubectl 1.25.0: the vendor publishes no signature for this version; verified against the checksum file kubectl.sha256 only, which proves the download is intact, not who made it',
    ]);
    expect(runFromPath(r, 'kubectl')).toBe(rel('kubectl', '1.25.0').banner);
    expect(r.summary).toContain('⚠️ not checked: kubectl publishes no signature for 1.25.0');
  });
});

describe('setup-tools (node24): the verify input', () => {
  it('an unknown verify mode: one input error, no request', async () => {
    const mark = mirror.mark();
    const r = await setup('trivy', { inputs: { verify: 'none' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('invalid-input');
    expect(r.errors).toEqual([`setup-tools: input 'verify' must be signature or checksum (got "none")`]);
    expect(mirror.since(mark)).toEqual([]);
  });

  it('one tool failing its signature among several: failure-reason signature-invalid, nothing added to PATH', async () => {
    const home = runnerHome();
    const r = await setup('kubectl@1.25.0, trivy', { home, inputs: { verify: 'signature' } });
    expect(r.code).toBe(1);
    expect(r.outputs['failure-reason']).toBe('signature-invalid');
    expect(r.path).toEqual([]);
  });
});
