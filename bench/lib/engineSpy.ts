/**
 * An Engine that is `engine` but lets a bench watch the pipeline's model requests: completeAt
 * (src/completion) calls `engine.complete`, and a bench that times its stages, tracks the
 * speculations PTP verified, or reads the prompt the model saw does so here instead of running a
 * copy of the pipeline. Watching changes nothing the engine does.
 *
 *   const spy = new EngineSpy(engine);
 *   await completeAt({ engine: spy.engine, latency }, doc, offset, options);
 *   spy.calls   // each engine.complete: the prompt and options it got, its wall time, its result
 *
 * `decoder` swaps the model for another decoder of the same tokens (eval's 4-gram baseline runs
 * through the same pipeline that way); everything else is the engine's own.
 */
import { performance } from 'node:perf_hooks';
import type { CallTrace, DecodeOptions, DecodeResult, DecoderHooks, Engine, Prompt } from '../../src/engine';

export interface SpiedCall {
  prompt: Prompt;
  options: DecodeOptions;
  /** Wall time of the engine.complete call (tokenizing, prefill, decode, stop rules). */
  ms: number;
  result: DecodeResult;
}

/** What to watch in the next requests: called before each, per call, and the decoder's hooks. */
export interface Watch {
  begin?: (options: DecodeOptions) => void;
  onCall?: (t: CallTrace) => void;
  hooks?: DecoderHooks;
}

export type Decoder = (prompt: Prompt, options: DecodeOptions) => Promise<DecodeResult>;

export class EngineSpy {
  readonly engine: Engine;
  /** Every engine.complete since the last `take()`. */
  calls: SpiedCall[] = [];
  watch: Watch | undefined;
  /** Replaces the model's decode (undefined: the engine's own). */
  decoder: Decoder | undefined;

  constructor(readonly target: Engine) {
    const complete = async (prompt: Prompt, options: DecodeOptions, hooks?: DecoderHooks): Promise<DecodeResult> => {
      const watch = this.watch;
      watch?.begin?.(options);
      const onCall = watch?.onCall === undefined ? options.onCall : (t: CallTrace) => (options.onCall?.(t), watch.onCall!(t));
      const opts = { ...options, ...(onCall !== undefined ? { onCall } : {}) };
      const t0 = performance.now();
      const result = this.decoder !== undefined ? await this.decoder(prompt, opts) : await target.complete(prompt, opts, hooks ?? watch?.hooks);
      this.calls.push({ prompt, options, ms: performance.now() - t0, result });
      return result;
    };
    this.engine = new Proxy(target, {
      get: (t, key) => {
        if (key === 'complete') return complete;
        const value: unknown = Reflect.get(t, key, t);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  }

  /** The calls recorded since the last take(), and a fresh record. */
  take(): SpiedCall[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }
}
