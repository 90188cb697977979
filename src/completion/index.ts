/**
 * The completion layer: one inline completion or generated block, end to end (prompt, syntax
 * analysis, block-size policy, stop rules, the engine call, trimming) for the worker, the CLI
 * and every bench. It knows nothing of VS Code or LSP.
 */
export type { CompleteAtOptions, CompleteAtResult, CompletionDecoding, CompletionEnv, CompletionOutcome, SnippetInfo } from './completeAt';
export { CURSOR_MARK, GENERATE_MAX_TOKENS, SNIPPET_LAYOUT, SNIPPET_QUERY_FROM, completeAt, promptAt, warmAt } from './completeAt';
export { languageOfFile, sourceLanguageOf } from './languageOfFile';
export type { FitOptions, FittedItem } from './fitCompletion';
export { FOLLOWING_LINES, MIN_AUTOMATIC_CHARS, fitAt, fitCompletion } from './fitCompletion';
export { bundledPaths } from './bundledPaths';
export type { SweepOptions } from './latencyCurve';
export { measureLatencyCurve } from './latencyCurve';
export type { CutBoundary } from './confidence';
export { CONFIDENCE_THRESHOLDS, confidenceThreshold } from './confidence';
export { CONFIDENCE_BOUNDARY } from './completeAt';
