/**
 * Layering: src/context imports nothing of VS Code, and only grammars.ts imports web-tree-sitter.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, test } from 'node:test';

const DIR = path.join(__dirname, '..', '..', 'src', 'context');

function imports(file: string): string[] {
  const source = fs.readFileSync(path.join(DIR, file), 'utf8');
  return [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

suite('src/context layering', () => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'));

  test('no file imports vscode or another src layer', () => {
    assert.ok(files.length >= 10);
    for (const file of files) {
      for (const spec of imports(file)) {
        assert.ok(!/^vscode/.test(spec), `${file} imports ${spec}`);
        assert.ok(!spec.startsWith('..'), `${file} imports ${spec} from outside src/context`);
      }
    }
  });

  test('only grammars.ts imports web-tree-sitter', () => {
    const importers = files.filter((f) => imports(f).some((s) => s.startsWith('web-tree-sitter')));
    assert.deepEqual(importers, ['grammars.ts']);
  });
});
