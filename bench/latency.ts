/**
 * Request-to-result latency of the worker pipeline (src/completion completeAt: prompt, scope,
 * engine, stop rules, trim), in-process, for line and block completions on validation files, with and without prefix
 * reuse across keystrokes.
 *
 *   npm run bench:latency              (= node --import tsx bench/latency.ts)
 *   npm run bench:latency -- --line 12 --block 8          (fewer cases, ~1 min)
 *
 * Cases: every n-th case of bench/data/eval-line.jsonl (line completions: cursor mid-line or at
 * a line end, scope line or expression) and the `block` cases of eval-multiline.jsonl (cursor
 * in an emptied body; scope block, capped at 64 tokens). For each case:
 *
 *   state 0   the document as the case gives it                      request
 *   state 1   + the first character of the target typed              request
 *   state 2   + 2 more characters                                    request
 *   state 3   + 1 more character                                     request
 *
 * Each state gets, side by side: a request with the document's cache key (the KV cache of the
 * previous request in the document is reused: only the typed tokens and what follows them
 * are prefilled) and a request whose cache holds nothing of the prompt (the whole prompt is
 * prefilled, as on the first request in a document). State 0 with the document key is a cold first request, so
 * "reuse" counts states 1-3 only. Both the worker's default decoding (PTP with the policy's
 * block size and budget) and AR run every request. Typing goes through DocumentStore
 * (incremental re-parse); its cost is reported separately, as it happens on didChange.
 *
 * Stage times: the engine's share is the wall time of its complete() calls (bench/lib/engineSpy.ts:
 * tokenizing, prefill, decode, stop rules; a retry after Enter is a second call), the rest of the
 * request (prompt, syntax analysis, trimming) is the pipeline's.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../src/engine';
import type { CompletionDecoding } from '../src/completion/index';
import { SETTINGS } from '../src/protocol/index';
import { type FimCase, caseUri, newStore, readCases } from './lib/cases';
import { EngineSpy } from './lib/engineSpy';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { capAt, inlineRun } from './lib/pipeline';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, mean, median, quantile } from './lib/stats';

const opt = args();
const N_LINE = Number(opt.get('line') ?? 40);
const N_BLOCK = Number(opt.get('block') ?? 30);
const BLOCK_CAP = 64;
const TYPED = [1, 2, 1];
const SAMPLING = { temperature: 0.2, topK: 50, topP: 0.95 };
const TARGETS = { line: { p50: 60, p95: 150 }, block: { p50: 250, p95: undefined } } as const;

type Kind = 'line' | 'block';
/**
 * policy: the worker's default decoding with the confidence gate and the cache model off (as
 * before either); gated: the same with the gate at the shipped level; cached: gated with the
 * cache model (over the prompt's own text: this bench has no open files or workspace); ar: plain
 * AR, gate off.
 */
type Decoder = 'policy' | 'gated' | 'cached' | 'ar';
const GATE = SETTINGS['completion.confidence'].default;

interface Sample {
  kind: Kind;
  caseId: string;
  state: number;
  decoder: Decoder;
  reuse: boolean;
  scope: string;
  blockSize: number;
  budget: number;
  /** engine: its complete() calls; pipeline: the rest of the request; total: the whole completeAt. */
  ms: { engine: number; pipeline: number; total: number };
  /** Engine decodes in the request (more than 1: the pipeline retried after Enter). */
  attempts: number;
  promptTokens: number;
  reusedTokens: number;
  tokens: number;
  calls: number;
  msPrefill: number;
}

/** Every k-th case, so the subset spreads over languages and packages. */
function spread<T>(xs: T[], n: number): T[] {
  if (n >= xs.length) return xs;
  const step = xs.length / n;
  return Array.from({ length: n }, (_, i) => xs[Math.floor(i * step)]!);
}

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const spy = new EngineSpy(engine);
  // The engine keeps 4 KV caches (least recently used dropped first): policy, gated and ar
  // documents plus the scratch key fill them, so 'cached' runs on a second engine of the same
  // model, with its own document and scratch keys, and evicts none of theirs.
  const engine2 = await Engine.load(MODEL_DIR);
  const spy2 = new EngineSpy(engine2);
  log(`latency: ${info.command}; policy curve ${policy.source}; load ${info.load[0]!.uptime}`);
  const lineCases = spread(readCases('eval-line.jsonl'), N_LINE);
  const blockCases = spread(
    readCases('eval-multiline.jsonl').filter((c) => c.kind === 'block'),
    N_BLOCK,
  );
  const store = newStore();
  const samples: Sample[] = [];
  const typingMs: number[] = [];
  let fresh = 0;

  // Warm-up (ORT allocations, grammar loading).
  for (const c of [lineCases[0]!, blockCases[0]!]) {
    const doc = await store.open(`warm:///${c.id}`, c.lang, c.text);
    await inlineRun(engine, policy, doc, c.offset, { decoding: { decoder: 'ptp', seed: 1, ...SAMPLING, blockSize: 'auto' }, maxTokens: capAt(BLOCK_CAP), cacheKey: doc.uri });
    store.close(doc.uri);
  }

  const started = performance.now();
  const all: [Kind, FimCase][] = [...lineCases.map((c) => ['line', c] as [Kind, FimCase]), ...blockCases.map((c) => ['block', c] as [Kind, FimCase])];
  for (const [n, [kind, c]] of all.entries()) {
    const uri = caseUri(c);
    let doc = await store.open(uri, c.lang, c.text);
    let offset = c.offset;
    let typed = 0;
    for (let state = 0; state <= TYPED.length; state++) {
      if (state > 0) {
        const add = TYPED[state - 1]!;
        if (typed + add > c.target.length) break;
        const chars = c.target.slice(typed, typed + add);
        const t0 = performance.now();
        const next = store.applyChange(uri, [{ rangeOffset: offset, rangeLength: 0, text: chars }], doc.text.slice(0, offset) + chars + doc.text.slice(offset));
        typingMs.push(performance.now() - t0);
        if (next === undefined) throw new Error(`${uri}: lost the document`);
        doc = next;
        offset += add;
        typed += add;
      }
      // Alternate the order of the four requests so neither variant always runs first.
      const variants: [Decoder, boolean][] = [
        ['policy', true],
        ['policy', false],
        ['gated', true],
        ['gated', false],
        ['cached', true],
        ['cached', false],
        ['ar', true],
        ['ar', false],
      ];
      const order = (n + state) % 2 === 0 ? variants : [...variants].reverse();
      for (const [decoder, reuse] of order) {
        const decoding: CompletionDecoding = decoder === 'ar' ? { decoder: 'ar', seed: 100 + n, ...SAMPLING, blockSize: 1 } : { decoder: 'ptp', seed: 100 + n, ...SAMPLING, blockSize: 'auto' };
        // The document key is per decoder, so one decoder's request never primes the other's
        // cache. "No reuse" runs on one scratch key whose cache is first filled with an unrelated
        // one-token prompt (the engine keeps 4 caches, least recently used dropped first; fresh
        // keys per request would evict the document keys).
        const cacheKey = reuse ? `${uri}#${decoder}` : 'scratch';
        const [e, watch] = decoder === 'cached' ? [engine2, spy2] : [engine, spy];
        if (!reuse) await e.complete({ prefix: `#${fresh++}` }, { decoder: 'ar', seed: 0, ...SAMPLING, blockSize: 1, maxTokens: 1, cacheKey });
        watch.take();
        const t0 = performance.now();
        const run = await inlineRun(watch.engine, policy, doc, offset, { decoding, maxTokens: kind === 'block' ? capAt(BLOCK_CAP) : undefined, cacheKey, confidence: decoder === 'gated' || decoder === 'cached' ? GATE : 'off', cacheModel: decoder === 'cached' });
        const total = performance.now() - t0;
        const calls = watch.take();
        const engineMs = calls.reduce((a, k) => a + k.ms, 0);
        samples.push({
          kind,
          caseId: c.id,
          state,
          decoder,
          reuse,
          scope: run.info.scope,
          blockSize: decoder === 'ar' ? 1 : run.result.blockSize,
          budget: decoder === 'ar' ? 0 : run.result.budget,
          ms: { engine: engineMs, pipeline: total - engineMs, total },
          attempts: calls.length,
          promptTokens: run.result.promptTokens,
          reusedTokens: run.result.reusedTokens,
          tokens: calls.reduce((a, k) => a + k.result.tokens.length, 0),
          calls: calls.reduce((a, k) => a + k.result.calls, 0),
          msPrefill: calls[0]!.result.msPrefill,
        });
      }
    }
    store.close(uri);
    if ((n + 1) % 10 === 0) log(`${n + 1}/${all.length} cases, ${((performance.now() - started) / 1000).toFixed(0)} s; load ${sampleLoad().loadavg.join(' ')}`);
  }
  info.load.push(sampleLoad());

  const groups: { kind: Kind; decoder: Decoder; label: string; pick: (s: Sample) => boolean }[] = [];
  for (const kind of ['line', 'block'] as const) {
    for (const decoder of ['policy', 'gated', 'cached', 'ar'] as const) {
      groups.push({ kind, decoder, label: 'first request in a document (no cache)', pick: (s) => s.kind === kind && s.decoder === decoder && !s.reuse && s.state === 0 });
      groups.push({ kind, decoder, label: 'after typing, no reuse', pick: (s) => s.kind === kind && s.decoder === decoder && !s.reuse && s.state > 0 });
      groups.push({ kind, decoder, label: 'after typing, prefix reuse', pick: (s) => s.kind === kind && s.decoder === decoder && s.reuse && s.state > 0 });
    }
  }
  const summary = groups.map((g) => {
    const ss = samples.filter(g.pick);
    const total = ss.map((s) => s.ms.total);
    return {
      kind: g.kind,
      decoder: g.decoder,
      group: g.label,
      n: ss.length,
      p50: quantile(total, 0.5),
      p95: quantile(total, 0.95),
      mean: mean(total),
      engineMs: median(ss.map((s) => s.ms.engine)),
      prefillMs: median(ss.map((s) => s.msPrefill)),
      pipelineMs: median(ss.map((s) => s.ms.pipeline)),
      retried: ss.filter((s) => s.attempts > 1).length,
      uncachedPromptTokens: median(ss.map((s) => s.promptTokens - s.reusedTokens)),
      tokens: mean(ss.map((s) => s.tokens)),
      tokensPerCall: ss.reduce((a, s) => a + s.tokens, 0) / Math.max(1, ss.reduce((a, s) => a + s.calls, 0)),
      callsPerRequest: mean(ss.map((s) => s.calls)),
      blockSizes: [...new Set(ss.map((s) => `${s.blockSize}/${s.budget}`))].sort(),
    };
  });
  const verdict = (kind: Kind, p50: number, p95: number): string => {
    const t = TARGETS[kind];
    const ok50 = p50 <= t.p50;
    const ok95 = t.p95 === undefined || p95 <= t.p95;
    return `${ok50 ? 'meets' : 'misses'} p50 ≤ ${t.p50}${t.p95 === undefined ? '' : `; ${ok95 ? 'meets' : 'misses'} p95 ≤ ${t.p95}`}`;
  };
  const scopes = (kind: Kind): string => {
    const counts = new Map<string, number>();
    for (const s of samples.filter((x) => x.kind === kind && x.decoder === 'policy' && !x.reuse)) counts.set(s.scope, (counts.get(s.scope) ?? 0) + 1);
    return [...counts].map(([k, v]) => `${k} ${v}`).join(', ');
  };
  // Typed requests whose cache did not cover the prompt up to the typed text: what broke reuse.
  const misses = (decoder: Decoder) => {
    const typed = samples.filter((s) => s.reuse && s.decoder === decoder && s.state > 0);
    const prev = (s: Sample): Sample | undefined => samples.find((p) => p.caseId === s.caseId && p.decoder === decoder && p.reuse && p.state === s.state - 1);
    const missed = typed.filter((s) => s.promptTokens - s.reusedTokens > 20);
    return {
      typed: typed.length,
      missed: missed.length,
      scopeChanged: missed.filter((s) => prev(s)?.scope !== s.scope).length,
      uncachedWhenMissed: median(missed.map((s) => s.promptTokens - s.reusedTokens)),
    };
  };
  const miss = misses('ar');
  const md = [
    '# Completion latency in the worker pipeline (in-process)',
    '',
    ...runInfoMarkdown(info),
    `- cases: ${lineCases.length} line cases (every n-th of bench/data/eval-line.jsonl; scopes of the requests: ${scopes('line')}) and ${blockCases.length} block cases (eval-multiline.jsonl kind=block; ${scopes('block')}, capped at ${BLOCK_CAP} tokens); temperature ${SAMPLING.temperature}, top-k ${SAMPLING.topK}, top-p ${SAMPLING.topP}`,
    `- typing: ${TYPED.join(', ')} characters of the target between requests; "reuse" = same cache key as the previous request in the document; "no reuse" = a cache holding nothing of the prompt (whole prompt prefilled)`,
    `- decoders: policy = the worker's default (PTP, block size and budget from analyze() with the curve from ${policy.source} and model.json's acceptance histogram; M/B = 1/0 means AR), with the confidence gate off, as before it existed; gated = the same with the gate at its shipped level (${GATE}: the completion ends where the model stops being sure); cached = gated with the cache model (ptp.context.cacheModel, over the prompt's own text: this bench opens no other files), what the worker runs by default; ar = plain autoregressive, gate off`,
    `- request = the worker's completeAt (src/completion: buildPrompt, analyze, stop rules, Engine.complete (tokenize, prefill, decode, stop), trimming; after Enter, a retry when trimming leaves nothing); the LSP round trip is not included. engine ms = its complete() calls; pipeline ms = the rest of the request`,
    `- typing cost (DocumentStore.applyChange, incremental parse; on didChange, not in the request): p50 ${fmt(quantile(typingMs, 0.5), 2)} ms, p95 ${fmt(quantile(typingMs, 0.95), 2)} ms`,
    `- reuse misses (AR): ${miss.missed} of ${miss.typed} typed requests prefilled more than 20 prompt tokens (median ${fmt(miss.uncachedWhenMissed, 0)}); in ${miss.scopeChanged} of them the scope changed since the previous request, which changes the engine's output reserve (min(maxTokens, 256)) and with it the suffix's share of the prompt; in the others either the suffix took the room a short prefix left and so shrank by the typed tokens, or the prefix's kept start moved by a 32-token truncation step. In every case the suffix or the prefix start changed, and the suffix-first prompt is reused only up to the first changed token`,
    '',
    ...table(
      ['completion', 'decoder', 'requests', 'n', 'p50 ms', 'p95 ms', 'mean ms', 'target', 'engine ms (p50)', 'first call ms (p50)', 'uncached prompt tokens (p50)', 'pipeline ms outside the engine (p50)', 'tokens (mean)', 'tok/call', 'calls/request', 'M/B', 'retried'],
      summary.map((s) => [
        s.kind,
        s.decoder,
        s.group,
        s.n,
        fmt(s.p50),
        fmt(s.p95),
        fmt(s.mean),
        verdict(s.kind, s.p50, s.p95),
        fmt(s.engineMs),
        fmt(s.prefillMs),
        fmt(s.uncachedPromptTokens, 0),
        fmt(s.pipelineMs, 2),
        fmt(s.tokens, 1),
        fmt(s.tokensPerCall, 2),
        fmt(s.callsPerRequest, 1),
        s.blockSizes.length > 3 ? `${s.blockSizes.length} choices` : s.blockSizes.join(', '),
        s.retried,
      ]),
    ),
  ];
  writeResults('latency', { run: info, policySource: policy.source, targets: TARGETS, summary, reuseMisses: { ar: miss, policy: misses('policy') }, typingMs: { p50: quantile(typingMs, 0.5), p95: quantile(typingMs, 0.95) }, samples }, md);
  store.dispose();
  await engine.dispose();
  await engine2.dispose();
})().catch(exitOnError());
