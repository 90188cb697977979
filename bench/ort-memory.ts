/**
 * ORT's memory pattern on and off: the worker's memory and its model-call time under typing.
 *
 *   npm run bench:ort-memory                 (= node --import tsx bench/ort-memory.ts)
 *   npm run bench:ort-memory -- --cases 20   (a quick look)
 *
 * The workload is a typist at the ends of eval-line.jsonl's cases (validation packages): per
 * case, a request after each of the last 8 characters of the prefix, the case's id as cache key
 * (so the prompt is reused as it would be while typing), PTP with the extension's block size and
 * sampling, 24 tokens. The engine's calls then have the shapes the worker sees: a cold prompt
 * now and then, and many calls of a few rows over a past of a few hundred.
 *
 * memory: one child process per setting (a fresh RSS), the workload 4 times over with seeds 1-4;
 *   RSS after loading and after each pass, each after a full garbage collection.
 * time:   both settings in one process, one engine each, the same requests alternately (the
 *   order swaps every request), so that drift in the machine's load falls on both alike; model
 *   call time summed per setting; the completions must be the same tokens.
 */
import { spawnSync } from 'node:child_process';
import { Engine, type DecodeOptions, type DecodeResult, type Prompt } from '../src/engine';
import { readCases } from './lib/cases';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { args, exitOnError, log, table, writeResults } from './lib/report';
import { fmt, median, sum } from './lib/stats';

const opt = args();
const N_CASES = Number(opt.get('cases') ?? 60);
const KEYSTROKES = 8;
const PASSES = 4;
const SETTINGS = [
  { name: 'memory pattern on (ORT default)', memoryPattern: true },
  { name: 'memory pattern off (shipped)', memoryPattern: false },
] as const;

interface Request {
  key: string;
  prompt: Prompt;
}

function workload(): Request[] {
  const requests: Request[] = [];
  for (const c of readCases('eval-line.jsonl').slice(0, N_CASES)) {
    const prefix = c.text.slice(0, c.offset);
    const suffix = c.text.slice(c.offset);
    for (let j = KEYSTROKES - 1; j >= 0; j--) requests.push({ key: c.id, prompt: { prefix: prefix.slice(0, prefix.length - j), suffix } });
  }
  return requests;
}

const decoding = (seed: number, key: string): DecodeOptions => ({
  decoder: 'ptp',
  blockSize: 8,
  seed,
  temperature: 0.2,
  topK: 50,
  topP: 0.95,
  maxTokens: 24,
  cacheKey: key,
});

/** Model-call time of one request: the engine's own timings, summed. */
async function timed(engine: Engine, r: Request, seed: number): Promise<{ result: DecodeResult; ms: number }> {
  let ms = 0;
  const result = await engine.complete(r.prompt, { ...decoding(seed, r.key), onCall: (t) => (ms += t.ms) });
  return { result, ms };
}

const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Memory after a full garbage collection, MiB. */
interface MemorySample {
  after: string;
  rss: number;
  heapUsed: number;
  external: number;
}

function settledMemory(): Omit<MemorySample, 'after'> {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rss: mib(m.rss), heapUsed: mib(m.heapUsed), external: mib(m.external) };
}

/** In a child: one setting, the workload PASSES times; prints its memory as one JSON line. */
async function child(memoryPattern: boolean): Promise<void> {
  const engine = await Engine.load(MODEL_DIR, { memoryPattern });
  const samples: MemorySample[] = [{ after: 'load', ...settledMemory() }];
  const requests = workload();
  for (let pass = 1; pass <= PASSES; pass++) {
    for (const r of requests) await engine.complete(r.prompt, decoding(pass, r.key));
    samples.push({ after: `pass ${pass}`, ...settledMemory() });
  }
  await engine.dispose();
  process.stdout.write(`${JSON.stringify(samples)}\n`);
}

async function main(): Promise<void> {
  const requests = workload();
  const engines = await Promise.all(SETTINGS.map((s) => Engine.load(MODEL_DIR, { memoryPattern: s.memoryPattern })));
  const info = runInfo(engines[0]!.manifest.onnx.sha256);
  log(`ort-memory: ${info.command}; ${requests.length} requests per pass`);

  // Time, side by side.
  const ms = SETTINGS.map(() => [] as number[]);
  let sameTokens = 0;
  for (let pass = 1; pass <= 2; pass++) {
    for (const [i, r] of requests.entries()) {
      const order = (i + pass) % 2 === 0 ? [0, 1] : [1, 0];
      const out: DecodeResult[] = [];
      for (const k of order) {
        const t = await timed(engines[k]!, r, pass);
        ms[k]!.push(t.ms);
        out[k] = t.result;
      }
      if (out[0]!.tokens.join(',') === out[1]!.tokens.join(',')) sameTokens++;
    }
    log(`  time: pass ${pass} done`);
  }
  await Promise.all(engines.map((e) => e.dispose()));

  // Memory, one child per setting.
  const memory = SETTINGS.map((s) => {
    const run = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--child', String(s.memoryPattern), '--cases', String(N_CASES)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    if (run.status !== 0) throw new Error(`the ${s.name} child failed: ${run.stderr}`);
    log(`  memory: ${s.name} done`);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as MemorySample[];
  });
  info.load.push(sampleLoad());

  const ratios = ms[1]!.map((x, i) => x / ms[0]![i]!);
  const timeRows = SETTINGS.map((s, k) => [s.name, fmt(sum(ms[k]!) / 1000, 2), fmt(median(ms[k]!), 2), fmt(sum(ms[k]!) / sum(ms[0]!), 3)]);
  const memRows = memory[0]!.map((_, j) => [
    memory[0]![j]!.after,
    ...memory.flatMap((m) => [fmt(m[j]!.rss, 1), fmt(m[j]!.rss - m[j]!.heapUsed - m[j]!.external, 1)]),
  ]);
  const md = [
    "# ORT's memory pattern on and off: worker memory and call time under typing",
    '',
    ...runInfoMarkdown(info),
    `- workload: the first ${N_CASES} cases of bench/data/eval-line.jsonl, a request after each of the last ${KEYSTROKES} characters of the prefix (${requests.length} requests, the case as cache key); PTP, block size auto, T 0.2, top-k 50, top-p 0.95, 24 tokens`,
    '- the setting: `enableMemPattern` of the ORT session (src/engine/runner.ts, `RunnerOptions.memoryPattern`)',
    '',
    '## Memory',
    '',
    `One child process per setting, the workload ${PASSES} times (seeds 1-${PASSES}); MiB after a full garbage collection. Native = RSS less the JS heap in use and external (ArrayBuffer) memory: onnxruntime, node, the mapped libraries.`,
    '',
    ...table(['after', ...SETTINGS.flatMap((s) => [`${s.name}: RSS`, 'native'])], memRows),
    '',
    '## Model-call time',
    '',
    `Both settings in one process, the same ${requests.length} requests twice (seeds 1, 2), alternately. ${sameTokens} of ${requests.length * 2} requests gave the same tokens under both.`,
    '',
    ...table(['setting', 'model calls, s (sum)', 'per request p50 ms', 'vs pattern on (sums)'], timeRows),
    '',
    `Per request, off / on: median ratio ${fmt(median(ratios), 3)}.`,
  ];
  writeResults('ort-memory', { run: info, memory, msPerRequest: Object.fromEntries(SETTINGS.map((s, k) => [s.name, ms[k]])), sameTokens }, md);
}

const childSetting = opt.get('child');
(childSetting !== undefined ? child(childSetting === 'true') : main()).catch(exitOnError());
