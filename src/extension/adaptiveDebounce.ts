/**
 * How long to wait after a keystroke before asking the worker for a completion.
 *
 * Adaptive mode follows Tabby's debouncer, the answer to the top
 * complaint about local models ("CPU is at 100 % whenever I type"): wait about as long as
 * the person's usual pause between keystrokes, less where a completion is likely wanted
 * (after punctuation, at the end of a line), minus what the worker will take anyway.
 *
 *   base  = mean of recent keystroke gaps (gaps over 400 ms are pauses, not typing), 100–400 ms
 *   score = 0.5 after a non-word character + 0.4 at line end + 0.1 at document end
 *   delay = (3.0 − 1.5 × score) × base − mean recent latency, clamped to 50–1000 ms
 *
 * Fixed mode waits `fixedMs`. An explicit trigger (Alt+\) never waits. Pure: time comes in.
 */

export type DebounceMode = 'adaptive' | 'fixed';

export interface DebounceContext {
  /** The person asked for a completion (explicit trigger). */
  readonly explicit: boolean;
  /** The character just typed, if any. */
  readonly lastChar?: string;
  readonly atLineEnd: boolean;
  readonly atDocumentEnd: boolean;
}

/** Gaps longer than this are a pause, not typing speed. */
const MAX_TYPING_GAP_MS = 400;
/** Before this many gaps are known, assume an average typist. */
const MIN_GAPS = 5;
const DEFAULT_BASE_MS = 200;
const GAP_WINDOW = 50;
const LATENCY_WINDOW = 10;
const MIN_BASE_MS = 100;
const MAX_BASE_MS = 400;
/** Floor lower than Tabby's 100 ms: a local worker is not a network round trip. */
const MIN_DELAY_MS = 50;
const MAX_DELAY_MS = 1000;

export class AdaptiveDebounce {
  private readonly gaps: number[] = [];
  private readonly latencies: number[] = [];
  private lastKeystroke: number | undefined;

  /** Call on every keystroke (a small insert in the active editor), with the time it happened. */
  recordKeystroke(atMs: number): void {
    if (this.lastKeystroke !== undefined) {
      const gap = atMs - this.lastKeystroke;
      if (gap > 0 && gap <= MAX_TYPING_GAP_MS) push(this.gaps, gap, GAP_WINDOW);
    }
    this.lastKeystroke = atMs;
  }

  /** Call when the worker answered, with how long the whole request took. */
  recordLatency(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) push(this.latencies, ms, LATENCY_WINDOW);
  }

  /** The typing-speed base, ms (exposed for the status tooltip and tests). */
  baseMs(): number {
    if (this.gaps.length < MIN_GAPS) return DEFAULT_BASE_MS;
    return clamp(mean(this.gaps), MIN_BASE_MS, MAX_BASE_MS);
  }

  meanLatencyMs(): number {
    return this.latencies.length === 0 ? 0 : mean(this.latencies);
  }

  delayMs(context: DebounceContext, mode: DebounceMode, fixedMs: number): number {
    if (context.explicit) return 0;
    if (mode === 'fixed') return Math.max(0, fixedMs);
    let score = 0;
    if (context.lastChar !== undefined && context.lastChar !== '' && !/[\p{L}\p{N}_$]/u.test(context.lastChar)) score += 0.5;
    if (context.atLineEnd) score += 0.4;
    if (context.atDocumentEnd) score += 0.1;
    const rate = 3.0 - 1.5 * score;
    return Math.round(clamp(rate * this.baseMs() - this.meanLatencyMs(), MIN_DELAY_MS, MAX_DELAY_MS));
  }
}

function push(window: number[], value: number, size: number): void {
  window.push(value);
  if (window.length > size) window.shift();
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
