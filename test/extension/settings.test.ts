import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { decodingKey, excludedGlobs, languageEnabled, parseSettings } from '../../src/extension/parseSettings';
import { classifyFailure } from '../../src/extension/requestErrors';
import { commentLine } from '../../src/extension/commentSyntax';
import { Snooze, SNOOZE_STEP_MS } from '../../src/extension/snooze';

const from = (values: Record<string, unknown>) => parseSettings((k) => values[k]);

suite('parseSettings', () => {
  test('missing values take the documented defaults; the sampling settings and the seed stay unset', () => {
    const s = from({});
    assert.equal(s.enable, true);
    assert.equal(s.completion.confidence, 'medium');
    assert.equal(s.completion.maxTokens, 64);
    assert.deepEqual(s.decoding, { decoder: 'ptp', blockSize: 'auto' });
    assert.equal(s.worker.device, 'auto');
    assert.equal(s.worker.confidence, 'medium');
    assert.deepEqual(s.problems, []);
  });
  test('what VS Code reports for an unset sampling setting (null) reaches the worker as nothing, so the model\'s own applies', () => {
    const s = from({ 'decoding.temperature': null, 'decoding.topK': null, 'decoding.topP': null, 'decoding.seed': '' });
    const wire = JSON.parse(JSON.stringify({ ...s.decoding, maxTokens: s.completion.maxTokens })) as Record<string, unknown>;
    assert.deepEqual(wire, { decoder: 'ptp', blockSize: 'auto', maxTokens: 64 });
    assert.deepEqual(s.problems, []);
  });
  test('values the person set are sent as set', () => {
    const s = from({ 'decoding.temperature': 0, 'decoding.topK': 7, 'decoding.topP': 0.5, 'decoding.seed': '42', 'decoding.blockSize': '16' });
    assert.deepEqual(s.decoding, { decoder: 'ptp', blockSize: 16, seed: 42, temperature: 0, topK: 7, topP: 0.5 });
  });
  test('an empty seed means a fresh one per request; digits are a fixed seed', () => {
    const seed = (v: unknown) => from({ 'decoding.seed': v }).decoding.seed;
    assert.equal(seed(''), undefined);
    assert.equal(seed('42'), 42);
    assert.equal(seed(7), 7);
    assert.equal(seed(4294967295), 4294967295);
    assert.equal(seed('x'), undefined);
    assert.equal(seed(-1), undefined);
    assert.equal(seed(2 ** 32), undefined);
  });
  test('block size is auto or 1–64', () => {
    const blockSize = (v: unknown) => from({ 'decoding.blockSize': v }).decoding.blockSize;
    assert.equal(blockSize('auto'), 'auto');
    assert.equal(blockSize(8), 8);
    assert.equal(blockSize('16'), 16);
    assert.equal(blockSize(65), 'auto');
    assert.equal(blockSize(0), 'auto');
  });
  test('an invalid value takes the default, and the problem names the setting, the rule and the value', () => {
    const s = from({ 'decoding.temperature': 9, 'model.device': 'tpu', 'completion.alternatives': 99, 'completion.confidence': 'very' });
    assert.equal(s.decoding.temperature, undefined);
    assert.equal(s.worker.device, 'auto');
    assert.equal(s.completion.alternatives, 3);
    assert.equal(s.completion.confidence, 'medium');
    assert.deepEqual(s.problems, [
      'ptp.completion.confidence must be one of off, low, medium, high, got "very"',
      'ptp.completion.alternatives must be an integer from 1 to 8, got 99',
      'ptp.decoding.temperature must be a number from 0 to 2, or empty, got 9',
      'ptp.model.device must be one of auto, cpu, cuda, dml, coreml, got "tpu"',
    ]);
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
    assert.deepEqual(s.worker.context, { openFiles: true, workspace: true, snippets: false, cacheModel: true, trusted: false, exclude: [] });
    const trusted = parseSettings((k) => ({ 'context.openFiles': false } as Record<string, unknown>)[k], {
      trusted: true,
      filesExclude: { '**/.git': true, '**/dist': true, '**/tmp': false, '**/*.js': { when: '$(basename).ts' } },
    });
    assert.deepEqual(trusted.worker.context, { openFiles: false, workspace: true, snippets: false, cacheModel: true, trusted: true, exclude: ['**/.git', '**/dist'] });
    const off = parseSettings((k) => ({ enable: false } as Record<string, unknown>)[k], { trusted: true, filesExclude: {} });
    assert.equal(off.worker.context!.openFiles, false);
    assert.equal(off.worker.context!.workspace, false);
    assert.equal(from({ 'context.snippets': true }).worker.context!.snippets, true);
    assert.equal(parseSettings((k) => ({ enable: false, 'context.snippets': true } as Record<string, unknown>)[k], { trusted: true, filesExclude: {} }).worker.context!.snippets, false);
    assert.deepEqual(excludedGlobs('**/x'), []);
  });
  test('the cache key changes with the seed and the confidence level', () => {
    assert.notEqual(decodingKey(from({ 'decoding.seed': '1' })), decodingKey(from({ 'decoding.seed': '2' })));
    assert.notEqual(decodingKey(from({ 'completion.confidence': 'high' })), decodingKey(from({ 'completion.confidence': 'off' })));
    assert.notEqual(decodingKey(from({ 'context.snippets': true })), decodingKey(from({ 'context.snippets': false })), 'a snippet changes the text');
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
