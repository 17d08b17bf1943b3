/**
 * Secret canaries (issue #9). Every action runs on success and failure paths with a distinctive
 * canary in each secret-bearing input and runner variable. A canary (as is, or URL-, JSON- or
 * base64-encoded, or any long line of it) must appear nowhere the workflow or anyone else can
 * read it: stdout (except the `::add-mask::` registration itself), stderr, GITHUB_OUTPUT,
 * GITHUB_ENV, GITHUB_STATE, GITHUB_PATH, the step summary; any file left under the runner home
 * (workspace reports, RUNNER_TEMP, HOME, tool cache) or in directories the scenario names
 * (registry storage); uploaded artifacts, comment bodies, chat payloads; and any request a
 * loopback server saw, except the one header on the one server where it is meant to go.
 * A secret input must also be registered with the runner's masker (`::add-mask::`).
 */
import { it } from 'vitest';
import { canary } from './lib.js';
import { checkCanary } from './checks.js';
import { forEachAction } from './scenarios/index.js';

await forEachAction('canary', (h) => {
  for (const s of h.canary) {
    it(`${s.name} [${s.expect.code === 0 ? 'success' : `failure: ${s.expect.reason}`}]`, async () => {
      const generated = Object.fromEntries(s.labels.map((l) => [l, canary(l)]));
      const o = await s.run(generated);
      const values = { ...generated, ...(o.values ?? {}) };
      checkCanary(s, o, values);
    });
  }
});
