/**
 * SIMULATED: GitHub's REST endpoints for releases, release assets, git tag refs and artifact
 * attestations, added to the loopback GitHub services (test/harness/github.ts) through its
 * `intercept` hook. Shapes as GitHub documents them (REST API 2022-11-28): `POST /repos/{o}/{r}/releases`
 * → 201 with `id`, `draft`, `upload_url` (RFC 6570 `{?name,label}`); `GET …/releases/tags/{tag}` finds
 * published releases only (404 for a draft); assets upload to `upload_url?name=`; `PATCH
 * …/git/refs/tags/{t}` answers 422 "Reference does not exist" for a missing ref; `POST
 * …/attestations` takes `{ bundle }` and answers 201 `{ id }`. Every call is recorded with the
 * token it carried, so a test can say which job (and which permissions) made it.
 */
import type { ServerResponse } from 'node:http';
import type { GitHubServices } from '../harness/github.js';
import { json, type RecordedRequest } from '../harness/server.js';

export interface Release {
  id: number;
  tag_name: string;
  name: string;
  body: string;
  draft: boolean;
  prerelease: boolean;
  assets: { id: number; name: string; bytes: Buffer }[];
}

export interface ReleaseCall {
  op: 'create-release' | 'update-release' | 'upload-asset' | 'delete-asset' | 'create-ref' | 'update-ref' | 'attestation';
  token: string;
  body: unknown;
  at: number;
}

export interface ReleaseRoutes {
  releases: Release[];
  /** refs/tags/<name> → sha */
  tags: Map<string, string>;
  attestations: { id: number; bundle: Record<string, unknown> }[];
  calls: ReleaseCall[];
}

export function addReleaseRoutes(
  svc: GitHubServices,
  owner: string,
  repo: string,
  initialTags: Record<string, string> = {},
): ReleaseRoutes {
  const state: ReleaseRoutes = { releases: [], tags: new Map(Object.entries(initialTags)), attestations: [], calls: [] };
  let nextId = 5000;
  let seq = 0;
  const prefix = `/repos/${owner}/${repo}`;
  const view = (r: Release) => ({
    id: r.id,
    tag_name: r.tag_name,
    name: r.name,
    body: r.body,
    draft: r.draft,
    prerelease: r.prerelease,
    html_url: `https://github.com/${owner}/${repo}/releases/tag/${r.tag_name}`,
    upload_url: `${svc.url}/uploads${prefix}/releases/${r.id}/assets{?name,label}`,
    assets: r.assets.map((a) => ({ id: a.id, name: a.name, size: a.bytes.length })),
  });
  const previous = svc.intercept;
  svc.intercept = async (req: RecordedRequest, res: ServerResponse) => {
    const u = new URL(req.url, svc.url);
    let p = u.pathname;
    const upload = p.startsWith('/uploads/');
    if (upload) p = p.slice('/uploads'.length);
    if (!p.startsWith(`${prefix}/releases`) && !p.startsWith(`${prefix}/git/`) && p !== `${prefix}/attestations`)
      return previous ? previous(req, res) : false;
    const m0 = /^(?:token|bearer) (.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m0) {
      json(res, 401, { message: 'Requires authentication' });
      return true;
    }
    const token = m0[1] as string;
    const call = (op: ReleaseCall['op'], body: unknown) => state.calls.push({ op, token, body, at: ++seq });
    const body = () => JSON.parse(req.text || '{}') as Record<string, unknown>;
    const rest = p.slice(prefix.length);
    let m: RegExpExecArray | null;
    if (rest === '/releases' && req.method === 'POST') {
      const b = body();
      if (state.releases.some((r) => r.tag_name === b.tag_name))
        json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }] });
      else {
        const r: Release = {
          id: ++nextId,
          tag_name: String(b.tag_name),
          name: String(b.name ?? ''),
          body: String(b.body ?? ''),
          draft: b.draft === true,
          prerelease: b.prerelease === true,
          assets: [],
        };
        state.releases.push(r);
        call('create-release', b);
        json(res, 201, view(r));
      }
      return true;
    }
    if (rest === '/releases' && req.method === 'GET') {
      json(res, 200, state.releases.map(view));
      return true;
    }
    if ((m = /^\/releases\/tags\/(.+)$/.exec(rest)) && req.method === 'GET') {
      const r = state.releases.find((x) => x.tag_name === decodeURIComponent(m![1] as string) && !x.draft);
      if (r) json(res, 200, view(r));
      else json(res, 404, { message: 'Not Found' });
      return true;
    }
    if ((m = /^\/releases\/assets\/(\d+)$/.exec(rest)) && req.method === 'DELETE') {
      for (const r of state.releases) r.assets = r.assets.filter((a) => a.id !== Number(m![1]));
      call('delete-asset', { id: Number(m[1]) });
      res.writeHead(204);
      res.end();
      return true;
    }
    if ((m = /^\/releases\/(\d+)(\/assets)?$/.exec(rest))) {
      const r = state.releases.find((x) => x.id === Number(m![1]));
      if (!r) {
        json(res, 404, { message: 'Not Found' });
        return true;
      }
      if (m[2] && upload && req.method === 'POST') {
        const name = u.searchParams.get('name') ?? '';
        if (!name) json(res, 422, { message: 'name is required' });
        else if (!r.draft) json(res, 422, { message: 'Cannot upload assets to an immutable release.' });
        else if (r.assets.some((a) => a.name === name))
          json(res, 422, { message: 'Validation Failed', errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }] });
        else {
          const a = { id: ++nextId, name, bytes: req.body };
          r.assets.push(a);
          call('upload-asset', { name, size: req.body.length });
          json(res, 201, { id: a.id, name, size: a.bytes.length, state: 'uploaded' });
        }
        return true;
      }
      if (!m[2] && req.method === 'GET') {
        json(res, 200, view(r));
        return true;
      }
      if (!m[2] && req.method === 'PATCH') {
        const b = body();
        if (!r.draft && b.draft === true) {
          json(res, 422, { message: 'Cannot turn a published release back into a draft' });
          return true;
        }
        if (typeof b.name === 'string') r.name = b.name;
        if (typeof b.body === 'string') r.body = b.body;
        if (typeof b.draft === 'boolean') r.draft = b.draft;
        call('update-release', b);
        json(res, 200, view(r));
        return true;
      }
    }
    if ((m = /^\/git\/matching-refs\/tags\/(.*)$/.exec(rest)) && req.method === 'GET') {
      const pre = decodeURIComponent(m[1] as string);
      json(
        res,
        200,
        [...state.tags].filter(([t]) => t.startsWith(pre)).map(([t, sha]) => ({ ref: `refs/tags/${t}`, object: { sha, type: 'commit' } })),
      );
      return true;
    }
    if ((m = /^\/git\/refs\/tags\/(.+)$/.exec(rest)) && req.method === 'PATCH') {
      const t = decodeURIComponent(m[1] as string);
      const b = body();
      if (!state.tags.has(t)) json(res, 422, { message: 'Reference does not exist' });
      else {
        state.tags.set(t, String(b.sha));
        call('update-ref', { ref: `refs/tags/${t}`, ...b });
        json(res, 200, { ref: `refs/tags/${t}`, object: { sha: b.sha, type: 'commit' } });
      }
      return true;
    }
    if (rest === '/git/refs' && req.method === 'POST') {
      const b = body();
      const t = String(b.ref ?? '').replace(/^refs\/tags\//, '');
      if (state.tags.has(t)) json(res, 422, { message: 'Reference already exists' });
      else {
        state.tags.set(t, String(b.sha));
        call('create-ref', b);
        json(res, 201, { ref: b.ref, object: { sha: b.sha, type: 'commit' } });
      }
      return true;
    }
    if (rest === '/attestations' && req.method === 'POST') {
      const b = body();
      if (typeof b.bundle !== 'object' || b.bundle === null) json(res, 422, { message: 'bundle is required' });
      else {
        const a = { id: ++nextId, bundle: b.bundle as Record<string, unknown> };
        state.attestations.push(a);
        call('attestation', b);
        json(res, 201, { id: a.id });
      }
      return true;
    }
    json(res, 404, { message: `loopback GitHub (releases): no route for ${req.method} ${p}` });
    return true;
  };
  return state;
}
