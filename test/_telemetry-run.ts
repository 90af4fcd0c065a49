/**
 * Runs inside a fresh network + mount namespace (`unshare -n -m`, as root) for test/telemetry.test.ts:
 * brings up loopback, points /etc/resolv.conf (a bind mount, private to the namespace) at a logging DNS server
 * on 127.0.0.1, checks that the DNS log works with a probe lookup of its own, then runs the voxface server for
 * `--seconds` (counted from when it listens) with one reconstruction request and, with `--cli`, the CLI on one photo. Prints one JSON line:
 * `{ probe, status, server: DnsQuery[], cli: DnsQuery[], home: string[] }`, where `home` lists the files the
 * processes left in their fresh home.
 *
 * ```sh
 * unshare -n -m node --import tsx test/_telemetry-run.ts --seconds=35 --cli          # as voxface runs
 * unshare -n -m node --import tsx test/_telemetry-run.ts --seconds=90 --telemetry=on --stop-on-lookup # ORT_DISABLE_TELEMETRY=0
 * ```
 * `--stop-on-lookup` ends the server phase at the first lookup (for the positive control).
 */
import { spawn, spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startLoggingDns } from './_dns.ts';
import type { DnsQuery } from './_dns.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '35' },
    telemetry: { type: 'string', default: 'default' },
    cli: { type: 'boolean', default: false },
    'stop-on-lookup': { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const photo = path.join(root, 'examples', 'face.jpg');

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/**
 * onnxruntime sends no telemetry where one of these is set (the names are in libonnxruntime.so; checked with
 * `CI=true` and `GITHUB_ACTIONS=true`). CI machines set them, which kept the positive control silent there and
 * would make the quiet run pass for the wrong reason, so both runs go without them.
 */
const CI_MARKERS = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER'];

/**
 * The environment of the processes under test: the caller's, without CI markers, with a fresh empty home (where
 * onnxruntime with telemetry on keeps a device id and an event database) and ORT_DISABLE_TELEMETRY as `--telemetry` says.
 */
function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...extra };
  delete env.XDG_CACHE_HOME;
  for (const name of CI_MARKERS) delete env[name];
  delete env.ORT_DISABLE_TELEMETRY; // 'default': voxface must turn it off by itself
  if (values.telemetry === 'on') env.ORT_DISABLE_TELEMETRY = '0';
  return env;
}

const dir = mkdtempSync(path.join(tmpdir(), 'voxface-netns-'));
const home = path.join(dir, 'home');
/** Every file under the fresh home, relative to it. */
function homeFiles(): string[] {
  return readdirSync(home, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(home, path.join(e.parentPath, e.name)))
    .sort();
}
try {
  mkdirSync(home);
  sh('ip', ['link', 'set', 'lo', 'up']);
  const resolv = 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n';
  if (lstatSync('/etc/resolv.conf', { throwIfNoEntry: false })?.isFile()) {
    writeFileSync(path.join(dir, 'resolv.conf'), resolv);
    sh('mount', ['--bind', path.join(dir, 'resolv.conf'), '/etc/resolv.conf']);
  } else {
    // a symlink (systemd-resolved's stub) or no file at all: a private copy of /etc with a plain resolv.conf
    sh('cp', ['-a', '/etc', path.join(dir, 'etc')]);
    rmSync(path.join(dir, 'etc', 'resolv.conf'), { force: true });
    writeFileSync(path.join(dir, 'etc', 'resolv.conf'), resolv);
    sh('mount', ['--bind', path.join(dir, 'etc'), '/etc']);
  }
  const dns = await startLoggingDns({ host: '127.0.0.1', port: 53 });

  // the log must see a lookup of ours, or zero lookups below would mean nothing
  await lookup('probe.voxface.invalid').catch(() => undefined);
  const probe = dns.queries.some((q) => q.name === 'probe.voxface.invalid');
  dns.queries.length = 0;

  // the server, as `npm start` runs it
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'server', 'main.ts')], {
    cwd: root,
    env: childEnv({ PORT: '0', HOST: '127.0.0.1', VOXFACE_THREADS: '1' }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.setEncoding('utf8');
    server.stdout.on('data', (s: string) => {
      out += s;
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
  const started = performance.now(); // the window counts from the moment the server listens, however slow its start
  const res = await fetch(`${url}/api/v1/reconstruct?formats=glb`, { method: 'POST', body: readFileSync(photo), headers: { 'Content-Type': 'image/jpeg' } });
  const status = res.status;
  await res.arrayBuffer();
  while (performance.now() - started < seconds * 1000) {
    if (values['stop-on-lookup'] && dns.queries.length > 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await exited;
  const serverQueries: DnsQuery[] = dns.queries.splice(0);
  const serverHome = homeFiles();

  // the CLI on one photo
  let cliQueries: DnsQuery[] = [];
  if (values.cli) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'voxface.ts'), photo, '-o', path.join(dir, 'out'), '--format', 'glb', '--quiet'], {
      cwd: root,
      env: childEnv({}),
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`voxface CLI exited with ${r.status}: ${r.stderr}`);
    await new Promise((r) => setTimeout(r, 500)); // answers in flight
    cliQueries = dns.queries.splice(0);
  }
  await dns.close();
  console.log(JSON.stringify({ probe, status, server: serverQueries, cli: cliQueries, home: [...new Set([...serverHome, ...homeFiles()])] }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
