// Child process used by the local upload/download-artifact equivalents when the rehearsal runs
// against an artifact service (ACTIONS_RESULTS_URL set, e.g. the loopback GitHub fake in tests):
// the same @actions/artifact client our actions use, so artifacts uploaded by an action
// (sbom-attach, terraform-gated-apply) and by upload-artifact live in one store, as on GitHub.
// argv[2] is a JSON request; the JSON answer goes to stdout.
import { DefaultArtifactClient } from '@actions/artifact';

const req = JSON.parse(process.argv[2]);
const client = new DefaultArtifactClient();
let out;
if (req.op === 'upload') {
  const r = await client.uploadArtifact(req.name, req.files, req.root, req.retentionDays ? { retentionDays: req.retentionDays } : {});
  out = { id: r.id, size: r.size };
} else if (req.op === 'list') {
  const r = await client.listArtifacts({ latest: true });
  out = r.artifacts.map((a) => ({ id: a.id, name: a.name }));
} else if (req.op === 'download') {
  const r = await client.downloadArtifact(req.id, { path: req.path });
  out = { path: r.downloadPath };
} else throw new Error(`unknown op ${req.op}`);
process.stdout.write(JSON.stringify(out));
