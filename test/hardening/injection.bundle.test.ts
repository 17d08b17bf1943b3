/**
 * Injection (issue #9).
 * - Workflow commands: untrusted text (inputs, tool output, HTTP bodies, report fields) carrying
 *   `::set-output`, `::add-mask::`, `::stop-commands::`, `::error`, CR/LF, `name<<DELIM` heredocs
 *   and legacy `##[…]` must create no workflow command, no output, env or state entry, no mask,
 *   and split no output value. Checked on what the runner would act on: the parsed commands of
 *   stdout (stop-commands honoured), the raw stdout lines, and the GITHUB_OUTPUT/ENV/STATE files.
 * - Commands: shell metacharacters and leading dashes reach tools as single arguments or are
 *   refused; a canary file that any shell would have created must not exist. The pipeline's
 *   CLIs are the real ones (npm run tools) behind argv tracers (lib.ts `argvTracer`), other
 *   commands argv-recording stand-ins, so each scenario can also check the exact argv.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { pool, shellPayloads, workflowPayloads } from './lib.js';
import { checkWorkflow } from './checks.js';
import { forEachAction } from './scenarios/index.js';
import type { InjectionInput, Outcome } from './scenarios/types.js';
import { ROOT } from '../harness/runner.js';

const scratch = mkdtempSync(join(tmpdir(), 'hallmark-injection-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const WORKFLOW_POOL = 3;

await forEachAction('injection', (h) => {
  it('action.yml is valid YAML (the runner could not load the action otherwise)', () => {
    expect(() => parseYaml(readFileSync(join(ROOT, 'actions', h.action, 'action.yml'), 'utf8'))).not.toThrow();
  });
  for (const s of h.injection) {
    it(`${s.kind === 'workflow' ? 'workflow-command' : 'command'} injection: ${s.name}`, async () => {
      const tag = `hmk${randomBytes(4).toString('hex')}`;
      const payloads = s.kind === 'workflow' ? workflowPayloads(tag) : [];
      const inputs: InjectionInput[] = [];
      if (s.kind === 'workflow')
        for (const payload of payloads) inputs.push({ tag, payload, canaryFile: join(scratch, `${tag}-${inputs.length}`) });
      else {
        for (let i = 0; i < shellPayloads('x').length; i++) {
          const canaryFile = join(scratch, `${tag}-${i}`);
          inputs.push({ tag, payload: shellPayloads(canaryFile)[i] as string, canaryFile });
        }
      }
      const outcomes = await pool(inputs, s.serial ? 1 : WORKFLOW_POOL, (p) => s.run(p));
      inputs.forEach((p, i) => {
        const o = outcomes[i] as Outcome;
        checkWorkflow(h.action, o, p);
        s.check?.(o, p);
      });
    }, 240_000);
  }
});
