#!/usr/bin/env node
// `npm run tools`: the real CLIs the tests run against (cosign, syft, trivy, helm, kyverno,
// terraform or OpenTofu), at the versions setup-tools installs by default, built once from the Go
// module proxy into a cache outside the checkout and reused from then on.
//
//   npm run tools                      build what is missing; print `<name> <version> <path>` per tool
//   npm run tools -- --json            the same as JSON ({ name: { version, path } })
//   npm run tools -- --only cosign,syft
//   npm run tools -- --check           build nothing; exit 1 naming what is missing
//
// The cache: $HALLMARK_TOOLS_DIR, else $XDG_CACHE_HOME/hallmark-tools, else ~/.cache/hallmark-tools;
// one directory per tool and version (`<cache>/<tool>/<version>/<binary>`), written atomically, so a
// second run builds nothing. Go's own caches (GOCACHE, GOMODCACHE) are left where Go keeps them.
//
// Versions come from actions/setup-tools/src/catalog.ts (`defaultVersion`), so what the tests run
// is what the action installs; test/setup-tools/tools-script.test.ts checks that they agree. Two
// extra peers are older lines users may pin: cosign 2.6.x and Helm 3.x.
//
// Where a vendor release can be downloaded (on GitHub's runners), setup-tools installs the
// vendor's checksum-verified binary instead; this machine reaches only the Go module proxy, so
// here every tool is compiled. terraform: the one on PATH when there is one (it cannot be built
// from the module proxy: its go.mod replaces internal sub-modules), else OpenTofu, built here and
// exposed under the name `terraform`.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MIN_GO = [1, 26];

/** Reads each tool's `defaultVersion` from setup-tools' catalog (the one place versions are bumped). */
export function catalogVersions(text = readFileSync(join(ROOT, 'actions/setup-tools/src/catalog.ts'), 'utf8')) {
  const out = {};
  for (const m of text.matchAll(/name:\s*'([a-z]+)',\s*\n\s*defaultVersion:\s*'([^']+)'/g)) out[m[1]] = m[2];
  return out;
}

/** What `npm run tools` provides: name → how to build it. */
export function toolSpecs(versions = catalogVersions()) {
  const need = (n) => {
    if (!versions[n]) throw new Error(`tools: setup-tools' catalog has no defaultVersion for ${n}`);
    return versions[n];
  };
  return [
    { name: 'cosign', version: need('cosign'), binary: 'cosign', go: { pkg: 'github.com/sigstore/cosign/v3/cmd/cosign' } },
    // The v2 line users may pin (the catalog's cosign comment names it); it keeps the legacy .sig tags.
    { name: 'cosign2', version: '2.6.4', binary: 'cosign', go: { pkg: 'github.com/sigstore/cosign/v2/cmd/cosign' } },
    // Version stamps: what each vendor's release build sets with -X (goreleaser configs / Makefiles at the tag),
    // so `<tool> version` and the tool name written into SBOMs and reports read as the release does.
    {
      name: 'syft',
      version: need('syft'),
      binary: 'syft',
      go: { pkg: 'github.com/anchore/syft/cmd/syft', x: (v) => [`main.version=${v}`] },
    },
    // trivy imports encoding/json/v2, which Go 1.26 builds only with GOEXPERIMENT=jsonv2 (as trivy's goreleaser config does).
    {
      name: 'trivy',
      version: need('trivy'),
      binary: 'trivy',
      go: {
        pkg: 'github.com/aquasecurity/trivy/cmd/trivy',
        env: { GOEXPERIMENT: 'jsonv2' },
        x: (v) => [`github.com/aquasecurity/trivy/pkg/version/app.ver=${v}`],
      },
    },
    {
      name: 'helm',
      version: need('helm'),
      binary: 'helm',
      go: { pkg: 'helm.sh/helm/v4/cmd/helm', x: (v) => [`helm.sh/helm/v4/internal/version.version=v${v}`] },
    },
    // Helm 3.x, which users may pin: deploy-prod detects it and passes its own flags.
    {
      name: 'helm3',
      version: '3.19.5',
      binary: 'helm',
      go: { pkg: 'helm.sh/helm/v3/cmd/helm', x: (v) => [`helm.sh/helm/v3/internal/version.version=v${v}`] },
    },
    // kyverno's go.mod has a replace directive, so `go install` refuses it: build it from
    // test/tools/kyverno, a module that requires it (a `tool` directive) and repeats the replace.
    {
      name: 'kyverno',
      version: need('kyverno'),
      binary: 'kyverno',
      go: { pkg: 'github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno', module: 'test/tools/kyverno' },
    },
    // OpenTofu, when no terraform is on PATH: its go.mod replaces hcl, so it is built from test/tools/opentofu.
    {
      name: 'terraform',
      version: need('terraform'),
      binary: 'tofu',
      terraform: { tofu: '1.12.6' },
      go: {
        pkg: 'github.com/opentofu/opentofu/cmd/tofu',
        module: 'test/tools/opentofu',
        x: () => ['github.com/opentofu/opentofu/version.dev=no'],
      },
    },
  ];
}

export function cacheDir(env = process.env) {
  if (env.HALLMARK_TOOLS_DIR) return resolve(env.HALLMARK_TOOLS_DIR);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'hallmark-tools');
}

function findOnPath(name, env = process.env) {
  for (const d of (env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const p = join(d, name);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/** A Go ≥ 1.26 (the Debian golang-go package is 1.19 and must not be the one used). */
function findGo() {
  const candidates = [process.env.HALLMARK_GO, findOnPath('go'), '/usr/local/go/bin/go', join(homedir(), 'go', 'bin', 'go')].filter(
    Boolean,
  );
  for (const go of candidates) {
    if (!existsSync(go)) continue;
    const r = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' });
    const m = /^go(\d+)\.(\d+)/.exec((r.stdout ?? '').trim());
    if (m && (Number(m[1]) > MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) >= MIN_GO[1]))) return go;
  }
  throw new Error(
    `tools: no Go ${MIN_GO.join('.')} or newer found (tried ${candidates.join(', ') || 'PATH'}); install Go from go.dev or set HALLMARK_GO`,
  );
}

function goEnv() {
  // GOTOOLCHAIN=local: never download a toolchain (the module proxy is reachable, toolchain downloads are not).
  return { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local', GOFLAGS: '-trimpath' };
}

function terraformOnPath() {
  if (process.env.HALLMARK_TOOLS_TERRAFORM === 'tofu') return undefined;
  const p = findOnPath('terraform');
  if (!p) return undefined;
  const r = spawnSync(p, ['version', '-json'], {
    encoding: 'utf8',
    env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' },
  });
  try {
    return { path: p, version: JSON.parse(r.stdout).terraform_version };
  } catch {
    return undefined;
  }
}

/** How a tool is built: a cached binary is reused only when it was built exactly this way. */
export function recipe(spec) {
  const version = spec.terraform ? spec.terraform.tofu : spec.version;
  const ldflags = ['-s', '-w', ...(spec.go.x ? spec.go.x(version).map((x) => `-X ${x}`) : [])].join(' ');
  return {
    version,
    ldflags,
    line: `${spec.go.pkg}@v${version} ldflags=${ldflags} env=${JSON.stringify(spec.go.env ?? {})}${spec.go.module ? ` module=${spec.go.module}` : ''}`,
  };
}

function cachedOk(spec, dir) {
  const p = toolPath(spec, dir);
  if (!existsSync(p)) return false;
  try {
    return readFileSync(join(dirname(p), 'BUILD-INFO'), 'utf8').split('\n')[0] === recipe(spec).line;
  } catch {
    return false;
  }
}

/** Where a tool is (or would be) in the cache. */
export function toolPath(spec, dir = cacheDir()) {
  if (spec.terraform) return join(dir, 'opentofu', spec.terraform.tofu, 'terraform');
  return join(dir, spec.name, spec.version, spec.binary);
}

function build(spec, dir, log) {
  const go = findGo();
  const target = spec.terraform ? join(dir, 'opentofu', spec.terraform.tofu) : join(dir, spec.name, spec.version);
  const { version, ldflags, line } = recipe(spec);
  const pkg = spec.go.pkg;
  const tmp = `${target}.building-${process.pid}`;
  // We hold the cache lock: a `.building-*` directory beside the target is left by a build that was killed.
  mkdirSync(dirname(target), { recursive: true });
  for (const d of readdirSync(dirname(target)))
    if (d.startsWith(`${basename(target)}.building-`)) rmSync(join(dirname(target), d), { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  log(`building ${spec.terraform ? 'tofu (OpenTofu, as terraform)' : spec.name} ${version} from the Go module proxy (${pkg}) …`);
  let args;
  let cwd = ROOT;
  if (spec.go?.module) {
    cwd = join(ROOT, spec.go.module);
    args = ['build', '-ldflags', ldflags, '-o', join(tmp, spec.binary), spec.go.pkg];
  } else {
    args = ['install', '-ldflags', ldflags, `${pkg}@v${version}`];
  }
  const env = { ...goEnv(), ...(spec.go?.env ?? {}), ...(spec.go?.module ? {} : { GOBIN: tmp }) };
  // go install from outside any module: run it in the cache directory.
  if (!spec.go?.module) cwd = dir;
  const r = spawnSync(go, args, { cwd, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`tools: building ${pkg}@v${version} failed (exit ${r.status ?? r.signal}); see the go output above`);
  }
  if (spec.terraform) symlinkSync('tofu', join(tmp, 'terraform'));
  writeFileSync(
    join(tmp, 'BUILD-INFO'),
    `${line}\nbuilt ${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s with ${execFileSync(go, ['env', 'GOVERSION'], { encoding: 'utf8' }).trim()}\n`,
  );
  rmSync(target, { recursive: true, force: true });
  mkdirSync(dirname(target), { recursive: true });
  renameSync(tmp, target);
  log(`built ${spec.terraform ? 'tofu' : spec.name} ${version} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/** One lock for the whole cache, so a test run and `npm run tools` never build the same tool twice. */
function withLock(dir, fn) {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 90 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        /* being written */
      }
      let alive = false;
      if (holder > 0) {
        try {
          process.kill(holder, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      if (holder > 0 && !alive) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`tools: ${lock} is held by process ${holder}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Ensures every tool (or `only`) exists; returns name → { version, path, built }. */
export function ensureTools({ only, check = false, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const dir = cacheDir();
  const specs = toolSpecs().filter((s) => !only || only.includes(s.name));
  const result = {};
  const missing = [];
  for (const s of specs) {
    if (s.terraform) {
      const onPath = terraformOnPath();
      if (onPath) {
        result[s.name] = { version: onPath.version, path: onPath.path, via: 'PATH' };
        continue;
      }
    }
    const p = toolPath(s, dir);
    if (cachedOk(s, dir)) result[s.name] = { version: s.terraform ? `opentofu-${s.terraform.tofu}` : s.version, path: p, via: 'cache' };
    else missing.push(s);
  }
  if (missing.length && check) throw new Error(`tools: not built yet: ${missing.map((s) => s.name).join(', ')} (run npm run tools)`);
  if (missing.length) {
    withLock(dir, () => {
      for (const s of missing) {
        const p = toolPath(s, dir);
        if (!cachedOk(s, dir)) build(s, dir, log);
        result[s.name] = { version: s.terraform ? `opentofu-${s.terraform.tofu}` : s.version, path: p, via: 'built' };
      }
    });
  }
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const onlyIdx = args.indexOf('--only');
  const only =
    onlyIdx >= 0
      ? (args[onlyIdx + 1] ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  try {
    const started = Date.now();
    const tools = ensureTools({ only, check: args.includes('--check') });
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(tools)}\n`);
    else {
      for (const [name, t] of Object.entries(tools)) process.stdout.write(`${name} ${t.version} ${t.path}\n`);
      process.stderr.write(`tools: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (cache ${cacheDir()})\n`);
    }
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
