/**
 * Layering: src/extension imports only vscode, vscode-languageclient, src/protocol and its own
 * files; the files the unit tests load without VS Code do not import vscode; nothing in it
 * touches the network (media/trace.js included).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, test } from 'node:test';

const ROOT = path.join(__dirname, '..', '..');
const DIR = path.join(ROOT, 'src', 'extension');
const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.ts'));

function imports(file: string): string[] {
  const source = fs.readFileSync(path.join(DIR, file), 'utf8');
  return [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

suite('src/extension layering', () => {
  test('imports only vscode, vscode-languageclient, ../protocol and sibling files', () => {
    assert.ok(files.length >= 10);
    for (const file of files) {
      for (const spec of imports(file)) {
        const ok = spec === 'vscode' || spec === 'vscode-languageclient' || spec.startsWith('vscode-languageclient/') || spec === '../protocol' || /^\.\/[\w]+$/.test(spec);
        assert.ok(ok, `${file} imports ${spec}`);
      }
    }
  });

  test('the pure modules do not import vscode (they are unit-tested without it)', () => {
    for (const file of ['adaptiveDebounce.ts', 'completionCache.ts', 'inlineItems.ts', 'parseSettings.ts', 'requestErrors.ts', 'restartPolicy.ts', 'statusTooltip.ts', 'commentSyntax.ts', 'snooze.ts']) {
      assert.ok(!imports(file).some((s) => s.startsWith('vscode')), `${file} imports vscode`);
    }
  });

  test('no telemetry and no network: no http, fetch or remote URLs in code or the webview', () => {
    const sources = [...files.map((f) => path.join(DIR, f)), path.join(ROOT, 'media', 'trace.js')];
    for (const file of sources) {
      const text = fs.readFileSync(file, 'utf8');
      assert.ok(!/require\(['"](node:)?(https?|net|tls|dgram|dns)['"]|from ['"](node:)?(https?|net|tls|dgram|dns)['"]|\bfetch\s*\(|XMLHttpRequest|WebSocket|telemetry/i.test(text.replace(/no telemetry/gi, '')), `${file} looks like it talks to the network`);
      assert.ok(!/https?:\/\//.test(text), `${file} names a remote URL`);
    }
  });
});
