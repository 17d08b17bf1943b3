/**
 * The hardening corpus contract (issue #9). Each action contributes one file
 * `test/hardening/cases/<action>.ts` whose default export is an `ActionCorpus`.
 * test/hardening/*.test.ts runs every case through the real bundle (runAction)
 * and asserts: exactly one `::error::` line that names `input` (in the form
 * `input '<name>'`), exit 1, no stack trace, failure-reason `invalid-input`,
 * zero requests on the loopback servers, and no file written outside RUNNER_TEMP.
 */
export interface BadInputCase {
  /** Short description, unique within the action. */
  name: string;
  /** Inputs merged over `base.inputs` (undefined deletes a base input). */
  inputs: Record<string, string | undefined>;
  /** The input the single error line must name. */
  input: string;
  /** Optional extra text the error line must contain (what was expected). */
  expect?: string | RegExp;
}

export interface ActionCorpus {
  action: string;
  /**
   * A valid starting point. `{url}` in any value is replaced by a loopback
   * server URL that records requests (the corpus asserts it sees none).
   * Files the inputs refer to can be created by `setup(workspace)`.
   */
  base: { inputs: Record<string, string>; env?: Record<string, string> };
  setup?: (workspace: string) => void;
  bad: BadInputCase[];
  /** Inputs that carry secrets, for the canary suite. */
  secrets?: string[];
}
