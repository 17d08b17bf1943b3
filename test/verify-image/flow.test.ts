/** How verify-image's flow (actions/verify-image/src/flow.ts) classifies cosign's refusals, in the wording of the real cosign 3.1.2 (see verify.bundle.test.ts). */
import { describe, expect, it } from 'vitest';
import { classify } from '../../actions/verify-image/src/flow.js';

describe('classify cosign refusals (wording of the real cosign 3.1.2, see verify.bundle.test.ts)', () => {
  const r = (stderr: string, exitCode = 1) => ({ exitCode, stderr, stdout: '', timedOut: false });
  it.each([
    [
      'Error: no matching attestations: failed to verify certificate identity: no matching CertificateIdentity found, last error: expected GithubWorkflowRepository to be "evil/repo", got "octo-org/shop"',
      'identity',
    ],
    ['Error: no signatures found', 'signature'],
    ['Error: no matching attestations: failed to verify signature: could not verify envelope', 'signature'],
    ['Get "https://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', 'tool'],
    ['Error: GET http://127.0.0.1:34827/v2/: unexpected status code 503 Service Unavailable: busy', 'tool'],
  ])('%s → %s', (stderr, kind) => expect(classify(r(stderr))).toBe(kind));
  it('a timeout or a missing binary is the tool', () => {
    expect(classify({ ...r(''), timedOut: true })).toBe('tool');
    expect(classify(r('ENOENT', 127))).toBe('tool');
  });
});
