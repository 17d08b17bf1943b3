/**
 * sbom-attach's flow (actions/sbom-attach/src/flow.ts) over fake tools: missing generators, files
 * not written or of the wrong format, upload name collisions, and the cosign arguments per cosign
 * version and Sigstore options.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkInputs, type RawInputs } from '../../actions/sbom-attach/src/inputs.js';
import { generateAndAttach, type Deps } from '../../actions/sbom-attach/src/flow.js';
import { base, ctx, D } from './raw-inputs.js';

describe('generateAndAttach with fake tools', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  function deps(over: Partial<Deps> = {}): Deps & { ran: string[][] } {
    const d = mkdtempSync(join(tmpdir(), 'sbom-unit-'));
    dirs.push(d);
    const ran: string[][] = [];
    return Object.assign(
      {
        exec: async (tool: string, args: string[]) => {
          ran.push([tool, ...args]);
          return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
        },
        upload: async () => ({ id: 7, size: 1 }),
        transport: async () => ({ status: 500, headers: {}, body: Buffer.alloc(0) }),
        mask: () => {},
        info: () => {},
        warn: () => {},
        printUntrusted: () => {},
        oneLine: (t: string) => t.replace(/\s+/g, ' '),
        displayCommand: (t: string, a: readonly string[]) => [t, ...a].join(' '),
        lookupEnv: () => undefined,
        tempDir: d,
        outputDir: join(d, 'out'),
        ran,
      },
      over,
    );
  }
  it('a generator that is not installed fails with generate-failed and the setup-tools hint', async () => {
    const r = await generateAndAttach(
      checkInputs(base, ctx),
      { cosignKey: '', cosignPassword: '', registryPassword: '' },
      deps({ exec: async () => ({ exitCode: 127, stdout: '', stderr: 'Unable to locate executable file: syft', timedOut: false }) }),
    );
    expect(r.failure).toEqual({
      reason: 'generate-failed',
      message: expect.stringMatching(/syft was not found on PATH: add .*setup-tools/),
    });
  });
  it('a tool that exits 0 without the file is a generate failure; a wrong-format file is bad-sbom', async () => {
    const r = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, deps());
    expect(r.failure?.reason).toBe('generate-failed');
    const wrong = deps({
      exec: async (_t, args) => {
        const o = args[args.indexOf('-o') + 1] as string;
        writeFileSync(o.slice(o.indexOf('=') + 1), JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] }));
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
    });
    const r2 = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, wrong);
    expect(r2.failure).toEqual({ reason: 'bad-sbom', message: expect.stringMatching(/asked for spdx-json but wrote CycloneDX 1.6/) });
  });
  it('an upload name collision says which input to set', async () => {
    const ok = deps({
      exec: async (_t, args) => {
        const o = args[args.indexOf('-o') + 1] as string;
        // A minimal syft-shaped SPDX document naming D, with two packages (made here: the test needs no recorded output).
        writeFileSync(
          o.slice(o.indexOf('=') + 1),
          JSON.stringify({
            spdxVersion: 'SPDX-2.3',
            SPDXID: 'SPDXRef-DOCUMENT',
            packages: [
              { SPDXID: 'SPDXRef-DocumentRoot-Image-x', name: 'ghcr.io/octo-org/shop', versionInfo: D, primaryPackagePurpose: 'CONTAINER' },
              { SPDXID: 'SPDXRef-Package-a', name: 'a', versionInfo: '1' },
              { SPDXID: 'SPDXRef-Package-b', name: 'b', versionInfo: '2' },
            ],
            relationships: [
              { spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-x', relationshipType: 'DESCRIBES' },
            ],
          }),
        );
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
      upload: async () => {
        throw new Error(
          'Failed to CreateArtifact: Received non-retryable error: Failed request: (409) Conflict: an artifact with this name already exists on the workflow run',
        );
      },
    });
    const r = await generateAndAttach(checkInputs(base, ctx), { cosignKey: '', cosignPassword: '', registryPassword: '' }, ok);
    expect(r.failure?.reason).toBe('upload-failed');
    expect(r.failure?.message).toMatch(/set 'service' or 'artifact-name' per leg/);
    expect(r.packageCount).toBe(2);
  });

  /** A fake toolbox: syft writes a minimal SPDX naming D; cosign answers `version` as `cosignVersion` and records its calls. */
  function signingDeps(cosignVersion: string, over: Partial<Deps> = {}) {
    const calls: { tool: string; args: string[]; env: Record<string, string | undefined> }[] = [];
    const d = deps({
      lookupEnv: (n) => (n === 'SBOM_KEY' ? 'PEM' : undefined),
      exec: async (tool, args, o) => {
        calls.push({ tool, args, env: o.env ?? {} });
        if (tool === 'syft') {
          for (const a of args.filter((x) => /^(spdx|cyclonedx)-json=/.test(x))) {
            const file = a.slice(a.indexOf('=') + 1);
            writeFileSync(
              file,
              a.startsWith('spdx')
                ? JSON.stringify({
                    spdxVersion: 'SPDX-2.3',
                    SPDXID: 'SPDXRef-DOCUMENT',
                    packages: [
                      {
                        SPDXID: 'SPDXRef-DocumentRoot-Image-x',
                        name: 'ghcr.io/octo-org/shop',
                        versionInfo: D,
                        primaryPackagePurpose: 'CONTAINER',
                      },
                      { SPDXID: 'SPDXRef-Package-a', name: 'a', versionInfo: '1' },
                    ],
                    relationships: [
                      {
                        spdxElementId: 'SPDXRef-DOCUMENT',
                        relatedSpdxElement: 'SPDXRef-DocumentRoot-Image-x',
                        relationshipType: 'DESCRIBES',
                      },
                    ],
                  })
                : JSON.stringify({
                    bomFormat: 'CycloneDX',
                    specVersion: '1.6',
                    metadata: { component: { 'bom-ref': 'r', type: 'container', name: 'ghcr.io/octo-org/shop', version: D } },
                    components: [
                      { type: 'library', name: 'a', version: '1' },
                      { type: 'file', name: '/lib/apk/db/installed' },
                    ],
                  }),
            );
          }
          return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
        }
        if (args[0] === 'version')
          return { exitCode: 0, stdout: JSON.stringify({ gitVersion: cosignVersion }), stderr: '', timedOut: false };
        if (args[0] === 'sign-blob') writeFileSync(args[args.indexOf('--bundle') + 1] as string, '{}');
        return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
      },
      ...over,
    });
    return { d, calls };
  }
  const keyed = (raw: Partial<RawInputs>) =>
    checkInputs({ ...base, cosignKeyGiven: true, signBlob: true, formats: ['spdx-json', 'cyclonedx-json'], upload: false, ...raw }, ctx);
  const secrets = { cosignKey: 'env://SBOM_KEY', cosignPassword: 'pw', registryPassword: '' };

  it('cosign 3, key mode, tlog: false: attest and sign-blob get --use-signing-config=false --tlog-upload=false, the key by env only', async () => {
    const { d, calls } = signingDeps('v3.1.2', { transport: async () => ({ status: 404, headers: {}, body: Buffer.alloc(0) }) });
    const r = await generateAndAttach(keyed({ tlog: false }), secrets, d);
    expect(r.failure).toBeUndefined();
    expect(r.cosignVersion).toBe('v3.1.2');
    // CycloneDX `file` components (syft lists every file it read) are not packages.
    expect(r.files.map((f) => f.info?.packages)).toEqual([1, 1]);
    const cosign = calls.filter((c) => c.tool === 'cosign' && c.args[0] !== 'version');
    expect(cosign.map((c) => c.args[0])).toEqual(['sign-blob', 'sign-blob', 'attest', 'attest']);
    for (const c of cosign) {
      expect(c.args).toEqual(expect.arrayContaining(['--key', 'env://SBOM_KEY', '--use-signing-config=false', '--tlog-upload=false']));
      expect(c.args).not.toContain('--new-bundle-format');
      expect(c.args.join(' ')).not.toContain('PEM');
      expect(c.env.COSIGN_PASSWORD).toBe('pw');
    }
    expect(cosign[2]!.args.slice(-1)).toEqual([`ghcr.io/octo-org/shop@${D}`]);
    expect(cosign[0]!.args.slice(-1)[0]).toMatch(/\.spdx\.json$/);
  });
  it('cosign 3 with a signing config and trusted root: those files, no tlog flags', async () => {
    const { d, calls } = signingDeps('v3.1.2');
    const cfg = keyed({ attach: 'none' });
    cfg.sigstore = { tlog: true, signingConfig: '/ws/sc.json', trustedRoot: '/ws/tr.json' };
    const r = await generateAndAttach(cfg, secrets, d);
    expect(r.failure).toBeUndefined();
    const blob = calls.find((c) => c.args[0] === 'sign-blob')!;
    expect(blob.args).toEqual(expect.arrayContaining(['--signing-config', '/ws/sc.json', '--trusted-root', '/ws/tr.json']));
    expect(blob.args.join(' ')).not.toMatch(/tlog-upload|use-signing-config/);
  });
  it('a pinned cosign 2: --tlog-upload=false alone, sign-blob --new-bundle-format, the .att tag reported; signing-config refused', async () => {
    const { d, calls } = signingDeps('v2.6.4');
    const r = await generateAndAttach(keyed({ tlog: false }), secrets, d);
    expect(r.failure).toBeUndefined();
    const cosign = calls.filter((c) => c.tool === 'cosign' && c.args[0] !== 'version');
    for (const c of cosign) {
      expect(c.args).toContain('--tlog-upload=false');
      expect(c.args).not.toContain('--use-signing-config=false');
    }
    expect(cosign.filter((c) => c.args[0] === 'sign-blob').every((c) => c.args.includes('--new-bundle-format'))).toBe(true);
    expect(r.attachments).toEqual([`ghcr.io/octo-org/shop:${D.replace(':', '-')}.att`]);
    const cfg = keyed({});
    cfg.sigstore = { tlog: true, signingConfig: '/ws/sc.json' };
    const refused = await generateAndAttach(cfg, secrets, signingDeps('v2.6.4').d);
    expect(refused.failure).toEqual({
      reason: 'invalid-input',
      message: expect.stringMatching(/^input 'signing-config' needs cosign 3 or later \(this runner has cosign v2\.6\.4/),
    });
  });
});
