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
 * Here: the options, the checks' limits and the run's order. bench/lib/worker.ts starts the
 * worker, bench/lib/typist.ts is the typist (bench/lib/typistFiles.ts its files), and
 * bench/lib/soakReport.ts turns what they recorded into the checks and the results file.
 *
 * Options: --requests N (10000), --speed S (simulated seconds per real second, 1.5), --seed N (1),
 * --warmup N (fewest requests before the RSS baseline, 1000), --out NAME (soak: bench/results/NAME.{md,json}),
 * --workspace N (0: none): a trusted workspace folder of N source files (bench/lib/workspaceFixture.ts,
 * from node_modules, plus 10 files the index must skip) is added, as "Add Folder to Workspace"
 * does, at half the warm-up; warm-up then also waits for the index to be built, so the RSS baseline
 * holds it. The report adds the index's build time, files and memory, worker RSS against 400 MB,
 * and completion latency before the folder, while the index builds, and after.
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
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StatusResult } from '../src/protocol/index';
import { StatusRequest } from '../src/protocol/index';
import { MODEL_DIR, runInfo, sampleLoad } from './lib/machine';
import { args, exitOnError, log, mib, writeResults } from './lib/report';
import { Rng } from './lib/rng';
import { soakReport, type SoakConfig } from './lib/soakReport';
import { Typist } from './lib/typist';
import { typistFiles } from './lib/typistFiles';
import { addFolder, isAlive, shutdownWorker, startWorker } from './lib/worker';
import { makeWorkspace } from './lib/workspaceFixture';

// ---- options ---------------------------------------------------------------------------------

const opts = args();
const REQUESTS = Number(opts.get('requests') ?? 10_000);
const OUT = opts.get('out') ?? 'soak';
const WORKSPACE_FILES = Number(opts.get('workspace') ?? 0);
const WARMUP = Number(opts.get('warmup') ?? Math.min(1000, Math.floor(REQUESTS / 10)));

const config: SoakConfig = {
  requests: REQUESTS,
  /** Simulated seconds per real second: 1.5 keeps 10,000 requests under ~8 minutes here. */
  speed: Number(opts.get('speed') ?? 1.5),
  seed: Number(opts.get('seed') ?? 1),
  warmup: WARMUP,
  /** The extension's defaults (package.json ptp.* settings), in a trusted workspace when there is one. */
  settings: {
    device: 'auto',
    threads: 0,
    logLevel: 'info',
    requestTimeoutMs: 2000,
    ...(WORKSPACE_FILES > 0 ? { context: { openFiles: true, workspace: true, trusted: true, exclude: [] } } : {}),
  },
  decoding: { decoder: 'ptp', blockSize: 'auto', temperature: 0.2, topK: 50, topP: 0.95, maxTokens: 64 },
  statusPollMs: 250,
  idleSamples: 5,
  // The checks.
  /** One running request, the newest waiting, and one finishing its last model call after a cancel. */
  maxPending: 3,
  rssToleranceBytes: 20 * 2 ** 20,
  maxRssBytes: 400 * 2 ** 20,
};
/** Generate Code at the first pause after every this many requests. */
const GENERATE_EVERY = Math.min(1500, Math.floor(REQUESTS / 6));

// ---- main ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rng = new Rng(config.seed);
  const files = typistFiles();
  const run = runInfo(createHash('sha256').update(readFileSync(join(MODEL_DIR, 'model.onnx'))).digest('hex'));
  log(`soak: ${REQUESTS} requests, speed ${config.speed}x, seed ${config.seed}, warm-up ${config.warmup}; ${files.length} files (${files.map((f) => f.languageId).join(', ')})`);
  const workspaceDir = WORKSPACE_FILES > 0 ? mkdtempSync(join(tmpdir(), 'ptp-soak-workspace-')) : undefined;
  const fixture = workspaceDir === undefined ? undefined : makeWorkspace(workspaceDir, WORKSPACE_FILES);
  if (fixture) log(`workspace: ${fixture.files} source files (${mib(fixture.bytes)} MiB) and ${fixture.skippedExpected} to skip in ${workspaceDir}, added at request ${Math.floor(WARMUP / 2)}`);
  const w = await startWorker(config.settings, MODEL_DIR);
  const startStatus = await w.connection.sendRequest(StatusRequest);
  // Warm-up also waits for the index (read from the typist's own status samples).
  const built = (): boolean => fixture === undefined || session.statusSamples.at(-1)?.workspace.state === 'done';
  const session = new Typist(w, rng, { requests: REQUESTS, speed: config.speed, warmup: config.warmup, generateEvery: GENERATE_EVERY, decoding: config.decoding, statusPollMs: config.statusPollMs, ready: built });
  const started = performance.now();
  let addedAt: number | undefined;
  const watch = setInterval(() => {
    if (workspaceDir === undefined || addedAt !== undefined || session.sent.length < WARMUP / 2) return;
    addedAt = session.sent.length;
    void addFolder(w, workspaceDir);
  }, 50);
  const progress = setInterval(() => {
    const s = session.statusSamples.at(-1);
    const ws = s && fixture ? `, workspace ${s.workspace.state} ${s.workspace.files} files` : '';
    log(`  ${session.sent.length} sent, ${((performance.now() - started) / 1000).toFixed(0)} s, rss ${s ? mib(s.rssBytes) : '?'} MiB, pending ${s?.pending ?? '?'}${ws}`);
  }, 30_000);
  await session.run(files);
  clearInterval(progress);
  clearInterval(watch);
  const soakMs = performance.now() - started;
  // Idle, as a person reading: the memory the soak left behind.
  const idle: StatusResult[] = [];
  for (let i = 0; i < config.idleSamples; i++) {
    await sleep(1000);
    idle.push(await session.status());
  }
  const alive = isAlive(w);
  await shutdownWorker(w);
  run.load.push(sampleLoad());

  if (workspaceDir !== undefined) rmSync(workspaceDir, { recursive: true, force: true });
  const workspace = fixture && { ...fixture, addedAt };
  const { info, checks, summary, rssTimeline, samples, md } = soakReport(config, { session, worker: w, files, run, startStatus, idle, alive, soakMs, workspace });
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

void main().catch(exitOnError(2, 'soak failed: '));
