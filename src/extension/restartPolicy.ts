/**
 * When a crashed worker is started again: at most MAX_RESTARTS times within RESTART_WINDOW_MS,
 * after 0.5 s, 1 s, 2 s, 4 s; past that the extension stops trying and says what to do.
 * "Restart Worker" starts the count over. Pure (an injected clock), so it is unit-tested.
 */

/** The worker may crash this many times within RESTART_WINDOW_MS before we stop restarting it. */
export const MAX_RESTARTS = 4;
export const RESTART_WINDOW_MS = 3 * 60 * 1000;
/** Wait before the n-th restart in the window: 0.5 s, 1 s, 2 s, 4 s. */
const RESTART_BACKOFF_MS = 500;

export type RestartDecision = { readonly restartInMs: number; readonly count: number } | { readonly giveUp: string };

export class RestartPolicy {
  private readonly restarts: number[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** The worker stopped: restart it after `restartInMs`, or give up with a message for the person. */
  stopped(): RestartDecision {
    const now = this.now();
    this.restarts.push(now);
    while (this.restarts.length > 0 && now - this.restarts[0]! > RESTART_WINDOW_MS) this.restarts.shift();
    const count = this.restarts.length;
    if (count > MAX_RESTARTS) {
      return { giveUp: `The PTP worker stopped ${count} times in ${RESTART_WINDOW_MS / 60000} minutes and will not be restarted. See "PTP: Show Log", then "PTP: Restart Worker".` };
    }
    return { restartInMs: RESTART_BACKOFF_MS * 2 ** (count - 1), count };
  }

  reset(): void {
    this.restarts.length = 0;
  }
}
