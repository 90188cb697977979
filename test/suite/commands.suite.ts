/** The contributed commands in a real VS Code: Generate Code…, the trace view, the worker. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { GenerateOutcome } from '../../src/extension/generateCode';
import { closeAll, configure, openAt, ptp, waitFor } from './helpers';

const TS_MEDIAN = ['export function median(xs: number[]): number {', '  const sorted = [...xs].sort((a, b) => a - b);', '  [|]', '}', ''].join('\n');
const TS_FILE = ['export interface Point {', '  x: number;', '  y: number;', '}', '', '[|]', ''].join('\n');

suite('Commands', () => {
  suiteSetup(async () => {
    // Mechanics (commands, crashes, restarts): the confidence gate is off; confidence.suite.ts tests it.
    await configure({ 'decoding.seed': '3', 'completion.confidence': 'off' });
    await ptp();
  });
  teardown(closeAll);
  suiteTeardown(() => configure({ 'decoding.seed': undefined, 'completion.confidence': undefined }));

  test('Generate Code writes the instruction as a comment and code below it, as one undo step', async () => {
    await ptp();
    const editor = await openAt('typescript', TS_FILE);
    const original = editor.document.getText();
    const outcome = await vscode.commands.executeCommand<GenerateOutcome>('ptp.generateCode', { instruction: 'distance between two points' });
    assert.equal(outcome.status, 'inserted', JSON.stringify(outcome));
    const text = editor.document.getText();
    assert.ok(text.includes('// distance between two points\n'), text);
    assert.ok(outcome.status === 'inserted' && text.includes(outcome.text) && outcome.text.trim().length > 0);
    await vscode.commands.executeCommand('undo');
    assert.equal(editor.document.getText(), original, 'one undo did not restore the document');
  });

  test('a cancelled Generate Code leaves nothing behind', async () => {
    const api = await ptp();
    const editor = await openAt('typescript', TS_FILE);
    const original = editor.document.getText();
    const running = vscode.commands.executeCommand<GenerateOutcome>('ptp.generateCode', { instruction: 'a class for a 2D vector with add, scale, length and normalize' });
    // Cancel once the comment is in the document (the request is then running in the worker).
    await waitFor('the comment', () => (editor.document.getText().includes('// a class for') ? true : undefined), 10_000, 5);
    api.cancelGenerate();
    const outcome = await running;
    assert.equal(outcome.status, 'cancelled', JSON.stringify(outcome));
    assert.equal(editor.document.getText(), original);
    // The worker got the held-back edits (comment in, comment out): it answers for this text.
    const status = await api.whenReady(10_000);
    assert.equal(status.state, 'ready');
  });

  test('Show Decoding Trace opens the trace view', async () => {
    await vscode.commands.executeCommand('ptp.showTrace');
    await waitFor('the trace tab', () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'PTP Decoding Trace'), 10_000);
  });

  test('the machine-scoped model settings can be written from user settings, as Select Model does', async () => {
    const api = await ptp();
    await configure({ 'model.device': 'cpu' });
    try {
      assert.equal(vscode.workspace.getConfiguration('ptp').get('model.device'), 'cpu');
      // The worker reloads with it (or keeps the same session) and is ready again.
      await waitFor('the worker to be ready on cpu', () => (api.workerStatus().phase === 'ready' && api.workerStatus().report?.model?.device === 'cpu' ? true : undefined), 60_000);
    } finally {
      await configure({ 'model.device': undefined });
    }
  });

  test('a worker killed in the middle of a request: no completion, a new worker, and the next completion works', async () => {
    const api = await ptp();
    await configure({ 'completion.alternatives': 8, 'decoding.temperature': 1.0, 'completion.maxTokens': 128 });
    try {
      api.clearCache();
      const before = await api.whenReady(60_000);
      const editor = await openAt('typescript', TS_MEDIAN);
      const position = editor.selection.active;
      await configure({ 'completion.alternatives': 1, 'decoding.temperature': 0.2 });
      const expected = await api.provideInlineCompletions(editor.document, position, true, new vscode.CancellationTokenSource().token);
      assert.ok(expected.length > 0, 'no completion before the crash');
      await configure({ 'completion.alternatives': 8, 'decoding.temperature': 1.0 });
      api.clearCache();
      const counters = api.inlineCounters();
      const call = api.provideInlineCompletions(editor.document, position, true, new vscode.CancellationTokenSource().token);
      await waitFor('the request to reach the worker', () => (api.inlineCounters().requests > counters.requests ? true : undefined), 10_000, 5);
      process.kill(before.pid, 'SIGKILL');
      assert.deepEqual(await call, [], 'the request to the killed worker returned items');
      // vscode-languageclient restarts it; the status shows the restart, then ready with a new process.
      const after = await waitFor('a new worker', () => {
        const s = api.workerStatus();
        return s.phase === 'ready' && s.report !== undefined && s.report.pid !== before.pid ? s.report : undefined;
      }, 120_000, 100);
      assert.notEqual(after.pid, before.pid);
      await configure({ 'completion.alternatives': 1, 'decoding.temperature': 0.2 });
      api.clearCache();
      const again = await api.provideInlineCompletions(editor.document, position, true, new vscode.CancellationTokenSource().token);
      assert.deepEqual(again, expected, 'the restarted worker does not give the same seeded completion');
    } finally {
      await configure({ 'completion.alternatives': undefined, 'decoding.temperature': undefined, 'completion.maxTokens': undefined });
    }
  });

  test('a worker that keeps crashing is not restarted forever; the status says why and Restart Worker recovers', async () => {
    const api = await ptp();
    let phase = api.workerStatus().phase;
    for (let kills = 0; phase !== 'error'; kills++) {
      assert.ok(kills < 8, 'still restarting after 8 crashes in a row');
      const { pid } = await api.whenReady(60_000);
      process.kill(pid, 'SIGKILL');
      phase = await waitFor('the worker to restart or give up', () => {
        const s = api.workerStatus();
        if (s.phase === 'error') return 'error';
        return s.phase === 'ready' && s.report !== undefined && s.report.pid !== pid ? 'ready' : undefined;
      }, 60_000, 50);
    }
    assert.match(api.workerStatus().error ?? '', /will not be restarted.*Restart Worker/);
    await vscode.commands.executeCommand('ptp.restartWorker');
    assert.equal((await api.whenReady(60_000)).state, 'ready');
  });

  test('Restart Worker brings the worker back to ready', async () => {
    const api = await ptp();
    await vscode.commands.executeCommand('ptp.restartWorker');
    const status = await api.whenReady(120_000);
    assert.equal(status.state, 'ready');
  });
});
