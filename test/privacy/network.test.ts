// Privacy: the product opens no network connections.
// 1. Static: no source file under src/ imports a network module or calls fetch/WebSocket.
// 2. Dynamic: a real completion (CLI, shipped model) succeeds inside a network namespace that
//    has no interfaces at all (`unshare --net`, root only; CI runs as root) — and a probe in the
//    same namespace proves the namespace really has no network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const NETWORK_MODULES = /(?:from\s+|require\()\s*['"](?:node:)?(?:http|https|http2|net|tls|dgram|dns)['"]|\bfetch\s*\(|\bnew\s+WebSocket\b|XMLHttpRequest/;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|js|mjs)$/.test(name) ? [p] : [];
  });
}

test('no source file imports a network module or calls fetch', () => {
  const offenders = sources(join(ROOT, 'src')).filter((f) => NETWORK_MODULES.test(readFileSync(f, 'utf8')));
  assert.deepEqual(offenders.map((f) => f.slice(ROOT.length + 1)), []);
});

const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;

test('a completion works inside a network namespace with no interfaces', { skip: !canUnshare && 'needs root and unshare' }, () => {
  const cli = join(ROOT, 'bin', 'ptp-complete.js');
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'run npm run build first');
  const links = execFileSync('unshare', ['--net', 'ip', '-o', 'link'], { encoding: 'utf8' });
  assert.ok(!/\b(eth|ens|enp|wl|veth)\w*:/.test(links), `namespace still has interfaces: ${links}`);
  const probe = spawnSync('unshare', ['--net', process.execPath, '-e',
    "require('net').connect(53, '1.1.1.1').on('error', e => { console.log(e.code); process.exit(0) }).on('connect', () => process.exit(3))"],
  { encoding: 'utf8', timeout: 10000 });
  assert.equal(probe.status, 0, 'a connection succeeded inside the namespace');
  const out = execFileSync('unshare', ['--net', process.execPath, cli, 'complete', '--file', join(ROOT, 'examples', 'sample.ts'),
    '--line', '3', '--column', '1', '--max-tokens', '16', '--json'], { encoding: 'utf8', timeout: 120000 });
  const result = JSON.parse(out.trim().split('\n').pop()!);
  assert.equal(typeof result.text, 'string');
  assert.ok(result.calls >= 1);
});
