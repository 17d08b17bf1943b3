/** Unit tests of setup-tools' domain: the `tools`/`mirror` inputs, checksum files, the install flow over a fake Io. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UserError } from '@hallmark/kit';
import { plan, type Platform } from '../../actions/setup-tools/src/catalog.js';
import { expectedSha256 } from '../../actions/setup-tools/src/checksum.js';
import { install, type Io } from '../../actions/setup-tools/src/flow.js';
import { pinnedTrust } from '../../actions/setup-tools/src/trust/index.js';
import { checkPlatform, parseMirror, parseTools } from '../../actions/setup-tools/src/inputs.js';
import { summaryMarkdown, toolsOutput } from '../../actions/setup-tools/src/summary.js';

const LX: Platform = { os: 'linux', arch: 'x64' };
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function thrown(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    return e as UserError;
  }
  throw new Error('did not throw');
}

describe('tools input', () => {
  it('bare names take the catalog default; name@version and a leading v are accepted', () => {
    expect(parseTools(['cosign', 'trivy@0.69.3', 'kubectl@v1.35.7', 'terraform@1.16.0-rc2'])).toEqual([
      { tool: 'cosign', version: '3.1.2', pinned: false },
      { tool: 'trivy', version: '0.69.3', pinned: true },
      { tool: 'kubectl', version: '1.35.7', pinned: true },
      { tool: 'terraform', version: '1.16.0-rc2', pinned: true },
    ]);
  });

  it('an explicit version overrides a bare name in either order; the same version twice is one tool', () => {
    expect(parseTools(['cosign', 'cosign@2.6.4'])).toEqual([{ tool: 'cosign', version: '2.6.4', pinned: true }]);
    expect(parseTools(['cosign@2.6.4', 'cosign'])).toEqual([{ tool: 'cosign', version: '2.6.4', pinned: true }]);
    expect(parseTools(['helm@3.21.4', 'helm@v3.21.4'])).toEqual([{ tool: 'helm', version: '3.21.4', pinned: true }]);
  });

  it('two different explicit versions of one tool are an input error', () => {
    const e = thrown(() => parseTools(['cosign@2.6.4', 'cosign@3.1.2']));
    expect(e.reason).toBe('invalid-input');
    expect(e.message).toBe("input 'tools' asks for cosign twice with different versions (2.6.4 and 3.1.2): name each tool once");
  });

  it.each([
    ['rm -rf /', 'names an unknown tool "rm -rf /"'],
    ['kubeclt', 'names an unknown tool "kubeclt": accepted are cosign, helm, kubectl, kyverno, syft, terraform, trivy'],
    ['@1.2.3', 'names an unknown tool "@1.2.3"'],
    ['trivy@latest', 'has a malformed version in "trivy@latest": expected trivy@X.Y.Z'],
    ['trivy@0.74', 'has a malformed version in "trivy@0.74"'],
    ['trivy@^0.74.0', 'has a malformed version in "trivy@^0.74.0"'],
    ['trivy@', 'has a malformed version in "trivy@"'],
    ['trivy@0.69.4', 'asks for trivy@0.69.4: trivy 0.69.4 was a malicious release'],
    ['trivy@v0.45.0', 'asks for trivy@0.45.0: trivy 0.45.0 is refused: the releases v0.27.0–v0.69.1 were deleted'],
  ])('%s → one-line input error', (item, message) => {
    const e = thrown(() => parseTools(['cosign', item]));
    expect(e.reason).toBe('invalid-input');
    expect(e.message.startsWith(`input 'tools' ${message}`)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  it('an empty list is an input error', () => {
    expect(thrown(() => parseTools([])).message).toMatch(/^input 'tools' is required: a comma- or newline-separated list of cosign, helm/);
  });

  it('unsupported platform: names the runner and lists what is supported', () => {
    const wanted = parseTools(['cosign']);
    const e = thrown(() => checkPlatform(wanted, undefined, 'win32/arm64'));
    expect(e.reason).toBe('unsupported-platform');
    expect(e.message).toBe('this runner is win32/arm64; setup-tools installs on linux/x64, linux/arm64, darwin/x64, darwin/arm64, windows/x64');
    const tf = thrown(() => checkPlatform(parseTools(['terraform@0.15.5']), { os: 'darwin', arch: 'arm64' }, 'darwin/arm64'));
    expect(tf.message).toMatch(/^terraform has no darwin\/arm64 build before 1\.0\.2 \(asked for 0\.15\.5\)/);
  });
});

describe('mirror input', () => {
  it('accepts http(s) base URLs, drops trailing slashes, flags plain http off loopback', () => {
    expect(parseMirror('')).toEqual({ base: '', plainHttp: false });
    expect(parseMirror('https://ghes.example/mirror/tools//')).toEqual({ base: 'https://ghes.example/mirror/tools', plainHttp: false });
    expect(parseMirror('http://127.0.0.1:8080/')).toEqual({ base: 'http://127.0.0.1:8080', plainHttp: false });
    expect(parseMirror('http://mirror.corp/tools')).toEqual({ base: 'http://mirror.corp/tools', plainHttp: true });
  });
  it.each([
    ['ftp://mirror/tools', /got a ftp URL/],
    ['mirror.corp/tools', /must be an http\(s\) base URL/],
    ['https://u:p@mirror.corp', /must not carry credentials/],
    ['https://mirror.corp/t?token=x', /without a query or fragment/],
  ])('%s is refused', (v, m) => {
    const e = thrown(() => parseMirror(v));
    expect(e.reason).toBe('invalid-input');
    expect(e.message).toMatch(/^input 'mirror' /);
    expect(e.message).toMatch(m);
    expect(e.message).not.toContain('u:p');
  });
});

describe('checksum files', () => {
  const a = hex('a');
  const b = hex('b');
  it('goreleaser / SHA256SUMS lists: the exact file name, not a prefix or suffix', () => {
    const text = `${b}  trivy_0.74.0_Linux-64bit.tar.gz.sig\n${a}  trivy_0.74.0_Linux-64bit.tar.gz\n${b}  trivy_0.74.0_Linux-64bit.deb\n`;
    expect(expectedSha256(text, 'sha256sum', 'trivy_0.74.0_Linux-64bit.tar.gz')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(text, 'sha256sum', 'Linux-64bit.tar.gz')).toEqual({ ok: false, problem: 'has no entry for Linux-64bit.tar.gz' });
  });
  it('reads binary-mode `*name`, upper-case hex and CRLF', () => {
    expect(expectedSha256(`${a.toUpperCase()} *cosign-linux-amd64\r\n`, 'sha256sum', 'cosign-linux-amd64')).toEqual({ ok: true, sha256: a });
  });
  it('refuses a list naming the asset twice with different hashes', () => {
    expect(expectedSha256(`${a}  x.zip\n${b}  x.zip\n`, 'sha256sum', 'x.zip').ok).toBe(false);
  });
  it('hash-only files (kubectl, helm .sha256), with or without a newline; a name, if present, must match', () => {
    expect(expectedSha256(a, 'hex', 'kubectl')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(`${a}\n`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(`${a}  helm-v4.2.4-linux-amd64.tar.gz`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz')).toEqual({ ok: true, sha256: a });
    expect(expectedSha256(`${a}  helm-v4.2.4-linux-arm64.tar.gz`, 'hex', 'helm-v4.2.4-linux-amd64.tar.gz').ok).toBe(false);
    expect(expectedSha256('<html>404</html>', 'hex', 'kubectl')).toEqual({ ok: false, problem: 'is not a single SHA-256 hash' });
    expect(expectedSha256('', 'hex', 'kubectl').ok).toBe(false);
  });
});

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
    const { io, calls } = fakeIo({ [p.checksumUrl]: `${hex(archive)}\n`, [p.url]: archive }, { archive: { 'linux-amd64/helm': 'bin', 'linux-amd64/LICENSE': 'l' } });
    const r = await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust);
    expect(r).toMatchObject({ cached: false, sha256: hex(archive), asset: 'helm-v4.2.4-linux-amd64.tar.gz' });
    expect(calls).toContain('cache /work/helm/x/linux-amd64 helm 4.2.4 x64');
  });

  it('an archive without the binary where the vendor puts it fails install-failed, nothing cached', async () => {
    const p = plan('trivy', '0.74.0', LX);
    const archive = 'tgz';
    const { io, calls } = fakeIo({ [p.checksumUrl]: `${hex(archive)}  ${p.name}\n`, [p.url]: archive }, { archive: { 'trivy_0.74.0/trivy': 'bin' } });
    const e = await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).reason).toBe('install-failed');
    expect((e as UserError).message).toBe('trivy 0.74.0: trivy_0.74.0_Linux-64bit.tar.gz does not hold trivy as a regular file (has the vendor changed its layout?)');
    expect(calls.some((c) => c.startsWith('cache'))).toBe(false);
    expect(calls).toContain('rm /work/trivy');
  });

  it('a mismatch is checksum-mismatch with both hashes; nothing extracted or cached', async () => {
    const p = plan('terraform', '1.15.9', LX);
    const { io, calls } = fakeIo({ [p.checksumUrl]: `${hex('real')}  ${p.name}\n`, [p.url]: 'evil' });
    const e = (await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x)) as UserError;
    expect(e.reason).toBe('checksum-mismatch');
    expect(e.message).toContain(`terraform_1.15.9_linux_amd64.zip has SHA-256 ${hex('evil')} but terraform_1.15.9_SHA256SUMS lists ${hex('real')}`);
    expect(calls.filter((c) => /^(extract|unzip|cache|place)/.test(c))).toEqual([]);
  });

  it('a missing checksum file is download-failed with a hint about versions and mirror layout', async () => {
    const p = plan('kyverno', '1.99.0', LX, 'https://m.example');
    const { io, calls } = fakeIo({});
    const e = (await install(p, { useCache: true, verify: 'checksum' }, io, pinnedTrust).catch((x: UserError) => x)) as UserError;
    expect(e.reason).toBe('download-failed');
    expect(e.message).toContain('is 1.99.0 a released version of kyverno? a mirror must hold <mirror>/kyverno/1.99.0/kyverno-cli_v1.99.0_linux_x86_64.tar.gz');
    expect(calls).toEqual(['fetch https://m.example/kyverno/1.99.0/checksums.txt']);
  });

  it('cache: false neither looks in nor writes to the tool cache', async () => {
    const p = plan('cosign', '3.1.2', LX);
    const { io, calls } = fakeIo({ [p.checksumUrl]: `${hex('c')}  cosign-linux-amd64\n`, [p.url]: 'c' }, { cached: { '/cache/cosign/3.1.2/x64/cosign': 'old' } });
    const r = await install(p, { useCache: false, verify: 'checksum' }, io, pinnedTrust);
    expect(r).toMatchObject({ cached: false, path: '/temp/cosign/3.1.2/x64' });
    expect(calls.some((c) => c.startsWith('cache'))).toBe(false);
  });
});

describe('summary and outputs', () => {
  it('tools output is keyed by name with version, path and cached', () => {
    expect(toolsOutput([{ tool: 'trivy', version: '0.74.0', path: '/c/trivy', binary: 'trivy', cached: true, source: 'tool cache' }])).toEqual({ trivy: { version: '0.74.0', path: '/c/trivy', cached: true } });
  });
  it('the summary escapes untrusted failure text', () => {
    const md = summaryMarkdown([], [{ tool: 'syft', version: '1.51.0', reason: 'download-failed', message: 'x <img src=x> [a](http://e)' }], { platform: 'linux/x64', mirror: '', useCache: true });
    expect(md).not.toContain('<img');
    expect(md).not.toContain('](http');
    expect(md).toContain('1 of 1 tools failed; none was added to PATH');
  });
  it('the summary names the verified signer (escaped), or says the signature was not checked and why', () => {
    const base = { version: '1', path: '/p', binary: 'x', cached: false, sha256: 'a'.repeat(64), asset: 'x.tgz', checksumName: 'sums', bytes: 1, source: 'download' };
    const md = summaryMarkdown(
      [
        { ...base, tool: 'trivy', verified: { by: 'signature', scheme: 'sigstore-bundle', signer: 'https://github.com/a/b/.github/workflows/r.yaml@refs/tags/v1 <b>x</b> | y', file: 'sums.sigstore.json' } },
        { ...base, tool: 'kubectl', verified: { by: 'checksum', why: 'kubectl publishes no signature for 1' } },
      ],
      [],
      { platform: 'linux/x64', mirror: '', useCache: true },
    );
    expect(md).toContain('| Tool | Version | Source | SHA-256 verified | Vendor signature |');
    expect(md).toMatch(/✅ `sums\.sigstore\.json` by https:\/\/github\.com\/a\/b\/\.github\/workflows\/r\.yaml@refs\/tags\/v1/);
    expect(md).not.toContain('<b>');
    expect(md.split('\n').find((l) => l.includes('trivy'))?.split(/(?<!\\)\|/).length).toBe(7);
    expect(md).toContain('⚠️ not checked: kubectl publishes no signature for 1');
  });
});

describe('tool cache lookup', () => {
  it('findCached answers exactly as @actions/tool-cache find does, for entries tc.cacheDir wrote', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { findCached } = await import('../../actions/setup-tools/src/io.js');
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
      const cases: [string, string, string][] = [['helm', '4.2.4', 'x64'], ['helm', '4.2.4', 'arm64'], ['helm', '4.2.3', 'x64'], ['terraform', '1.16.0-rc2', 'arm64'], ['trivy', '0.74.0', 'x64'], ['kubectl', '1.36.3', 'x64']];
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
    if (signWith !== 'none') served[`${p.signature!.base}/${(p.signature as { sigPath: string }).sigPath}`] = (await (signWith === 'helm' ? helmKey : other).sign(Buffer.from(archive), true)).toString();
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
