/** The generator command lines (actions/sbom-attach/src/generate.ts): syft once for every format, trivy once per format. */
import { describe, expect, it } from 'vitest';
import { checkInputs } from '../../actions/sbom-attach/src/inputs.js';
import { plan } from '../../actions/sbom-attach/src/generate.js';
import { base, ctx, D } from './raw-inputs.js';

describe('generator command lines', () => {
  const files = { 'spdx-json': '/out/a.spdx.json', 'cyclonedx-json': '/out/a.cdx.json' };
  it('syft: one run, registry source by digest, every format', () => {
    const c = checkInputs({ ...base, formats: ['spdx-json', 'cyclonedx-json'] }, ctx);
    // No --quiet: real syft 1.51 prints nothing at all with it, not even why it failed.
    expect(plan(c, files, {})).toEqual([
      {
        tool: 'syft',
        args: ['scan', `registry:ghcr.io/octo-org/shop@${D}`, '-o', 'spdx-json=/out/a.spdx.json', '-o', 'cyclonedx-json=/out/a.cdx.json'],
        writes: files,
        env: { SYFT_CHECK_FOR_APP_UPDATE: 'false', NO_COLOR: '1' },
      },
    ]);
  });
  it('syft over a directory names the source after the service', () => {
    const c = checkInputs({ ...base, image: '', path: 'app' }, ctx);
    expect(plan(c, files, { path: '/ws/app' })[0]?.args).toEqual([
      'scan',
      'dir:/ws/app',
      '-o',
      'spdx-json=/out/a.spdx.json',
      '--source-name',
      'shop',
    ]);
  });
  it('trivy: one run per format, straight from the registry', () => {
    const c = checkInputs(
      { ...base, image: `127.0.0.1:5000/o/app@${D}`, registryInsecure: true, generator: 'trivy', formats: ['spdx-json', 'cyclonedx-json'] },
      ctx,
    );
    expect(plan(c, files, {}).map((i) => i.args)).toEqual([
      [
        'image',
        '--quiet',
        '--image-src',
        'remote',
        '--insecure',
        '--format',
        'spdx-json',
        '--output',
        '/out/a.spdx.json',
        `127.0.0.1:5000/o/app@${D}`,
      ],
      [
        'image',
        '--quiet',
        '--image-src',
        'remote',
        '--insecure',
        '--format',
        'cyclonedx',
        '--output',
        '/out/a.cdx.json',
        `127.0.0.1:5000/o/app@${D}`,
      ],
    ]);
  });
});
