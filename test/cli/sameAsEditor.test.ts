// The command line and the editor show the same completion for the same document and cursor:
// `ptp-complete complete --json` (bin/ptp-complete.js over dist/cli.js) and the worker's
// textDocument/inlineCompletion reply (dist/server.js), which the extension shows as it is
// (src/extension/inlineItems.ts). Both run src/completion's completeAt and fitAt. Twice: with
// the defaults (an automatic request, confidence medium: both show nothing, or the same, and
// say the same about what they withheld) and as an explicit request with the confidence rule off.
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
import { completionsOf } from '../../src/extension/inlineItems';
import type { DecodingSettings, InlineCompletionExtras, Withheld } from '../../src/protocol/index';
import { DEFAULT_CONTEXT_SETTINGS, StatusRequest } from '../../src/protocol/index';
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

interface Mode {
  name: string;
  cliFlags: string[];
  extras: Pick<InlineCompletionExtras, 'confidence'>;
  triggerKind: InlineCompletionTriggerKind;
}

const MODES: Mode[] = [
  { name: 'automatic, confidence medium (the defaults)', cliFlags: [], extras: { confidence: 'medium' }, triggerKind: InlineCompletionTriggerKind.Automatic },
  { name: 'explicit, confidence off', cliFlags: ['--explicit', '--confidence', 'off'], extras: { confidence: 'off' }, triggerKind: InlineCompletionTriggerKind.Invoked },
];

suite('the CLI and the editor show the same completion', () => {
  let w: Worker;
  const dir = mkdtempSync(join(tmpdir(), 'ptp-same-'));
  const docs = CASES.map((c, i) => ({ ...documentOf(c), path: join(dir, `case${i}${c.file.slice(c.file.lastIndexOf('.'))}`) }));
  /** Per mode, per case: what the CLI prints with --json (one process per mode, --cases). */
  const fromCli = new Map<string, Array<{ text: string; withheld?: Withheld }>>();
  before(async () => {
    for (const d of docs) writeFileSync(d.path, d.text);
    const cases = join(dir, 'cases.jsonl');
    writeFileSync(cases, docs.map((d) => JSON.stringify({ file: d.path, line: d.line + 1, column: d.character + 1 })).join('\n'));
    for (const mode of MODES) {
      const cli = spawnSync(process.execPath, [BIN, 'complete', '--cases', cases, '--seed', String(SEED), '--temperature', String(TEMPERATURE), '--json', ...mode.cliFlags], { encoding: 'utf8', timeout: 120_000, cwd: REPO });
      assert.equal(cli.status, 0, cli.stderr);
      fromCli.set(mode.name, cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as { text: string; withheld?: Withheld }));
    }
    // The editor's defaults (the cache model on) over the file alone, as the CLI sees it: no
    // other open documents or workspace for the cache model to copy from.
    w = await startWorker({ context: { ...DEFAULT_CONTEXT_SETTINGS, openFiles: false, workspace: false } });
    const s = await w.settled();
    assert.equal(s.state, 'ready', `worker did not get ready: ${s.error}`);
  });
  after(() => w.stop());

  for (const mode of MODES) {
    for (const [i, c] of CASES.entries()) {
      test(`${c.name}; ${mode.name}`, async () => {
        const doc = docs[i]!;
        const cli = fromCli.get(mode.name)![i]!;
        const uri = `file://${doc.path}`;
        await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: c.languageId, version: 1, text: doc.text } });
        const decoding: DecodingSettings = { decoder: 'ptp', blockSize: 'auto', seed: SEED, temperature: TEMPERATURE, topK: 50, topP: 0.95, maxTokens: 256 };
        const extras: InlineCompletionExtras = { decoding, alternatives: 1, ...mode.extras };
        const position = { line: doc.line, character: doc.character };
        const reply = (await w.connection.sendRequest(InlineCompletionRequest.type, {
          textDocument: { uri },
          position,
          context: { triggerKind: mode.triggerKind },
          ptp: extras,
        } as never)) as InlineCompletionList | InlineCompletionItem[] | null;
        const items = reply === null ? [] : Array.isArray(reply) ? reply : reply.items;
        // What the extension shows: the worker's items as they are.
        const shown = completionsOf(items, position, doc.text.split('\n')[doc.line]!).map((it) => it.text);
        const last = (await w.connection.sendRequest(StatusRequest)).last;

        if (mode.extras.confidence === 'off' && c.column === undefined) {
          // What a person would judge first: there is a suggestion, and after Enter it writes code
          // on the cursor's line, starting right at the indentation.
          assert.notEqual(cli.text.trim(), '', `the CLI shows nothing after Enter at ${c.file}:${c.line}`);
          assert.match(cli.text, /^\S/, `the first line must start with code at the cursor: ${JSON.stringify(cli.text)}`);
        }
        assert.deepEqual(shown, cli.text === '' ? [] : [cli.text], 'the editor shows the CLI\'s text');
        assert.deepEqual(last?.withheld, cli.withheld, 'both say the same about what they withheld');
      });
    }
  }
});
