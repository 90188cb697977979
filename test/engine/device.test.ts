/**
 * ptp.model.device: a provider that does not load falls back to the CPU with one line saying
 * what to install, in the log and in the status the extension's status bar shows.
 */
import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { Engine } from '../../src/engine/index';
import { deviceHelp } from '../../src/engine/runner';
import { ModelHost } from '../../src/server/modelHost';
import { FIXTURE_DIR } from './helpers/models';

suite('device fallback', () => {
  for (const device of ['cuda', 'dml', 'coreml'] as const) {
    test(`${device}: the model loads on the CPU and says what to install`, async () => {
      const lines: string[] = [];
      const engine = await Engine.load(FIXTURE_DIR, { device, threads: 1, log: (l) => lines.push(l) });
      try {
        const note = engine.deviceNote;
        if (note === undefined) {
          assert.ok(lines.some((l) => l.includes(`on ${device}`)), 'the provider loaded: no fallback to test here');
          return;
        }
        assert.match(note, new RegExp(`^device ${device} is not available, running on the CPU: `));
        assert.ok(note.includes(deviceHelp(device)));
        assert.doesNotMatch(note, /\n/);
        assert.ok(lines.some((l) => l === `[engine] ${note}`), 'the same line is logged');
        assert.ok(lines.some((l) => /on cpu, 1 thread/.test(l)));
        const r = await engine.complete({ prefix: 'def f(x):' }, { decoder: 'ptp', seed: 1, temperature: 0, topK: 50, topP: 0.95, blockSize: 4, maxTokens: 6 });
        assert.ok(r.tokens.length > 0);
      } finally {
        await engine.dispose();
      }
    });
  }

  test('the worker reports the note (status bar) and logs it as a warning', async () => {
    const warnings: string[] = [];
    const log = { info: () => undefined, warn: (l: string) => warnings.push(l), error: () => undefined, debug: () => undefined };
    const host = new ModelHost(log as never);
    await host.configure({ path: FIXTURE_DIR, device: 'cuda', threads: 1 });
    assert.equal(host.state, 'ready');
    const info = host.model!.info;
    if (info.device === 'cpu') {
      assert.match(info.deviceNote ?? '', /device cuda is not available, running on the CPU/);
      assert.deepEqual(warnings, [`[model] ${info.deviceNote}`]);
    }
    await host.dispose();
  });

  test('what to install, per platform', () => {
    assert.match(deviceHelp('cuda', 'linux', 'x64'), /--onnxruntime-node-install=cuda12.*CUDA 12 and cuDNN 9/);
    assert.match(deviceHelp('cuda', 'darwin', 'arm64'), /Linux x64 only \(this is darwin arm64\)/);
    assert.match(deviceHelp('dml', 'linux'), /Windows only/);
    assert.match(deviceHelp('coreml', 'win32'), /macOS only/);
  });
});
