// Drives the real @actions/* clients against test/harness/github.ts (run as a child process so the
// environment is set before the modules load, as on a runner). Prints one JSON line of results.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ws = process.env.GITHUB_WORKSPACE;
process.chdir(ws);
const out = {};
const core = await import('@actions/core');
const { DefaultArtifactClient } = await import('@actions/artifact');
const cache = await import('@actions/cache');
const github = await import('@actions/github');

writeFileSync(join(ws, 'a.txt'), 'hello artifact\n');
const client = new DefaultArtifactClient();
const up = await client.uploadArtifact('probe', [join(ws, 'a.txt')], ws, { retentionDays: 1 });
out.upload = { id: up.id, size: up.size };
const got = await client.getArtifact('probe');
const dl = join(ws, 'dl');
mkdirSync(dl);
await client.downloadArtifact(got.artifact.id, { path: dl });
out.downloaded = readFileSync(join(dl, 'a.txt'), 'utf8');

mkdirSync(join(ws, 'c'));
writeFileSync(join(ws, 'c', 'x'), 'cached\n');
out.saved = await cache.saveCache(['c'], 'probe-key-1');
out.restored = await cache.restoreCache(['c'], 'probe-key-2', ['probe-key-']);
out.idToken = (await core.getIDToken('sigstore')).split('.').length;

const octo = github.getOctokit('ghs_probe');
const { owner, repo } = github.context.repo;
const c = await octo.rest.issues.createComment({ owner, repo, issue_number: 7, body: 'one' });
await octo.rest.issues.updateComment({ owner, repo, comment_id: c.data.id, body: 'two' });
out.comments = (await octo.paginate(octo.rest.issues.listComments, { owner, repo, issue_number: 7, per_page: 1 })).map((x) => x.body);
console.log(JSON.stringify(out));
