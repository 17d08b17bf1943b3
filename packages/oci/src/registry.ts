/**
 * A small OCI distribution client: manifests (get/head/put with the Accept headers registries
 * need), blob upload (HEAD → POST → PUT `?digest=`), registry auth (Basic, or a Bearer token from
 * the `WWW-Authenticate` challenge), and OCI 1.1 referrers — attach an artifact whose `subject` is
 * an image, and list referrers — with the referrers tag schema (`sha256-<hex>` index) as fallback
 * when the registry has no referrers API (distribution 2.8, many self-hosted registries).
 *
 * Transport is injected (`Transport`), so the caller decides deadlines and retries (the actions
 * pass the kit's `http.request`) and tests can record what was sent. Nothing here reads
 * process.env or prints.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDigest, referrersTag } from './ref.js';

export const MT = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

/** Every manifest type a registry may hold for an image (distribution answers 404 to an OCI manifest without it). */
export const MANIFEST_ACCEPT = [MT.ociManifest, MT.ociIndex, MT.dockerManifest, MT.dockerList].join(', ');

export interface TransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}
export interface TransportResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}
export type Transport = (req: TransportRequest) => Promise<TransportResponse>;

/**
 * A Transport over one HTTP function with the kit's `http.request` shape (a deadline per try,
 * bounded retries with backoff, Retry-After): registry calls get 60 s a try, 3 tries, redirects
 * followed (blob downloads redirect to storage). main.ts passes the kit's `http.request`.
 */
export function httpTransport(
  request: (req: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: Buffer;
    timeoutMs: number;
    attempts: number;
    followRedirects: boolean;
  }) => Promise<TransportResponse>,
  opts: { timeoutMs?: number; attempts?: number } = {},
): Transport {
  return async (req) => {
    const r = await request({
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
      timeoutMs: opts.timeoutMs ?? 60_000,
      attempts: opts.attempts ?? 3,
      followRedirects: true,
    });
    return { status: r.status, headers: r.headers, body: r.body };
  };
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * Registry credentials for the tools that read a docker config (buildah, cosign, syft, trivy): a
 * `config.json` in `dir` (created 0700) that names only `registry`, written 0600. `mask` receives
 * the base64 `user:password` before it is written. The caller removes `dir` when the step ends.
 * Returns the config file's path.
 */
export function writeScopedDockerConfig(
  dir: string,
  registry: string,
  username: string,
  password: string,
  mask: (secret: string) => void,
): string {
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  mask(auth);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
  return file;
}

/**
 * The Basic credentials a docker config in `dir` (registry-login's, or docker/login-action's
 * `~/.docker`) holds for `host`: `auths[host].auth`, base64 `user:password`. `mask` receives the
 * password before it is returned. Undefined when there is no such config or entry.
 */
export function readDockerConfigCredentials(
  dir: string | undefined,
  host: string,
  mask: (secret: string) => void,
): { username: string; password: string } | undefined {
  if (!dir) return undefined;
  try {
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { auths?: Record<string, { auth?: string }> };
    const a = cfg.auths?.[host]?.auth ?? cfg.auths?.[`https://${host}`]?.auth;
    if (!a) return undefined;
    const plain = Buffer.from(a, 'base64').toString('utf8');
    const i = plain.indexOf(':');
    if (i <= 0) return undefined;
    mask(plain.slice(i + 1));
    return { username: plain.slice(0, i), password: plain.slice(i + 1) };
  } catch {
    return undefined;
  }
}

export function sha256Digest(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function header(h: TransportResponse['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()] ?? h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses `Bearer realm="…",service="…",scope="…"` / `Basic realm="…"`. */
export function parseChallenge(value: string | undefined): { scheme: string; params: Record<string, string> } | undefined {
  if (!value) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(value);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[2] ?? '').matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[(p[1] as string).toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: (m[1] as string).toLowerCase(), params };
}

export interface RegistryClientOptions {
  /** `127.0.0.1:5000`, `ghcr.io` */
  host: string;
  transport: Transport;
  /** Plain HTTP (loopback test registries and local mirrors only). */
  insecure?: boolean;
  credentials?: { username: string; password: string };
}

/** One registry host; repositories are named per call. Tokens are cached per repository scope. */
export class RegistryClient {
  private readonly base: string;
  private readonly tokens = new Map<string, string>();
  /** Requests made (method and path, never headers), for diagnostics. */
  readonly log: string[] = [];

  constructor(private readonly opts: RegistryClientOptions) {
    // Docker Hub's registry API is not served on docker.io itself.
    const host = opts.host === 'docker.io' || opts.host === 'index.docker.io' ? 'registry-1.docker.io' : opts.host;
    this.base = `${opts.insecure ? 'http' : 'https'}://${host}`;
  }

  private basic(): string | undefined {
    const c = this.opts.credentials;
    return c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
  }

  private async token(challenge: { params: Record<string, string> }, repo: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm || !/^https?:\/\//.test(realm)) throw new RegistryError('the registry asked for a Bearer token without a usable realm');
    const u = new URL(realm);
    if (challenge.params.service) u.searchParams.set('service', challenge.params.service);
    u.searchParams.set('scope', `repository:${repo}:pull,push`);
    const headers: Record<string, string> = { accept: 'application/json' };
    const b = this.basic();
    if (b) headers.authorization = b;
    const r = await this.opts.transport({ method: 'GET', url: u.toString(), headers });
    if (r.status !== 200)
      throw new RegistryError(
        `the registry's token service answered HTTP ${r.status}${b ? ' (check the registry credentials)' : ' (no registry credentials were given)'}`,
        r.status,
      );
    let j: { token?: string; access_token?: string };
    try {
      j = JSON.parse(r.body.toString('utf8')) as typeof j;
    } catch {
      throw new RegistryError("the registry's token service did not answer JSON");
    }
    const t = j.token ?? j.access_token;
    if (!t) throw new RegistryError("the registry's token service answered without a token");
    return t;
  }

  /** A request to `/v2/<repo>/…` (or an absolute Location URL), authenticating on a 401 challenge once. */
  async call(repo: string, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<TransportResponse> {
    const url = /^https?:\/\//.test(path) ? path : `${this.base}/v2/${repo}${path}`;
    const send = (auth?: string) =>
      this.opts.transport({ method, url, headers: { ...headers, ...(auth ? { authorization: auth } : {}) }, body });
    this.log.push(`${method} ${new URL(url).pathname}`);
    const cached = this.tokens.get(repo);
    let r = await send(cached ? `Bearer ${cached}` : this.basic());
    if (r.status === 401) {
      const ch = parseChallenge(header(r.headers, 'www-authenticate'));
      if (ch?.scheme === 'bearer') {
        const t = await this.token(ch, repo);
        this.tokens.set(repo, t);
        r = await send(`Bearer ${t}`);
      } else if (ch?.scheme === 'basic' && !this.opts.credentials) {
        throw new RegistryError(
          `${this.opts.host} requires a login (HTTP 401): give registry-username and registry-password, or log in before this step`,
          401,
        );
      }
      if (r.status === 401) throw new RegistryError(`${this.opts.host} refused the credentials (HTTP 401)`, 401);
    }
    if (r.status === 403)
      throw new RegistryError(`${this.opts.host} denied ${method} on ${repo} (HTTP 403): the credentials lack push/pull permission`, 403);
    return r;
  }

  /** GET a manifest by tag or digest; undefined on 404. When `ref` is a digest, the bytes must hash to it. */
  async getManifest(
    repo: string,
    ref: string,
    accept = MANIFEST_ACCEPT,
  ): Promise<{ bytes: Buffer; json: Record<string, unknown>; mediaType: string; digest: string } | undefined> {
    const r = await this.call(repo, 'GET', `/manifests/${ref}`, { accept });
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new RegistryError(`GET manifest ${repo}:${ref}: HTTP ${r.status}`, r.status);
    const digest = sha256Digest(r.body);
    if (isDigest(ref) && digest !== ref)
      throw new RegistryError(`the registry returned a manifest for ${ref} whose bytes hash to ${digest}`);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new RegistryError(`manifest ${repo}:${ref} is not JSON`);
    }
    const mediaType =
      (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
      header(r.headers, 'content-type')?.split(';')[0] ??
      MT.ociManifest;
    return { bytes: r.body, json, mediaType, digest };
  }

  /** The descriptor of a manifest (media type, digest, size): what a `subject` field points at. */
  async descriptor(repo: string, ref: string): Promise<Descriptor | undefined> {
    const m = await this.getManifest(repo, ref);
    return m ? { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } : undefined;
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const r = await this.call(repo, 'HEAD', `/blobs/${digest}`);
    return r.status === 200;
  }

  async getBlob(repo: string, digest: string): Promise<Buffer> {
    const r = await this.call(repo, 'GET', `/blobs/${digest}`);
    if (r.status !== 200) throw new RegistryError(`GET blob ${digest}: HTTP ${r.status}`, r.status);
    if (sha256Digest(r.body) !== digest) throw new RegistryError(`blob ${digest} does not match its digest`);
    return r.body;
  }

  /** Uploads a blob (monolithic: POST then PUT `?digest=`), skipped when the registry already has it. */
  async putBlob(repo: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(repo, digest)) return digest;
    const start = await this.call(repo, 'POST', '/blobs/uploads/', { 'content-length': '0' });
    if (start.status !== 202) throw new RegistryError(`starting a blob upload to ${repo}: HTTP ${start.status}`, start.status);
    const loc = header(start.headers, 'location');
    if (!loc) throw new RegistryError('the registry started a blob upload without a Location');
    const u = new URL(loc, `${this.base}/v2/${repo}/blobs/uploads/`);
    u.searchParams.set('digest', digest);
    const put = await this.call(
      repo,
      'PUT',
      u.toString(),
      { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
      bytes,
    );
    if (put.status !== 201) throw new RegistryError(`uploading blob ${digest} to ${repo}: HTTP ${put.status}`, put.status);
    return digest;
  }

  /** PUT a manifest under a tag or its digest. Returns its digest and whether the registry said it indexed the subject (`OCI-Subject`). */
  async putManifest(
    repo: string,
    ref: string,
    json: Record<string, unknown>,
  ): Promise<{ digest: string; size: number; ociSubject?: string }> {
    const bytes = Buffer.from(JSON.stringify(json));
    const digest = sha256Digest(bytes);
    const mediaType = String(json.mediaType ?? MT.ociManifest);
    const r = await this.call(repo, 'PUT', `/manifests/${ref}`, { 'content-type': mediaType }, bytes);
    if (r.status !== 201)
      throw new RegistryError(
        `PUT manifest ${repo}:${ref}: HTTP ${r.status}: ${r.body.toString('utf8').slice(0, 200).replace(/\s+/g, ' ')}`,
        r.status,
      );
    const echoed = header(r.headers, 'docker-content-digest');
    if (echoed && echoed !== digest) throw new RegistryError(`the registry stored manifest ${echoed}, not the ${digest} that was sent`);
    return { digest, size: bytes.length, ociSubject: header(r.headers, 'oci-subject') };
  }

  /**
   * The referrers of `digest`: from the referrers API when the registry has one, else from the
   * referrers tag schema. `via` says which answered.
   */
  async referrers(repo: string, digest: string, artifactType?: string): Promise<{ via: 'api' | 'tag'; manifests: Descriptor[] }> {
    if (!isDigest(digest)) throw new RegistryError(`not a digest: ${digest}`);
    const q = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const r = await this.call(repo, 'GET', `/referrers/${digest}${q}`, { accept: MT.ociIndex });
    const ct = header(r.headers, 'content-type') ?? '';
    if (r.status === 200 && ct.startsWith(MT.ociIndex)) {
      const idx = JSON.parse(r.body.toString('utf8')) as { manifests?: Descriptor[] };
      const list = idx.manifests ?? [];
      return { via: 'api', manifests: artifactType ? list.filter((m) => m.artifactType === artifactType) : list };
    }
    const tagged = await this.getManifest(repo, referrersTag(digest));
    if (tagged && tagged.mediaType !== MT.ociIndex) return { via: 'tag', manifests: [] };
    const list = ((tagged?.json.manifests as Descriptor[] | undefined) ?? []).filter((m) => m && typeof m.digest === 'string');
    return { via: 'tag', manifests: artifactType ? list.filter((m) => m.artifactType === artifactType) : list };
  }

  /**
   * Pushes an OCI 1.1 artifact manifest (`artifactType`, empty config, one layer per file) whose
   * `subject` is `subject`, then makes it findable: registries with the referrers API index it
   * themselves (they answer `OCI-Subject`); otherwise the `sha256-<hex>` tag's index gets it.
   */
  async attachArtifact(
    repo: string,
    subject: Descriptor,
    artifact: { artifactType: string; files: { mediaType: string; bytes: Buffer; title?: string }[]; annotations?: Record<string, string> },
  ): Promise<{ digest: string; via: 'api' | 'tag'; descriptor: Descriptor }> {
    if (!isDigest(subject.digest)) throw new RegistryError(`the subject must be a digest, got ${subject.digest}`);
    const emptyConfig = Buffer.from('{}');
    const configDigest = await this.putBlob(repo, emptyConfig);
    const layers: Descriptor[] = [];
    for (const f of artifact.files) {
      const d = await this.putBlob(repo, f.bytes);
      layers.push({
        mediaType: f.mediaType,
        digest: d,
        size: f.bytes.length,
        ...(f.title ? { annotations: { 'org.opencontainers.image.title': f.title } } : {}),
      });
    }
    const manifest: Record<string, unknown> = {
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      artifactType: artifact.artifactType,
      config: { mediaType: MT.empty, digest: configDigest, size: emptyConfig.length, data: emptyConfig.toString('base64') },
      layers,
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      ...(artifact.annotations && Object.keys(artifact.annotations).length ? { annotations: artifact.annotations } : {}),
    };
    const put = await this.putManifest(repo, sha256Digest(Buffer.from(JSON.stringify(manifest))), manifest);
    const descriptor: Descriptor = {
      mediaType: MT.ociManifest,
      digest: put.digest,
      size: put.size,
      artifactType: artifact.artifactType,
      ...(artifact.annotations && Object.keys(artifact.annotations).length ? { annotations: artifact.annotations } : {}),
    };
    if (put.ociSubject === subject.digest) return { digest: put.digest, via: 'api', descriptor };
    await this.addToReferrersTag(repo, subject.digest, descriptor);
    return { digest: put.digest, via: 'tag', descriptor };
  }

  /** Adds a descriptor to the `sha256-<hex>` referrers index (read, merge, write; idempotent). */
  async addToReferrersTag(repo: string, subjectDigest: string, d: Descriptor): Promise<void> {
    const tag = referrersTag(subjectDigest);
    // Asked with every manifest type, so an image someone tagged `sha256-…` is seen (and kept), not hidden by a 404.
    const existing = await this.getManifest(repo, tag);
    if (existing && existing.mediaType !== MT.ociIndex)
      throw new RegistryError(`tag ${tag} in ${repo} holds a ${existing.mediaType}, not a referrers index; refusing to overwrite it`);
    const manifests = ((existing?.json.manifests as Descriptor[] | undefined) ?? []).filter((m) => m.digest !== d.digest);
    manifests.push(d);
    await this.putManifest(repo, tag, { schemaVersion: 2, mediaType: MT.ociIndex, manifests });
  }
}
