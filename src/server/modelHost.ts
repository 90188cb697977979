/**
 * `ModelHost`: the worker's one model. Loads it in the background, measures its latency
 * curve, and reloads when the model path, device or thread count changes. A load failure is
 * a state ('error' plus the ModelLoadError's one line), never a crash: requests then fail
 * with ErrorCodes.ModelNotLoaded and that line until a new configuration loads.
 *
 *   configure() ──> loading ──(Engine.load, latency sweep)──> ready
 *                       └──────────(ModelLoadError)──────────> error
 */
import type { LatencyPoint } from '../context/index';
import { Engine, ModelLoadError } from '../engine/index';
import type { Device, WorkerState } from '../protocol/index';
import { measureLatencyCurve } from '../completion/index';
import type { Logger } from './logger';

export interface ModelConfig {
  path: string;
  device: Device;
  /** 0 = the engine's default. */
  threads: number;
}

export interface LoadedModel {
  engine: Engine;
  latency: readonly LatencyPoint[];
  /** deviceNote: the requested device fell back to the CPU; one line saying what to install. */
  info: { name: string; path: string; parameters: number; device: string; threads: number; deviceNote?: string };
}

/** Thrown by `ready()` while the model cannot be used; `message` is the one-line reason. */
export class ModelUnavailableError extends Error {}

export class ModelHost {
  private current: { state: WorkerState; error?: string; model?: LoadedModel } = { state: 'loading' };
  private config: ModelConfig | undefined;
  /** Settles when the load for `config` has settled; replaced by every reload. Before the first
   * configure() it waits for that. */
  private pending: Promise<void>;
  private firstConfigure: () => void = () => undefined;
  private generation = 0;
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly log: Logger) {
    this.pending = new Promise<void>((resolve) => (this.firstConfigure = resolve));
  }

  get state(): WorkerState {
    return this.current.state;
  }

  get error(): string | undefined {
    return this.current.error;
  }

  get model(): LoadedModel | undefined {
    return this.current.model;
  }

  onDidChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /**
   * Loads `config` unless it is what is loaded (or loading) already. Resolves when that load
   * has settled; `beforeUnload` runs before the old engine goes (abort its requests there).
   * After a failed load the same config loads again: the person may have repaired the files in
   * place (as the error message tells them to) and then touched a setting or re-selected the model.
   */
  configure(config: ModelConfig, beforeUnload: () => void = () => undefined): Promise<void> {
    if (this.config !== undefined && sameConfig(this.config, config) && this.current.state !== 'error') return this.pending;
    this.config = config;
    const generation = ++this.generation;
    const previous = this.current.model;
    this.set({ state: 'loading' });
    if (previous !== undefined) beforeUnload();
    this.pending = this.load(config, generation, previous);
    this.firstConfigure();
    return this.pending;
  }

  /** The loaded model, once ready; throws ModelUnavailableError on a load error or an abort. */
  async ready(signal?: AbortSignal): Promise<LoadedModel> {
    for (;;) {
      const { state, model, error } = this.current;
      if (state === 'ready' && model !== undefined) return model;
      if (state === 'error') throw new ModelUnavailableError(error ?? 'the model failed to load');
      // Settles with state ready or error, or after a newer configure() replaced it: look again.
      await abortable(this.pending, signal);
    }
  }

  async dispose(): Promise<void> {
    this.generation++;
    const model = this.current.model;
    this.current = { state: 'error', error: 'the worker is shutting down' };
    await model?.engine.dispose();
  }

  private async load(config: ModelConfig, generation: number, previous: LoadedModel | undefined): Promise<void> {
    // One model in memory at a time: the old one goes before the new one loads.
    if (previous !== undefined) await previous.engine.dispose().catch((e: unknown) => this.log.warn(`[model] disposing the previous model: ${message(e)}`));
    const started = performance.now();
    let device: string = config.device === 'auto' ? 'cpu' : config.device;
    let threads = config.threads;
    let engine: Engine | undefined;
    try {
      this.log.info(`[model] loading ${config.path} (device ${config.device}, threads ${config.threads || 'auto'})`);
      engine = await Engine.load(config.path, {
        device: config.device,
        ...(config.threads > 0 ? { threads: config.threads } : {}),
        log: (line) => {
          // The runner's one line about what it got: "[engine] onnxruntime 1.x on cpu, 2 thread(s)".
          const got = /\bon (\w+), (\d+) thread/.exec(line);
          if (got) [device, threads] = [got[1]!, Number(got[2])];
          this.log.info(line);
        },
      });
      if (generation !== this.generation) return void (await engine.dispose());
      const loadedMs = performance.now() - started;
      const latency = await measureLatencyCurve(engine, { device, threads });
      if (generation !== this.generation) return void (await engine.dispose());
      const m = engine.manifest;
      const note = engine.deviceNote;
      const model: LoadedModel = { engine, latency, info: { name: `${m.name} ${m.version}`, path: config.path, parameters: parameterCount(engine), device, threads, ...(note ? { deviceNote: note } : {}) } };
      if (note) this.log.warn(`[model] ${note}`);
      this.log.info(
        `[model] ${model.info.name} ready: loaded in ${loadedMs.toFixed(0)} ms, ${(model.info.parameters / 1e6).toFixed(1)}M parameters, ` +
          `${device}, ${threads} thread(s); latency ${latency.map((p) => `${p.rows}r ${p.ms.toFixed(1)}ms`).join(', ')}`,
      );
      this.set({ state: 'ready', model });
    } catch (e) {
      await engine?.dispose().catch(() => undefined);
      if (generation !== this.generation) return;
      const line = e instanceof ModelLoadError ? e.message : `${config.path}: ${message(e)}`;
      this.log.error(`[model] ${line}`);
      this.set({ state: 'error', error: line });
    }
  }

  private set(next: { state: WorkerState; error?: string; model?: LoadedModel }): void {
    this.current = next;
    for (const l of this.listeners) l();
  }
}

function sameConfig(a: ModelConfig, b: ModelConfig): boolean {
  return a.path === b.path && a.device === b.device && a.threads === b.threads;
}

/** model.json's architecture.parameters.total when the export wrote it, else an estimate. */
function parameterCount(engine: Engine): number {
  const arch = engine.manifest.architecture as Engine['manifest']['architecture'] & { parameters?: { total?: number } };
  if (typeof arch.parameters?.total === 'number') return arch.parameters.total;
  const d = arch.hidden_size ?? arch.num_heads * arch.head_dim;
  const ff = arch.intermediate_size ?? 4 * d;
  return arch.vocab_size * d + arch.num_layers * (4 * d * d + 3 * d * ff);
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(new ModelUnavailableError('cancelled while the model loads'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ModelUnavailableError('cancelled while the model loads'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
