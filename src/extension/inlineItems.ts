/**
 * The worker's `textDocument/inlineCompletion` answer as the provider uses it: per item the text
 * and how many characters right of the cursor it replaces (the auto-closed brackets and quotes
 * fitting re-supplies), and the worker's stats; beside the items, the last decode's stats (why
 * nothing is shown, when nothing is). Pure (plain positions), so it is unit-tested.
 */
import type { CompletionStats } from '../protocol';

/** One completion as the worker gave it: text to put in place of [cursor, cursor + coverLength). */
export interface WorkerCompletion {
  readonly text: string;
  readonly coverLength: number;
  readonly stats?: CompletionStats;
}

interface LspPosition {
  readonly line: number;
  readonly character: number;
}

/** The parts of an LSP InlineCompletionItem read here. */
export interface LspInlineItem {
  readonly insertText: string | { readonly value: string };
  readonly range?: { readonly start: LspPosition; readonly end: LspPosition };
  readonly data?: unknown;
}

/** `lineText`: the cursor's line, for an item whose range starts left of the cursor (another server's). */
export function completionsOf(items: readonly LspInlineItem[], position: LspPosition, lineText: string): WorkerCompletion[] {
  return items.map((item) => {
    let text = typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
    const range = item.range;
    // An item whose range starts left of the cursor repeats that text first: drop it.
    if (range !== undefined && range.start.line === position.line && range.start.character < position.character) {
      const before = lineText.slice(range.start.character, position.character);
      if (text.startsWith(before)) text = text.slice(before.length);
    }
    const coverLength = range !== undefined && range.end.line === position.line ? Math.max(0, range.end.character - position.character) : 0;
    return { text, coverLength, ...(isStats(item.data) ? { stats: item.data } : {}) };
  });
}

/** The stats of the request's last decode beside the items (InlineCompletionAnswer), also when there is no item. */
export function lastStatsOf(answer: unknown): CompletionStats | undefined {
  const last = typeof answer === 'object' && answer !== null && 'ptp' in answer ? (answer.ptp as { last?: unknown } | undefined)?.last : undefined;
  return isStats(last) ? last : undefined;
}

function isStats(value: unknown): value is CompletionStats {
  return typeof value === 'object' && value !== null && 'requestId' in value && 'tokensPerCall' in value;
}
