/**
 * Loading a model directory: the fixture loads, and every broken variant (made in a temp dir
 * from a copy of the fixture) fails with a one-line ModelLoadError naming the file at fault.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, suite, test } from 'node:test';
import { Engine, ModelLoadError } from '../../src/engine/index';
import { sha256File } from '../../src/engine/model';
import { FIXTURE_DIR } from './helpers/models';

const skip = existsSync(join(FIXTURE_DIR, 'model.json')) ? false : 'test/fixtures/tiny-model is not there yet';
const temp = mkdtempSync(join(tmpdir(), 'ptp-engine-'));
let variants = 0;

/** A copy of the fixture, broken by `breakIt`. */
function variant(breakIt: (dir: string) => void): string {
  const dir = join(temp, `variant-${variants++}`);
  cpSync(FIXTURE_DIR, dir, { recursive: true });
  breakIt(dir);
  return dir;
}

function editJson(file: string, edit: (json: Record<string, any>) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

async function loadError(dir: string): Promise<ModelLoadError> {
  try {
    const engine = await Engine.load(dir, { threads: 1 });
    await engine.dispose();
  } catch (error) {
    assert.ok(error instanceof ModelLoadError, `expected a ModelLoadError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    assert.ok(error.message.startsWith(error.file), 'the message starts with the file');
    return error;
  }
  assert.fail(`${dir} loaded`);
}

suite('model directory', { skip }, () => {
  after(() => rmSync(temp, { recursive: true, force: true }));

  test('the fixture loads and its tokenizer round-trips code', async () => {
    const lines: string[] = [];
    const engine = await Engine.load(FIXTURE_DIR, { threads: 1, log: (l) => lines.push(l) });
    const text = 'def add(a, b):\n    return a + b  # é\n';
    assert.equal(engine.decode(engine.encode(text)), text);
    assert.ok(lines.some((l) => /on cpu/.test(l)));
    await engine.dispose();
  });

  test('a missing directory names the directory', async () => {
    const e = await loadError(join(temp, 'nope'));
    assert.equal(e.file, join(temp, 'nope'));
    assert.match(e.message, /does not exist/);
  });

  test('a missing model.onnx names model.onnx', async () => {
    const e = await loadError(variant((d) => unlinkSync(join(d, 'model.onnx'))));
    assert.match(e.file, /model\.onnx$/);
    assert.match(e.message, /missing/);
  });

  test('a truncated model.onnx fails its sha256 check', async () => {
    const dir = variant((d) => truncateSync(join(d, 'model.onnx'), 1000));
    const e = await loadError(dir);
    assert.match(e.file, /model\.onnx$/);
    assert.match(e.message, /sha256 .* truncated/);
  });

  test('a truncated model.onnx whose sha256 was updated fails in onnxruntime', async () => {
    const dir = variant((d) => truncateSync(join(d, 'model.onnx'), 1000));
    const digest = await sha256File(join(dir, 'model.onnx'));
    editJson(join(dir, 'model.json'), (m) => (m.onnx.sha256 = digest));
    const e = await loadError(dir);
    assert.match(e.file, /model\.onnx$/);
    assert.match(e.message, /onnxruntime cannot use it/);
  });

  test('a wrong sha256 in model.json names model.onnx', async () => {
    const e = await loadError(variant((d) => editJson(join(d, 'model.json'), (m) => (m.onnx.sha256 = 'ab'.repeat(32)))));
    assert.match(e.file, /model\.onnx$/);
    assert.match(e.message, /sha256 is [0-9a-f]+\.\.\. but model\.json/);
  });

  test('a tokenizer with a different vocabulary size names tokenizer.json', async () => {
    const e = await loadError(
      variant((d) =>
        editJson(join(d, 'tokenizer.json'), (t) => {
          const vocab = t.model.vocab as Record<string, number>;
          const last = Object.entries(vocab).sort((a, b) => b[1] - a[1])[0]!;
          delete vocab[last[0]];
          t.model.merges = (t.model.merges as unknown[]).slice(0, -1);
        }),
      ),
    );
    assert.match(e.file, /tokenizer\.json$/);
    assert.match(e.message, /has \d+ tokens but model\.json architecture\.vocab_size is \d+/);
  });

  test('a vocabulary that does not match the logits width names model.onnx', async () => {
    const dir = variant((d) => {
      let size = 0;
      editJson(join(d, 'tokenizer.json'), (t) => {
        const vocab = t.model.vocab as Record<string, number>;
        const top = Object.entries(vocab).sort((a, b) => b[1] - a[1]).slice(0, 10);
        for (const [token] of top) delete vocab[token];
        t.model.merges = (t.model.merges as unknown[]).slice(0, -10);
        size = Math.max(...Object.values(vocab), ...(t.added_tokens as { id: number }[]).map((a) => a.id)) + 1;
      });
      editJson(join(d, 'model.json'), (m) => (m.architecture.vocab_size = size));
    });
    const e = await loadError(dir);
    assert.match(e.file, /model\.onnx$/);
    assert.match(e.message, /vocab_size/);
  });

  test('a missing tokenizer.json names tokenizer.json', async () => {
    const e = await loadError(variant((d) => unlinkSync(join(d, 'tokenizer.json'))));
    assert.match(e.file, /tokenizer\.json$/);
  });

  for (const field of ['context_length', 'ptp.acceptance_histogram', 'special_tokens.endoftext', 'onnx.sha256']) {
    test(`a manifest without ${field} names model.json and the field`, async () => {
      const e = await loadError(
        variant((d) =>
          editJson(join(d, 'model.json'), (m) => {
            const keys = field.split('.');
            let node = m;
            for (const k of keys.slice(0, -1)) node = node[k];
            delete node[keys[keys.length - 1]!];
          }),
        ),
      );
      assert.match(e.file, /model\.json$/);
      assert.ok(e.message.includes(`"${field}" is missing`), e.message);
    });
  }

  test('a model.json that is not JSON names model.json', async () => {
    const e = await loadError(variant((d) => writeFileSync(join(d, 'model.json'), '{ "name": ')));
    assert.match(e.file, /model\.json$/);
    assert.match(e.message, /not valid JSON/);
  });
});
