// Broken model directories (built in a temp dir from test/fixtures/tiny-model): the worker
// reports state 'error' with one line naming the file and the fix, answers requests with
// ErrorCodes.ModelNotLoaded and that line, and works again once the path or the files are fixed.
// test/server/worker.test.ts covers a missing directory and recovery to the bundled model; this
// covers what goes wrong inside a directory.
// Run: npm run build && node --import tsx --test test/robustness/badModels.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { DidChangeConfigurationNotification, ResponseError } from 'vscode-languageserver-protocol/node';
import type { StatusResult } from '../../src/protocol/index';
import { ErrorCodes, StatusRequest } from '../../src/protocol/index';
import { DECODING, REPO, TEMPLATE, TEST_SETTINGS, inline, openDoc, startRobustWorker, withCursor, type RobustWorker } from './harness';

const FIXTURE = join(REPO, 'test', 'fixtures', 'tiny-model');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface BadModel {
  name: string;
  /** Breaks a fresh copy of the fixture in `dir`. */
  breakIt(dir: string): void;
  /** The file the message must name, relative to the directory ('' = the directory). */
  file: string;
  /** What the message must say about the problem. */
  problem: RegExp;
}

const editJson = (path: string, edit: (j: Json) => void): void => {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Json;
  edit(j);
  writeFileSync(path, JSON.stringify(j, null, 1));
};
const manifest = (dir: string, edit: (m: Json) => void): void => editJson(join(dir, 'model.json'), edit);
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

const BAD_MODELS: BadModel[] = [
  { name: 'a directory that does not exist', breakIt: (dir) => rmSync(dir, { recursive: true }), file: '', problem: /does not exist/ },
  { name: 'model.onnx missing', breakIt: (dir) => rmSync(join(dir, 'model.onnx')), file: 'model.onnx', problem: /missing/ },
  { name: 'model.onnx empty', breakIt: (dir) => truncateSync(join(dir, 'model.onnx'), 0), file: 'model.onnx', problem: /empty/ },
  { name: 'model.onnx truncated', breakIt: (dir) => truncateSync(join(dir, 'model.onnx'), 600_000), file: 'model.onnx', problem: /sha256 .*truncated, corrupt/ },
  {
    name: 'model.onnx corrupt, with a manifest sha256 that matches the corrupt file',
    breakIt: (dir) => {
      const onnx = join(dir, 'model.onnx');
      const bytes = readFileSync(onnx);
      bytes.fill(0x5a, 0, 4096);
      writeFileSync(onnx, bytes);
      manifest(dir, (m) => (m.onnx.sha256 = sha256(onnx)));
    },
    file: 'model.onnx',
    problem: /onnxruntime cannot use it/,
  },
  { name: 'a wrong sha256 in model.json', breakIt: (dir) => manifest(dir, (m) => (m.onnx.sha256 = 'ab'.repeat(32))), file: 'model.onnx', problem: /sha256 is [0-9a-f]+\.\.\. but model\.json/ },
  {
    name: "another model's tokenizer (a larger vocabulary)",
    breakIt: (dir) =>
      editJson(join(dir, 'tokenizer.json'), (t) => {
        for (let i = 0; i < 100; i++) t.model.vocab[`\u0120other${i}`] = 8192 + i;
      }),
    file: 'tokenizer.json',
    problem: /has 8292 tokens but model\.json architecture\.vocab_size is 8192/,
  },
  {
    name: "another model's tokenizer (special tokens at other ids)",
    breakIt: (dir) =>
      editJson(join(dir, 'tokenizer.json'), (t) => {
        const [prefix, middle] = [t.added_tokens[1], t.added_tokens[2]];
        [prefix.content, middle.content] = [middle.content, prefix.content];
      }),
    file: 'tokenizer.json',
    problem: /special token fim_prefix = 1/,
  },
  { name: 'tokenizer.json missing', breakIt: (dir) => rmSync(join(dir, 'tokenizer.json')), file: 'tokenizer.json', problem: /missing/ },
  { name: 'model.json missing', breakIt: (dir) => rmSync(join(dir, 'model.json')), file: 'model.json', problem: /missing/ },
  { name: 'model.json not JSON', breakIt: (dir) => writeFileSync(join(dir, 'model.json'), '{"name": "tiny-random",'), file: 'model.json', problem: /not valid JSON/ },
  { name: 'model.json without special_tokens', breakIt: (dir) => manifest(dir, (m) => delete m.special_tokens), file: 'model.json', problem: /special_tokens/ },
  { name: 'model.json without architecture.num_layers', breakIt: (dir) => manifest(dir, (m) => delete m.architecture.num_layers), file: 'model.json', problem: /architecture\.num_layers/ },
  { name: 'model.json without onnx.sha256', breakIt: (dir) => manifest(dir, (m) => delete m.onnx.sha256), file: 'model.json', problem: /onnx\.sha256/ },
  { name: 'model.json whose layer count does not match the graph', breakIt: (dir) => manifest(dir, (m) => (m.architecture.num_layers = 3)), file: 'model.onnx', problem: /the graph lacks input past_key_2/ },
  { name: 'model.json whose head size does not match the graph', breakIt: (dir) => manifest(dir, (m) => (m.architecture.head_dim = 8)), file: 'model.onnx', problem: /test call failed/ },
];

suite('bad model directories', () => {
  let w: RobustWorker;
  let root: string;
  let uri: string;
  let position: { line: number; character: number };

  const useModel = async (modelPath: string): Promise<StatusResult> => {
    await w.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: { ...TEST_SETTINGS, modelPath } });
    return w.settled();
  };

  /** A fresh copy of the fixture. */
  const copy = (name: string): string => {
    const dir = join(root, name.replace(/[^a-z0-9]+/gi, '-'));
    cpSync(FIXTURE, dir, { recursive: true });
    return dir;
  };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ptp-bad-models-'));
    w = await startRobustWorker({ modelPath: copy('good') });
    assert.equal((await w.settled()).state, 'ready');
    const { text, line, character } = withCursor(TEMPLATE);
    uri = await openDoc(w, text);
    position = { line, character };
  });
  after(async () => {
    await w.stop();
    rmSync(root, { recursive: true, force: true });
  });

  for (const bad of BAD_MODELS) {
    test(`${bad.name}: error naming ${bad.file || 'the directory'} and the fix; requests get ModelNotLoaded; a good path recovers`, async () => {
      const dir = copy(bad.name);
      bad.breakIt(dir);
      const s = await useModel(dir);
      assert.equal(s.state, 'error');
      const error = s.error!;
      assert.ok(!error.includes('\n'), `one line: ${error}`);
      assert.ok(error.startsWith(`${join(dir, bad.file).replace(/\/$/, '')}: `), `names the file: ${error}`);
      assert.match(error, bad.problem);
      // "<file>: <problem> - <what to do>"
      assert.match(error, / - (re-export|restore|use the tokenizer|set ptp\.model\.path|fix the manifest|check that model\.json|the tokenizer and the model)/, `says what to do: ${error}`);

      await assert.rejects(inline(w, uri, position, { decoding: DECODING }), (e: unknown) => {
        assert.ok(e instanceof ResponseError, String(e));
        assert.equal(e.code, ErrorCodes.ModelNotLoaded);
        assert.equal(e.message, error);
        return true;
      });
      assert.equal((await w.connection.sendRequest(StatusRequest)).state, 'error', 'still answering');

      const good = await useModel(copy(`${bad.name} fixed`));
      assert.equal(good.state, 'ready', good.error);
      await inline(w, uri, position, { decoding: DECODING });
    });
  }

  test('files repaired in place load when the same path is sent again', async () => {
    const dir = copy('repaired in place');
    const onnx = readFileSync(join(dir, 'model.onnx'));
    truncateSync(join(dir, 'model.onnx'), 1000);
    assert.equal((await useModel(dir)).state, 'error');
    writeFileSync(join(dir, 'model.onnx'), onnx);
    const s = await useModel(dir);
    assert.equal(s.state, 'ready', s.error);
    await inline(w, uri, position, { decoding: DECODING });
  });

  test('through all of it the worker stayed up and wrote nothing to stderr', () => {
    assert.ok(w.alive());
    assert.equal(w.stderr(), '');
  });
});
