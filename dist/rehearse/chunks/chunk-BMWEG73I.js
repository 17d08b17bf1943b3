// packages/rehearse/src/rules.ts
var field = (v, k) => v && typeof v === "object" && !Array.isArray(v) ? v[k] : void 0;
var jobsOf = (doc) => {
  const j = field(doc, "jobs");
  return j && typeof j === "object" ? j : {};
};
var SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "repository-projects",
  "security-events",
  "statuses"
];
var LEVEL = { none: 0, read: 1, write: 2 };
var rank = (l) => LEVEL[l ?? "none"] ?? 0;
function secretNameProblem(name) {
  if (typeof name !== "string" || name === "") return "is empty";
  if (!/^[A-Za-z0-9_]+$/.test(name)) return "may hold only letters, digits and _";
  if (/^[0-9]/.test(name)) return "must not start with a digit";
  if (/^GITHUB_/i.test(name)) return "must not start with GITHUB_";
  return void 0;
}
function secretReferences(value, where = "") {
  const out = [];
  const visit = (v, path) => {
    if (typeof v === "string") {
      for (const m of v.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) collect(m[1], path);
      return;
    }
    if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, path ? `${path}.${k}` : k);
  };
  const collect = (expr, path) => {
    for (const m of expr.matchAll(/\bsecrets\s*\.\s*([A-Za-z0-9_-]+)/g)) out.push({ name: m[1], where: path });
    for (const m of expr.matchAll(/\bsecrets\s*\[\s*'([^']*)'\s*\]/g)) out.push({ name: m[1], where: path });
  };
  const visitIf = (v, path) => {
    if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        const p = path ? `${path}.${k}` : k;
        if (k === "if" && typeof x === "string" && !x.includes("${{")) collect(x, p);
        else if (typeof x === "object") visitIf(x, p);
      }
    }
  };
  visit(value, where);
  visitIf(value, where);
  return out;
}
function badSecretNames(doc, on) {
  const bad = [];
  const check = (name, where, { reference = false } = {}) => {
    if (reference && name.toUpperCase() === "GITHUB_TOKEN") return;
    const problem = secretNameProblem(name);
    if (problem) bad.push({ name, where, problem });
  };
  const declared = field(field(on, "workflow_call"), "secrets");
  if (declared && typeof declared === "object") for (const k of Object.keys(declared)) check(k, "on.workflow_call.secrets");
  for (const [id, job] of Object.entries(jobsOf(doc))) {
    const s = field(job, "secrets");
    if (s && typeof s === "object") for (const k of Object.keys(s)) check(k, `jobs.${id}.secrets`);
  }
  for (const r of secretReferences(doc)) check(r.name, r.where, { reference: true });
  return bad;
}
function badIfContexts(doc) {
  const bad = [];
  const look = (v, where, forbidden) => {
    if (typeof v !== "string") return;
    const expr = v.replace(/'(?:[^']|'')*'/g, "''");
    for (const c of forbidden) if (new RegExp(`(^|[^\\w.-])${c}\\s*[.[]`).test(expr)) bad.push({ where, context: c });
  };
  for (const [id, job] of Object.entries(jobsOf(doc))) {
    if (!job || typeof job !== "object") continue;
    look(field(job, "if"), `jobs.${id}.if`, ["secrets", "env", "matrix", "steps", "runner", "job", "strategy"]);
    const steps = field(job, "steps");
    (Array.isArray(steps) ? steps : []).forEach((st, i) => look(field(st, "if"), `jobs.${id}.steps[${i}].if`, ["secrets"]));
  }
  return bad;
}
function normalizePermissions(p, { defaults = "restricted" } = {}) {
  const all = (level) => Object.fromEntries(SCOPES.map((s) => [s, s === "id-token" && level === "read" ? "none" : level]));
  if (p === void 0 || p === null) {
    if (defaults === "permissive") return { ...all("write"), "id-token": "none" };
    return { ...all("none"), contents: "read", packages: "read" };
  }
  if (p === "read-all") return all("read");
  if (p === "write-all") return all("write");
  if (typeof p !== "object" || Array.isArray(p))
    throw new Error(`permissions must be read-all, write-all or a mapping, got ${JSON.stringify(p)}`);
  const out = all("none");
  for (const [k, v] of Object.entries(p)) {
    if (!SCOPES.includes(k)) throw new Error(`permissions: unknown scope '${k}' (GitHub knows ${SCOPES.join(", ")})`);
    if (typeof v !== "string" || !(v in LEVEL)) throw new Error(`permissions: '${k}: ${v}' is not read, write or none`);
    if (k === "id-token" && v === "read") throw new Error("permissions: 'id-token' is write or none");
    out[k] = v;
  }
  return out;
}
function exceeding(asked, allowed) {
  return SCOPES.filter((s) => rank(asked[s]) > rank(allowed[s])).map((s) => ({
    scope: s,
    asked: asked[s] ?? "none",
    allowed: allowed[s] ?? "none"
  }));
}
function capPermissions(p, cap) {
  if (!cap) return p;
  return Object.fromEntries(SCOPES.map((s) => [s, rank(p[s]) <= rank(cap[s]) ? p[s] ?? "none" : cap[s] ?? "none"]));
}
var allows = (perms, scope, level) => Boolean(perms) && rank(perms?.[scope]) >= rank(level);
function restPermission(method, path) {
  const write = !["GET", "HEAD"].includes(String(method).toUpperCase());
  const level = write ? "write" : "read";
  const p = String(path).split("?")[0] ?? "";
  const any = (...scopes) => scopes.map((scope) => ({ scope, level }));
  if (/^\/repos\/[^/]+\/[^/]+\/issues(\/|$)/.test(p)) return any("issues", "pull-requests");
  if (/^\/repos\/[^/]+\/[^/]+\/pulls(\/|$)/.test(p)) return any("pull-requests");
  if (/^\/repos\/[^/]+\/[^/]+\/code-scanning(\/|$)/.test(p)) return any("security-events");
  if (/^\/repos\/[^/]+\/[^/]+\/actions(\/|$)/.test(p)) return any("actions");
  if (/^\/repos\/[^/]+\/[^/]+\/(contents|git|releases|commits|branches|tags)(\/|$)/.test(p)) return any("contents");
  if (/^\/repos\/[^/]+\/[^/]+\/deployments(\/|$)/.test(p)) return any("deployments");
  if (/^\/repos\/[^/]+\/[^/]+\/(statuses|commits\/[^/]+\/statuses)(\/|$)/.test(p)) return any("statuses");
  if (/^\/repos\/[^/]+\/[^/]+\/(check-runs|check-suites)(\/|$)/.test(p)) return any("checks");
  if (/^\/repos\/[^/]+\/[^/]+\/attestations(\/|$)/.test(p)) return any("attestations");
  if (/^\/(user|orgs\/[^/]+|users\/[^/]+)\/packages(\/|$)/.test(p)) return any("packages");
  return void 0;
}
function createTokenBook() {
  return /* @__PURE__ */ new Map();
}
function restGate(book, { method, path, authorization }) {
  const m = /^(?:token|bearer) (.+)$/i.exec(String(authorization ?? ""));
  const entry = m ? book.get(m[1]) : void 0;
  if (!entry) return void 0;
  const need = restPermission(method, path);
  if (!need || need.some((n) => allows(entry.permissions, n.scope, n.level))) return void 0;
  return {
    status: 403,
    body: { message: "Resource not accessible by integration", documentation_url: "https://docs.github.com/rest", status: "403" },
    missing: need.map((n) => `${n.scope}: ${n.level}`).join(" or "),
    job: entry.job
  };
}
function registryGate(book, { method, authorization }) {
  const h = String(authorization ?? "");
  let token;
  const basic = /^basic (.+)$/i.exec(h);
  if (basic)
    token = Buffer.from(basic[1], "base64").toString("utf8").split(":").slice(1).join(":");
  const bearer = /^bearer (.+)$/i.exec(h);
  if (bearer) token = bearer[1];
  const entry = token ? book.get(token) : void 0;
  if (!entry) return { ok: false, status: 401, message: "unauthorized: not a job token of this rehearsal" };
  const level = ["GET", "HEAD"].includes(String(method).toUpperCase()) ? "read" : "write";
  if (!allows(entry.permissions, "packages", level))
    return {
      ok: false,
      status: 403,
      job: entry.job,
      message: `denied: job '${entry.job}' has packages: ${entry.permissions.packages}, this needs packages: ${level}`
    };
  return { ok: true, job: entry.job };
}
function restInterceptor(book, denied) {
  return (req, res) => {
    const verdict = restGate(book, {
      method: req.method ?? "GET",
      path: req.path ?? new URL(req.url ?? "/", "http://x").pathname,
      authorization: req.headers?.authorization
    });
    if (!verdict) return false;
    denied?.push({
      job: verdict.job,
      method: req.method ?? "GET",
      path: req.path ?? new URL(req.url ?? "/", "http://x").pathname,
      missing: verdict.missing
    });
    res.writeHead(verdict.status, { "content-type": "application/json" });
    res.end(JSON.stringify(verdict.body));
    return true;
  };
}
function oidcClaims({
  github,
  environment,
  jobWorkflowRef,
  jobWorkflowSha
}) {
  const repo = github.repository;
  const sub = environment ? `repo:${repo}:environment:${environment}` : github.event_name === "pull_request" ? `repo:${repo}:pull_request` : `repo:${repo}:ref:${github.ref}`;
  return {
    iss: "https://token.actions.githubusercontent.com",
    sub,
    repository: repo,
    repository_owner: github.repository_owner,
    ref: github.ref,
    ref_type: github.ref.startsWith("refs/tags/") ? "tag" : "branch",
    sha: github.sha,
    workflow: String(github.workflow),
    workflow_ref: github.workflow_ref,
    workflow_sha: github.sha,
    job_workflow_ref: jobWorkflowRef,
    job_workflow_sha: jobWorkflowSha,
    event_name: github.event_name,
    run_id: github.run_id,
    run_number: github.run_number,
    run_attempt: github.run_attempt,
    actor: github.actor,
    runner_environment: "github-hosted",
    ...environment ? { environment } : {}
  };
}
function qualifyRef(ref) {
  if (/^[0-9a-f]{40}$/.test(ref) || ref.startsWith("refs/")) return ref;
  return /^v\d/.test(ref) ? `refs/tags/${ref}` : `refs/heads/${ref}`;
}
var b64url = (s) => Buffer.from(s).toString("base64url");
function oidcInterceptor(book) {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (!url.pathname.endsWith("/oidc/token")) return false;
    const m = /^bearer (.+)$/i.exec(String(req.headers?.authorization ?? ""));
    const entry = m ? [...book.values()].find((e) => e.oidc?.requestToken === m[1]) : void 0;
    if (!entry?.oidc) return false;
    const t = Math.floor(Date.now() / 1e3);
    const claims = {
      iat: t,
      nbf: t,
      exp: t + 300,
      ...entry.oidc.claims,
      aud: url.searchParams.get("audience") ?? `https://github.com/${entry.oidc.claims.repository_owner}`
    };
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ count: 1, value: `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.sig` })
    );
    return true;
  };
}
function githubInterceptor(book, denied) {
  const oidc = oidcInterceptor(book);
  const rest = restInterceptor(book, denied);
  return (req, res) => oidc(req, res) || rest(req, res);
}

export {
  SCOPES,
  secretNameProblem,
  secretReferences,
  badSecretNames,
  badIfContexts,
  normalizePermissions,
  exceeding,
  capPermissions,
  allows,
  restPermission,
  createTokenBook,
  restGate,
  registryGate,
  restInterceptor,
  oidcClaims,
  qualifyRef,
  oidcInterceptor,
  githubInterceptor
};
