/**
 * Inline completions in a real VS Code, from the shipped model (models/ptp-code-10m).
 * Ghost text is accepted with editor.action.inlineSuggest.commit (what Tab runs): it changes
 * the document only when VS Code really displays the suggestion.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { closeAll, configure, openAt, ptp, sleep, trace, triggerAndAccept, triggerInline, waitFor } from './helpers';

const PY_FUNCTION = 'def mean(values):\n    total = 0\n    for v in values:\n        [|]\n';
const TS_MEDIAN = [
  'export function median(xs: number[]): number {',
  '  const sorted = [...xs].sort((a, b) => a - b);',
  '  [|]',
  '}',
  '',
].join('\n');

suite('Inline completion', () => {
  // These tests are about the mechanics (alternatives, seeds, caching, cancellation, fitting),
  // so every moment shows what the model writes; confidence.suite.ts tests the gate.
  suiteSetup(async () => {
    await configure({ 'decoding.seed': '1', 'decoding.temperature': 0.2, 'completion.confidence': 'off', 'completion.debounceMode': 'fixed', 'completion.debounceMs': 0, enableLanguages: undefined, enable: true });
    await ptp();
  });
  teardown(closeAll);
  suiteTeardown(() => configure({ 'decoding.seed': undefined, 'decoding.temperature': undefined, 'completion.confidence': undefined, 'completion.debounceMode': undefined, 'completion.debounceMs': undefined }));

  test('activation returns fast and the worker loads the shipped model', async () => {
    const api = await ptp();
    assert.ok(api.activationMs < 100, `activation took ${api.activationMs.toFixed(1)} ms`);
    const status = api.workerStatus();
    assert.equal(status.phase, 'ready');
    assert.match(status.report?.model?.name ?? '', /^ptp-code-10m\b/);
  });

  test('ghost text from the shipped model appears and commit (Tab) accepts it', async () => {
    const api = await ptp();
    const editor = await openAt('python', PY_FUNCTION);
    const { items, before, after } = await triggerAndAccept(api, editor);
    assert.notEqual(after, before, `ghost text ${JSON.stringify(items)} was not accepted`);
    // The accepted text is one of the offered items, inserted at the cursor.
    assert.ok(items.some((i) => after.includes(i.trimEnd())), `document ${JSON.stringify(after)} holds none of ${JSON.stringify(items)}`);
  });

  test('an explicit trigger offers alternatives decoded with different seeds', async () => {
    const api = await ptp();
    await configure({ 'decoding.temperature': 1.0, 'completion.alternatives': 3 });
    try {
      api.clearCache();
      const editor = await openAt('typescript', TS_MEDIAN);
      const items = await triggerInline(api, editor);
      assert.ok(items.length >= 1, 'no completion');
      const seeds = (await trace(api, 3)).requests.map((r) => r.stats.seed);
      assert.deepEqual([...seeds].sort(), [1, 2, 3], `seeds of the last requests: ${seeds.join(', ')}`);
    } finally {
      await configure({ 'decoding.temperature': 0.2, 'completion.alternatives': undefined });
    }
  });

  test('the same seed reproduces a completion and another seed changes it', async () => {
    const api = await ptp();
    await configure({ 'decoding.temperature': 1.0, 'completion.alternatives': 1 });
    try {
      const completionWith = async (seed: string): Promise<string> => {
        await configure({ 'decoding.seed': seed });
        api.clearCache();
        const editor = await openAt('typescript', TS_MEDIAN);
        const items = await triggerInline(api, editor);
        await closeAll();
        return items[0] ?? '';
      };
      const first = await completionWith('7');
      assert.equal(await completionWith('7'), first, 'seed 7 gave two different completions');
      const others = [];
      for (const seed of ['8', '9', '10', '11', '12']) {
        const text = await completionWith(seed);
        others.push(text);
        if (text !== first) break;
      }
      assert.ok(others.some((t) => t !== first), `seeds 8-12 all gave ${JSON.stringify(first)}`);
    } finally {
      await configure({ 'decoding.seed': '1', 'decoding.temperature': 0.2, 'completion.alternatives': undefined });
    }
  });

  test('a multi-line suggestion is displayed and accepted whole', async () => {
    const api = await ptp();
    const editor = await openAt('python', 'import os\n\n\ndef list_files(path):\n[|]');
    const { items, before, after } = await triggerAndAccept(api, editor);
    const added = after.slice(before.length);
    assert.ok(items.some((i) => i.includes('\n')), `no multi-line item among ${JSON.stringify(items)}`);
    assert.ok(added.includes('\n'), `accepted ${JSON.stringify(added)} is one line`);
  });

  test('turning a language off stops completions there, and back on restores them', async () => {
    const api = await ptp();
    const editor = await openAt('python', PY_FUNCTION);
    await vscode.commands.executeCommand('ptp.toggleCompletionsForLanguage', 'python');
    try {
      await waitFor('python to be off', () => (vscode.workspace.getConfiguration('ptp').get<Record<string, boolean>>('enableLanguages')?.python === false ? true : undefined));
      const before = api.lastInlineOutcome();
      const skipped = api.inlineCounters().skipped.disabled ?? 0;
      const text = editor.document.getText();
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      await waitFor('the provider to decline', () => ((api.inlineCounters().skipped.disabled ?? 0) > skipped ? true : undefined), 10_000);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
      assert.equal(api.lastInlineOutcome(), before, 'the provider answered in a disabled language');
      assert.equal(editor.document.getText(), text);
      assert.match(api.statusBarText(), /circle-slash/);
    } finally {
      await vscode.commands.executeCommand('ptp.toggleCompletionsForLanguage', 'python');
    }
    // VS Code does not ask again for the same text and cursor: ask in a fresh editor.
    await closeAll();
    const items = await triggerInline(api, await openAt('python', PY_FUNCTION));
    assert.ok(items.length > 0, 'no completion after turning python back on');
  });

  test('where the cursor comes to rest, the first completion there finds its prompt cached', async () => {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt('typescript', TS_MEDIAN);
    const requests = api.inlineCounters().requests;
    // The cursor rests: the extension sends ptp/warm, the worker runs the prompt into its cache.
    await sleep(1500);
    assert.equal(api.inlineCounters().requests, requests, 'no completion was requested while the cursor rested');
    const items = await api.provideInlineCompletions(editor.document, editor.selection.active, false, new vscode.CancellationTokenSource().token);
    assert.ok(items.length > 0, 'a completion');
    const [last] = (await trace(api, 1)).requests;
    assert.equal(last!.stats.reusedTokens, last!.stats.promptTokens - 1, `${last!.stats.reusedTokens} of ${last!.stats.promptTokens} prompt tokens were cached`);
  });

  test('a cancelled request is cancelled in the worker too and leaves nothing behind', async () => {
    const api = await ptp();
    // Eight alternatives at temperature 1: a request that takes a while in the worker.
    await configure({ 'completion.alternatives': 8, 'decoding.temperature': 1.0, 'completion.maxTokens': 128 });
    try {
      api.clearCache();
      const editor = await openAt('typescript', TS_MEDIAN);
      const text = editor.document.getText();
      const position = editor.selection.active;
      const counters = api.inlineCounters();
      const workerCancelled = api.workerStatus().report?.cancelled ?? 0;
      // VS Code 1.139 lets a running call finish rather than cancel it, so the test holds the
      // token itself (the same provider VS Code calls; cancelling is what VS Code does on typing).
      const cts = new vscode.CancellationTokenSource();
      const call = api.provideInlineCompletions(editor.document, position, true, cts.token);
      await waitFor('the request to reach the worker', () => (api.inlineCounters().requests > counters.requests ? true : undefined), 10_000, 5);
      cts.cancel();
      assert.deepEqual(await call, [], 'a cancelled call returned items');
      await waitFor(() => `the worker to stop the request (${JSON.stringify(api.inlineCounters())})`, () => (api.inlineCounters().cancelledInWorker > counters.cancelledInWorker ? true : undefined), 10_000);
      await waitFor('the worker to count it', () => ((api.workerStatus().report?.cancelled ?? 0) > workerCancelled ? true : undefined), 5_000);
      // Nothing was cached for it, nothing was inserted, and the status bar is not left spinning.
      // The next request, at the suite's usual settings, is answered.
      await configure({ 'completion.alternatives': 1, 'decoding.temperature': 0.2 });
      const again = await api.provideInlineCompletions(editor.document, position, true, new vscode.CancellationTokenSource().token);
      assert.equal(api.inlineCounters().cacheHits, counters.cacheHits, 'the cancelled request left a cache entry');
      assert.ok(again.length > 0, 'no completion after the cancelled one');
      assert.equal(editor.document.getText(), text);
      await waitFor('the status bar to settle', () => (/sync~spin/.test(api.statusBarText()) ? undefined : true), 2000);
    } finally {
      await configure({ 'completion.alternatives': undefined, 'decoding.temperature': 0.2, 'completion.maxTokens': undefined });
    }
  });

  test('inside auto-closed brackets the item covers them, so accepting never duplicates them', async () => {
    const api = await ptp();
    const editor = await openAt('typescript', 'const values = [3, 1, 2];\nconsole.log([|])\n');
    const { items, after } = await triggerAndAccept(api, editor);
    // The call, however many lines the completion gave it.
    const call = after.split('\n').slice(1).join('\n');
    const count = (c: string) => call.split(c).length - 1;
    assert.equal(count('('), count(')'), `accepted ${JSON.stringify(items)} -> ${JSON.stringify(call)}`);
    assert.ok(call.trim().length > 'console.log()'.length);
  });

  test('no automatic completion with code right of the cursor; an explicit one is a single line', async () => {
    const api = await ptp();
    const editor = await openAt('typescript', 'function total(price: number, qty: number) {\n  return [|]price * qty;\n}\n');
    const skipped = api.inlineCounters().skipped['text-right-of-cursor'] ?? 0;
    const none = new vscode.CancellationTokenSource().token;
    assert.deepEqual(await api.provideInlineCompletions(editor.document, editor.selection.active, false, none), []);
    assert.equal(api.inlineCounters().skipped['text-right-of-cursor'], skipped + 1);
    const explicit = await api.provideInlineCompletions(editor.document, editor.selection.active, true, none);
    for (const item of explicit) assert.ok(!item.includes('\n'), `multi-line item mid-line: ${JSON.stringify(item)}`);
  });

  test('snooze stops automatic completions until cancelled; explicit ones still work', async () => {
    const api = await ptp();
    const editor = await openAt('python', PY_FUNCTION);
    const none = new vscode.CancellationTokenSource().token;
    await vscode.commands.executeCommand('ptp.snooze');
    try {
      const skipped = api.inlineCounters().skipped.snoozed ?? 0;
      assert.deepEqual(await api.provideInlineCompletions(editor.document, editor.selection.active, false, none), []);
      assert.equal(api.inlineCounters().skipped.snoozed, skipped + 1);
      assert.ok((await api.provideInlineCompletions(editor.document, editor.selection.active, true, none)).length > 0);
    } finally {
      await vscode.commands.executeCommand('ptp.cancelSnooze');
    }
    assert.ok((await api.provideInlineCompletions(editor.document, editor.selection.active, false, none)).length > 0);
  });

  test('Toggle Completions turns them off everywhere and back on', async () => {
    const api = await ptp();
    const editor = await openAt('python', PY_FUNCTION);
    const none = new vscode.CancellationTokenSource().token;
    await vscode.commands.executeCommand('ptp.toggleCompletions');
    try {
      assert.equal(vscode.workspace.getConfiguration('ptp').get('enable'), false);
      assert.deepEqual(await api.provideInlineCompletions(editor.document, editor.selection.active, true, none), []);
      await waitFor('the status bar to say off', () => (/circle-slash/.test(api.statusBarText()) ? true : undefined), 5000);
    } finally {
      await vscode.commands.executeCommand('ptp.toggleCompletions');
    }
    assert.ok((await api.provideInlineCompletions(editor.document, editor.selection.active, true, none)).length > 0);
  });

  test('typing the start of the shown completion keeps the rest of it, without asking the worker again', async () => {
    const api = await ptp();
    api.clearCache();
    const editor = await openAt('python', PY_FUNCTION);
    const none = new vscode.CancellationTokenSource().token;
    const [first] = await api.provideInlineCompletions(editor.document, editor.selection.active, false, none);
    assert.ok(first !== undefined && first.length >= 3, `no completion to type through: ${JSON.stringify(first)}`);
    const counters = api.inlineCounters();
    const typed = first.slice(0, 2);
    await editor.edit((b) => b.insert(editor.selection.active, typed));
    const [rest] = await api.provideInlineCompletions(editor.document, editor.selection.active, false, none);
    assert.equal(rest, first.slice(2));
    assert.equal(api.inlineCounters().cacheHits, counters.cacheHits + 1);
    assert.equal(api.inlineCounters().requests, counters.requests);
  });

  test('with several cursors no completion is offered', async () => {
    const api = await ptp();
    const editor = await openAt('python', PY_FUNCTION);
    const pos = editor.selection.active;
    editor.selections = [new vscode.Selection(pos, pos), new vscode.Selection(0, 0, 0, 0)];
    const before = api.lastInlineOutcome();
    await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    await sleep(1000);
    assert.equal(api.lastInlineOutcome(), before);
  });

  test('the status bar shows the last latency and tokens per call', async () => {
    const api = await ptp();
    await waitFor('latency in the status bar', () => (/PTP \d+ ms · \d+\.\d/.test(api.statusBarText()) ? true : undefined), 5000);
  });
});
