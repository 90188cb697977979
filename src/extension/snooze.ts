/**
 * Snooze: no automatic completions until a time; each snooze adds SNOOZE_STEP_MS from now or
 * from the current end, whichever is later (as Copilot's menu does). Explicit triggers still
 * work. Pure: the clock comes in.
 */
export const SNOOZE_STEP_MS = 5 * 60 * 1000;
/** Snoozing longer than this is what Toggle Completions is for. */
const MAX_SNOOZE_MS = 60 * 60 * 1000;

export class Snooze {
  private until = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds one step; returns when the snooze ends (ms since epoch). */
  extend(): number {
    const start = Math.max(this.now(), this.until);
    this.until = Math.min(start + SNOOZE_STEP_MS, this.now() + MAX_SNOOZE_MS);
    return this.until;
  }

  cancel(): void {
    this.until = 0;
  }

  get active(): boolean {
    return this.now() < this.until;
  }

  /** Milliseconds left, 0 when not snoozed. */
  remainingMs(): number {
    return Math.max(0, this.until - this.now());
  }
}
