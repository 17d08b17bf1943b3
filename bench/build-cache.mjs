// build-sign's registry layer cache (issue 18), measured in one run with the REAL buildah and a real
// docker-registry on loopback. Not a test: it prints times and ratios.
//
// Three builds of the same multi-stage application through the build-sign bundle (cache: true,
// sign: none, push), each in a FRESH buildah storage root as on a fresh runner, so the only cache is
// the one in the registry:
//   - cold:              an empty cache repository (the first build also pushes the cache),
//   - warm, no change:   the same source again,
//   - warm, last stage:  a source file copied in the last stage changed.
// The application: a `deps` stage that installs dependencies (CPU work in the shell plus ~16 MB of
// generated files: what `npm ci` or `go mod download` costs), a `build` stage that compiles over
// them (hashes every file), and a small `runtime` stage that copies the result and the app source.
// The base image is busybox-static (FROM scratch + busybox --install), made here and pushed first.
// Every round uses new repositories; medians over the rounds are reported. Goals: warm with no
// change <= 0.25x cold, last-stage change <= 0.5x cold.
//
//   node bench/build-cache.mjs [--runs 3] [--loops 3000000] [--files 2000] [--driver overlay|vfs] [--json out.json]
// --loops: shell-arithmetic iterations of the deps step (half as many in the build step), standing
// for dependency install and compile time; --files: 8 KiB files the deps step writes (and the build
// stage copies: buildah runs a COPY before it can look it up in the cache, so this part is paid warm too).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const runs = Number(opt('--runs', 3));
const loops = Number(opt('--loops', 3000000));
const files = Number(opt('--files', 2000));
const jsonOut = opt('--json', undefined);
// overlay is what buildah uses on a GitHub-hosted runner; vfs (full copies per layer) is what the tests use.
const driver = opt('--driver', 'overlay');
const bundle = join(root, 'dist', 'build-sign', 'index.js');
const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
const registryBin = ['/usr/bin/docker-registry', '/usr/sbin/docker-registry'].find((p) => existsSync(p));
for (const [what, ok] of [
  ['dist/build-sign/index.js (node scripts/build.mjs build-sign)', existsSync(bundle)],
  ['busybox-static', busybox],
  ['docker-registry', registryBin],
  ['buildah', existsSync('/usr/bin/buildah')],
]) {
  if (!ok) {
    console.error(`bench: ${what} is needed`);
    process.exit(1);
  }
}
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-cache-'));
const cleanup = () => {
  spawnSync('chmod', ['-R', 'u+w', work]);
  rmSync(work, { recursive: true, force: true });
};

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

let storageN = 0;
function freshStorage() {
  const d = join(work, `storage-${++storageN}`);
  mkdirSync(d, { recursive: true });
  const conf = join(d, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "${driver}"\ngraphroot = "${join(d, 'root')}"\nrunroot = "${join(d, 'run')}"\n`);
  return { conf, dir: d };
}
function dropStorage(s) {
  spawnSync('chmod', ['-R', 'u+w', s.dir]);
  rmSync(s.dir, { recursive: true, force: true });
}

// 1. The registry.
const port = await freePort();
const host = `127.0.0.1:${port}`;
writeFileSync(
  join(work, 'registry.yml'),
  `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(work, 'registry')}\nhttp:\n  addr: ${host}\n`,
);
const registry = spawn(registryBin, ['serve', join(work, 'registry.yml')], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://${host}/v2/`)).ok) break;
  } catch {
    /* not up yet */
  }
  if (i > 200) throw new Error('docker-registry did not start');
  await new Promise((r) => setTimeout(r, 50));
}

try {
  // 2. The base image.
  const baseCtx = join(work, 'base');
  mkdirSync(baseCtx);
  copyFileSync(busybox, join(baseCtx, 'busybox'));
  writeFileSync(
    join(baseCtx, 'Containerfile'),
    'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n',
  );
  const bs = freshStorage();
  const benv = { ...process.env, CONTAINERS_STORAGE_CONF: bs.conf, BUILDAH_ISOLATION: 'chroot' };
  execFileSync('buildah', ['build', '--tag', 'localhost/bench-base:1', baseCtx], { env: benv, stdio: 'pipe' });
  const base = `${host}/bench/busybox:1`;
  execFileSync('buildah', ['push', '--tls-verify=false', 'localhost/bench-base:1', `docker://${base}`], { env: benv, stdio: 'pipe' });
  dropStorage(bs);

  // 3. The application.
  const containerfile = [
    `FROM ${base} AS deps`,
    `RUN i=0; while [ $i -lt ${loops} ]; do i=$((i+1)); done; mkdir -p /deps && for n in $(seq 1 ${files}); do head -c 8192 /dev/urandom > /deps/f$n; done`,
    `FROM ${base} AS build`,
    'COPY --from=deps /deps /deps',
    'COPY src/lib.txt /src/lib.txt',
    `RUN i=0; while [ $i -lt ${Math.round(loops / 2)} ]; do i=$((i+1)); done; find /deps /src -type f | sort | xargs sha256sum > /artifact.txt`,
    `FROM ${base} AS runtime`,
    'COPY --from=build /artifact.txt /app/artifact.txt',
    'COPY src/app.txt /app/app.txt',
    'CMD ["cat", "/app/app.txt"]',
    '',
  ].join('\n');

  function workspace(appText) {
    const ws = mkdtempSync(join(work, 'ws-'));
    mkdirSync(join(ws, 'app', 'src'), { recursive: true });
    writeFileSync(join(ws, 'app', 'Containerfile'), containerfile);
    writeFileSync(join(ws, 'app', 'src', 'lib.txt'), 'library v1\n');
    writeFileSync(join(ws, 'app', 'src', 'app.txt'), `${appText}\n`);
    return ws;
  }

  /** One build-sign run, as the runner starts it; returns wall ms and the cache stats it reported. */
  function buildSign(repo, appText, tag, sha = '4f1c6b9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d') {
    const ws = workspace(appText);
    const temp = mkdtempSync(join(work, 'tmp-'));
    const st = freshStorage();
    const out = join(temp, 'output');
    writeFileSync(out, '');
    const env = {
      PATH: process.env.PATH,
      HOME: temp,
      CONTAINERS_STORAGE_CONF: st.conf,
      BUILDAH_ISOLATION: 'chroot',
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: out,
      GITHUB_STEP_SUMMARY: join(temp, 'summary'),
      RUNNER_TEMP: temp,
      GITHUB_WORKSPACE: ws,
      GITHUB_REPOSITORY: 'octo-org/shop',
      GITHUB_SHA: sha,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SERVER_URL: 'https://github.com',
      SOURCE_DATE_EPOCH: '1764000000',
      INPUT_IMAGE: `${host}/${repo}`,
      INPUT_TAGS: tag,
      INPUT_BUILDER: 'buildah',
      INPUT_CONTEXT: 'app',
      INPUT_CACHE: 'true',
      INPUT_SIGN: 'none',
      'INPUT_REGISTRY-INSECURE': 'true',
      INPUT_PUSH: 'true',
    };
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, process.env.BENCH_WRAP ? [process.env.BENCH_WRAP, process.execPath, bundle] : [bundle], {
      env,
      cwd: ws,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) {
      process.stderr.write(r.stdout.slice(-4000) + r.stderr.slice(-2000));
      throw new Error(`build-sign exited ${r.status}`);
    }
    if (process.env.BENCH_LOG_DIR) writeFileSync(join(process.env.BENCH_LOG_DIR, `${tag}-${storageN}.log`), r.stdout);
    const outputs = execFileSync('cat', [out], { encoding: 'utf8' });
    const meta = /metadata<<(\S+)\n([\s\S]*?)\n\1/.exec(outputs)?.[2] ?? /^metadata=(.*)$/m.exec(outputs)?.[1] ?? '{}';
    const stats = JSON.parse(meta).cache?.stats;
    dropStorage(st);
    rmSync(ws, { recursive: true, force: true });
    rmSync(temp, { recursive: true, force: true });
    return { ms, stats };
  }

  const rows = [];
  for (let i = 1; i <= runs; i++) {
    const repo = `bench/app-${i}-${process.pid}`;
    // A re-run of the same commit pushes the same tag; the last-stage change is a new commit and tag.
    const cold = buildSign(repo, 'app v1', 'v1');
    const warm = buildSign(repo, 'app v1', 'v1');
    const last = buildSign(repo, `app v2 (${i})`, 'v2', '9e0a2d3c5b7e8f9a0b1c2d3e4f5a6b7c8d4f1c6b');
    rows.push({ cold: cold.ms, warm: warm.ms, last: last.ms, coldStats: cold.stats, warmStats: warm.stats, lastStats: last.stats });
    console.log(
      `round ${i}: cold ${(cold.ms / 1000).toFixed(2)} s [${JSON.stringify(cold.stats)}], warm no change ${(warm.ms / 1000).toFixed(2)} s [${JSON.stringify(warm.stats)}], warm last-stage change ${(last.ms / 1000).toFixed(2)} s [${JSON.stringify(last.stats)}]`,
    );
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const cold = median(rows.map((r) => r.cold));
  const warm = median(rows.map((r) => r.warm));
  const last = median(rows.map((r) => r.last));
  const result = {
    runs,
    workload: { loops, files, driver },
    loadavg: readFileSync('/proc/loadavg', 'utf8').trim(),
    medianMs: { cold: Math.round(cold), warmNoChange: Math.round(warm), warmLastStageChange: Math.round(last) },
    ratios: { warmNoChange: +(warm / cold).toFixed(3), warmLastStageChange: +(last / cold).toFixed(3) },
    goals: { warmNoChange: 0.25, warmLastStageChange: 0.5 },
    rounds: rows,
  };
  console.log(
    `\nworkload: ${loops} loops, ${files} files, ${driver} storage; load average ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  console.log(
    `medians over ${runs} round(s): cold ${(cold / 1000).toFixed(2)} s, warm no change ${(warm / 1000).toFixed(2)} s, warm last-stage change ${(last / 1000).toFixed(2)} s`,
  );
  console.log(`warm, no change:          ${(warm / cold).toFixed(3)}x cold (goal <= 0.25x) ${warm / cold <= 0.25 ? 'met' : 'NOT met'}`);
  console.log(`warm, last-stage change:  ${(last / cold).toFixed(3)}x cold (goal <= 0.5x)  ${last / cold <= 0.5 ? 'met' : 'NOT met'}`);
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
} finally {
  registry.kill('SIGTERM');
  cleanup();
}
