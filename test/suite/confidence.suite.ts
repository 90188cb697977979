/**
 * The confidence gate in a real VS Code, on the shipped model: automatic ghost text appears
 * only where the model is sure, and says why when it does not; an explicit request still
 * offers something. Asserts the text a person would read.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PtpExtensionApi } from '../../src/extension/extension';
import { closeAll, configure, openAt, ptp, triggerAndAccept, triggerInline, waitFor } from './helpers';

/**
 * examples/inventory.py up to total_value's loop header, typed as far as `self.`: the model is
 * sure it is `items:` (test/completion/confidence.test.ts asserts the same text on the pipeline).
 * The suite runs from .test-output/suite-build, two folders below the repository.
 */
const INVENTORY = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'inventory.py'), 'utf8');
const SURE = `${INVENTORY.slice(0, INVENTORY.indexOf('        for item in self.items:'))}        for item in self.[|]\n`;
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

  /** A fresh editor on `fixture` and what an automatic request there offers (the cache cleared first). */
  async function automaticAt(languageId: string, fixture: string): Promise<{ api: PtpExtensionApi; editor: vscode.TextEditor; items: readonly string[] }> {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt(languageId, fixture);
    const items = await api.provideInlineCompletions(editor.document, editor.selection.active, false, new vscode.CancellationTokenSource().token);
    return { api, editor, items };
  }

  test('where the model is sure, an automatic request shows its suggestion, and Tab accepts it', async () => {
    const { api, editor, items } = await automaticAt('python', SURE);
    assert.deepEqual(items, ['items:']);
    // Accept it the way Tab does (commit changes the document only when the ghost text is displayed).
    const { after } = await triggerAndAccept(api, editor);
    assert.match(after, /\n {8}for item in self\.items:\n/, `after Tab: ${JSON.stringify(after.slice(-60))}`);
  });

  test('where it would write junk, an automatic request shows nothing, and the status bar says why', async () => {
    const { api, items } = await automaticAt('typescript', JUNK);
    assert.deepEqual(items, []);
    // The status bar follows the worker's status notification, which arrives on its own schedule.
    const tooltip = await waitFor(() => `the tooltip to say withheld (now: ${api.statusBarTooltip()})`, () => (/withheld/i.test(api.statusBarTooltip()) ? api.statusBarTooltip() : undefined), 5000);
    assert.match(tooltip, /withheld/i, `tooltip: ${tooltip}`);
    assert.match(tooltip, /not sure enough/, `tooltip: ${tooltip}`);
  });

  test('where an automatic request shows nothing, an explicit one (Alt+\\) still offers code', async () => {
    const { api, editor, items } = await automaticAt('typescript', JUNK);
    assert.deepEqual(items, []);
    // Asked, the model offers the part it is fairly sure of: `sorted`, not the junk after it.
    const asked = await triggerInline(api, editor);
    assert.ok(asked.includes('sorted'), `the explicit request offered ${JSON.stringify(asked)}`);
  });
});
