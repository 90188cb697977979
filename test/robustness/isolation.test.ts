// The worker reads only what it is given: documents arrive over LSP, so it never opens a
// workspace file itself, and it never touches the network. Checked at the system-call level
// (strace -f from the first instruction, every thread) through a session that opens real files'
// URIs, edits, completes and generates. Skipped where strace is missing or ptrace is not allowed;
// test/privacy/network.test.ts has the static and network-namespace checks.
// Run: npm run build && node --import tsx --test test/robustness/isolation.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializeRequest,
  InitializedNotification,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  createProtocolConnection,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { InitializationOptions } from '../../src/protocol/index';
import { GenerateRequest, StatusRequest } from '../../src/protocol/index';
import { SERVER } from '../server/workerClient';
import { DECODING, DEFAULT_MODEL, TEMPLATE, TEST_SETTINGS, inline, positionAt, sleep, withCursor, type RobustWorker } from './harness';

const canTrace = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true']).status === 0;

/** Network system calls other than local (AF_UNIX) sockets: socket(AF_INET...), connect to an inet address, ... */
const NETWORK = /\b(socket|connect|bind|sendto|sendmsg)\((AF_INET6?|PF_INET6?|\d+, \{sa_family=AF_INET6?)/;

suite('the worker reads no workspace file and opens no network connection', { skip: !canTrace && 'needs strace with ptrace allowed' }, () => {
  let root: string;
  let workspace: string;
  let log: string;
  let child: ChildProcess;
  let connection: ProtocolConnection;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ptp-isolation-'));
    workspace = join(root, 'workspace');
    mkdirSync(join(workspace, 'src'), { recursive: true });
    mkdirSync(join(workspace, '.vscode'));
    const files: Record<string, string> = {
      'src/main.ts': withCursor(TEMPLATE).text,
      'src/util.ts': 'export const answer = 42;\n',
      'src/app.py': 'def main():\n    pass\n',
      'package.json': '{"name": "workspace"}\n',
      'tsconfig.json': '{}\n',
      '.vscode/settings.json': '{"ptp.model.path": "/elsewhere"}\n',
      '.gitignore': 'node_modules\n',
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(workspace, name), text);
    log = join(root, 'strace.log');
    child = spawn('strace', ['-f', '-qq', '-o', log, '-e', 'trace=%file,%network', process.execPath, SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    connection.listen();
    const initializationOptions: InitializationOptions = { settings: TEST_SETTINGS, defaultModelPath: DEFAULT_MODEL };
    await connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(workspace).href,
      workspaceFolders: [{ uri: pathToFileURL(workspace).href, name: 'workspace' }],
      capabilities: {},
      initializationOptions,
    });
    await connection.sendNotification(InitializedNotification.type, {});
    for (;;) {
      const s = await connection.sendRequest(StatusRequest);
      if (s.state === 'ready') break;
      assert.notEqual(s.state, 'error', s.error);
      await sleep(50);
    }
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a session of opening, editing, completing and generating in workspace files', async () => {
    // `inline` only needs .connection.
    const w = { connection } as RobustWorker;
    const main = pathToFileURL(join(workspace, 'src', 'main.ts')).href;
    const { text, line, character } = withCursor(TEMPLATE);
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: main, languageId: 'typescript', version: 1, text } });
    assert.equal((await inline(w, main, { line, character }, { decoding: DECODING })).items.length, 1);
    await connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: main, version: 2 },
      contentChanges: [{ range: { start: { line, character }, end: { line, character } }, text: 'na' }],
    });
    await inline(w, main, { line, character: character + 2 });
    const py = pathToFileURL(join(workspace, 'src', 'app.py')).href;
    const pyText = 'import os\n\n\ndef main():\n';
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: py, languageId: 'python', version: 1, text: pyText } });
    await connection.sendRequest(GenerateRequest, { textDocument: { uri: py }, position: positionAt(pyText, pyText.length), decoding: { ...DECODING, maxTokens: 32 } });

    await connection.sendRequest(ShutdownRequest.type);
    await connection.sendNotification(ExitNotification.type);
    await new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
    connection.dispose();

    const calls = readFileSync(log, 'utf8').split('\n');
    assert.ok(calls.some((c) => c.includes('model.onnx')), 'the trace saw the model being read (the tracing works)');
    assert.deepEqual(
      calls.filter((c) => c.includes(workspace)),
      [],
      'system calls that name a workspace path',
    );
    assert.deepEqual(
      calls.filter((c) => NETWORK.test(c)),
      [],
      'network system calls',
    );
  });
});
