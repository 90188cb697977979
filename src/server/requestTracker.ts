/**
 * `RequestTracker`: one AbortSignal per request, aborted by whichever comes first:
 *
 *   the client's $/cancelRequest         reason 'cancelled'
 *   a newer request in the same lane     reason 'superseded'  (lanes: 'inline' for every
 *                                                              inline completion, so the newest
 *                                                              keystroke anywhere wins, and
 *                                                              'generate:<uri>')
 *   the per-request time cap             reason 'timeout'
 *   a model reload or shutdown           reason 'reload'
 *
 * The engine checks the signal between model calls, so an aborted request stops within one
 * call and resolves with what it had.
 */
import type { CancellationToken } from 'vscode-languageserver/node';

export type AbortReason = 'cancelled' | 'superseded' | 'timeout' | 'reload';

export interface TrackedRequest {
  readonly id: string;
  readonly signal: AbortSignal;
  /** Why the signal was aborted, or undefined while it is not. */
  readonly reason: AbortReason | undefined;
  /** Releases the lane and the timer; call once the response is sent. */
  done(): void;
}

export class RequestTracker {
  private readonly lanes = new Map<string, AbortController>();
  private readonly live = new Set<AbortController>();
  private counter = 0;

  begin(lane: string, token: CancellationToken | undefined, timeoutMs: number): TrackedRequest {
    const controller = new AbortController();
    const id = String(++this.counter);
    this.lanes.get(lane)?.abort('superseded' satisfies AbortReason);
    this.lanes.set(lane, controller);
    this.live.add(controller);
    const timer = setTimeout(() => controller.abort('timeout' satisfies AbortReason), timeoutMs);
    const subscription = token?.onCancellationRequested(() => controller.abort('cancelled' satisfies AbortReason));
    if (token?.isCancellationRequested) controller.abort('cancelled' satisfies AbortReason);
    return {
      id,
      signal: controller.signal,
      get reason() {
        return controller.signal.aborted ? (controller.signal.reason as AbortReason) : undefined;
      },
      done: () => {
        clearTimeout(timer);
        subscription?.dispose();
        this.live.delete(controller);
        if (this.lanes.get(lane) === controller) this.lanes.delete(lane);
      },
    };
  }

  /** Requests begun and not done: decoding, waiting for the model, or finishing an aborted call. */
  get pending(): number {
    return this.live.size;
  }

  abortAll(reason: AbortReason): void {
    for (const c of this.live) c.abort(reason);
  }
}
