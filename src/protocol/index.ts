/**
 * The typed contract between the extension (language client) and the worker (language server).
 * Imports only vscode-languageserver-protocol types, so both sides can use it.
 *
 * Standard LSP: incremental text document sync and `textDocument/inlineCompletion` (LSP 3.18).
 * Custom: `ptp/generate` (streams partial text through `$/progress` with a partial-result token),
 * `ptp/status`, `ptp/trace`, and the `ptp/statusChanged` notification.
 */
import { NotificationType, ProtocolRequestType, RequestType, RequestType0 } from 'vscode-languageserver-protocol';

export * from './settings';
export * from './lineSuffix';
import type { ConfidenceLevel, DecodingSettings } from './settings';

/**
 * Extra fields the client passes in `InlineCompletionParams` via `ptp` (it sends the request
 * itself, since the built-in feature cannot add fields). Without them the worker uses
 * WorkerSettings.decoding and .confidence, 1 alternative for automatic triggers and 3 for
 * invoked ones (VS Code's next/previous).
 *
 * The items come back fitted to the cursor's line (src/completion fitCompletion): `insertText`
 * replaces the item's `range`, which starts at the cursor and may cover auto-closed brackets
 * and quotes right of it; the text already leaves out what repeats the following lines.
 */
export interface InlineCompletionExtras {
  decoding: DecodingSettings;
  /** How many alternatives (different seeds); 1 for automatic triggers. */
  alternatives: number;
  /**
   * How sure the model must be before a suggestion is shown (ptp.completion.confidence). An
   * invoked request (LSP InlineCompletionTriggerKind.Invoked, Alt+\\) uses the lower bar for that level.
   */
  confidence?: ConfidenceLevel;
}

/**
 * What the worker adds to its textDocument/inlineCompletion answer, as `ptp` beside `items`:
 * the stats of the request's last decode, also when it shows nothing (then stats.withheld says
 * why), so the client can say so at once rather than after the next ptp/statusChanged.
 */
export interface InlineCompletionAnswer {
  last?: CompletionStats;
}

/** What the worker attaches to each inline completion item (as `command.arguments[0]` is awkward; use `data`). */
export interface CompletionStats {
  requestId: string;
  seed: number;
  scope: 'expression' | 'line' | 'statement' | 'block';
  blockSize: number;
  calls: number;
  tokens: number;
  tokensPerCall: number;
  msPrefill: number;
  msDecode: number;
  msTotal: number;
  stopReason: string;
  /** Prompt tokens, and how many of them came from the cache (typing, or a ptp/warm). */
  promptTokens: number;
  reusedTokens: number;
  /**
   * Set when the worker decided to show nothing: the model was not sure enough of any word
   * (`unsure`), or what it was sure of is less than a word of code (`short`). `detail` is one
   * line a person reads (the status bar tooltip, `--json`).
   */
  withheld?: Withheld;
  /** The running confidence (product of the kept tokens' probabilities) of what is shown; 1 for nothing. */
  confidence?: number;
}

export interface Withheld {
  reason: 'unsure' | 'short';
  detail: string;
}

// ---- ptp/generate --------------------------------------------------------------------------

export interface GenerateParams {
  /** Document to generate into; the worker reads its synced text. */
  textDocument: { uri: string };
  /** Cursor (insert position). */
  position: { line: number; character: number };
  /**
   * The user's instruction, already turned into a comment line by the client, or undefined.
   * The worker puts it on its own line just before the cursor in the prompt only (not in the
   * document); the result is the code that follows it.
   */
  instruction?: string;
  /**
   * Only what the person set (as for inline requests). `maxTokens` absent or below 384 means 384
   * (src/completion GENERATE_MAX_TOKENS): a generated block is longer than a completion, and
   * ptp.completion.maxTokens, the ghost text's cap, does not apply. Never cut by confidence.
   */
  decoding: DecodingSettings;
  /** Streaming: the worker sends `$/progress` with a GeneratePartial `{ text }` (text so far, at most every 50 ms) on this token. */
  partialResultToken?: string | number;
}

export interface GenerateResult {
  text: string;
  stats: CompletionStats;
}

export interface GeneratePartial {
  text: string;
}

export const GenerateRequest = new ProtocolRequestType<GenerateParams, GenerateResult, GeneratePartial, void, void>('ptp/generate');

// ---- ptp/status -----------------------------------------------------------------------------

export type WorkerState = 'loading' | 'ready' | 'error';

export interface StatusResult {
  state: WorkerState;
  /** One line naming the file and the problem, when state is 'error'. */
  error?: string;
  model?: { name: string; path: string; parameters: number; device: string; threads: number; deviceNote?: string };
  /** Most recent request's stats. */
  last?: CompletionStats;
  /** Worker resident memory, bytes. */
  rssBytes: number;
  /**
   * Where the resident memory is, bytes: V8's heap in use, and memory outside it that JS objects
   * hold (ArrayBuffers: the engine's key/value caches and output buffers). The rest of rssBytes is
   * native: onnxruntime's session and arena, node itself, the mapped libraries.
   */
  heapUsedBytes: number;
  externalBytes: number;
  /** The worker's process id (the log, `kill`, and the crash tests use it). */
  pid: number;
  /** Requests served / cancelled since start. */
  served: number;
  cancelled: number;
  /**
   * Requests in the worker now: decoding, waiting for the model, or stopping after a cancel.
   * A newer inline request supersedes older ones, so this stays at a few whatever the typing rate.
   */
  pending: number;
  /** The lookup-draft indexes of the open documents and of the workspace. */
  index: IndexStatus;
}

export interface IndexStatus {
  /** Open documents indexed (all zero while ptp.context.openFiles is off). */
  open: { documents: number; tokens: number; bytes: number };
  workspace: {
    /**
     * 'off': ptp.context.workspace off, an untrusted workspace, no folder, or no model yet;
     * 'building': listing and reading files in idle time; 'done': built, kept current by file events.
     */
    state: 'off' | 'building' | 'done';
    /** Files indexed, and source files the walk found (the caps and the token limit can leave some out). */
    files: number;
    found: number;
    tokens: number;
    /** Memory the index's arrays hold. */
    bytes: number;
    /** Wall-clock time of the last full build, idle pauses included; once done. */
    buildMs?: number;
    /** The most tokens the index holds (a larger workspace stops there). */
    maxTokens: number;
  };
}

export const StatusRequest = new RequestType0<StatusResult, void>('ptp/status');
/** Sent when the state changes, and (coalesced to one per 250 ms) after requests finish. */
export const StatusChangedNotification = new NotificationType<StatusResult>('ptp/statusChanged');

// ---- ptp/warm -------------------------------------------------------------------------------

/**
 * The cursor came to rest here (the person clicked or moved, and did not type): when the model
 * is idle, the worker runs the prompt for a completion at this position into its cache, so the
 * first keystroke there does not wait for the ~300-token prefill. No answer.
 */
export interface WarmParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
}

export const WarmNotification = new NotificationType<WarmParams>('ptp/warm');

// ---- ptp/trace ------------------------------------------------------------------------------

export interface TraceCall {
  index: number;
  /** Token texts committed by this call, in order. */
  tokens: string[];
  acceptedDrafts: number;
  /**
   * Where the verified speculation came from: PTP's drafter; a lookup in the prompt's FIM suffix,
   * in the rest of the prompt and output, in the document beyond the prompt, in the other open
   * files, in the workspace; the whitespace typed at the cursor; or none.
   */
  draft: 'ptp' | 'suffix' | 'context' | 'document' | 'open' | 'workspace' | 'typed' | 'none';
  /** Per token: the probability the model gave it (softmax at temperature 1, before top-k/top-p). */
  confidence: number[];
  rows: number;
  ms: number;
}

export interface TraceResult {
  /** The most recent requests, newest first. */
  requests: Array<{ requestId: string; uri: string; decoder: 'ptp' | 'ar'; stats: CompletionStats; prompt: string; calls: TraceCall[] }>;
}

export const TraceRequest = new RequestType<{ limit?: number }, TraceResult, void>('ptp/trace');

// ---- errors ---------------------------------------------------------------------------------

export const ErrorCodes = {
  /** The model failed to load; `message` names the file and the fix. */
  ModelNotLoaded: -32900,
  /** The request exceeded `requestTimeoutMs`. */
  Timeout: -32901,
  /** The document is not suitable (binary, too large); `message` says why. */
  DocumentRejected: -32902,
} as const;

/**
 * How the client starts the worker process: the same for the extension (workerClient.ts) and
 * for the benches that fork it (bench/lib/worker.ts), so that the soak measures what users run.
 * Together they take about 42 MiB off the worker's resident memory under the soak, at no
 * measurable cost in speed (bench/results/soak-variants.md, the model card's "Worker memory"):
 * - `--max-semi-space-size=2` (MiB): V8's young generation otherwise grows to 16 MiB per
 *   semi-space, most of it idle between requests (about 25 MiB of the worker's RSS).
 * - `MALLOC_ARENA_MAX=2`: glibc's malloc otherwise keeps an arena per thread that has
 *   allocated (onnxruntime runs in the libuv pool), each holding freed memory (about 10 MiB).
 *   Other allocators ignore it.
 */
export const WORKER_EXEC_ARGV: readonly string[] = ['--max-semi-space-size=2'];
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
