/**
 * What the robustness tests share: the built worker (test/server/workerClient.ts starts it) with
 * its stderr kept and its connection disposed when it closes, as vscode-languageclient does
 * (client.js handleConnectionClosed); without that, vscode-jsonrpc leaves the requests that
 * were in flight pending for ever.
 */
import {
  DidOpenTextDocumentNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  type CancellationToken,
  type InlineCompletionItem,
  type InlineCompletionList,
  type InlineCompletionParams,
} from 'vscode-languageserver-protocol/node';
import type { CompletionStats, DecodingSettings, InlineCompletionExtras, WorkerSettings } from '../../src/protocol/index';
import { startWorker, type Worker } from '../server/workerClient';

export { TEST_SETTINGS, DEFAULT_MODEL, REPO, withCursor } from '../server/workerClient';

export const DECODING: DecodingSettings = { decoder: 'ptp', blockSize: 'auto', seed: 1, temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 64 };
/** Decoding that makes a request as slow as it can be: few drafts accepted, no early stop. */
export const SLOW: DecodingSettings = { ...DECODING, temperature: 1, topK: 0, topP: 1, maxTokens: 1024 };

/** Completes at seed 1 with something non-empty (test/server/worker.test.ts). */
export const TEMPLATE = 'function greet(name: string): string {\n  return `Hello, ${[|]}`;\n}\n';
/** A block body: the model writes until a cap stops it. */
export const LONG = 'export class Matrix {\n  constructor(readonly rows: number, readonly cols: number) {}\n\n  multiply(other: Matrix): Matrix {\n    [|]\n  }\n}\n';

export interface RobustWorker extends Worker {
  /** Everything the worker wrote to stderr since it was started. */
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
}

export async function startRobustWorker(settings: Partial<WorkerSettings> = {}, transport: 'stdio' | 'ipc' = 'stdio'): Promise<RobustWorker> {
  const w = await startWorker(settings, transport);
  let stderr = '';
  w.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  w.connection.onClose(() => w.connection.dispose());
  return Object.assign(w, {
    stderr: () => stderr,
    alive: () => w.child.exitCode === null && w.child.signalCode === null,
  });
}

let docCounter = 0;

export async function openDoc(w: Worker, text: string, languageId = 'typescript', uri = `file:///robust/doc${++docCounter}.${extensionOf(languageId)}`): Promise<string> {
  await w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId, version: 1, text } });
  return uri;
}

/** The LSP position (UTF-16 line and character) of `offset` in `text`. */
export function positionAt(text: string, offset: number): { line: number; character: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}

export interface Answer {
  items: InlineCompletionItem[];
  ms: number;
}

/** An automatic inline completion request; `extras` undefined sends none (the built-in client feature). */
export async function inline(
  w: Worker,
  uri: string,
  position: { line: number; character: number },
  extras?: Partial<InlineCompletionExtras>,
  token?: CancellationToken,
): Promise<Answer> {
  const params: InlineCompletionParams & { ptp?: Partial<InlineCompletionExtras> } = {
    textDocument: { uri },
    position,
    context: { triggerKind: InlineCompletionTriggerKind.Automatic },
    ...(extras !== undefined ? { ptp: { decoding: DECODING, alternatives: 1, ...extras } } : {}),
  };
  const started = performance.now();
  const r: InlineCompletionList | InlineCompletionItem[] | null = await w.connection.sendRequest(InlineCompletionRequest.type, params, token);
  return { items: r === null ? [] : Array.isArray(r) ? r : r.items, ms: performance.now() - started };
}

export const statsOf = (item: InlineCompletionItem): CompletionStats => (item as InlineCompletionItem & { data: CompletionStats }).data;

export const textOf = (item: InlineCompletionItem): string => (typeof item.insertText === 'string' ? item.insertText : item.insertText.value);

/** Milliseconds since `started` (performance.now()). */
export const since = (started: number): number => performance.now() - started;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function extensionOf(languageId: string): string {
  return { typescript: 'ts', python: 'py', go: 'go', javascript: 'js', rust: 'rs' }[languageId] ?? 'txt';
}
