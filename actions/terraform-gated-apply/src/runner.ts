import { uploadArtifact as kitUpload } from '@hallmark/kit/runner';
/**
 * The toolkit clients, each loaded only on the path that needs it: @actions/artifact for the plan
 * artifact, @actions/github for the PR comment.
 */

/**
 * Uploads the plan artifact, replacing one of the same name from an earlier attempt of this run
 * (artifact names are unique per run; a re-run plan job must publish its new plan, whose new hash
 * an earlier approval does not match).
 */
export async function uploadArtifact(
  name: string,
  files: string[],
  root: string,
): Promise<{ id?: number; size?: number; replaced?: boolean }> {
  return kitUpload(name, files, root, { compressionLevel: 6, overwrite: true });
}

export async function downloadArtifact(name: string, dir: string): Promise<boolean> {
  const { DefaultArtifactClient } = await import('@actions/artifact');
  const client = new DefaultArtifactClient();
  let id: number;
  try {
    id = (await client.getArtifact(name)).artifact.id;
  } catch (e) {
    if (e instanceof Error && (e.name === 'ArtifactNotFoundError' || /not found/i.test(e.message))) return false;
    throw e;
  }
  await client.downloadArtifact(id, { path: dir });
  return true;
}

export interface CommentTarget {
  token: string;
  marker: string;
  body: string;
  timeoutMs?: number;
}

/**
 * One comment per environment on the PR of this event: the existing comment that starts with the
 * marker and was written by the token's own account (its user for a personal access token,
 * `github-actions[bot]` for GITHUB_TOKEN) is updated in place, else one is created. A marker in a comment a person wrote is ignored: anyone who
 * can comment could plant it to have the plan written into a comment they can later edit.
 */
export async function upsertPrComment(t: CommentTarget): Promise<{ action: 'created' | 'updated' | 'skipped'; id?: number; why?: string }> {
  const github = await import('@actions/github');
  const ctx = github.context;
  const payload = ctx.payload as { pull_request?: { number?: number }; number?: number };
  const issue = payload.pull_request?.number ?? payload.number;
  if (!issue) return { action: 'skipped', why: 'the event payload names no pull request' };
  const { owner, repo } = ctx.repo;
  const octokit = github.getOctokit(t.token);
  // Octokit has no deadline of its own: one for the whole upsert (a failure is only a warning).
  const request = { signal: AbortSignal.timeout(t.timeoutMs ?? 60_000) };
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issue, per_page: 100, request });
  const ours = comments.filter((c) => typeof c.body === 'string' && c.body.startsWith(t.marker));
  // Whose token is this? A personal access token names its user; the job's GITHUB_TOKEN cannot
  // (403), and then the action's comments are the bot's.
  const self = await octokit.rest.users.getAuthenticated({ request }).then(
    (r) => r.data.login,
    () => undefined,
  );
  const existing = self
    ? ours.find((c) => c.user?.login === self)
    : (ours.find((c) => c.user?.login === 'github-actions[bot]') ?? ours.find((c) => c.user?.type === 'Bot'));
  if (existing) {
    await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: t.body, request });
    return { action: 'updated', id: existing.id };
  }
  const created = await octokit.rest.issues.createComment({ owner, repo, issue_number: issue, body: t.body, request });
  return { action: 'created', id: created.data.id };
}
