/**
 * `EngineQueue`: requests take turns on the one model, and a request waiting for its turn
 * leaves the line the moment its AbortSignal fires (cancelled, superseded, over its time cap,
 * reload). The engine queues too, but a request queued there cannot leave: it would wait out
 * a long ptp/generate whatever its cap said, and every superseded keystroke would stay in line.
 *
 *   run(signal, work)   free?  ──> work() ──> hand the model to the next waiter
 *                       busy?  ──> wait ──(turn)──> work()
 *                                    └──(abort)──> undefined, work never runs
 */
export class EngineQueue {
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  /** Requests running on the model or waiting for it. */
  get depth(): number {
    return (this.busy ? 1 : 0) + this.waiting.length;
  }

  /** Runs `work` when the model is free; undefined, without running it, if `signal` aborts first. */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T | undefined> {
    if (signal.aborted) return undefined;
    if (this.busy) {
      const gotTurn = await new Promise<boolean>((resolve) => {
        const start = (): void => {
          signal.removeEventListener('abort', leave);
          resolve(true);
        };
        const leave = (): void => {
          this.waiting.splice(this.waiting.indexOf(start), 1);
          resolve(false);
        };
        signal.addEventListener('abort', leave, { once: true });
        this.waiting.push(start);
      });
      if (!gotTurn) return undefined;
    }
    // Either the model was free or the previous holder handed it over with busy still set.
    this.busy = true;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.busy = false;
    }
  }
}
