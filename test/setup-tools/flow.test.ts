/** flow.ts over a fake Io: the install flow (cache, checksum, archive layout, signatures), installAll's verdict, the tool cache lookup. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UserError } from '@hallmark/kit';
import { plan, type Platform } from '../../actions/setup-tools/src/catalog.js';
import { install, installAll, type Io } from '../../actions/setup-tools/src/flow.js';
import { pinnedTrust } from '../../actions/setup-tools/src/trust/index.js';

const LX: Platform = { os: 'linux', arch: 'x64' };
const hex = (s: string) => createHash('sha256').update(s).digest('hex');
/** A fake Io: files are strings in a map; records every side effect. */
function fakeIo(served: Record<string, string>, opts: { cached?: Record<string, string>; archive?: Record<string, string> } = {}) {
  const calls: string[] = [];
  const files = new Map<string, string>(Object.entries(opts.cached ?? {}));
  const io: Io = {
    find: (t, v, a) => (files.has(`/cache/${t}/${v}/${a}/${t}`) ? `/cache/${t}/${v}/${a}` : ''),
    isFile: (f) => files.has(f),
    fetchBytes: async (url) => {
      calls.push(`fetch ${url}`);
      if (!(url in served)) throw Object.assign(new Error(`GET ${url}: HTTP 404`), { status: 404 });
      return Buffer.from(served[url] as string);
    },
    readFile: async (f) => Buffer.from(files.get(f) ?? ''),
    download: async (url, dest) => {
      calls.push(`download ${url}`);
      const body = served[url];
      if (body === undefined) throw Object.assign(new Error(`GET ${url}: HTTP 404`), { status: 404 });
      files.set(dest, body);
      return { bytes: body.length, sha256: hex(body), attempts: 1 };
    },
    workDir: async (t) => `/work/${t}`,
    extractTar: async (_f, dest) => {
      for (const [k, v] of Object.entries(opts.archive ?? {})) files.set(`${dest}/${k}`, v);
      calls.push(`extract ${dest}`);
      return dest;
    },
    extractZip: async (_f, dest) => {
      for (const [k, v] of Object.entries(opts.archive ?? {})) files.set(`${dest}/${k}`, v);
      calls.push(`unzip ${dest}`);
      return dest;
    },
    stageBinary: async (f, dir, bin) => {
      files.set(`${dir}/${bin}`, files.get(f) as string);
      return dir;
    },
    chmodExecutable: async (f) => void calls.push(`chmod ${f}`),
    cacheDir: async (dir, t, v, a) => {
      calls.push(`cache ${dir} ${t} ${v} ${a}`);
      return `/cache/${t}/${v}/${a}`;
    },
    placeUncached: async (_dir, t, v, a) => {
      calls.push(`place ${t}`);
      return `/temp/${t}/${v}/${a}`;
    },
    remove: async (p) => void calls.push(`rm ${p}`),
    log: () => undefined,
    warn: (m) => void calls.push(`warn ${m}`),
  };
  return { io, calls };
}

describe('install flow', () => {
  it('a cache hit with the binary present makes no request', async () => {
    const { io, calls } = fakeIo({}, { cached: { '/cache/helm/4.2.4/x64/helm': 'x' } });
    const r = await install(plan('helm', '4.2.4', LX), { useCache: true, verify: 'checksum' }, io, pinnedTrust);
    expect(r).toMatchObject({ cached: true, path: '/cache/helm/4.2.4/x64', source: 'tool cache' });
    expect(calls).toEqual([]);
  });

  it('a cache entry without its binary is installed again', async () => {
    const p = plan('kubectl', '1.36.3', LX);
    const { io, calls } = fakeIo({ [p.checksumUrl]: hex('k'), [p.url]: 'k' }, { cached: { '/cache/kubectl/1.36.3/x64/other': 'x' } });
    const r = await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust);
    expect(r.cached).toBe(false);
    expect(calls).toContain(`download ${p.url}`);
  });

  it('helm: the binary directory inside the archive is what gets cached', async () => {
    const p = plan('helm', '4.2.4', LX);
    const archive = 'tgz';
    const { io, calls } = fakeIo(
      { [p.checksumUrl]: `${hex(archive)}\n`, [p.url]: archive },
      { archive: { 'linux-amd64/helm': 'bin', 'linux-amd64/LICENSE': 'l' } },
    );
    const r = await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust);
    expect(r).toMatchObject({ cached: false, sha256: hex(archive), asset: 'helm-v4.2.4-linux-amd64.tar.gz' });
    expect(calls).toContain('cache /work/helm/x/linux-amd64 helm 4.2.4 x64');
  });

  it('an archive without the binary where the vendor puts it fails install-failed, nothing cached', async () => {
    const p = plan('trivy', '0.74.0', LX);
    const archive = 'tgz';
    const { io, calls } = fakeIo(
      { [p.checksumUrl]: `${hex(archive)}  ${p.name}\n`, [p.url]: archive },
      { archive: { 'trivy_0.74.0/trivy': 'bin' } },
    );
    const e = await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).reason).toBe('install-failed');
    expect((e as UserError).message).toBe(
      'trivy 0.74.0: trivy_0.74.0_Linux-64bit.tar.gz does not hold trivy as a regular file (has the vendor changed its layout?)',
    );
    expect(calls.some((c) => c.startsWith('cache'))).toBe(false);
    expect(calls).toContain('rm /work/trivy');
  });

  it('a mismatch is checksum-mismatch with both hashes; nothing extracted or cached', async () => {
    const p = plan('terraform', '1.15.9', LX);
    const { io, calls } = fakeIo({ [p.checksumUrl]: `${hex('real')}  ${p.name}\n`, [p.url]: 'evil' });
    const e = (await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x)) as UserError;
    expect(e.reason).toBe('checksum-mismatch');
    expect(e.message).toContain(
      `terraform_1.15.9_linux_amd64.zip has SHA-256 ${hex('evil')} but terraform_1.15.9_SHA256SUMS lists ${hex('real')}`,
    );
    expect(calls.filter((c) => /^(extract|unzip|cache|place)/.test(c))).toEqual([]);
  });

  it('a missing checksum file is download-failed with a hint about versions and mirror layout', async () => {
    const p = plan('kyverno', '1.99.0', LX, 'https://m.example');
    const { io, calls } = fakeIo({});
    const e = (await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x)) as UserError;
    expect(e.reason).toBe('download-failed');
    expect(e.message).toContain(
      'is 1.99.0 a released version of kyverno? a mirror must hold <mirror>/kyverno/1.99.0/kyverno-cli_v1.99.0_linux_x86_64.tar.gz',
    );
    expect(calls).toEqual(['fetch https://m.example/kyverno/1.99.0/checksums.txt']);
  });

  it('cache: false neither looks in nor writes to the tool cache', async () => {
    const p = plan('cosign', '3.1.2', LX);
    const { io, calls } = fakeIo(
      { [p.checksumUrl]: `${hex('c')}  cosign-linux-amd64\n`, [p.url]: 'c' },
      { cached: { '/cache/cosign/3.1.2/x64/cosign': 'old' } },
    );
    const r = await install(p, { useCache: false, verify: 'checksum' }, io, pinnedTrust);
    expect(r).toMatchObject({ cached: false, path: '/temp/cosign/3.1.2/x64' });
    expect(calls.some((c) => c.startsWith('cache'))).toBe(false);
  });

  it('installAll: all installed → no failure; several failures → a checksum or signature reason first, each annotated', async () => {
    const k = plan('kubectl', '1.36.3', LX);
    const c = plan('cosign', '3.1.2', LX);
    const ok = fakeIo({ [k.checksumUrl]: hex('k'), [k.url]: 'k', [c.checksumUrl]: `${hex('c')}  cosign-linux-amd64\n`, [c.url]: 'c' });
    const good = await installAll([k, c], { useCache: true, verify: 'checksum' }, ok.io, pinnedTrust, () => undefined);
    expect([good.installed.map((i) => i.tool), good.failed, good.failure]).toEqual([['kubectl', 'cosign'], [], undefined]);
    // kubectl's checksum file is missing (download-failed), cosign's asset is not what the vendor hashed (checksum-mismatch).
    const bad = fakeIo({ [c.checksumUrl]: `${hex('c')}  cosign-linux-amd64\n`, [c.url]: 'evil' });
    const notes: string[] = [];
    const r = await installAll([k, c], { useCache: true, verify: 'checksum' }, bad.io, pinnedTrust, (m) => notes.push(m));
    expect(r.failed.map((f) => [f.tool, f.reason])).toEqual([
      ['kubectl', 'download-failed'],
      ['cosign', 'checksum-mismatch'],
    ]);
    expect([r.failure?.reason, r.failure?.message]).toEqual([
      'checksum-mismatch',
      '2 of 2 tools failed (kubectl: download-failed, cosign: checksum-mismatch); none was added to PATH',
    ]);
    expect(notes).toHaveLength(2);
    // One failure is that tool's own error, not annotated twice.
    const one = await installAll([c], { useCache: true, verify: 'checksum' }, bad.io, pinnedTrust, (m) => notes.push(m));
    expect([one.failure?.reason, notes.length]).toEqual(['checksum-mismatch', 2]);
  });
});

describe('tool cache lookup', () => {
  it('findCached answers exactly as @actions/tool-cache find does, for entries tc.cacheDir wrote', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { findCached } = await import('../../actions/setup-tools/src/runner.js');
    const root = mkdtempSync(join(tmpdir(), 'st-tc-'));
    const saved = { cache: process.env.RUNNER_TOOL_CACHE, temp: process.env.RUNNER_TEMP };
    process.env.RUNNER_TOOL_CACHE = join(root, 'cache');
    process.env.RUNNER_TEMP = join(root, 'temp');
    try {
      const tc = await import('@actions/tool-cache');
      const src = join(root, 'src');
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'helm'), 'x');
      await tc.cacheDir(src, 'helm', '4.2.4', 'x64');
      await tc.cacheDir(src, 'terraform', '1.16.0-rc2', 'arm64');
      // An entry without its .complete marker (an interrupted cacheDir) is not a hit for either.
      mkdirSync(join(root, 'cache', 'trivy', '0.74.0', 'x64'), { recursive: true });
      const cases: [string, string, string][] = [
        ['helm', '4.2.4', 'x64'],
        ['helm', '4.2.4', 'arm64'],
        ['helm', '4.2.3', 'x64'],
        ['terraform', '1.16.0-rc2', 'arm64'],
        ['trivy', '0.74.0', 'x64'],
        ['kubectl', '1.36.3', 'x64'],
      ];
      const ours = cases.map(([t, v, a]) => findCached(join(root, 'cache'), t, v, a));
      expect(ours).toEqual(cases.map(([t, v, a]) => tc.find(t, v, a)));
      expect(ours.filter(Boolean)).toHaveLength(2);
    } finally {
      process.env.RUNNER_TOOL_CACHE = saved.cache;
      process.env.RUNNER_TEMP = saved.temp;
      if (saved.cache === undefined) delete process.env.RUNNER_TOOL_CACHE;
      if (saved.temp === undefined) delete process.env.RUNNER_TEMP;
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('install flow: where the vendor signature is checked (fake Io, test PGP key as the pinned Helm key)', () => {
  const helmPlan = () => plan('helm', '4.2.4', LX);
  async function helmCase(signWith: 'helm' | 'other' | 'none') {
    const { pgpKey } = await import('./signing.js');
    const [helmKey, other] = await Promise.all([pgpKey('Helm Test'), pgpKey('Other')]);
    const p = helmPlan();
    const archive = 'helm archive bytes';
    const served: Record<string, string> = { [p.checksumUrl]: `${hex(archive)}\n`, [p.url]: archive };
    if (signWith !== 'none')
      served[`${p.signature!.base}/${(p.signature as { sigPath: string }).sigPath}`] = (
        await (signWith === 'helm' ? helmKey : other).sign(Buffer.from(archive), true)
      ).toString();
    const { io, calls } = fakeIo(served, { archive: { 'linux-amd64/helm': 'bin' } });
    const trust = { sigstoreTrustedRoot: async () => ({}), pgpKeys: async () => [helmKey.armoredPublic] };
    const r = await install(p, { useCache: true, verify: 'signature' }, io, trust).catch((e: UserError) => e);
    return { r, calls, p };
  }

  it("helm's .asc (on the archive) is fetched from the GitHub release after the download and checked before anything is unpacked", async () => {
    const { r, calls, p } = await helmCase('helm');
    expect(r).not.toBeInstanceOf(UserError);
    const at = (prefix: string) => calls.findIndex((c) => c.startsWith(prefix));
    expect(at(`fetch https://github.com/helm/helm/releases/download/v4.2.4/${p.name}.asc`)).toBeGreaterThan(at(`download ${p.url}`));
    expect(at('extract')).toBeGreaterThan(at(`fetch https://github.com/helm/helm/releases/download/v4.2.4/${p.name}.asc`));
    expect((r as { verified?: { by: string } }).verified?.by).toBe('signature');
  });

  it('a wrong or missing .asc: signature-invalid, nothing unpacked, nothing cached', async () => {
    for (const how of ['other', 'none'] as const) {
      const { r, calls } = await helmCase(how);
      expect(r).toBeInstanceOf(UserError);
      expect((r as UserError).reason).toBe('signature-invalid');
      expect((r as UserError).message).toContain('helm 4.2.4: signature check failed');
      expect((r as UserError).message).toContain('expected signer: a Helm release manager key from KEYS (helm/helm)');
      expect(calls.filter((c) => /^(extract|unzip|cache|place)/.test(c))).toEqual([]);
    }
  });
});
