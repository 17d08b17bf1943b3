/** sbom-attach's inputs as plain data, with defaults, for the unit tests of inputs, generate and flow. */
import type { RawInputs } from '../../actions/sbom-attach/src/inputs.js';

export const D = `sha256:${'ab'.repeat(32)}`;
export const base: RawInputs = {
  image: `ghcr.io/octo-org/shop@${D}`,
  path: '',
  formats: ['spdx-json'],
  generator: 'syft',
  service: '',
  artifactName: '',
  upload: true,
  retentionDays: 30,
  attach: 'auto',
  signBlob: false,
  cosignKeyGiven: false,
  oidcAvailable: false,
  registryUsername: '',
  registryPasswordGiven: false,
  registryInsecure: false,
  outputDir: '',
  tlog: true,
  signingConfig: '',
  trustedRoot: '',
};
export const ctx = { sha: '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d', repository: 'octo-org/shop' };
