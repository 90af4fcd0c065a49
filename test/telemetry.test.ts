/**
 * No network traffic: the server (for 35 s, with one reconstruction) and then the CLI run in a network namespace
 * whose only DNS server is a logging one on 127.0.0.1 (test/_telemetry-run.ts); voxface must look up nothing.
 * The positive control runs the same server with ORT_DISABLE_TELEMETRY=0 and must see onnxruntime's telemetry
 * lookups (and the device id it keeps in the home), so the test can fail. Both runs go without the CI variables
 * (CI, GITHUB_ACTIONS, ...) that silence onnxruntime by themselves, and with a fresh empty home that voxface must
 * leave empty. Both run at the same time (about 45 s in all). Needs root for `unshare -n -m`
 * (CI runs as root) and skips with a message where it is not permitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DnsQuery } from './_dns.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function whySkip(): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (!existsSync(path.join(root, 'models', 'vrn-compact.onnx'))) return 'needs models/vrn-compact.onnx';
  const u = spawnSync('unshare', ['-n', '-m', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
  if (u.error || u.status !== 0) return `unshare -n -m with ip(8) is not permitted here (${(u.stderr || u.error?.message || '').trim()}): run as root with iproute2`;
  return false;
}
const skip = whySkip();
if (skip) console.log(`# telemetry test skipped: ${skip}`);

interface Run {
  probe: boolean;
  status: number;
  server: DnsQuery[];
  cli: DnsQuery[];
  home: string[];
}

function inNamespace(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', '-m', process.execPath, '--import', 'tsx', path.join(root, 'test', '_telemetry-run.ts'), ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`namespace run ${args.join(' ')} exited with ${code}:\n${out}\n${err}`));
      else resolve(JSON.parse(last) as Run);
    });
  });
}

const names = (qs: DnsQuery[]) => [...new Set(qs.map((q) => q.name))].join(', ');

test('no DNS lookups from the server (35 s, one request) or the CLI, no files in the home; telemetry enabled does look up', { skip, timeout: 240_000 }, async () => {
  const [quiet, control] = await Promise.all([
    inNamespace(['--seconds=35', '--cli']),
    // stops at its first lookup (10–13 s after the start here, loaded or not); 90 s leaves room on a slow machine
    inNamespace(['--seconds=90', '--telemetry=on', '--stop-on-lookup']),
  ]);
  for (const r of [quiet, control]) {
    assert.ok(r.probe, 'the logging DNS server saw the harness probe lookup');
    assert.equal(r.status, 200, 'the reconstruction request succeeded');
  }
  assert.deepEqual(quiet.server, [], `server looked up: ${JSON.stringify(quiet.server)}`);
  assert.deepEqual(quiet.cli, [], `CLI looked up: ${JSON.stringify(quiet.cli)}`);
  assert.ok(control.server.length > 0, 'with ORT_DISABLE_TELEMETRY=0 onnxruntime looks up its telemetry host within 90 s');
  assert.ok(control.server.some((q) => /\.microsoft\.com$/.test(q.name)), `control looked up: ${names(control.server)}`);
  // nor does anything land in the user's home: with telemetry on, onnxruntime keeps a device id there
  assert.deepEqual(quiet.home, [], `voxface left files in its home: ${quiet.home.join(', ')}`);
  assert.ok(control.home.some((f) => /deviceid$/.test(f)), `with telemetry on, onnxruntime keeps a device id in the home (found: ${control.home.join(', ') || 'nothing'})`);
});
