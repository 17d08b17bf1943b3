import { describe, expect, it } from 'vitest';
import { runAction, runtimes } from '../harness/runner.js';

describe.each(runtimes())('probe on $name', (rt) => {
  it('bad input', async () => {
    const r = await runAction('setup-tools', { runtime: rt, inputs: { tools: 'cosign; rm -rf /' } });
    console.log(r.stdout, r.stderr, r.outputs);
    expect(r.code).toBe(1);
  });
  it('ok', async () => {
    const r = await runAction('setup-tools', { runtime: rt, inputs: { tools: 'cosign, trivy@0.74.0' } });
    console.log(r.stdout, r.stderr, r.outputs);
    expect(r.code).toBe(0);
  });
});
