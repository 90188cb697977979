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
  ];
  // Every status sample, for a closer look: [requests sent, RSS MiB, JS heap MiB, external MiB, pending, status ms].
  const samples = session.statusSamples.map((s) => [s.sent, ...[s.rssBytes, s.heapUsedBytes, s.externalBytes].map((b) => round(b / 2 ** 20, 1)), s.pending, round(s.statusMs, 1)]);
  return { info, checks, summary, rssTimeline, samples, md };
}

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
