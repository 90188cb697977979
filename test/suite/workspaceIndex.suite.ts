/**
 * The workspace index in a real VS Code: the worker reads the opened folder's source files
 * (the workspace is trusted here: security.workspace.trust.enabled is false), leaves out what
 * .gitignore names, follows files saved and deleted through the extension's file watcher, and
 * drops the index when ptp.context.workspace is turned off. The folder is seeded by
 * test/e2e/suite.e2e.ts: examples/inventory.py, examples/sample.ts, and build/ (ignored).
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { IndexStatus } from '../../src/protocol';
import type { PtpExtensionApi } from '../../src/extension/extension';
import { configure, ptp, waitFor } from './helpers';

type WorkspaceIndexStatus = IndexStatus['workspace'];

/** Polls ptp/status until the workspace index satisfies `ok`; returns that state. */
function indexWhere(api: PtpExtensionApi, what: string, ok: (ws: WorkspaceIndexStatus) => boolean, timeoutMs = 60_000): Promise<WorkspaceIndexStatus> {
  let last: WorkspaceIndexStatus | undefined;
  return waitFor(
    () => `the workspace index ${what} (last: ${JSON.stringify(last)})`,
    async () => {
      last = (await api.workerReport())?.index.workspace;
      return last !== undefined && ok(last) ? last : undefined;
    },
    timeoutMs,
    250,
  );
}

const EXTRA_PY = ['def restock(items, amount):', '    for item in items:', '        item.quantity += amount', '    return items', ''].join('\n');

suite('Workspace index', () => {
  suiteSetup(async () => {
    await configure({ enable: true, 'context.workspace': undefined });
  });
  suiteTeardown(() => configure({ 'context.workspace': undefined }));

  test('the folder is indexed in the background: its source files, not what .gitignore names', async () => {
    const api = await ptp();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the suite opens a folder');
    const ws = await indexWhere(api, 'to be built', (w) => w.state === 'done');
    assert.equal(ws.found, 2, `found ${ws.found} source files; expected inventory.py and sample.ts only (build/ is ignored)`);
    assert.equal(ws.files, 2);
    assert.ok(ws.tokens > 100, `${ws.tokens} tokens indexed`);
  });

  test('a file saved into the folder is indexed, and dropped when it is deleted', async () => {
    const api = await ptp();
    const folder = vscode.workspace.workspaceFolders![0]!;
    const file = vscode.Uri.joinPath(folder.uri, 'restock.py');
    const before = await indexWhere(api, 'to be built', (w) => w.state === 'done');
    await vscode.workspace.fs.writeFile(file, Buffer.from(EXTRA_PY));
    try {
      const added = await indexWhere(api, 'to hold restock.py', (w) => w.files === before.files + 1, 20_000);
      assert.ok(added.tokens > before.tokens);
    } finally {
      await vscode.workspace.fs.delete(file);
    }
    await indexWhere(api, 'to drop restock.py', (w) => w.files === before.files && w.tokens === before.tokens, 20_000);
  });

  test('ptp.context.workspace off drops the index; on builds it again', async () => {
    const api = await ptp();
    await configure({ 'context.workspace': false });
    const off = await indexWhere(api, 'to be off', (w) => w.state === 'off', 20_000);
    assert.equal(off.files, 0);
    await configure({ 'context.workspace': undefined });
    await indexWhere(api, 'to be built again', (w) => w.state === 'done' && w.files === 2);
  });
});
