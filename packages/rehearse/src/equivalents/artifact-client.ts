// The child the local upload/download-artifact equivalents run when the rehearsal has an artifact
// service (ACTIONS_RESULTS_URL set, e.g. the loopback GitHub service in tests): the same
// @actions/artifact client our actions use, so artifacts uploaded by an action (sbom-attach,
// terraform-gated-apply) and by upload-artifact live in one store, as on GitHub. Run as
// `node --input-type=module --eval ARTIFACT_CLIENT '<JSON request>'` from hallmark's checkout; the
// JSON answer goes to stdout. A child, not a call: the service may live in this very process. One child
// per step: an upload (with overwrite's delete) or all of a step's downloads.
export const ARTIFACT_CLIENT = `
import { DefaultArtifactClient } from '@actions/artifact';
const req = JSON.parse(process.argv[1]);
const client = new DefaultArtifactClient();
let out;
// As actions/upload-artifact v4 with overwrite: true (deleteArtifactIfExists): a missing one is fine.
const deleteIfExists = async (name) => {
  try {
    return (await client.deleteArtifact(name)).id;
  } catch (e) {
    if (e?.name !== 'ArtifactNotFoundError') throw e;
    return null;
  }
};
if (req.op === 'upload') {
  if (req.overwrite) await deleteIfExists(req.name);
  const r = await client.uploadArtifact(req.name, req.files, req.root, req.retentionDays ? { retentionDays: req.retentionDays } : {});
  out = { id: r.id, size: r.size };
} else if (req.op === 'list') {
  const r = await client.listArtifacts({ latest: true });
  out = r.artifacts.map((a) => ({ id: a.id, name: a.name }));
} else if (req.op === 'download') {
  // Several artifacts in one child (one client start for a download-artifact step): [{ id, path }].
  out = [];
  for (const item of req.items) out.push({ path: (await client.downloadArtifact(item.id, { path: item.path })).downloadPath });
} else throw new Error('unknown op ' + req.op);
process.stdout.write(JSON.stringify(out));
`;
