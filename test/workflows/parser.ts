/**
 * GitHub's own workflow parser (@actions/workflow-parser): schema validation of a workflow plus,
 * with a file provider that maps our reusable workflows to this checkout, the reusable-workflow
 * call checks (unknown/missing inputs and secrets) that actionlint cannot do for remote refs.
 * Loads only inside vitest (server.deps.inline) or a bundle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { ErrorPolicy } from '@actions/workflow-parser/model/convert';
import { OWNER_REPO, ROOT } from './checks.js';

type Ref = { path: string; owner?: string; repository?: string; version?: string };

export async function parserFindings(file: string, content: string, root = ROOT): Promise<string[]> {
  const trace = new NoOperationTraceWriter();
  const parsed = parseWorkflow({ name: file, content }, trace);
  const provider = {
    getFileContent: async (ref: Ref) => {
      const local = ref.owner === undefined || `${ref.owner}/${ref.repository}` === OWNER_REPO;
      const p = join(root, ref.path.replace(/^\.\//, ''));
      if (!local || !existsSync(p)) throw new Error(`workflow not found: ${JSON.stringify(ref)}`);
      return { name: ref.path, content: readFileSync(p, 'utf8') };
    },
  };
  if (parsed.value === undefined) return parsed.context.errors.getErrors().map((e) => `${file}: ${e.message}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, provider, {
    fetchReusableWorkflowDepth: 1,
    errorPolicy: ErrorPolicy.TryConversion,
  });
  const errors = [...parsed.context.errors.getErrors().map((e) => e.message), ...(template.errors ?? []).map((e) => e.Message)];
  return [...new Set(errors)].map((m) => `${file}: ${m}`);
}
