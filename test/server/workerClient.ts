/**
 * Starts the built worker (dist/server.js) as a child process and talks LSP to it over stdio
 * with vscode-languageserver-protocol's client-side connection, as vscode-languageclient does
 * over IPC.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  createProtocolConnection,
  InitializeRequest,
  InitializedNotification,
  ShutdownRequest,
  ExitNotification,
  IPCMessageReader,
  IPCMessageWriter,
  StreamMessageReader,
  StreamMessageWriter,
  type InitializeParams,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { InitializationOptions, StatusResult, WorkerSettings } from '../../src/protocol/index';
import { BUNDLED_MODEL_DIR, DEFAULT_CONTEXT_SETTINGS, StatusChangedNotification, StatusRequest, WORKER_ENV, WORKER_EXEC_ARGV } from '../../src/protocol/index';

export const REPO = resolve(__dirname, '../..');
export const SERVER = join(REPO, 'dist', 'server.js');
export const DEFAULT_MODEL = join(REPO, BUNDLED_MODEL_DIR);

export interface Worker {
  connection: ProtocolConnection;
  child: ChildProcess;
  /** Every ptp/statusChanged notification so far. */
  statuses: StatusResult[];
  /** Every log line the worker sent (window/logMessage). */
  logs: string[];
  /** Resolves once status.state is no longer 'loading'. */
  settled(timeoutMs?: number): Promise<StatusResult>;
  stop(): Promise<void>;
}

/**
 * Confidence off: most tests check the decoding machinery and want the model's whole text; the
 * confidence rule has its own tests, which set the level per request.
 */
/**
 * The mechanics suites run the model as it is: no confidence gate, no cache model (the fixtures'
 * completions were picked on the bare model). Their own tests turn each on.
 */
export const TEST_SETTINGS: WorkerSettings = { device: 'cpu', threads: 1, logLevel: 'debug', requestTimeoutMs: 20_000, confidence: 'off', context: { ...DEFAULT_CONTEXT_SETTINGS, cacheModel: false } };

/**
 * `stdio` is what the tests mostly use; `ipc` is how the extension starts the worker.
 * `initialize`: more of the initialize request (workspace folders, client capabilities).
 */
export async function startWorker(settings: Partial<WorkerSettings> = {}, transport: 'stdio' | 'ipc' = 'stdio', initialize: Partial<InitializeParams> = {}): Promise<Worker> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  // The extension's Node options and environment for the worker (not this process's tsx).
  const env = { ...process.env, ...WORKER_ENV };
  const child =
    transport === 'stdio'
      ? spawn(process.execPath, [...WORKER_EXEC_ARGV, SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env })
      : fork(SERVER, ['--node-ipc'], { execArgv: [...WORKER_EXEC_ARGV], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const connection =
    transport === 'stdio'
      ? createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!))
      : createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  const statuses: StatusResult[] = [];
  const logs: string[] = [];
  connection.onNotification(StatusChangedNotification, (s) => void statuses.push(s));
  connection.onNotification('window/logMessage', (p: { message: string }) => void logs.push(p.message));
  connection.listen();

  const initializationOptions: InitializationOptions = {
    settings: { ...TEST_SETTINGS, ...settings },
    defaultModelPath: DEFAULT_MODEL,
  };
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions, ...initialize });
  await connection.sendNotification(InitializedNotification.type, {});

  return {
    connection,
    child,
    statuses,
    logs,
    async settled(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await connection.sendRequest(StatusRequest);
        if (s.state !== 'loading') return s;
        if (Date.now() > deadline) throw new Error(`worker still loading after ${timeoutMs} ms; stderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      try {
        await connection.sendRequest(ShutdownRequest.type);
        await connection.sendNotification(ExitNotification.type);
      } catch {
        // Already gone.
      }
      const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      connection.dispose();
    },
  };
}

/** `text` with the `[|]` marker removed, and the LSP position where it was. */
export function withCursor(marked: string): { text: string; line: number; character: number; offset: number } {
  const offset = marked.indexOf('[|]');
  if (offset < 0) throw new Error('fixture has no [|] marker');
  const text = marked.slice(0, offset) + marked.slice(offset + 3);
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { text, line, character: offset - (before.lastIndexOf('\n') + 1), offset };
}
