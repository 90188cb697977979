/**
 * What the worker is doing for us right now and how the last request went, for the status bar:
 * requests in flight (inline and Generate Code), the last round-trip latency and the worker's
 * stats for it (tokens per call).
 */
import * as vscode from 'vscode';
import type { CompletionStats } from '../protocol';

export type ActivityKind = 'completion' | 'generate';

export class Activity implements vscode.Disposable {
  private readonly running = new Map<number, ActivityKind>();
  private nextId = 0;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  lastLatencyMs: number | undefined;
  lastStats: CompletionStats | undefined;

  /** Marks a request as running; call the returned function when it ends. */
  begin(kind: ActivityKind): () => void {
    const id = this.nextId++;
    this.running.set(id, kind);
    this.emitter.fire();
    return () => {
      if (this.running.delete(id)) this.emitter.fire();
    };
  }

  record(latencyMs: number, stats: CompletionStats | undefined): void {
    this.lastLatencyMs = latencyMs;
    if (stats !== undefined) this.lastStats = stats;
    this.emitter.fire();
  }

  inFlight(kind?: ActivityKind): number {
    if (kind === undefined) return this.running.size;
    let n = 0;
    for (const k of this.running.values()) if (k === kind) n++;
    return n;
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
