import assert from 'node:assert/strict';
import { suite, test } from 'node:test';
import type { CompletionSite } from '../../src/extension/completionCache';
import { CompletionCache, typedSince } from '../../src/extension/completionCache';

/** A site in a document whose text is `before` + cursor + `after`. */
function site(before: string, after = '\n', settingsKey = 's', uri = 'file:///a.ts'): CompletionSite {
  return { uri, offset: before.length, prefixTail: before.slice(-1024), suffixHead: after.slice(0, 256), settingsKey };
}

suite('typedSince', () => {
  test('typing at the cursor is the text typed', () => {
    assert.equal(typedSince(site('let x = '), site('let x = cou')), 'cou');
    assert.equal(typedSince(site('let x = '), site('let x = ')), '');
  });
  test('an edit elsewhere, another suffix, other settings or a cursor moved left is not typing', () => {
    assert.equal(typedSince(site('let x = '), site('let y = cou')), undefined);
    assert.equal(typedSince(site('let x = '), site('let x = cou', ')\n')), undefined);
    assert.equal(typedSince(site('let x = '), site('let x = cou', '\n', 't')), undefined);
    assert.equal(typedSince(site('let x = '), site('let x')), undefined);
  });
  test('long documents compare the overlapping tails', () => {
    const long = 'a'.repeat(5000) + 'function f() {\n  ';
    assert.equal(typedSince(site(long), site(long + 'return')), 'return');
  });
});

suite('CompletionCache', () => {
  test('typing the start of a cached completion keeps the rest of it', () => {
    const cache = new CompletionCache<{ text: string }>();
    cache.put(site('let total = '), [{ text: 'count + 1;' }]);
    assert.deepEqual(cache.get(site('let total = cou'))?.items, [{ text: 'nt + 1;' }]);
  });
  test('typing something else, or all of it, is a miss', () => {
    const cache = new CompletionCache<{ text: string }>();
    cache.put(site('let total = '), [{ text: 'count' }]);
    assert.equal(cache.get(site('let total = x')), undefined);
    assert.equal(cache.get(site('let total = count')), undefined);
  });
  test('alternatives the typing diverged from are dropped, the others kept', () => {
    const cache = new CompletionCache<{ text: string }>();
    cache.put(site('x = '), [{ text: 'foo()' }, { text: 'bar()' }]);
    assert.deepEqual(cache.get(site('x = b'))?.items, [{ text: 'ar()' }]);
  });
  test('the least recently used entry goes first when full', () => {
    const cache = new CompletionCache<{ text: string }>(2);
    cache.put(site('a = '), [{ text: '1' }]);
    cache.put(site('b = '), [{ text: '2' }]);
    cache.get(site('a = '));
    cache.put(site('c = '), [{ text: '3' }]);
    assert.ok(cache.get(site('a = ')) !== undefined);
    assert.equal(cache.get(site('b = ')), undefined);
  });
  test('closing a document forgets its completions', () => {
    const cache = new CompletionCache<{ text: string }>();
    cache.put(site('a = '), [{ text: '1' }]);
    cache.deleteDocument('file:///a.ts');
    assert.equal(cache.size, 0);
  });
});
