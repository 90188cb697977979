/**
 * The soak's results (bench/soak.ts): its pass/fail checks, the summary in the JSON, and the
 * markdown tables, from what the typist and the worker recorded.
 */
import type { DecodingSettings, StatusResult, WorkerSettings } from '../../src/protocol/index';
import type { RunInfo } from './machine';
import { runInfoMarkdown } from './machine';
import { mib, table } from './report';
import { histogram, median, percentiles, quantile, round, slopePerThousand, type Percentiles } from './stats';
import type { Outcome, Sent, StatusSample, Typist } from './typist';
import type { SourceFile } from './typistFiles';
import type { Worker } from './worker';
import type { WorkspaceFixture } from './workspaceFixture';

/** What the soak ran with and what it checks against. */
export interface SoakConfig {
  readonly requests: number;
  readonly speed: number;
  readonly seed: number;
  readonly warmup: number;
  readonly settings: WorkerSettings;
  readonly decoding: DecodingSettings;
  readonly statusPollMs: number;
  readonly idleSamples: number;
  /** Most ptp/status `pending` allowed. */
  readonly maxPending: number;
  /** Most RSS change from the settled baseline to after the soak. */
  readonly rssToleranceBytes: number;
  /** Most worker RSS at any sample. */
  readonly maxRssBytes: number;
}

/** The workspace folder the soak added (--workspace). */
export interface SoakWorkspace extends WorkspaceFixture {
  /** Requests sent when the folder was added; undefined if the soak ended first. */
  readonly addedAt: number | undefined;
}

/** What the run left to report on. */
export interface SoakRun {
  readonly session: Typist;
  readonly worker: Worker;
  readonly files: readonly SourceFile[];
  readonly run: RunInfo;
  /** ptp/status once the model was loaded, before the first request. */
  readonly startStatus: StatusResult;
  /** ptp/status samples while idling after the soak. */
  readonly idle: readonly StatusResult[];
  readonly alive: boolean;
  readonly soakMs: number;
  readonly workspace?: SoakWorkspace;
}

export interface Check {
  check: string;
  ok: boolean;
  value: string;
}

export function soakReport(config: SoakConfig, r: SoakRun) {
  const { session, files, run, startStatus, idle, alive, soakMs } = r;
  const w = r.worker;
  const end = idle.at(-1)!;
  const by = (o: Outcome): Sent[] => session.sent.filter((s) => s.outcome === o);
  const completed = by('completed');
  const latency = completed.map((s) => s.answeredAt! - s.sentAt);
  const cancelToAnswer = session.sent.filter((s) => s.cancelledAt !== undefined && s.answeredAt !== undefined).map((s) => s.answeredAt! - s.cancelledAt!);
  const pendings = session.statusSamples.map((s) => s.pending);
  const statusMs = session.statusSamples.map((s) => s.statusMs);
  const rss = session.statusSamples.map((s) => s.rssBytes);
  const warmupEnd = session.warmupEnd ?? config.requests;
  const settledWindow = session.statusSamples.filter((s) => s.sent >= warmupEnd && s.sent < warmupEnd + config.requests / 10).map((s) => s.rssBytes);
  const warmRss = median(settledWindow);
  const endRss = median(idle.map((s) => s.rssBytes));
  const rssDelta = endRss - warmRss;
  const afterWarmup = session.statusSamples.filter((s) => s.sent >= warmupEnd);
  const slope = slopePerThousand(afterWarmup.map((s) => [s.sent, s.rssBytes]));
  const stderr = w.stderr();

  const checks: Check[] = [
    { check: `queue depth (ptp/status pending) never above ${config.maxPending}`, ok: Math.max(...pendings) <= config.maxPending, value: `max ${Math.max(...pendings)}` },
    { check: 'no request failed (other than by its time cap)', ok: session.failures.length === 0, value: `${session.failures.length} failed` },
    { check: 'nothing on the worker stderr (unhandled rejections, crashes)', ok: stderr === '', value: `${stderr.length} bytes` },
    { check: 'no error lines in the worker log', ok: w.logErrors.length === 0, value: `${w.logErrors.length}` },
    { check: 'the worker is alive at the end', ok: alive, value: String(alive) },
    { check: 'RSS after the soak within 20 MB of where it settled after warm-up', ok: Math.abs(rssDelta) <= config.rssToleranceBytes, value: `${mib(warmRss)} → ${mib(endRss)} MiB (${rssDelta >= 0 ? '+' : ''}${mib(rssDelta)} MiB)` },
    // The worker answers between model calls (onnxruntime-node runs a call on the main thread).
    { check: `ptp/status answered within the ${config.settings.requestTimeoutMs} ms request cap every time`, ok: Math.max(...statusMs) < config.settings.requestTimeoutMs, value: `p99 ${p99(statusMs)} ms, max ${Math.max(...statusMs).toFixed(0)} ms` },
    { check: `worker RSS never above ${mib(config.maxRssBytes)} MB`, ok: Math.max(...rss) <= config.maxRssBytes, value: `max ${mib(Math.max(...rss))} MiB` },
  ];
  const ws = r.workspace && workspaceReport(r.workspace, session, end);
  if (ws) checks.push(...ws.checks);

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
    completedLatencyMs: percentiles(latency),
    cancelToAnswerMs: percentiles(cancelToAnswer),
    statusLatencyMs: percentiles(statusMs),
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
    ...(ws ? { workspace: ws.summary } : {}),
  };
  const info = {
    ...run,
    durationS: round(soakMs / 1000, 1),
    simulatedS: round((soakMs / 1000) * config.speed, 1),
    speed: config.speed,
    seed: config.seed,
    warmupRequests: warmupEnd,
    worker: { device: startStatus.model?.device, threads: startStatus.model?.threads },
    settings: config.settings,
    decoding: config.decoding,
    files: files.map((f) => ({ uri: f.uri, languageId: f.languageId })),
  };
  const rssTimeline = timeline(session.statusSamples, config.requests);

  const md = [
    '# Soak: a simulated typist against the real worker',
    '',
    ...runInfoMarkdown(run),
    `- run: ${info.durationS} s real = ${info.simulatedS} s simulated (speed ${config.speed}x), seed ${config.seed}; the build in dist/ (\`npm run build\` first)`,
    `- worker: dist/server.js over IPC, the extension's default settings (${info.worker.device}, ${info.worker.threads} thread(s), requestTimeoutMs ${config.settings.requestTimeoutMs}); decoding PTP, block size auto, temperature 0.2, top-k 50, top-p 0.95, maxTokens 64`,
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
        [`ptp/status (polled every ${config.statusPollMs} ms)`, ...statRow(summary.statusLatencyMs)],
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
    `At start ${mib(startStatus.rssBytes)} MiB. Warm-up ended at request ${warmupEnd} (at least ${config.warmup} requests, a Generate Code run, every file typed in or ${config.requests / 5} requests); ` +
      `settled after it (median of the samples over the next ${config.requests / 10} requests) ${mib(warmRss)} MiB; after the soak (median of ${config.idleSamples} samples over ${config.idleSamples} s idle) ${mib(endRss)} MiB. ` +
      `After warm-up the samples ranged ${mib(summary.rss.minAfterWarmupBytes)}-${mib(summary.rss.maxAfterWarmupBytes)} MiB and their least-squares trend was ${slope >= 0 ? '+' : ''}${mib(slope)} MiB per 1,000 requests.`,
    '',
    'Where it is (medians of the samples): the JS heap in use, memory outside it held by JS objects (ArrayBuffers: the',
    "engine's key/value caches and output buffers), and the rest: native (onnxruntime, node, the mapped libraries).",
    '',
    ...table(
      ['requests sent', 'RSS MiB', 'JS heap MiB', 'external MiB', 'native MiB', 'pending (max)'],
      rssTimeline.map((r) => [r.sent, mib(r.rssBytes), mib(r.heapUsedBytes), mib(r.externalBytes), mib(r.nativeBytes), r.pending]),
    ),
    ...(ws ? ['', ...ws.md] : []),
  ];
  // Every status sample, for a closer look: [requests sent, RSS MiB, JS heap MiB, external MiB, pending, status ms].
  const samples = session.statusSamples.map((s) => [s.sent, ...[s.rssBytes, s.heapUsedBytes, s.externalBytes].map((b) => round(b / 2 ** 20, 1)), s.pending, round(s.statusMs, 1)]);
  return { info, checks, summary, rssTimeline, samples, md };
}

/**
 * The workspace index: built (every copied file in, none of the ones to skip), its build time
 * and memory, and completion latency before the folder, while it builds and after. A request's
 * phase is the index state at the last status sample before it was sent.
 */
function workspaceReport(fixture: SoakWorkspace, session: Typist, end: StatusResult) {
  const index = end.index.workspace;
  const samples = session.statusSamples;
  const stateAt = (t: number): StatusSample['workspace']['state'] => {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 'off' : samples[lo - 1]!.workspace.state;
  };
  const addedAt = fixture.addedAt ?? Infinity;
  const completed = session.sent.filter((s) => s.outcome === 'completed');
  const phase = (name: string, keep: (s: Sent) => boolean) => ({ phase: name, latencyMs: percentiles(completed.filter(keep).map((s) => s.answeredAt! - s.sentAt)) });
  const phases = [
    phase(`before the folder (requests ${COLD}-${fixture.addedAt ?? '?'})`, (s) => s.index >= COLD && s.index < addedAt),
    phase('while the index builds', (s) => s.index >= addedAt && stateAt(s.sentAt) === 'building'),
    phase('after it is built', (s) => s.index >= addedAt && stateAt(s.sentAt) === 'done'),
  ];
  const building = samples.filter((s) => s.workspace.state === 'building');
  const rssBuilt = samples.filter((s) => s.workspace.state === 'done').map((s) => s.rssBytes);
  const summary = {
    fixture: { files: fixture.files, bytes: fixture.bytes, skippedExpected: fixture.skippedExpected, addedAtRequest: fixture.addedAt },
    index,
    buildRequests: building.length > 0 ? [building[0]!.sent, building.at(-1)!.sent] : undefined,
    rssMedianBuiltBytes: rssBuilt.length > 0 ? median(rssBuilt) : undefined,
    phases,
  };
  const checks: Check[] = [
    { check: 'the workspace index was built', ok: index.state === 'done', value: `${index.state}${index.buildMs !== undefined ? ` in ${(index.buildMs / 1000).toFixed(1)} s` : ''}` },
    {
      check: `it holds the ${fixture.files} source files and none of the ${fixture.skippedExpected} to skip (or stopped at its token cap)`,
      // A file to skip that got in would make the count exceed the copied ones; the cap can stop it short.
      ok: index.files === fixture.files || (index.files < fixture.files && index.tokens > 0.95 * index.maxTokens),
      value: `${index.files} indexed of ${index.found} found, ${index.tokens} tokens`,
    },
  ];
  const md = [
    '## The workspace index',
    '',
    `A trusted folder of ${fixture.files} source files (${mib(fixture.bytes)} MiB, copied from node_modules by bench/lib/workspaceFixture.ts) and ${fixture.skippedExpected} files it must skip ` +
      `(.gitignore'd, node_modules/, binary, 2 MiB, a link outside), added at request ${fixture.addedAt ?? '(never)'}. ` +
      `Built: ${index.state}, ${index.files} files indexed of ${index.found} found, ${index.tokens.toLocaleString('en-US')} tokens, ${mib(index.bytes)} MiB of arrays, ` +
      `in ${index.buildMs !== undefined ? (index.buildMs / 1000).toFixed(1) : '?'} s of wall-clock time while the typist typed` +
      (summary.buildRequests ? ` (requests ${summary.buildRequests[0]}-${summary.buildRequests[1]})` : '') +
      `; worker RSS once built: median ${summary.rssMedianBuiltBytes !== undefined ? mib(summary.rssMedianBuiltBytes) : '?'} MiB.`,
    '',
    `Completion latency by the index's state when the request was sent (the first ${COLD} requests, a cold start, left out):`,
    '',
    ...table(
      ['phase', 'n', 'p50', 'p95', 'p99', 'max'],
      phases.map((p) => [p.phase, ...statRow(p.latencyMs)]),
    ),
  ];
  return { summary, checks, md };
}

/** Requests left out of the latency phases: the first ones after start, a cold cache. */
const COLD = 100;

function statRow(s: Percentiles): Array<string | number> {
  return [s.n, s.p50, s.p95, s.p99, s.max];
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
function timeline(samples: readonly StatusSample[], requests: number): TimelineRow[] {
  const step = Math.max(1, Math.round(requests / 10));
  const rows: TimelineRow[] = [];
  for (let from = 0; from < requests; from += step) {
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
const pct = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;
