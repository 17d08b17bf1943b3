// SIMULATED: GHCR's check of the job token, in front of a REAL registry. GHCR accepts
// `${{ github.token }}` (any user name) and lets a job pull with `packages: read` and push with
// `packages: write`; a plain docker-registry knows nothing of job tokens. This loopback gate does the
// token part (rules.ts registryGate: the rehearsal's token book says which job a token belongs to
// and what it grants) and forwards everything else, bytes unchanged, to the real registry behind it,
// with that registry's own credentials when it has htpasswd auth. What a client sees is a registry
// with Basic auth: `GET /v2/` without credentials answers 401 with a Basic challenge, as
// distribution does, so docker, buildah, skopeo, cosign, syft and trivy log in as usual.
import { request } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { registryGate } from './rules.js';
import type { TokenBook } from './types.js';

/** One request the gate saw: the job whose token it carried, and the answer. */
export interface GateSeen {
  job?: string;
  method?: string;
  path: string;
  status?: number;
}

export interface RegistryGateServer {
  url: string;
  host: string;
  seen: GateSeen[];
  close(): Promise<void>;
}

/**
 * Starts the gate. `upstream` is the real registry's base URL (http://127.0.0.1:port); `auth`
 * ({ username, password }) its credentials; `book` the token book given to rehearse({ tokenBook }).
 * Returns { url, host, seen: [{ job, method, path, status }], close() }.
 */
export async function startRegistryGate({
  upstream,
  auth,
  book,
}: {
  upstream: string;
  auth?: { username: string; password: string };
  book: TokenBook;
}): Promise<RegistryGateServer> {
  const up = new URL(upstream);
  const seen: GateSeen[] = [];
  const challenge = {
    'www-authenticate': 'Basic realm="rehearsal GHCR (job token)"',
    'docker-distribution-api-version': 'registry/2.0',
    'content-type': 'application/json',
  };
  const refuse = (res: ServerResponse, status: number, message: string, entry: GateSeen) => {
    seen.push({ ...entry, status });
    res.writeHead(status, status === 401 ? challenge : { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message }] }));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const entry: GateSeen = { method: req.method, path: path.split('?')[0] ?? path };
    // Login probe: any token of this rehearsal's jobs logs in; the permission counts per request.
    const probe = entry.path === '/v2/' || entry.path === '/v2';
    let verdict = registryGate(book, { method: probe ? 'GET' : req.method, authorization: req.headers.authorization });
    if (probe && !verdict.ok && verdict.status === 403) verdict = { ok: true, job: verdict.job as string };
    if (verdict.job) entry.job = verdict.job;
    if (!verdict.ok) {
      req.resume();
      refuse(res, verdict.status, verdict.message, entry);
      return;
    }
    entry.job = verdict.job;
    const headers: OutgoingHttpHeaders = { ...req.headers, host: req.headers.host };
    delete headers.authorization;
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const fwd = request({ hostname: up.hostname, port: up.port, method: req.method, path, headers }, (ur) => {
      const out: OutgoingHttpHeaders = { ...ur.headers };
      // distribution builds upload URLs from the Host header it got (ours); rewrite any that name it directly.
      if (typeof out.location === 'string' && out.location.startsWith(up.origin))
        out.location = out.location.replace(up.origin, `http://${req.headers.host}`);
      if (ur.statusCode === 401) Object.assign(out, { 'www-authenticate': challenge['www-authenticate'] });
      seen.push({ ...entry, status: ur.statusCode });
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
    });
    fwd.on('error', (e) => {
      if (!res.headersSent) refuse(res, 502, `upstream registry: ${e.message}`, entry);
      else res.destroy();
    });
    req.pipe(fwd);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
