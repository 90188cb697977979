/**
 * `IdleGate`: background work (indexing the open documents and the workspace for lookup
 * drafts) runs on the worker's one thread, the thread that also answers completion requests.
 * It runs in small units (one directory listed, one file read, one chunk of text tokenized) and
 * calls `turn()` before each: the gate lets units run back to back for one short slice, then
 * hands the event loop back so waiting messages are read, and holds every unit while a
 * request is being served.
 *
 *   turn()   slice left and not busy?  ──> go on at once
 *            else ──> yield to the event loop ──(busy? wait, look again)──> new slice, go on
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';

/** Work per slice before the event loop gets its turn: a request waits at most about this long. */
export const SLICE_MS = 8;
/** While a request is being served, background work looks again this often. */
export const BUSY_POLL_MS = 50;

export class IdleGate {
  private sliceStart = -Infinity;

  /** `busy`: a request is being served or waits for the model (the worker's tracker and queue). */
  constructor(
    private readonly busy: () => boolean,
    private readonly sliceMs = SLICE_MS,
    private readonly pollMs = BUSY_POLL_MS,
  ) {}

  /** Resolves when the caller may run its next unit of work. */
  async turn(): Promise<void> {
    if (!this.busy() && performance.now() - this.sliceStart < this.sliceMs) return;
    // A timer, not setImmediate: a message read in this loop iteration is dispatched (by an
    // immediate) before the timer fires, so its request counts as busy when we look.
    await delay(0);
    while (this.busy()) await delay(this.pollMs);
    this.sliceStart = performance.now();
  }
}
