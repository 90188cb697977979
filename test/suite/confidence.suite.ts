/**
 * The confidence gate in a real VS Code, on the shipped model: automatic ghost text appears
 * only where the model is sure, and says why when it does not; an explicit request still
 * offers something. Asserts the text a person would read.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAll, configure, openAt, ptp, sleep, triggerInline } from './helpers';

/** total_value's loop header typed up to `self.`: the model is sure it is `items:`. */
const SURE = `from dataclasses import dataclass, field


@dataclass
class Item:
    name: str
    price: float
    quantity: int = 0


@dataclass
class Inventory:
    items: list[Item] = field(default_factory=list)

    def total_value(self) -> float:
        total = 0.0
        for item in self.[|]
`;
/** Right after `const mid = `: the model would write junk (`sorted.map((a, b) => a - b);`). */
const JUNK = `// Small statistics helpers.
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = [|]
}
`;
suite('Confidence gate', () => {
  suiteSetup(async () => {
    await configure({ 'decoding.seed': '1', 'completion.confidence': 'medium', 'completion.debounceMode': 'fixed', 'completion.debounceMs': 0, enable: true });
    await ptp();
  });
  teardown(closeAll);
  suiteTeardown(() => configure({ 'decoding.seed': undefined, 'completion.confidence': undefined, 'completion.debounceMode': undefined, 'completion.debounceMs': undefined }));

  test('where the model is sure, an automatic request shows its suggestion, and Tab accepts it', async () => {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt('python', SURE);
    const items = await api.provideInlineCompletions(editor.document, editor.selection.active, false, new vscode.CancellationTokenSource().token);
    assert.deepEqual(items, ['items:']);
    // Accept it the way Tab does (commit changes the document only when the ghost text is displayed).
    const before = editor.document.getText();
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    let after = before;
    for (let i = 0; i < 40 && after === before; i++) {
      await sleep(100);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      after = editor.document.getText();
    }
    assert.match(after, /\n {8}for item in self\.items:\n/, `after Tab: ${JSON.stringify(after.slice(-60))}`);
  });

  test('where it would write junk, an automatic request shows nothing, and the status bar says why', async () => {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt('typescript', JUNK);
    const items = await api.provideInlineCompletions(editor.document, editor.selection.active, false, new vscode.CancellationTokenSource().token);
    assert.deepEqual(items, []);
    const tooltip = api.statusBarTooltip();
    assert.match(tooltip, /withheld/i, `tooltip: ${tooltip}`);
    assert.match(tooltip, /not sure enough/, `tooltip: ${tooltip}`);
  });

  test('where an automatic request shows nothing, an explicit one (Alt+\\) still offers code', async () => {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt('typescript', JUNK);
    const automatic = await api.provideInlineCompletions(editor.document, editor.selection.active, false, new vscode.CancellationTokenSource().token);
    assert.deepEqual(automatic, []);
    // Asked, the model offers the part it is fairly sure of: \`sorted\`, not the junk after it.
    const asked = await triggerInline(api, editor);
    assert.ok(asked.includes('sorted'), `the explicit request offered ${JSON.stringify(asked)}`);
  });
});
