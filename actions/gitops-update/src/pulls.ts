/**
 * The pull request for an environment: one open PR from `hallmark/gitops/<environment>` into the
 * base branch. Found with `GET /repos/{o}/{r}/pulls?state=open&head=<owner>:<branch>&base=<base>`,
 * updated with `PATCH /pulls/{n}` when it exists, else created with `POST /pulls`
 * (docs.github.com/rest/pulls/pulls). An obsolete one is closed: a comment (`POST
 * /issues/{n}/comments`, docs.github.com/rest/issues/comments), then `PATCH /pulls/{n}` with
 * `state: closed`. Any refusal (4xx) is `api-refused`.
 */
export type HttpLike = (req: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{ status: number; json<T = unknown>(): T; text(): string }>;

export class ApiRefused extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiRefused';
  }
}

const apiHeaders = (token: string) => ({
  authorization: `Bearer ${token}`,
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
  'content-type': 'application/json',
});

/** The open pull request from `head` into `base`, if any. */
async function findOpen(
  http: HttpLike,
  o: { apiUrl: string; repository: string; token: string; head: string; base: string },
): Promise<{ number: number; html_url: string } | undefined> {
  const owner = o.repository.split('/')[0] as string;
  const q = new URLSearchParams({ state: 'open', head: `${owner}:${o.head}`, base: o.base, per_page: '10' });
  const list = await http({ method: 'GET', url: `${o.apiUrl}/repos/${o.repository}/pulls?${q.toString()}`, headers: apiHeaders(o.token) });
  if (list.status !== 200) throw new ApiRefused(`listing pull requests answered HTTP ${list.status}`, list.status);
  const open = list.json<{ number: number; html_url: string; head?: { ref?: string } }[]>();
  return Array.isArray(open) ? open.find((p) => p.head?.ref === undefined || p.head.ref === o.head) : undefined;
}

export interface PullRequest {
  number: number;
  url: string;
  created: boolean;
}

export async function upsertPullRequest(
  http: HttpLike,
  o: { apiUrl: string; repository: string; token: string; head: string; base: string; title: string; body: string },
): Promise<PullRequest> {
  const headers = apiHeaders(o.token);
  const api = `${o.apiUrl}/repos/${o.repository}/pulls`;
  const find = () => findOpen(http, o);
  const update = async (existing: { number: number; html_url: string }) => {
    const r = await http({
      method: 'PATCH',
      url: `${api}/${existing.number}`,
      headers,
      body: JSON.stringify({ title: o.title, body: o.body }),
    });
    if (r.status !== 200) throw new ApiRefused(`updating pull request #${existing.number} answered HTTP ${r.status}`, r.status);
    return { number: existing.number, url: r.json<{ html_url: string }>().html_url ?? existing.html_url, created: false };
  };
  const existing = await find();
  if (existing) return update(existing);
  const r = await http({
    method: 'POST',
    url: api,
    headers,
    body: JSON.stringify({ title: o.title, body: o.body, head: o.head, base: o.base, maintainer_can_modify: false }),
  });
  if (r.status === 422) {
    // Created meanwhile (a concurrent run, or our own POST retried after a 5xx that had succeeded): update that one.
    const again = await find();
    if (again) return update(again);
  }
  if (r.status !== 201) throw new ApiRefused(`creating the pull request answered HTTP ${r.status}`, r.status);
  const pr = r.json<{ number: number; html_url: string }>();
  return { number: pr.number, url: pr.html_url, created: true };
}

/**
 * Closes the open pull request from `head` into `base`, if there is one, after a comment saying
 * why. Returns it, or undefined when none was open.
 */
export async function closePullRequest(
  http: HttpLike,
  o: { apiUrl: string; repository: string; token: string; head: string; base: string; comment: string },
): Promise<{ number: number; url: string } | undefined> {
  const pr = await findOpen(http, o);
  if (!pr) return undefined;
  const headers = apiHeaders(o.token);
  const repo = `${o.apiUrl}/repos/${o.repository}`;
  const c = await http({ method: 'POST', url: `${repo}/issues/${pr.number}/comments`, headers, body: JSON.stringify({ body: o.comment }) });
  if (c.status !== 201) throw new ApiRefused(`commenting on pull request #${pr.number} answered HTTP ${c.status}`, c.status);
  const r = await http({ method: 'PATCH', url: `${repo}/pulls/${pr.number}`, headers, body: JSON.stringify({ state: 'closed' }) });
  if (r.status !== 200) throw new ApiRefused(`closing pull request #${pr.number} answered HTTP ${r.status}`, r.status);
  return { number: pr.number, url: pr.html_url };
}
