// The worker dies (kill -9) in the middle of requests: what was in flight settles at once as a
// lost connection, nothing hangs, and a restarted worker completes again. And the other way
// round: a worker whose client is gone exits instead of running on with its model.
// Run: npm run build && node --import tsx --test test/robustness/crash.test.ts
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes as RpcErrorCodes, ResponseError } from 'vscode-languageserver-protocol/node';
import { GenerateRequest, StatusRequest } from '../../src/protocol/index';
import { DECODING, LONG, SLOW, TEMPLATE, inline, openDoc, since, sleep, startRobustWorker, textOf, withCursor, type RobustWorker } from './harness';

/** How long a settled-by-disconnect request may take; the point is "not never". */
const SETTLE_MS = 2000;

async function ready(transport: 'stdio' | 'ipc'): Promise<RobustWorker> {
  const w = await startRobustWorker({}, transport);
  const s = await w.settled();
  assert.equal(s.state, 'ready', s.error);
  return w;
}

async function openMarked(w: RobustWorker, marked: string, languageId = 'typescript'): Promise<{ uri: string; position: { line: number; character: number } }> {
  const { text, line, character } = withCursor(marked);
  return { uri: await openDoc(w, text, languageId), position: { line, character } };
}

/** 'resolved', 'rejected <code>' or 'pending' after `ms`. */
function outcomeWithin(p: Promise<unknown>, ms: number): Promise<string> {
  return Promise.race([
    p.then(
      () => 'resolved',
      (e: unknown) => `rejected ${e instanceof ResponseError ? e.code : String(e)}`,
    ),
    sleep(ms).then(() => 'pending'),
  ]);
}

function exited(w: RobustWorker, ms: number): Promise<boolean> {
  if (!w.alive()) return Promise.resolve(true);
  return Promise.race([new Promise<boolean>((r) => w.child.once('exit', () => r(true))), sleep(ms).then(() => false)]);
}

for (const transport of ['ipc', 'stdio'] as const) {
  suite(`the worker is killed mid-request (${transport})`, () => {
    test('requests in flight settle as a lost connection, and a restarted worker completes', async () => {
      const w = await ready(transport);
      const block = await openMarked(w, LONG);
      const gen = await openMarked(w, 'import os\n\n\ndef main():\n[|]', 'python');
      const completion = inline(w, block.uri, block.position, { decoding: SLOW, alternatives: 8 });
      const generate = w.connection.sendRequest(GenerateRequest, { textDocument: { uri: gen.uri }, position: gen.position, decoding: { ...SLOW, maxTokens: 100_000 } });
      await sleep(300);
      assert.equal((await w.connection.sendRequest(StatusRequest)).pending, 2, 'both requests are in the worker when it dies');

      const killedAt = performance.now();
      w.child.kill('SIGKILL');
      const [a, b] = await Promise.all([outcomeWithin(completion, SETTLE_MS), outcomeWithin(generate, SETTLE_MS)]);
      // vscode-jsonrpc rejects what was pending when the connection is disposed; the extension's
      // client (vscode-languageclient) disposes it on close and shows no completion.
      assert.equal(a, `rejected ${RpcErrorCodes.PendingResponseRejected}`);
      assert.equal(b, `rejected ${RpcErrorCodes.PendingResponseRejected}`);
      assert.ok(since(killedAt) < SETTLE_MS);
      // A request sent after the death fails at once too (vscode-jsonrpc throws "Connection is disposed").
      assert.match(await outcomeWithin(Promise.resolve().then(() => w.connection.sendRequest(StatusRequest)), SETTLE_MS), /^rejected /);
      assert.ok(await exited(w, SETTLE_MS));

      const restarted = await ready(transport);
      try {
        const { uri, position } = await openMarked(restarted, TEMPLATE);
        const answer = await inline(restarted, uri, position, { decoding: DECODING });
        assert.equal(answer.items.length, 1);
        assert.notEqual(textOf(answer.items[0]!).trim(), '');
        assert.equal(restarted.stderr(), '');
      } finally {
        await restarted.stop();
      }
    });
  });
}

suite('the client goes away', () => {
  test('the worker exits when its IPC channel closes, even mid-request', async () => {
    const w = await ready('ipc');
    const { uri, position } = await openMarked(w, LONG);
    void inline(w, uri, position, { decoding: SLOW, alternatives: 8 }).catch(() => undefined);
    await sleep(100);
    w.child.disconnect();
    assert.ok(await exited(w, SETTLE_MS), 'the worker still runs after its client closed the channel');
  });

  test('the worker exits when its stdin ends, even mid-request', async () => {
    const w = await ready('stdio');
    const { uri, position } = await openMarked(w, LONG);
    void inline(w, uri, position, { decoding: SLOW, alternatives: 8 }).catch(() => undefined);
    await sleep(100);
    w.child.stdin!.end();
    assert.ok(await exited(w, SETTLE_MS), 'the worker still runs after its stdin ended');
  });
});
