import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import { CodeTokenizer } from '../../src/engine/tokenizer';
import { SPECIAL_IDS, SYNTHETIC_VOCAB_SIZE, syntheticTokenizerJson } from './helpers/syntheticTokenizer';

const tokenizer = new CodeTokenizer(syntheticTokenizerJson(), SPECIAL_IDS);
const samples = ['def the(x):\n    return x . y , z', 'café 世界 🙂 ünïcode', '\t\r\n  !"#$%&\'()*+,-./ ~', '<|endoftext|>'];

suite('tokenizer', () => {
  test('round-trips code, whitespace and multi-byte text exactly', () => {
    for (const text of samples) assert.equal(tokenizer.decode(tokenizer.encode(text)), text);
  });

  test('uses merges and matches special tokens', () => {
    assert.ok(tokenizer.encode('def the').length < 'def the'.length);
    assert.deepEqual(tokenizer.encode('<|endoftext|>'), [0]);
    assert.equal(tokenizer.vocabSize, SYNTHETIC_VOCAB_SIZE);
  });

  test('does not "clean up" spaces before punctuation (code needs them)', () => {
    assert.equal(tokenizer.decode(tokenizer.encode('a . b , c !')), 'a . b , c !');
  });

  test('sets a byte-level decoder when tokenizer.json has none', () => {
    const plain = new CodeTokenizer(syntheticTokenizerJson({ decoder: false }), SPECIAL_IDS);
    assert.equal(plain.decode(plain.encode('the café')), 'the café');
  });

  test('rejects a special token id whose text is not the contract token', () => {
    assert.throws(() => new CodeTokenizer(syntheticTokenizerJson(), { ...SPECIAL_IDS, fim_middle: 7 }), /special token fim_middle = 7 is .* expected "<\|fim_middle\|>"/);
  });

  test('rejects a tokenizer that is not byte-level BPE', () => {
    const json = syntheticTokenizerJson();
    json['pre_tokenizer'] = { type: 'Whitespace' };
    assert.throws(() => new CodeTokenizer(json, SPECIAL_IDS), /not a byte-level BPE/);
  });
});

suite('incremental detokenizer', () => {
  test('never emits a broken character while a multi-byte character arrives token by token', () => {
    const text = 'é 世界🙂x';
    const ids = tokenizer.encode(text);
    const detok = tokenizer.createDetokenizer();
    for (const id of ids) {
      detok.push(id);
      assert.ok(!detok.text.includes('\uFFFD'), `broken character in ${JSON.stringify(detok.text)}`);
      assert.ok(text.startsWith(detok.text));
    }
    detok.flush();
    assert.equal(detok.text, text);
  });

  test('agrees with one-shot decoding for every prefix of a token list', () => {
    const ids = tokenizer.encode(samples.join('\n'));
    const detok = tokenizer.createDetokenizer();
    ids.forEach((id, i) => {
      detok.push(id);
      const full = tokenizer.decode(ids.slice(0, i + 1));
      assert.ok(full.startsWith(detok.text));
      assert.ok(full.length - detok.text.length <= 1, 'holds back at most one incomplete character');
    });
    detok.flush();
    assert.equal(detok.text, tokenizer.decode(ids));
  });

  test('records where each token ends in the text', () => {
    const ids = tokenizer.encode('the é');
    const detok = tokenizer.createDetokenizer();
    ids.forEach((id) => detok.push(id));
    assert.equal(detok.endsAt.length, ids.length);
    assert.equal(detok.endsAt[detok.endsAt.length - 1], 'the é'.length);
  });
});
