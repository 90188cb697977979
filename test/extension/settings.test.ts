import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { decodingKey, excludedGlobs, languageEnabled, parseBlockSize, parseSeed, parseSettings } from '../../src/extension/parseSettings';
import { classifyFailure } from '../../src/extension/requestErrors';
import { commentLine } from '../../src/extension/commentSyntax';
import { Snooze, SNOOZE_STEP_MS } from '../../src/extension/snooze';

const from = (values: Record<string, unknown>) => parseSettings((k) => values[k]);

suite('parseSettings', () => {
  test('missing values take the documented defaults', () => {
    const s = from({});
    assert.equal(s.enable, true);
    assert.equal(s.decoding.temperature, 0.2);
    assert.equal(s.decoding.topK, 50);
    assert.equal(s.decoding.topP, 0.95);
    assert.equal(s.decoding.blockSize, 'auto');
    assert.equal(s.decoding.seed, undefined);
    assert.equal(s.worker.device, 'auto');
  });
  test('an empty seed means a fresh one per request; digits are a fixed seed', () => {
    assert.equal(parseSeed(''), undefined);
    assert.equal(parseSeed('42'), 42);
    assert.equal(parseSeed(7), 7);
    assert.equal(parseSeed('x'), undefined);
    assert.equal(parseSeed(-1), undefined);
  });
  test('block size is auto or 1–64', () => {
    assert.equal(parseBlockSize('auto'), 'auto');
    assert.equal(parseBlockSize(8), 8);
    assert.equal(parseBlockSize('16'), 16);
    assert.equal(parseBlockSize(65), 'auto');
    assert.equal(parseBlockSize(0), 'auto');
  });
  test('out-of-range numbers are clamped and unknown enum values fall back', () => {
    const s = from({ 'decoding.temperature': 9, 'model.device': 'tpu', 'completion.alternatives': 99 });
    assert.equal(s.decoding.temperature, 2);
    assert.equal(s.worker.device, 'auto');
    assert.equal(s.completion.alternatives, 8);
  });
  test('a language is on unless listed off, or "*" is off, or completions are off', () => {
    assert.equal(languageEnabled(from({ enableLanguages: { markdown: false } }), 'markdown'), false);
    assert.equal(languageEnabled(from({ enableLanguages: { markdown: false } }), 'python'), true);
    assert.equal(languageEnabled(from({ enableLanguages: { '*': false, python: true } }), 'go'), false);
    assert.equal(languageEnabled(from({ enableLanguages: { '*': false, python: true } }), 'python'), true);
    assert.equal(languageEnabled(from({ enable: false }), 'python'), false);
  });
  test('context sources: on by default, off with ptp.enable; trust and files.exclude go to the worker', () => {
    const s = from({});
    assert.deepEqual(s.worker.context, { openFiles: true, workspace: true, trusted: false, exclude: [] });
    const trusted = parseSettings((k) => ({ 'context.openFiles': false } as Record<string, unknown>)[k], {
      trusted: true,
      filesExclude: { '**/.git': true, '**/dist': true, '**/tmp': false, '**/*.js': { when: '$(basename).ts' } },
    });
    assert.deepEqual(trusted.worker.context, { openFiles: false, workspace: true, trusted: true, exclude: ['**/.git', '**/dist'] });
    const off = parseSettings((k) => ({ enable: false } as Record<string, unknown>)[k], { trusted: true, filesExclude: {} });
    assert.equal(off.worker.context!.openFiles, false);
    assert.equal(off.worker.context!.workspace, false);
    assert.deepEqual(excludedGlobs('**/x'), []);
  });
  test('the cache key changes with the seed', () => {
    assert.notEqual(decodingKey(from({ 'decoding.seed': '1' })), decodingKey(from({ 'decoding.seed': '2' })));
  });
});

suite('classifyFailure', () => {
  test('cancellation codes and a lost connection are not errors to show', () => {
    assert.equal(classifyFailure({ code: -32800, message: 'x' }), 'cancelled');
    assert.equal(classifyFailure({ code: -32801, message: 'x' }), 'cancelled');
    assert.equal(classifyFailure({ code: -32096, message: 'x' }), 'disconnected');
    assert.equal(classifyFailure(new Error('Client is not running')), 'disconnected');
  });
  test('the worker\'s own codes are named', () => {
    assert.equal(classifyFailure({ code: -32900, message: 'x' }), 'modelNotLoaded');
    assert.equal(classifyFailure({ code: -32901, message: 'x' }), 'timeout');
    assert.equal(classifyFailure(new Error('boom')), 'other');
  });
});

suite('commentLine', () => {
  test('each language gets its own comment syntax, on one line', () => {
    assert.equal(commentLine('python', 'sort the rows'), '# sort the rows');
    assert.equal(commentLine('typescript', 'sort\nthe rows'), '// sort the rows');
    assert.equal(commentLine('html', 'a list'), '<!-- a list -->');
    assert.equal(commentLine('css', 'end */ here'), '/* end * / here */');
    assert.equal(commentLine('unknown-language', 'x'), '// x');
  });
});

suite('Snooze', () => {
  test('each snooze adds five minutes and cancel ends it', () => {
    let now = 1000;
    const s = new Snooze(() => now);
    assert.equal(s.active, false);
    s.extend();
    s.extend();
    assert.equal(s.remainingMs(), 2 * SNOOZE_STEP_MS);
    now += SNOOZE_STEP_MS;
    assert.equal(s.active, true);
    s.cancel();
    assert.equal(s.active, false);
  });
});
