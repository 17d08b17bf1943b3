/**
 * build-sign's inputs as plain data, with defaults, and quiet Deps for its flow, for the unit tests
 * of inputs, builders, build options and flow.
 */
import type { Deps } from '../../actions/build-sign/src/flow.js';
import type { RawInputs } from '../../actions/build-sign/src/inputs.js';

export const D = `sha256:${'0123456789abcdef'.repeat(4)}`;
export const D2 = `sha256:${'fedcba9876543210'.repeat(4)}`;
export const SHA = '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d';

export function raw(over: Partial<RawInputs> = {}): RawInputs {
  return {
    image: 'ghcr.io/octo-org/shop',
    tags: [],
    tagsGiven: false,
    context: '.',
    file: '',
    platforms: [],
    buildArgs: '',
    builder: 'buildx',
    push: true,
    digest: '',
    sign: 'keyless',
    cosignKeyGiven: false,
    registry: '',
    registryUsername: '',
    registryPasswordGiven: false,
    registryInsecure: false,
    identity: '',
    issuer: 'https://token.actions.githubusercontent.com',
    policy: 'hallmark-policy.yaml',
    allowLatest: false,
    tlog: true,
    signingConfig: '',
    trustedRoot: '',
    policyKind: 'cluster-policy',
    ...over,
  };
}

/** The flow's Deps with no runner: tools that succeed silently, quiet logs, `temp` as RUNNER_TEMP and workspace. Tests override what they drive or watch. */
export function quietDeps(temp: string, over: Partial<Deps> = {}): Deps {
  return {
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false }),
    getIdToken: async () => '',
    mask: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    printUntrusted: () => undefined,
    oneLine: (t) => t,
    displayCommand: (t, a) => [t, ...a].join(' '),
    lookupEnv: () => undefined,
    tempDir: temp,
    workspace: temp,
    serverUrl: 'https://github.com',
    ...over,
  };
}
