/**
 * The engine's public surface. Other layers import from here only.
 */
export { Engine, DEFAULT_BUDGET_PER_BLOCK, OUTPUT_RESERVE, PREFILL_CHUNK } from './engine';
export type { DecodeOptions, DecodeResult, CallTrace, StopReason, UnsureStop, EngineParts } from './engine';
export { STEPS_PER_NAT, confidenceSteps, stepLimit, stepsToProbability } from './confidence';
export type { DecoderHooks } from './decoder';
export type { Prompt } from './prompt';
export { MIN_PREFIX_WITH_CONTEXT, suffixSpan } from './prompt';
export { MIN_JACCARD, SNIPPET_AFTER, SNIPPET_BEFORE, SNIPPET_QUERY, formatSnippet, jaccard, retrieveSnippet, snippetName, snippetSource, type Snippet, type SnippetLayout, type SnippetOptions } from './snippets';
export type { Manifest } from './manifest';
export type { Device } from './runner';
export type { LoadOptions } from './model';
export { ModelLoadError } from './modelLoadError';
export { uniform } from './ustream';
export { dist, pick, tokenProbability, type SamplingParams } from './sampling';
export { proposals, branchProbabilities, rewardCurve } from './proposals';
export { bestDraft, contextDraft, expectedAccepted, lookupDrafts, CONFIDENCE_BY_MATCH, LOOKUP_BLOCK, type ContextDraft, type DraftReference, type LookupDraft, type LookupSource, type ReferenceSource } from './lookup';
export { GRAM, MAX_REFERENCE_MATCH, TokenIndex, type IndexMatch, type MatchFilter, type TokenIndexOptions } from './tokenIndex';
export { MIN_SURVIVAL } from './ptp';
export { CACHE_MAX_MATCH, CACHE_WEIGHTS, CacheModel, mixRow, ownText, type CacheGroup, type CacheMix, type CacheWeights } from './cacheModel';
export { checkParity, type ParityResult } from './parityCheck';
