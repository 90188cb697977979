// Privacy: the workspace index reads files under the workspace folders only. Every path the
// walker and the index hand to the file system, through a build and file events, lies inside
// the folder, though the folder holds links to a file and a directory outside it and an event
// names a file outside it; and nothing is opened or listed through a link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IdleGate } from '../../src/server/idleGate';
import { WorkspaceIndex } from '../../src/server/workspaceIndex';

const chars = { encode: (text: string) => Array.from(text, (c) => c.charCodeAt(0)) };
const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

test('the workspace index touches no path outside the workspace folders', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptp-privacy-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const folder = path.join(tmp, 'workspace');
  const outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(folder, 'src'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(folder, 'src', 'a.ts'), 'export const a = 1;\n');
  fs.writeFileSync(path.join(outside, 'secret.ts'), 'export const secret = 42;\n');
  fs.writeFileSync(path.join(outside, '.gitignore'), '*.ts\n');
  fs.symlinkSync(path.join(outside, 'secret.ts'), path.join(folder, 'secret.ts'));
  fs.symlinkSync(outside, path.join(folder, 'linked'));

  const touched: string[] = [];
  const opened: string[] = [];
  for (const method of ['open', 'readdir', 'lstat', 'stat', 'readFile', 'access', 'realpath', 'opendir'] as const) {
    const original = fs.promises[method] as (...args: unknown[]) => unknown;
    t.mock.method(fs.promises, method, (...args: unknown[]) => {
      touched.push(path.resolve(String(args[0])));
      if (method === 'open' || method === 'readFile' || method === 'readdir' || method === 'opendir') opened.push(path.resolve(String(args[0])));
      return original.apply(fs.promises, args);
    });
  }
  const index = new WorkspaceIndex(new IdleGate(() => false), silent, () => new Set());
  index.configure({ folders: [folder], enabled: true, trusted: true, exclude: [], encoder: chars });
  await index.settled();
  index.filesChanged([
    { path: path.join(outside, 'secret.ts'), kind: 'changed' },
    { path: path.join(folder, 'secret.ts'), kind: 'changed' },
    { path: path.join(folder, 'linked', 'secret.ts'), kind: 'created' },
    { path: path.join(folder, '..', 'outside', 'secret.ts'), kind: 'created' },
    { path: path.join(folder, 'src', 'a.ts'), kind: 'changed' },
  ]);
  await index.settled();

  const inside = (p: string): boolean => p === folder || p.startsWith(folder + path.sep);
  // The test's own directory only: the runner and the module loader use the file system too.
  const ours = touched.filter((p) => p.startsWith(tmp + path.sep));
  assert.ok(ours.length > 0, 'the fs calls were not observed');
  assert.deepEqual(ours.filter((p) => !inside(p)), []);
  // And nothing read through a link: what was opened or listed is, resolved, still inside.
  const real = fs.realpathSync(folder);
  assert.deepEqual(opened.filter((p) => p.startsWith(tmp + path.sep) && fs.existsSync(p) && !(fs.realpathSync(p) === real || fs.realpathSync(p).startsWith(real + path.sep))), []);
  assert.equal(index.status().files, 1);
  assert.equal(index.index!.has(path.join(folder, 'src', 'a.ts')), true);
  index.dispose();
});
