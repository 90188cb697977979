// The ptp-complete command as a user runs it: bin/ptp-complete.js over the built dist/cli.js,
// the shipped model. Each spawn loads the model (about a second), so the cases are few.
// Run: npm run build && node --import tsx --test test/cli/cli.test.ts
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
const BIN = join(REPO, 'bin', 'ptp-complete.js');
const SAMPLE = join(REPO, 'examples', 'sample.ts');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd: REPO });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(out: string): Record<string, unknown>[] {
  return out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

suite('ptp-complete complete', () => {
  test('--json prints one object with the text and the decoding numbers', () => {
    const r = cli('complete', '--file', SAMPLE, '--line', '14', '--column', '3', '--seed', '5', '--confidence', 'off', '--json');
    assert.equal(r.status, 0, r.stderr);
    const [out] = json(r.stdout);
    assert.equal(typeof out!.text, 'string');
    assert.ok(Array.isArray(out!.tokens) && (out!.tokens as unknown[]).every((t) => Number.isInteger(t)), 'tokens are the ids');
    assert.equal(typeof out!.healed, 'string');
    for (const k of ['calls', 'tokensPerCall', 'msPrefill', 'msDecode', 'blockSize']) {
      assert.equal(typeof out![k], 'number', k);
      assert.ok((out![k] as number) >= 0, k);
    }
    assert.equal(out!.seed, 5);
    assert.equal(out!.decoder, 'ptp');
    assert.ok(['expression', 'line', 'statement', 'block'].includes(out!.scope as string));
    assert.ok(['eot', 'maxTokens', 'stop', 'context'].includes(out!.stopReason as string));
    assert.ok((out!.calls as number) >= 1);
    // The cursor sits after the line's indentation: the completion must not indent again.
    assert.doesNotMatch(out!.text as string, /^[ \t]/);
  });

  test('AR and PTP write exactly the same text for the same seed', () => {
    // Several positions per process through --cases: one model load per decoder.
    const dir = mkdtempSync(join(tmpdir(), 'ptp-lossless-'));
    const cases = join(dir, 'cases.jsonl');
    const positions = [[14, 3], [3, 3], [8, 3], [13, 45], [1, 1]];
    writeFileSync(cases, positions.map(([line, column]) => JSON.stringify({ file: SAMPLE, line, column })).join('\n'));
    // Confidence off: the whole text (the rule's cut is the same in AR and PTP, tested in test/engine).
    const common = ['complete', '--cases', cases, '--seed', '11', '--max-tokens', '40', '--temperature', '0.8', '--confidence', 'off'];
    const ar = cli(...common, '--decoder', 'ar');
    const ptp = cli(...common, '--decoder', 'ptp', '--block-size', '4');
    const noLookup = cli(...common, '--decoder', 'ptp', '--block-size', '4', '--lookup', 'off');
    assert.equal(ar.status, 0, ar.stdout + ar.stderr);
    assert.equal(ptp.status, 0, ptp.stdout + ptp.stderr);
    assert.equal(noLookup.status, 0, noLookup.stdout + noLookup.stderr);
    const [a, p, q] = [json(ar.stdout), json(ptp.stdout), json(noLookup.stdout)];
    assert.equal(a.length, positions.length);
    for (let i = 0; i < positions.length; i++) {
      assert.equal(p[i]!.text, a[i]!.text, `case ${i + 1}`);
      assert.deepEqual(q[i]!.tokens, a[i]!.tokens, `case ${i + 1}: PTP without context lookup`);
      assert.deepEqual(p[i]!.tokens, a[i]!.tokens, `case ${i + 1}: the same token ids`);
      assert.equal(a[i]!.blockSize, 1);
      assert.equal(p[i]!.blockSize, Math.min(4, p[i]!.blockSize as number));
      assert.ok((p[i]!.calls as number) <= (a[i]!.calls as number), 'PTP never needs more calls than AR');
    }
    assert.ok(a.some((r) => (r.tokens as number[]).length > 5), 'some case generated more than a few tokens');
  });

  test('--cases prints one JSON line per case, in order, and fails only the bad ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptp-cases-'));
    writeFileSync(join(dir, 'a.py'), 'def square(x):\n    return \n');
    const cases = join(dir, 'cases.jsonl');
    writeFileSync(
      cases,
      [
        JSON.stringify({ file: 'a.py', line: 2, column: 12 }),
        JSON.stringify({ file: SAMPLE, line: 14, column: 3 }),
        JSON.stringify({ file: 'missing.ts', line: 1, column: 1 }),
        '',
        JSON.stringify({ file: 'a.py', line: 9, column: 1 }),
      ].join('\n'),
    );
    const r = cli('complete', '--cases', cases, '--seed', '3');
    assert.equal(r.status, 1);
    const out = json(r.stdout);
    assert.equal(out.length, 4);
    assert.deepEqual(
      out.map((o) => [o.file, o.line, 'error' in o]),
      [
        ['a.py', 2, false],
        [SAMPLE, 14, false],
        ['missing.ts', 1, true],
        ['a.py', 9, true],
      ],
    );
    assert.equal(out[0]!.seed, 3);
    assert.match(out[2]!.error as string, /missing\.ts: no such file/);
    assert.match(out[3]!.error as string, /line 9 is past the end/);
    assert.match(r.stderr, /2 case\(s\) failed/);
  });
});

suite('ptp-complete complete: what a person would see in the editor', () => {
  // After `let sum = 0;` in mean(): at seed 1 the model is not sure what comes next.
  const UNSURE = ['--file', SAMPLE, '--line', '7', '--column', '15', '--seed', '1'];

  test('by default it shows what appears by itself: here nothing, and it says why', () => {
    const plain = cli('complete', ...UNSURE);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^\(nothing shown: (not sure enough|sure only of) .+\)\n$/);
    const [out] = json(cli('complete', ...UNSURE, '--json').stdout);
    assert.equal(out!.text, '');
    const withheld = out!.withheld as { reason: string; detail: string };
    assert.ok(['unsure', 'short'].includes(withheld.reason));
    assert.ok(plain.stdout.includes(withheld.detail), 'the plain output gives the same reason');
  });

  test('--explicit shows what Alt+\\ shows there (a lower bar), --confidence off everything', () => {
    const [asked] = json(cli('complete', ...UNSURE, '--explicit', '--json').stdout);
    assert.notEqual((asked!.text as string).trim(), '');
    assert.equal(asked!.withheld, undefined);
    const [all] = json(cli('complete', ...UNSURE, '--confidence', 'off', '--json').stdout);
    assert.ok((all!.tokens as number[]).length >= (asked!.tokens as number[]).length);
  });

  test('--json has each token\'s confidence in its trace, and fitted text says what it replaces', () => {
    const [out] = json(cli('complete', '--file', SAMPLE, '--line', '14', '--column', '3', '--seed', '5', '--confidence', 'off', '--json').stdout);
    const trace = out!.trace as Array<{ tokens: string[]; confidence: number[] }>;
    assert.ok(trace.length >= 1);
    for (const call of trace) {
      assert.equal(call.confidence.length, call.tokens.length);
      for (const p of call.confidence) assert.ok(p > 0 && p <= 1, `confidence ${p}`);
    }
    assert.equal(out!.replaces, 0);
  });

  test('generate is never cut by the confidence rule', () => {
    const r = cli('generate', '--prompt', 'def parse_header(line):\n', '--seed', '3', '--max-tokens', '48', '--confidence', 'high', '--json');
    assert.equal(r.status, 0, r.stderr);
    const [out] = json(r.stdout);
    assert.notEqual(out!.stopReason, 'unsure');
    assert.equal(out!.withheld, undefined);
  });
});

suite('ptp-complete errors', () => {
  const oneLine = (stderr: string): string => {
    const lines = stderr.trim().split('\n');
    assert.equal(lines.length, 1, stderr);
    return lines[0]!;
  };

  test('a missing file', () => {
    const r = cli('complete', '--file', 'no/such.ts', '--line', '1', '--column', '1');
    assert.equal(r.status, 1);
    assert.equal(oneLine(r.stderr), 'ptp-complete: cannot read no/such.ts: no such file');
  });

  test('a line or column outside the file', () => {
    const line = cli('complete', '--file', SAMPLE, '--line', '999', '--column', '1');
    assert.equal(line.status, 1);
    assert.match(oneLine(line.stderr), /line 999 is past the end \(the file has \d+ lines\)/);
    const column = cli('complete', '--file', SAMPLE, '--line', '1', '--column', '500');
    assert.equal(column.status, 1);
    assert.match(oneLine(column.stderr), /column 500 is past the end of the line/);
  });

  test('a bad model directory prints the loader\'s one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ptp-nomodel-'));
    const r = cli('complete', '--file', SAMPLE, '--line', '1', '--column', '1', '--model', dir);
    assert.equal(r.status, 1);
    assert.equal(oneLine(r.stderr), `ptp-complete: ${join(dir, 'model.json')}: the manifest is missing - re-export the model directory with training/export.py or restore it from the repository`);
  });

  test('a bad command line exits 2 and points at --help', () => {
    const r = cli('complete', '--file', SAMPLE, '--line', 'two', '--column', '1');
    assert.equal(r.status, 2);
    assert.match(oneLine(r.stderr), /--line must be an integer >= 1, got 'two' \(see ptp-complete --help\)/);
    assert.equal(cli('frobnicate').status, 2);
    const lookup = cli('bench', '--lookup', 'maybe');
    assert.equal(lookup.status, 2);
    assert.match(oneLine(lookup.stderr), /--lookup must be on or off, got 'maybe'/);
    const cache = cli('complete', '--file', SAMPLE, '--line', '1', '--column', '1', '--cache-model', 'yes');
    assert.equal(cache.status, 2);
    assert.match(oneLine(cache.stderr), /--cache-model must be on or off, got 'yes'/);
    // The options that are settings accept what the settings accept (src/protocol/settings.ts).
    const temperature = cli('complete', '--file', SAMPLE, '--line', '1', '--column', '1', '--temperature', '3');
    assert.equal(temperature.status, 2);
    assert.match(oneLine(temperature.stderr), /--temperature must be a number from 0 to 2, got '3'/);
    const confidence = cli('complete', '--file', SAMPLE, '--line', '1', '--column', '1', '--confidence', 'sure');
    assert.match(oneLine(confidence.stderr), /--confidence must be one of off, low, medium, high, got 'sure'/);
    const help = cli('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: ptp-complete <command>/);
  });
});
