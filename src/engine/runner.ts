/**
 * The model runner: the only file that imports onnxruntime-node. It turns a ForwardRequest
 * into ORT tensors (past K/V as zero-copy views of the cache), runs the session and times it.
 */
import * as ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import type { Forward, ForwardRequest, ForwardResult } from './forward';
import type { KvShape } from './kvcache';

export type Device = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml';

export interface RunnerOptions {
  /** intraOpNumThreads; default: half the cores, at least 1, at most 4 (the editor needs the rest). */
  threads?: number;
  /**
   * Execution provider. 'auto' means CPU: for models of a few million parameters the CPU
   * beats a GPU's per-call launch and copy overhead. Others fall back to CPU with a log line.
   */
  device?: Device;
  log?: (line: string) => void;
  /**
   * ORT's memory pattern: it plans the memory of a call per set of input shapes and keeps every
   * plan. Off by default: nearly every call here has new shapes (rows and past length both
   * vary), so the plans are made and kept but seldom used. Off, the same requests ran 1% faster
   * side by side and the worker ended 6 MiB lower, within run-to-run noise (`npm run
   * bench:ort-memory`, bench/results/ort-memory.md); on 12,000 calls of random shapes a bare
   * session settled 19 MiB lower (bench/ort-shapes.mjs).
   */
  memoryPattern?: boolean;
}

export interface RunnerShape extends KvShape {
  vocabSize: number;
}

/** One recorded call: rows = Tv + Ta, past = P. */
export interface CallTiming {
  rows: number;
  past: number;
  ms: number;
}

/**
 * What to install for `device` on this platform, in one line (the status bar and the log show
 * it when the provider does not load). onnxruntime-node bundles DirectML on Windows and CoreML on
 * macOS; its CUDA provider (Linux x64) is a separate download that this project's .npmrc skips.
 */
export function deviceHelp(device: Exclude<Device, 'auto' | 'cpu'>, platform: string = process.platform, arch: string = process.arch): string {
  if (device === 'cuda') {
    if (platform !== 'linux' || arch !== 'x64') return `onnxruntime-node has a CUDA provider for Linux x64 only (this is ${platform} ${arch})`;
    return (
      "install onnxruntime's CUDA 12 provider: in the extension's folder run `node node_modules/onnxruntime-node/script/install --onnxruntime-node-install=cuda12`, " +
      'with an NVIDIA driver, CUDA 12 and cuDNN 9 libraries on the library path'
    );
  }
  if (device === 'dml') return platform === 'win32' ? 'DirectML needs Windows 10 1903+ with a DirectX 12 GPU and its current driver' : `DirectML (dml) is Windows only (this is ${platform})`;
  return platform === 'darwin' ? 'CoreML needs macOS 10.15+' : `CoreML (coreml) is macOS only (this is ${platform})`;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

export function expectedInputNames(layers: number): string[] {
  const past = Array.from({ length: layers }, (_, i) => [`past_key_${i}`, `past_value_${i}`]).flat();
  return ['input_ids', 'aux', 'position_ids', 'attention_mask', ...past];
}

export function expectedOutputNames(layers: number): string[] {
  const kv = Array.from({ length: layers }, (_, i) => [`new_key_${i}`, `new_value_${i}`]).flat();
  return ['logits', ...kv];
}

/** The graph's inputs/outputs that the contract requires but the session lacks. */
function missingNames(session: ort.InferenceSession, layers: number): string[] {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  return [
    ...expectedInputNames(layers).filter((n) => !inputs.has(n)).map((n) => `input ${n}`),
    ...expectedOutputNames(layers).filter((n) => !outputs.has(n)).map((n) => `output ${n}`),
  ];
}

/** The static last dimension of the logits output, if the graph declares one. */
function logitsWidth(session: ort.InferenceSession): number | undefined {
  const meta = session.outputMetadata.find((m) => m.name === 'logits');
  const last = meta?.isTensor ? meta.shape[meta.shape.length - 1] : undefined;
  return typeof last === 'number' ? last : undefined;
}

export class OrtRunner implements Forward {
  /** Every call's size and time (bounded; the oldest half is dropped when full). */
  readonly timings: CallTiming[] = [];
  private static readonly MAX_TIMINGS = 4096;
  /**
   * ORT writes every output into these buffers (pre-allocated outputs): the logits, and per
   * layer the new rows' keys and values. A call then allocates nothing for the garbage
   * collector. Left to ORT, each call's 2 * layers key/value outputs were fresh buffers that
   * lived until a collection (under Electron, copies into V8's memory as well). Grown on
   * demand to the widest call so far.
   */
  private buffers = { rows: 0, logits: new Float32Array(0), keys: [] as Float32Array[], values: [] as Float32Array[] };

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly shape: RunnerShape,
    /** The execution provider actually in use. */
    readonly device: Exclude<Device, 'auto'>,
    /** When the requested provider did not load: one line, the reason and what to install. */
    readonly deviceNote?: string,
  ) {}

  /**
   * Creates the session. @throws Error (one line) when ORT cannot load the file or the graph
   * lacks an input or output of the contract; the caller names the file.
   */
  static async create(modelPath: string, shape: RunnerShape, options: RunnerOptions = {}): Promise<OrtRunner> {
    const log = options.log ?? (() => undefined);
    const threads = options.threads ?? defaultThreads();
    const wanted = options.device === undefined || options.device === 'auto' ? 'cpu' : options.device;
    const sessionOptions = (ep: string): ort.InferenceSession.SessionOptions => ({
      executionProviders: [ep],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableMemPattern: options.memoryPattern ?? false,
      logSeverityLevel: 3,
    });
    let session: ort.InferenceSession;
    let device: Exclude<Device, 'auto'> = wanted;
    let deviceNote: string | undefined;
    try {
      session = await ort.InferenceSession.create(modelPath, sessionOptions(wanted));
    } catch (error) {
      if (wanted === 'cpu') throw new Error(firstLine(error));
      deviceNote = `device ${wanted} is not available, running on the CPU: ${deviceHelp(wanted)} (onnxruntime: ${firstLine(error).slice(0, 120)})`;
      log(`[engine] ${deviceNote}`);
      device = 'cpu';
      session = await ort.InferenceSession.create(modelPath, sessionOptions('cpu'));
    }
    const missing = missingNames(session, shape.numLayers);
    const width = logitsWidth(session);
    if (missing.length > 0 || (width !== undefined && width !== shape.vocabSize)) {
      await session.release();
      throw new Error(
        missing.length > 0
          ? `the graph lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`
          : `its logits are ${width} wide but model.json architecture.vocab_size is ${shape.vocabSize}`,
      );
    }
    log(`[engine] onnxruntime ${ort.env.versions.common} on ${device}, ${threads} thread(s)`);
    return new OrtRunner(session, shape, device, deviceNote);
  }

  /** Runs one call. The returned logits, keys and values are views that the next call overwrites. */
  async run(request: ForwardRequest): Promise<ForwardResult> {
    const { numLayers: L, numHeads: H, headDim: Dh, vocabSize: V } = this.shape;
    const Tv = request.inputIds.length;
    const Ta = request.aux.length;
    const Q = Tv + Ta;
    const P = request.past.length;
    if (request.positionIds.length !== Q || request.mask.length !== Q * (P + Q)) {
      throw new RangeError(`runner: inconsistent request (Tv=${Tv}, Ta=${Ta}, P=${P}, positions ${request.positionIds.length}, mask ${request.mask.length})`);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', request.inputIds, [1, Tv]),
      aux: new ort.Tensor('float32', request.aux, [1, Ta]),
      position_ids: new ort.Tensor('int64', request.positionIds, [1, Q]),
      attention_mask: new ort.Tensor('float32', request.mask, [1, 1, Q, P + Q]),
    };
    for (let i = 0; i < L; i++) {
      feeds[`past_key_${i}`] = new ort.Tensor('float32', request.past.keys[i]!, [1, P, H, Dh]);
      feeds[`past_value_${i}`] = new ort.Tensor('float32', request.past.values[i]!, [1, P, H, Dh]);
    }
    const rowSize = H * Dh;
    if (this.buffers.rows < Q) {
      // Rows rounded up to a multiple of 32, not doubled: the widest call sets the size.
      const rows = Math.ceil(Q / 32) * 32;
      const layers = () => Array.from({ length: L }, () => new Float32Array(rows * rowSize));
      this.buffers = { rows, logits: new Float32Array(rows * V), keys: layers(), values: layers() };
    }
    const logits = this.buffers.logits.subarray(0, Q * V);
    const newKeys = this.buffers.keys.map((b) => b.subarray(0, Q * rowSize));
    const newValues = this.buffers.values.map((b) => b.subarray(0, Q * rowSize));
    const fetches: Record<string, ort.Tensor> = { logits: new ort.Tensor('float32', logits, [1, Q, V]) };
    for (let i = 0; i < L; i++) {
      fetches[`new_key_${i}`] = new ort.Tensor('float32', newKeys[i]!, [1, Q, H, Dh]);
      fetches[`new_value_${i}`] = new ort.Tensor('float32', newValues[i]!, [1, Q, H, Dh]);
    }

    const start = performance.now();
    await this.session.run(feeds, fetches);
    const ms = performance.now() - start;

    if (this.timings.length >= OrtRunner.MAX_TIMINGS) this.timings.splice(0, this.timings.length >> 1);
    this.timings.push({ rows: Q, past: P, ms });
    return { logits, newKeys, newValues, ms };
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n').find((l) => l.trim().length > 0) ?? 'unknown error').trim().slice(0, 300);
}
