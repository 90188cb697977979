/**
 * Soak: a simulated person types into several files for ~10,000 inline completion requests
 * against the real worker (dist/server.js over IPC, as the extension starts it) with the
 * shipped model, and checks that the worker keeps working:
 *
 *   - the queue in the worker stays bounded (ptp/status `pending`, polled every 250 ms),
 *   - no request fails other than by its time cap, nothing reaches stderr (an unhandled
 *     rejection or crash would), the worker is alive at the end,
 *   - worker RSS after the soak is within 20 MB of where it settled after warm-up (warm-up: at
 *     least --warmup requests, one Generate Code run, and every file typed in or 20% of the
 *     requests sent; "settled": the median of the samples over the next 10% of requests;
 *     "after": the median of 5 samples in 5 s of idling at the end),
 *   - ptp/status answers throughout, within the 2 s request cap (onnxruntime-node runs a model
 *     call on the main thread, so status waits for the call in progress: a long prefill on a
 *     busy machine is the worst case).
 *
 *   npm run build && npm run bench:soak                  (= node --import tsx bench/soak.ts, ~8 min)
 *   npm run build && npm run bench:soak -- --requests 1000                  (a quick look)
 *
 * The worker gets the extension's Node options and environment (WORKER_EXEC_ARGV, WORKER_ENV
 * in src/protocol), not this process's: its RSS is what a user's worker has.
 *
 * Options: --requests N (10000), --speed S (simulated seconds per real second, 1.5), --seed N (1),
 * --warmup N (fewest requests before the RSS baseline, 1000), --out NAME (soak: bench/results/NAME.{md,json}).
 *
 * The typist, in simulated time (all waits are divided by --speed):
 *
 *   pick a file ─> delete a run of 4-14 lines ─> type it back ─────────────> next file
 *                                                 │
 *     each keystroke (about 50 ms apart: 20 characters a second, jittered):
 *       didChange (one character; Enter brings the next line's indentation, as auto-indent does)
 *       the previous request, if unanswered, is cancelled ($/cancelRequest) 4 times in 5;
 *       the 5th is left to the worker's newest-wins rule
 *       textDocument/inlineCompletion (automatic, the extension's default decoding)
 *     after Enter 1 time in 2, after a space or punctuation 1 in 25: a pause of 0.3-1.5 s; at
 *       its end an answer that matches what comes next is accepted (one edit) 1 time in 2
 *     1 line in 50: a 2-5 s pause; 1 pause in 40 asks explicitly (Invoked, 3 alternatives)
 *     1 character in 40: a typo, 1-3 wrong characters and as many backspaces (each asks too)
 *     every 1,500 requests: Generate Code at the cursor, watched until it is done
 *     leaving a file: 1 in 4 it is closed (didClose), and reopened when the typist comes back
 *
 * No debounce: every keystroke asks, the worst case (the extension waits 50-1000 ms and adopts a
 * running request the typing follows, so it sends fewer).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CancellationTokenSource,
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializeRequest,
  InitializedNotification,
  InlineCompletionRequest,
  InlineCompletionTriggerKind,
  IPCMessageReader,
  IPCMessageWriter,
  ResponseError,
  ShutdownRequest,
  createProtocolConnection,
  type InlineCompletionItem,
  type InlineCompletionList,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { DecodingSettings, InitializationOptions, InlineCompletionExtras, StatusResult, WorkerSettings } from '../src/protocol/index';
import { ErrorCodes, GenerateRequest, StatusRequest, WORKER_ENV, WORKER_EXEC_ARGV } from '../src/protocol/index';
import { MODEL_DIR, REPO, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, log, table, writeResults } from './lib/report';
import { Rng } from './lib/rng';
import { median, quantile } from './lib/stats';

const SERVER = join(REPO, 'dist', 'server.js');

// ---- options ---------------------------------------------------------------------------------

const opts = args();
const REQUESTS = Number(opts.get('requests') ?? 10_000);
/** Simulated seconds per real second: 1.5 keeps 10,000 requests under ~8 minutes here. */
const SPEED = Number(opts.get('speed') ?? 1.5);
const SEED = Number(opts.get('seed') ?? 1);
const WARMUP = Number(opts.get('warmup') ?? Math.min(1000, Math.floor(REQUESTS / 10)));
const OUT = opts.get('out') ?? 'soak';

/** The checks. */
const RSS_TOLERANCE_BYTES = 20 * 2 ** 20;
/** One running request, the newest waiting, and one finishing its last model call after a cancel. */
const MAX_PENDING = 3;
const STATUS_POLL_MS = 250;
/** Generate Code at the first pause after every this many requests. */
const GENERATE_EVERY = Math.min(1500, Math.floor(REQUESTS / 6));
const IDLE_SAMPLES = 5;

/** The extension's defaults (package.json ptp.* settings). */
const SETTINGS: WorkerSettings = { device: 'auto', threads: 0, logLevel: 'info', requestTimeoutMs: 2000 };
const DECODING: DecodingSettings = { decoder: 'ptp', blockSize: 'auto', temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 64 };

// ---- the typist's files ----------------------------------------------------------------------

interface SourceFile {
  uri: string;
  languageId: string;
  /** The file as it should end up; the typist re-types runs of its lines. */
  target: string;
}

/** Go has no file in this repository; a small one to type. */
const GO_FILE = `package cache

import (
	"container/list"
	"sync"
)

// LRU is a fixed-size least-recently-used cache, safe for concurrent use.
type LRU struct {
	mu       sync.Mutex
	capacity int
	order    *list.List
	items    map[string]*list.Element
}

type entry struct {
	key   string
	value []byte
}

// New returns an empty cache holding at most capacity entries.
func New(capacity int) *LRU {
	return &LRU{capacity: capacity, order: list.New(), items: make(map[string]*list.Element)}
}

// Get returns the value for key and marks it as recently used.
func (c *LRU) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).value, true
}

// Put stores value under key, evicting the least recently used entry when full.
func (c *LRU) Put(key string, value []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*entry).value = value
		c.order.MoveToFront(el)
		return
	}
	if c.order.Len() >= c.capacity {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.items, oldest.Value.(*entry).key)
	}
	c.items[key] = c.order.PushFront(&entry{key: key, value: value})
}

// Len reports how many entries the cache holds.
func (c *LRU) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
`;

function sourceFiles(): SourceFile[] {
  const fromRepo: Array<[string, string]> = [
    ['src/engine/sampling.ts', 'typescript'],
    ['src/context/stop.ts', 'typescript'],
    ['training/model.py', 'python'],
    ['training/data.py', 'python'],
    ['esbuild.config.mjs', 'javascript'],
  ];
  const files = fromRepo
    .filter(([path]) => existsSync(join(REPO, path)))
    .map(([path, languageId]) => ({ uri: `file:///soak/${path}`, languageId, target: readFileSync(join(REPO, path), 'utf8') }));
  files.push({ uri: 'file:///soak/cache/lru.go', languageId: 'go', target: GO_FILE });
  return files;
}

// ---- the worker ------------------------------------------------------------------------------

interface Worker {
  child: ChildProcess;
  connection: ProtocolConnection;
  stderr: () => string;
  /** window/logMessage lines of type Error. */
  logErrors: string[];
}

async function startWorker(): Promise<Worker> {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run npm run build first`);
  // Started as the extension starts it: its Node options and environment, not this process's
  // (fork's default execArgv would load tsx into the worker: +25 MiB that users never have).
  const child = fork(SERVER, ['--node-ipc'], { execArgv: [...WORKER_EXEC_ARGV], env: { ...process.env, ...WORKER_ENV }, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const connection = createProtocolConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
  const logErrors: string[] = [];
  connection.onNotification('window/logMessage', (p: { type: number; message: string }) => {
    if (p.type === 1) logErrors.push(p.message);
  });
  // As vscode-languageclient does: a closed connection rejects what is pending.
  connection.onClose(() => connection.dispose());
  connection.listen();
  const initializationOptions: InitializationOptions = { settings: SETTINGS, defaultModelPath: MODEL_DIR };
  await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions });
  await connection.sendNotification(InitializedNotification.type, {});
  for (;;) {
    const s = await connection.sendRequest(StatusRequest);
    if (s.state === 'ready') break;
    if (s.state === 'error') throw new Error(`the worker could not load the model: ${s.error}`);
    await sleep(100);
  }
  return { child, connection, stderr: () => stderr, logErrors };
}

// ---- the session -----------------------------------------------------------------------------

type Outcome = 'completed' | 'empty' | 'cancelled' | 'superseded' | 'timeout' | 'failed';

interface Sent {
  index: number;
  sentAt: number;
  cts: CancellationTokenSource;
  cancelledAt?: number;
  answeredAt?: number;
  outcome?: Outcome;
  items: InlineCompletionItem[];
  explicit: boolean;
}

interface StatusSample {
  t: number;
  sent: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  pending: number;
  statusMs: number;
}

class Session {
  readonly sent: Sent[] = [];
  readonly statusSamples: StatusSample[] = [];
  readonly failures: string[] = [];
  readonly generates: Array<{ ms: number; tokens: number; error?: string }> = [];
  readonly counts = { keystrokes: 0, typos: 0, accepted: 0, acceptedChars: 0, pauses: 0, longPauses: 0, invoked: 0, fileSwitches: 0, closes: 0, reopens: 0 };
  /** The request index where warm-up ended (see the top of the file). */
  warmupEnd: number | undefined;
  private readonly visited = new Set<string>();
  private inflight: Sent | undefined;
  private clock = performance.now();
  private readonly open = new Set<string>();
  private readonly versions = new Map<string, number>();
  private readonly texts = new Map<string, string>();
  private polling = true;
  private readonly poller: Promise<void>;

  constructor(
    private readonly w: Worker,
    private readonly random: Rng,
  ) {
    this.poller = this.poll();
  }

  get done(): boolean {
    return this.sent.length >= REQUESTS;
  }

  private fileCount = 0;

  async run(files: SourceFile[]): Promise<void> {
    this.fileCount = files.length;
    for (const f of files) await this.openFile(f, f.target);
    let fileIndex = 0;
    while (!this.done) {
      const file = files[fileIndex % files.length]!;
      if (!this.open.has(file.uri)) {
        this.counts.reopens++;
        await this.openFile(file, this.texts.get(file.uri)!);
      }
      await this.retypeRun(file);
      if (this.random.next() < 0.25) await this.closeFile(file);
      fileIndex++;
      this.counts.fileSwitches++;
    }
    this.polling = false;
    await this.poller;
    await this.settleInflight();
  }

  /** Deletes a run of lines and types it back. */
  private async retypeRun(file: SourceFile): Promise<void> {
    const lines = file.target.split('\n');
    const count = 4 + Math.floor(this.random.next() * 11);
    const first = Math.floor(this.random.next() * Math.max(1, lines.length - count));
    const start = lines.slice(0, first).join('\n').length + (first > 0 ? 1 : 0);
    const run = lines.slice(first, first + count).join('\n');
    // Keep the run's leading indentation (the cursor sits after it, as after Enter).
    const indent = /^[ \t]*/.exec(run)![0];
    let cursor = start + indent.length;
    await this.edit(file, cursor, cursor + run.length - indent.length, '');
    let i = indent.length;
    while (i < run.length && !this.done) {
      let typed = run[i]!;
      if (typed === '\n') {
        // Enter: the editor indents the new line.
        const next = /^[ \t]*/.exec(run.slice(i + 1))![0];
        typed += next;
      }
      if (typed !== '\n' && this.random.next() < 1 / 40) {
        await this.typo(file, cursor);
      }
      await this.keystroke(file, cursor, typed);
      cursor += typed.length;
      i += typed.length;
      const atLineEnd = typed.startsWith('\n');
      if (atLineEnd || /[ .,(]/.test(typed)) {
        const accepted = await this.maybePause(file, cursor, run.slice(i), atLineEnd);
        cursor += accepted;
        i += accepted;
      }
    }
  }

  /** A wrong character, 1-3 more keystrokes, then as many backspaces. */
  private async typo(file: SourceFile, cursor: number): Promise<void> {
    this.counts.typos++;
    const extra = 1 + Math.floor(this.random.next() * 3);
    const junk = 'qxzjvk'.slice(0, extra);
    for (let k = 0; k < extra && !this.done; k++) await this.keystroke(file, cursor + k, junk[k]!);
    for (let k = extra; k > 0 && !this.done; k--) {
      await this.wait(this.keyInterval());
      await this.edit(file, cursor + k - 1, cursor + k, '');
      this.request(file, cursor + k - 1, false);
    }
  }

  private async keystroke(file: SourceFile, cursor: number, text: string): Promise<void> {
    await this.wait(this.keyInterval());
    await this.edit(file, cursor, cursor, text);
    this.counts.keystrokes++;
    this.request(file, cursor + text.length, false);
  }

  /**
   * After a new line (or, less often, after a space or punctuation): maybe pause, accept a
   * matching completion, ask explicitly, or run Generate Code. Returns accepted characters.
   */
  private async maybePause(file: SourceFile, cursor: number, rest: string, atLineEnd: boolean): Promise<number> {
    if (atLineEnd && this.random.next() < 1 / 50) {
      this.counts.longPauses++;
      await this.wait(2000 + this.random.next() * 3000);
    } else if (this.random.next() < (atLineEnd ? 1 / 2 : 1 / 25)) {
      this.counts.pauses++;
      if (this.random.next() < 1 / 40) {
        this.counts.invoked++;
        this.request(file, cursor, true);
      }
      await this.wait(300 + this.random.next() * 1200);
    } else {
      return 0;
    }
    if (this.generates.length < Math.floor(this.sent.length / GENERATE_EVERY)) await this.generate(file, cursor);
    const last = this.inflight;
    const text = last?.outcome === 'completed' ? textOf(last.items[0]!) : '';
    let n = 0;
    while (n < text.length && n < rest.length && text[n] === rest[n]) n++;
    if (n === 0 || this.random.next() < 0.5) return 0;
    await this.edit(file, cursor, cursor, rest.slice(0, n));
    this.counts.accepted++;
    this.counts.acceptedChars += n;
    this.request(file, cursor + n, false);
    return n;
  }

  private async generate(file: SourceFile, cursor: number): Promise<void> {
    await this.settleInflight();
    const started = performance.now();
    try {
      const r = await this.w.connection.sendRequest(GenerateRequest, {
        textDocument: { uri: file.uri },
        position: positionAt(this.texts.get(file.uri)!, cursor),
        decoding: { ...DECODING, maxTokens: 384 },
      });
      this.generates.push({ ms: performance.now() - started, tokens: r.stats.tokens });
    } catch (e) {
      this.generates.push({ ms: performance.now() - started, tokens: 0, error: String(e) });
    }
    this.clock = performance.now();
  }

  /** Sends the request for the cursor; the one before it, if unanswered, is cancelled 4 times in 5. */
  private request(file: SourceFile, cursor: number, explicit: boolean): void {
    if (this.done) return;
    const previous = this.inflight;
    if (previous !== undefined && previous.outcome === undefined && this.random.next() < 0.8) {
      previous.cancelledAt = performance.now();
      previous.cts.cancel();
    }
    const cts = new CancellationTokenSource();
    const sent: Sent = { index: this.sent.length, sentAt: performance.now(), cts, items: [], explicit };
    this.sent.push(sent);
    this.inflight = sent;
    this.visited.add(file.uri);
    const everyFile = this.visited.size === this.fileCount || sent.index >= REQUESTS / 5;
    if (this.warmupEnd === undefined && sent.index >= WARMUP && this.generates.length > 0 && everyFile) this.warmupEnd = sent.index;
    const extras: InlineCompletionExtras = { decoding: DECODING, alternatives: explicit ? 3 : 1 };
    this.w.connection
      .sendRequest(
        InlineCompletionRequest.type,
        {
          textDocument: { uri: file.uri },
          position: positionAt(this.texts.get(file.uri)!, cursor),
          context: { triggerKind: explicit ? InlineCompletionTriggerKind.Invoked : InlineCompletionTriggerKind.Automatic },
          ptp: extras,
        } as never,
        cts.token,
      )
      .then(
        (r: InlineCompletionList | InlineCompletionItem[] | null) => {
          sent.items = r === null ? [] : Array.isArray(r) ? r : r.items;
          sent.outcome =
            sent.items.length > 0 ? 'completed' : sent.cancelledAt !== undefined ? 'cancelled' : this.sent.length > sent.index + 1 ? 'superseded' : 'empty';
        },
        (e: unknown) => {
          if (e instanceof ResponseError && e.code === ErrorCodes.Timeout) sent.outcome = 'timeout';
          else {
            sent.outcome = 'failed';
            this.failures.push(`request ${sent.index}: ${String(e)}`);
          }
        },
      )
      .finally(() => {
        sent.answeredAt = performance.now();
        cts.dispose();
      });
  }

  private async settleInflight(): Promise<void> {
    while (this.sent.some((s) => s.outcome === undefined)) await sleep(10);
  }

  private async edit(file: SourceFile, from: number, to: number, text: string): Promise<void> {
    const before = this.texts.get(file.uri)!;
    const version = (this.versions.get(file.uri) ?? 1) + 1;
    this.versions.set(file.uri, version);
    this.texts.set(file.uri, before.slice(0, from) + text + before.slice(to));
    await this.w.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri: file.uri, version },
      contentChanges: [{ range: { start: positionAt(before, from), end: positionAt(before, to) }, text }],
    });
  }

  private async openFile(file: SourceFile, text: string): Promise<void> {
    const version = (this.versions.get(file.uri) ?? 0) + 1;
    this.versions.set(file.uri, version);
    this.texts.set(file.uri, text);
    this.open.add(file.uri);
    await this.w.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: file.uri, languageId: file.languageId, version, text } });
  }

  private async closeFile(file: SourceFile): Promise<void> {
    this.counts.closes++;
    this.open.delete(file.uri);
    await this.w.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: file.uri } });
  }

  /** 20 characters a second on average: 50 ms, jittered between 30 and 70 ms. */
  private keyInterval(): number {
    return 30 + 40 * this.random.next();
  }

  /** Waits `simulatedMs` of simulated time, against an absolute clock so that waits do not drift. */
  private async wait(simulatedMs: number): Promise<void> {
    this.clock += simulatedMs / SPEED;
    const ms = this.clock - performance.now();
    if (ms > 0) await sleep(ms);
    else this.clock = performance.now();
  }

  async status(): Promise<StatusResult> {
    const started = performance.now();
    const s = await this.w.connection.sendRequest(StatusRequest);
    this.statusSamples.push({ t: started, sent: this.sent.length, rssBytes: s.rssBytes, heapUsedBytes: s.heapUsedBytes, externalBytes: s.externalBytes, pending: s.pending, statusMs: performance.now() - started });
    return s;
  }

  private async poll(): Promise<void> {
    while (this.polling) {
      await sleep(STATUS_POLL_MS);
      if (this.polling) await this.status();
    }
  }
}

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rng = new Rng(SEED);
  const files = sourceFiles();
  const run = runInfo(createHash('sha256').update(readFileSync(join(MODEL_DIR, 'model.onnx'))).digest('hex'));
  log(`soak: ${REQUESTS} requests, speed ${SPEED}x, seed ${SEED}, warm-up ${WARMUP}; ${files.length} files (${files.map((f) => f.languageId).join(', ')})`);
  const w = await startWorker();
  const startStatus = await w.connection.sendRequest(StatusRequest);
  const session = new Session(w, rng);
  const started = performance.now();
  const progress = setInterval(() => {
    const s = session.statusSamples.at(-1);
    log(`  ${session.sent.length} sent, ${((performance.now() - started) / 1000).toFixed(0)} s, rss ${s ? mib(s.rssBytes) : '?'} MiB, pending ${s?.pending ?? '?'}`);
  }, 30_000);
  await session.run(files);
  clearInterval(progress);
  const soakMs = performance.now() - started;
  // Idle, as a person reading: the memory the soak left behind.
  const idle: StatusResult[] = [];
  for (let i = 0; i < IDLE_SAMPLES; i++) {
    await sleep(1000);
    idle.push(await session.status());
  }
  const end = idle.at(-1)!;
  const alive = w.child.exitCode === null && w.child.signalCode === null;
  try {
    await w.connection.sendRequest(ShutdownRequest.type);
    await w.connection.sendNotification(ExitNotification.type);
  } catch {
    // Reported below as not alive.
  }
  run.load.push(sampleLoad());

  // ---- numbers ----
  const by = (o: Outcome): Sent[] => session.sent.filter((s) => s.outcome === o);
  const completed = by('completed');
  const latency = completed.map((s) => s.answeredAt! - s.sentAt);
  const cancelToAnswer = session.sent.filter((s) => s.cancelledAt !== undefined && s.answeredAt !== undefined).map((s) => s.answeredAt! - s.cancelledAt!);
  const pendings = session.statusSamples.map((s) => s.pending);
  const statusMs = session.statusSamples.map((s) => s.statusMs);
  const rss = session.statusSamples.map((s) => s.rssBytes);
  const warmupEnd = session.warmupEnd ?? REQUESTS;
  const settledWindow = session.statusSamples.filter((s) => s.sent >= warmupEnd && s.sent < warmupEnd + REQUESTS / 10).map((s) => s.rssBytes);
  const warmRss = median(settledWindow);
  const endRss = median(idle.map((s) => s.rssBytes));
  const rssDelta = endRss - warmRss;
  const afterWarmup = session.statusSamples.filter((s) => s.sent >= warmupEnd);
  const slope = slopePerThousand(afterWarmup.map((s) => [s.sent, s.rssBytes]));
  const stderr = w.stderr();

  const checks = [
    { check: `queue depth (ptp/status pending) never above ${MAX_PENDING}`, ok: Math.max(...pendings) <= MAX_PENDING, value: `max ${Math.max(...pendings)}` },
    { check: 'no request failed (other than by its time cap)', ok: session.failures.length === 0, value: `${session.failures.length} failed` },
    { check: 'nothing on the worker stderr (unhandled rejections, crashes)', ok: stderr === '', value: `${stderr.length} bytes` },
    { check: 'no error lines in the worker log', ok: w.logErrors.length === 0, value: `${w.logErrors.length}` },
    { check: 'the worker is alive at the end', ok: alive, value: String(alive) },
    { check: 'RSS after the soak within 20 MB of where it settled after warm-up', ok: Math.abs(rssDelta) <= RSS_TOLERANCE_BYTES, value: `${mib(warmRss)} → ${mib(endRss)} MiB (${rssDelta >= 0 ? '+' : ''}${mib(rssDelta)} MiB)` },
    // The worker answers between model calls (onnxruntime-node runs a call on the main thread).
    { check: `ptp/status answered within the ${SETTINGS.requestTimeoutMs} ms request cap every time`, ok: Math.max(...statusMs) < SETTINGS.requestTimeoutMs, value: `p99 ${p99(statusMs)} ms, max ${Math.max(...statusMs).toFixed(0)} ms` },
  ];

  const summary = {
    requests: {
      sent: session.sent.length,
      completed: completed.length,
      cancelledByClient: by('cancelled').length,
      supersededInWorker: by('superseded').length,
      emptyAnswer: by('empty').length,
      timeout: by('timeout').length,
      failed: by('failed').length,
      explicit: session.sent.filter((s) => s.explicit).length,
    },
    completedLatencyMs: stats(latency),
    cancelToAnswerMs: stats(cancelToAnswer),
    statusLatencyMs: stats(statusMs),
    pending: { max: Math.max(...pendings), histogram: histogram(pendings) },
    rss: {
      atStartBytes: startStatus.rssBytes,
      warmupEndRequest: warmupEnd,
      settledAfterWarmupBytes: warmRss,
      afterSoakBytes: endRss,
      deltaBytes: rssDelta,
      slopeBytesPer1000Requests: Math.round(slope),
      minAfterWarmupBytes: Math.min(...afterWarmup.map((s) => s.rssBytes)),
      maxAfterWarmupBytes: Math.max(...afterWarmup.map((s) => s.rssBytes)),
      maxBytes: Math.max(...rss),
    },
    worker: { served: end.served, cancelled: end.cancelled, pending: end.pending, stderr, logErrors: w.logErrors.slice(0, 20), alive },
    typist: session.counts,
    generates: session.generates,
    failures: session.failures.slice(0, 20),
  };
  const info = {
    ...run,
    durationS: round(soakMs / 1000, 1),
    simulatedS: round((soakMs / 1000) * SPEED, 1),
    speed: SPEED,
    seed: SEED,
    warmupRequests: warmupEnd,
    worker: { device: startStatus.model?.device, threads: startStatus.model?.threads },
    settings: SETTINGS,
    decoding: DECODING,
    files: files.map((f) => ({ uri: f.uri, languageId: f.languageId })),
  };
  const rssTimeline = timeline(session.statusSamples);

  const md = [
    '# Soak: a simulated typist against the real worker',
    '',
    ...runInfoMarkdown(run),
    `- run: ${info.durationS} s real = ${info.simulatedS} s simulated (speed ${SPEED}x), seed ${SEED}; the build in dist/ (\`npm run build\` first)`,
    `- worker: dist/server.js over IPC, the extension's default settings (${info.worker.device}, ${info.worker.threads} thread(s), requestTimeoutMs ${SETTINGS.requestTimeoutMs}); decoding PTP, block size auto, temperature 0.2, top-k 50, top-p 0.95, maxTokens 64`,
    `- files: ${files.map((f) => `${f.uri.replace('file:///soak/', '')} (${f.languageId})`).join(', ')}`,
    `- typist: ${session.counts.keystrokes} keystrokes at ~20 characters a simulated second, ${session.counts.typos} typos, ${session.counts.pauses} short and ${session.counts.longPauses} long pauses, ${session.counts.accepted} completions accepted (${session.counts.acceptedChars} characters), ${session.counts.invoked} explicit requests, ${session.generates.length} Generate Code runs, ${session.counts.fileSwitches} file switches, ${session.counts.closes} closes and ${session.counts.reopens} reopens`,
    '',
    '## Checks',
    '',
    ...table(
      ['check', 'result', 'value'],
      checks.map((c) => [c.check, c.ok ? 'pass' : '**FAIL**', c.value]),
    ),
    '',
    '## Requests',
    '',
    ...table(
      ['outcome', 'requests', 'share'],
      [
        ['sent', summary.requests.sent, '100%'],
        ['completed (answered with a completion)', summary.requests.completed, pct(summary.requests.completed, summary.requests.sent)],
        ['cancelled by the client (next keystroke), answered with none', summary.requests.cancelledByClient, pct(summary.requests.cancelledByClient, summary.requests.sent)],
        ['superseded in the worker (newer request, no cancel sent), none', summary.requests.supersededInWorker, pct(summary.requests.supersededInWorker, summary.requests.sent)],
        ['answered with no completion (nothing useful to add)', summary.requests.emptyAnswer, pct(summary.requests.emptyAnswer, summary.requests.sent)],
        ['hit the 2 s cap (ErrorCodes.Timeout)', summary.requests.timeout, pct(summary.requests.timeout, summary.requests.sent)],
        ['failed otherwise', summary.requests.failed, pct(summary.requests.failed, summary.requests.sent)],
      ],
    ),
    '',
    ...table(
      ['latency, ms', 'n', 'p50', 'p95', 'p99', 'max'],
      [
        ['completed requests (sent → answer)', ...statRow(summary.completedLatencyMs)],
        ['cancelled requests (cancel → answer)', ...statRow(summary.cancelToAnswerMs)],
        [`ptp/status (polled every ${STATUS_POLL_MS} ms)`, ...statRow(summary.statusLatencyMs)],
      ],
    ),
    '',
    `Queue depth (ptp/status \`pending\`, ${pendings.length} samples): ${Object.entries(summary.pending.histogram)
      .map(([d, n]) => `${d}: ${n}`)
      .join(', ')}.`,
    '',
    `Worker counters at the end: served ${end.served}, cancelled ${end.cancelled}, pending ${end.pending}.` +
      (session.generates.length > 0 ? ` Generate Code: ${session.generates.map((g) => `${g.tokens} tokens in ${(g.ms / 1000).toFixed(1)} s${g.error ? ` (${g.error})` : ''}`).join('; ')}.` : ''),
    '',
    '## Memory (worker RSS from ptp/status)',
    '',
    `At start ${mib(startStatus.rssBytes)} MiB. Warm-up ended at request ${warmupEnd} (at least ${WARMUP} requests, a Generate Code run, every file typed in or ${REQUESTS / 5} requests); ` +
      `settled after it (median of the samples over the next ${REQUESTS / 10} requests) ${mib(warmRss)} MiB; after the soak (median of ${IDLE_SAMPLES} samples over ${IDLE_SAMPLES} s idle) ${mib(endRss)} MiB. ` +
      `After warm-up the samples ranged ${mib(summary.rss.minAfterWarmupBytes)}-${mib(summary.rss.maxAfterWarmupBytes)} MiB and their least-squares trend was ${slope >= 0 ? '+' : ''}${mib(slope)} MiB per 1,000 requests.`,
    '',
    'Where it is (medians of the samples): the JS heap in use, memory outside it held by JS objects (ArrayBuffers: the',
    "engine's key/value caches and output buffers), and the rest: native (onnxruntime, node, the mapped libraries).",
    '',
    ...table(
      ['requests sent', 'RSS MiB', 'JS heap MiB', 'external MiB', 'native MiB', 'pending (max)'],
      rssTimeline.map((r) => [r.sent, mib(r.rssBytes), mib(r.heapUsedBytes), mib(r.externalBytes), mib(r.nativeBytes), r.pending]),
    ),
  ];
  // Every status sample, for a closer look: [requests sent, RSS MiB, JS heap MiB, external MiB, pending, status ms].
  const samples = session.statusSamples.map((s) => [s.sent, ...[s.rssBytes, s.heapUsedBytes, s.externalBytes].map((b) => round(b / 2 ** 20, 1)), s.pending, round(s.statusMs, 1)]);
  writeResults(OUT, { info, checks, summary, rssTimeline, samples }, md);
  for (const c of checks) log(`${c.ok ? 'pass' : 'FAIL'}  ${c.check}: ${c.value}`);
  log(
    `sent ${summary.requests.sent}, completed ${summary.requests.completed}, cancelled ${summary.requests.cancelledByClient}, superseded ${summary.requests.supersededInWorker}, ` +
      `empty ${summary.requests.emptyAnswer}, timeout ${summary.requests.timeout}; completed p50 ${summary.completedLatencyMs.p50} ms, p95 ${summary.completedLatencyMs.p95} ms`,
  );
  await sleep(500);
  if (w.child.exitCode === null) w.child.kill();
  process.exit(checks.every((c) => c.ok) ? 0 : 1);
}

// ---- helpers ---------------------------------------------------------------------------------

function textOf(item: InlineCompletionItem): string {
  return typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function stats(xs: readonly number[]): Stats {
  return {
    n: xs.length,
    p50: round(quantile(xs, 0.5), 1),
    p95: round(quantile(xs, 0.95), 1),
    p99: round(quantile(xs, 0.99), 1),
    max: round(Math.max(...xs), 1),
    mean: round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 1),
  };
}

function statRow(s: Stats): Array<string | number> {
  return [s.n, s.p50, s.p95, s.p99, s.max];
}

function histogram(xs: readonly number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) h[String(x)] = (h[String(x)] ?? 0) + 1;
  return h;
}

interface TimelineRow {
  sent: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** RSS less the JS heap in use and external memory: onnxruntime, node, the mapped libraries. */
  nativeBytes: number;
  pending: number;
}

/** Memory (medians) and queue depth per tenth of the run. */
function timeline(samples: readonly StatusSample[]): TimelineRow[] {
  const step = Math.max(1, Math.round(REQUESTS / 10));
  const rows: TimelineRow[] = [];
  for (let from = 0; from < REQUESTS; from += step) {
    const window = samples.filter((s) => s.sent >= from && s.sent < from + step);
    if (window.length === 0) continue;
    const med = (f: (s: StatusSample) => number): number => median(window.map(f));
    rows.push({
      sent: from + step,
      rssBytes: med((s) => s.rssBytes),
      heapUsedBytes: med((s) => s.heapUsedBytes),
      externalBytes: med((s) => s.externalBytes),
      nativeBytes: med((s) => s.rssBytes - s.heapUsedBytes - s.externalBytes),
      pending: Math.max(...window.map((s) => s.pending)),
    });
  }
  return rows;
}

function p99(xs: readonly number[]): number {
  return round(quantile(xs, 0.99), 0);
}

/** Least-squares slope of y over x, per 1000 x. */
function slopePerThousand(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? NaN : (1000 * sxy) / sxx;
}

const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const pct = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void main().catch((e: unknown) => {
  log(`soak failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(2);
});
