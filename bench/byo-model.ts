/**
 * Bring-your-own-model costs on this machine: per-call time by rows for a model directory
 * (a converted checkpoint, or a same-shape random one: training/make_tiny_hf.py --shape), the
 * process memory after loading, and the file size. One child process per directory, so each
 * RSS is that model's alone.
 *
 *   node --import tsx bench/byo-model.ts DIR [DIR...] [--threads N] [--past P] [--reps R]
 *
 * A call has `rows` token rows over P random past rows (no aux rows: a converted model has no
 * adapters); the median of R timed calls after one warm-up. AR decoding costs the 1-row call per
 * token; a PTP call that verifies a context draft costs the wider call once for all its tokens.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { KvCache } from '../src/engine/kvcache';
import { kvHeads } from '../src/engine/manifest';
import { layoutCall } from '../src/engine/mask';
import { loadModel } from '../src/engine/model';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const THREADS = flag('threads', 1);
const PAST = flag('past', 256);
const REPS = flag('reps', 5);
const ROWS = [1, 2, 4, 8, 16];
const dirs = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));

async function measure(dir: string): Promise<void> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const model = await loadModel(dir, { threads: THREADS });
  const loadMs = performance.now() - t0;
  global.gc?.();
  const rssLoaded = process.memoryUsage().rss;
  const { num_layers, head_dim, vocab_size } = model.manifest.architecture;
  const shape = { numLayers: num_layers, numHeads: kvHeads(model.manifest), headDim: head_dim };
  const past = new KvCache(shape, PAST);
  const filler = Array.from({ length: num_layers }, () => Float32Array.from({ length: PAST * shape.numHeads * head_dim }, () => Math.random() - 0.5));
  past.append(filler, filler, PAST);
  const perRows: { rows: number; ms: number }[] = [];
  for (const rows of ROWS) {
    const tokens = Array.from({ length: rows }, (_, i) => (i * 7919 + 11) % vocab_size);
    const layout = layoutCall({ pastLen: PAST, tokens, contextRows: rows, groups: [], firstOutputIndex: 0, u: () => 0 });
    const times: number[] = [];
    for (let r = 0; r <= REPS; r++) {
      const res = await model.forward.run({ ...layout, past: past.view() });
      if (r > 0) times.push(res.ms);
    }
    times.sort((a, b) => a - b);
    perRows.push({ rows, ms: times[times.length >> 1]! });
  }
  const rssAfter = process.memoryUsage().rss;
  await model.dispose();
  const manifest = model.manifest as typeof model.manifest & { onnx: { weights?: string } };
  const bytes = statSync(join(dir, manifest.onnx.file)).size;
  process.stdout.write(
    `${JSON.stringify({ dir, name: manifest.name, weights: manifest.onnx.weights ?? 'fp32', bytes, threads: THREADS, past: PAST, loadMs: Math.round(loadMs), rssBeforeMiB: mib(rss0), rssLoadedMiB: mib(rssLoaded), rssAfterCallsMiB: mib(rssAfter), perRows })}\n`,
  );
}

const mib = (b: number): number => Math.round(b / 2 ** 20);

if (process.env.BYO_CHILD) {
  void measure(process.env.BYO_CHILD);
} else {
  for (const dir of dirs) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, ...argv.filter((a) => a.startsWith('--') || !dirs.includes(a))], {
      env: { ...process.env, BYO_CHILD: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.stdout.write(r.stdout);
  }
}
