/**
 * `TraceLog`: a ring buffer of the most recent requests with their per-call traces, for
 * ptp/trace (the extension's decoding-trace view: which tokens each model call committed).
 */
import type { TraceResult } from '../protocol/index';

export type TraceEntry = TraceResult['requests'][number];

/** Enough to scroll back through a few seconds of typing; each entry is a few kB. */
export const TRACE_CAPACITY = 50;

export class TraceLog {
  private readonly entries: TraceEntry[] = [];

  constructor(private readonly capacity = TRACE_CAPACITY) {}

  add(entry: TraceEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  /** Newest first. */
  recent(limit = this.capacity): TraceEntry[] {
    return limit >= 1 ? this.entries.slice(-Math.floor(limit)).reverse() : [];
  }
}
