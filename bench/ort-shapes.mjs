// A bare ORT session fed calls of random shapes (rows Q, past P, as the engine's vary), zero
// inputs: its RSS every 500 calls (after a GC) and the mean call time, with ORT's memory pattern
// and CPU arena on or off. The probe behind RunnerOptions.memoryPattern (model card, eighth
// session); bench/ort-memory.ts measures the real engine under typing.
//
//   node --expose-gc bench/ort-shapes.mjs <pattern 0|1> <arena 0|1> [calls, 3000]
//   e.g. node --expose-gc bench/ort-shapes.mjs 1 1 12000; node --expose-gc bench/ort-shapes.mjs 0 1 12000
import * as ort from 'onnxruntime-node';
const [pattern, arena, calls] = [process.argv[2] === '1', process.argv[3] === '1', Number(process.argv[4] ?? 3000)];
const L = 8, H = 4, Dh = 64;
const s = await ort.InferenceSession.create(new URL('../models/ptp-code-10m/model.onnx', import.meta.url).pathname, {
  executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  graphOptimizationLevel: 'all', logSeverityLevel: 3, enableMemPattern: pattern, enableCpuMemArena: arena,
});
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const QS = [1, 2, 3, 4, 5, 6, 8, 9, 12, 16, 17, 20, 24, 32];
const out = [];
let ms = 0;
const rss0 = process.memoryUsage.rss();
for (let c = 0; c < calls; c++) {
  const big = rnd() < 0.03;
  const Q = big ? 64 + Math.floor(rnd() * 256) : QS[Math.floor(rnd() * QS.length)];
  const P = big ? 0 : Math.floor(rnd() * (512 - Q - 64));
  const Tv = Math.max(1, Math.floor(Q / 2)), Ta = Q - Tv;
  const feeds = {
    input_ids: new ort.Tensor('int64', new BigInt64Array(Tv), [1, Tv]),
    aux: new ort.Tensor('float32', new Float32Array(Ta), [1, Ta]),
    position_ids: new ort.Tensor('int64', new BigInt64Array(Q), [1, Q]),
    attention_mask: new ort.Tensor('float32', new Float32Array(Q * (P + Q)), [1, 1, Q, P + Q]),
  };
  for (let i = 0; i < L; i++) {
    feeds[`past_key_${i}`] = new ort.Tensor('float32', new Float32Array(P * H * Dh), [1, P, H, Dh]);
    feeds[`past_value_${i}`] = new ort.Tensor('float32', new Float32Array(P * H * Dh), [1, P, H, Dh]);
  }
  const t = performance.now();
  await s.run(feeds);
  ms += performance.now() - t;
  if ((c + 1) % 500 === 0) { globalThis.gc?.(); out.push(`${c + 1}:${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)}`); }
}
console.log(`pattern=${+pattern} arena=${+arena} start ${(rss0 / 2 ** 20).toFixed(0)} MiB, ${out.join(' ')}; ${(ms / calls).toFixed(2)} ms/call`);
