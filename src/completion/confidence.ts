/**
 * Show only what the model is sure of. The engine ends a completion before the token at which
 * the running product of the tokens' probabilities falls below a threshold (engine
 * confidence.ts, the same cut in AR and PTP); here the level a person picked becomes that
 * threshold, what is left is cut back to a boundary a person accepts, and a suggestion with
 * less than a word of code is withheld, with a reason the status bar and the CLI show.
 *
 * Thresholds are calibrated on validation cases only (`npm run eval:confidence`,
 * bench/results/eval-confidence.md).
 */
import { isWordChar } from '../context/index';
import type { ConfidenceLevel, Withheld } from '../protocol/index';

/**
 * The running-confidence threshold per level, for automatic requests and for explicit ones
 * (Alt+\\). Calibrated on the validation cases (T 0, the item the editor inserts). Without the
 * cache model (bench/results/eval-confidence.md), at 0.4 62% of what is shown after Enter is
 * right and 35% of moments show something (59% and 31% mid-line), against 6% and 15% right with
 * no gate. The cache model (ptp.context.cacheModel, on by default) makes copies sure; at 0.4 it
 * showed more but a little less of it right after Enter (61%), so 'medium' is 0.45: 70% right
 * after Enter at 42% shown, 68% at 32% mid-line, 57% at 39% multi-line, each above what 0.4 gave
 * without it, with 61-78% more right characters (bench/results/eval-knowledge.md). 'low' shows
 * about half the moments, 'high' about a quarter at about 70% right. An explicit request shows
 * about two thirds of moments.
 */
export const CONFIDENCE_THRESHOLDS: Readonly<Record<Exclude<ConfidenceLevel, 'off'>, { automatic: number; explicit: number }>> = {
  low: { automatic: 0.25, explicit: 0.05 },
  medium: { automatic: 0.45, explicit: 0.1 },
  high: { automatic: 0.55, explicit: 0.2 },
};

/** The threshold a request uses; undefined: no cut. */
export function confidenceThreshold(level: ConfidenceLevel | undefined, explicit: boolean): number | undefined {
  if (level === undefined || level === 'off') return undefined;
  const t = CONFIDENCE_THRESHOLDS[level];
  return explicit ? t.explicit : t.automatic;
}

/**
 * Where a confidence cut may end the text: after any token; never inside a word; or only where
 * the text is complete (every bracket it opened closed, no new parse error: trimCompletion's
 * full rules). 'token' and 'word' show a part of a construct, to accept and type on from.
 */
export type CutBoundary = 'token' | 'word' | 'syntax';

/**
 * The text cut by the confidence rule, moved back to `boundary`: with 'word', a word the
 * unsure token would have continued (`self.ite` + `ms`) is dropped whole (`self.`).
 */
export function cutBack(text: string, unsureTokenText: string, boundary: CutBoundary): string {
  if (boundary !== 'word') return text;
  if (!isWordChar(text[text.length - 1]) || !isWordChar(unsureTokenText[0])) return text;
  let i = text.length;
  while (i > 0 && isWordChar(text[i - 1])) i--;
  return text.slice(0, i);
}

/** Whether `text` holds at least one word of code (an identifier, keyword or number). */
export function holdsWord(text: string): boolean {
  return [...text].some(isWordChar);
}

/** Why nothing is shown, in one line a person reads. */
export function withheldReason(shown: string, unsure: { text: string; probability: number; confidence: number }, threshold: number): Withheld {
  const pct = (p: number): string => `${Math.round(p * 100)}%`;
  const next = JSON.stringify(unsure.text.length > 24 ? `${unsure.text.slice(0, 24)}…` : unsure.text);
  if (shown.trim() === '') {
    return { reason: 'unsure', detail: `not sure enough of what comes next: ${next} at ${pct(unsure.probability)}, the suggestion at ${pct(unsure.confidence)} (needs ${pct(threshold)})` };
  }
  return { reason: 'short', detail: `sure only of ${JSON.stringify(shown.trim())}, less than a word; then ${next} at ${pct(unsure.probability)} (needs ${pct(threshold)})` };
}
