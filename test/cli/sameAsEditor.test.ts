// The command line and the editor show the same completion for the same document and cursor:
// `ptp-complete complete --json` (bin/ptp-complete.js over dist/cli.js), the worker's
// textDocument/inlineCompletion reply (dist/server.js), and the item the extension builds from
// that reply (fitCompletion, the extension's last step before VS Code shows the ghost text).
// The cursors are where people type after Enter (a line's code removed, the cursor after its
// indentation) and one mid-line, in the examples/ files.
// Run: npm run build && node --import tsx --test test/cli/sameAsEditor.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DidOpenTextDocumentNotification, InlineCompletionRequest, InlineCompletionTriggerKind, type InlineCompletionItem, type InlineCompletionList } from 'vscode-languageserver-protocol/node';
import { editorItem } from '../../bench/lib/pipeline';
import type { DecodingSettings, InlineCompletionExtras } from '../../src/protocol/index';
import { startWorker, type Worker } from '../server/workerClient';

const REPO = resolve(__dirname, '../..');
const BIN = join(REPO, 'bin', 'ptp-complete.js');
const SEED = 1;
const TEMPERATURE = 0.2;

interface Case {
  name: string;
  file: string;
  languageId: string;
  /** 1-based line whose code is removed (its indentation kept); the cursor goes after the indentation. */
  line: number;
  /** Mid-line instead: the cursor at this 1-based column of the unchanged line. */
  column?: number;
}

const CASES: Case[] = [
  { name: 'Python, a loop body after Enter', file: 'examples/inventory.py', languageId: 'python', line: 22 },
  { name: 'Python, the first line of a method body', file: 'examples/inventory.py', languageId: 'python', line: 20 },
  { name: 'Python, after the last line of a function', file: 'examples/inventory.py', languageId: 'python', line: 29 },
  { name: 'TypeScript, a function body (the demo cursor)', file: 'examples/sample.ts', languageId: 'typescript', line: 14 },
  { name: 'TypeScript, mid-line', file: 'examples/sample.ts', languageId: 'typescript', line: 13, column: 18 },
];

/** The case's document and its cursor (0-based line and character). */
function documentOf(c: Case): { text: string; line: number; character: number } {
  const lines = readFileSync(join(REPO, c.file), 'utf8').split('\n');
  const target = lines[c.line - 1]!;
  if (c.column !== undefined) return { text: lines.join('\n'), line: c.line - 1, character: c.column - 1 };
  const indent = /^[ \t]*/.exec(target)![0];
  lines[c.line - 1] = indent;
  return { text: lines.join('\n'), line: c.line - 1, character: indent.length };
}

suite('the CLI and the editor show the same completion', () => {
  let w: Worker;
  const dir = mkdtempSync(join(tmpdir(), 'ptp-same-'));
  before(async () => {
    w = await startWorker();
    const s = await w.settled();
    assert.equal(s.state, 'ready', `worker did not get ready: ${s.error}`);
  });
  after(() => w.stop());

  for (const [i, c] of CASES.entries()) {
    test(c.name, async () => {
      const doc = documentOf(c);
      const ext = c.file.slice(c.file.lastIndexOf('.'));
      const path = join(dir, `case${i}${ext}`);
      writeFileSync(path, doc.text);

      const cli = spawnSync(process.execPath, [BIN, 'complete', '--file', path, '--line', String(doc.line + 1), '--column', String(doc.character + 1), '--seed', String(SEED), '--temperature', String(TEMPERATURE), '--json'], { encoding: 'utf8', timeout: 120_000, cwd: REPO });
      assert.equal(cli.status, 0, cli.stderr);
      const fromCli = (JSON.parse(cli.stdout.trim().split('\n')[0]!) as { text: string }).text;

      const uri = `file://${path}`;
      await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: c.languageId, version: 1, text: doc.text } });
      const decoding: DecodingSettings = { decoder: 'ptp', blockSize: 'auto', seed: SEED, temperature: TEMPERATURE, topK: 50, topP: 0.95, maxTokens: 256 };
      const extras: InlineCompletionExtras = { decoding, alternatives: 1 };
      const reply = (await w.connection.sendRequest(InlineCompletionRequest.type, {
        textDocument: { uri },
        position: { line: doc.line, character: doc.character },
        context: { triggerKind: InlineCompletionTriggerKind.Invoked },
        ptp: extras,
      } as never)) as InlineCompletionList | InlineCompletionItem[] | null;
      const items = reply === null ? [] : Array.isArray(reply) ? reply : reply.items;
      const fromWorker = items.map((it) => (typeof it.insertText === 'string' ? it.insertText : it.insertText.value));

      // What a person would judge first: there is a suggestion, and after Enter it writes code
      // on the cursor's line, starting right at the indentation.
      if (c.column === undefined) assert.notEqual(fromCli.trim(), '', `the CLI shows nothing after Enter at ${c.file}:${c.line}`);
      if (c.column === undefined) assert.match(fromCli, /^\S/, `the first line must start with code at the cursor: ${JSON.stringify(fromCli)}`);
      assert.deepEqual(fromWorker, [fromCli], 'the worker replies with the CLI\'s text');

      const offset = doc.text.split('\n').slice(0, doc.line).reduce((n, l) => n + l.length + 1, 0) + doc.character;
      const fitted = editorItem(doc.text, offset, fromWorker[0]!, true);
      assert.equal(fitted, fromCli, 'the extension shows the worker\'s text unchanged');
    });
  }
});
