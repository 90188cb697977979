/**
 * The benches' door to the completion pipeline: src/completion's `completeAt`, the one the
 * worker and the CLI run (prompt, syntax analysis, block-size policy, stop rules, engine call,
 * trimming, fitting to the line: the outcome's `item` is what VS Code gets), with the policy's
 * inputs from bench/lib/latencyCurve.ts. No pipeline logic lives here: a bench that needs a what-if
 * asks for it through completeAt's documented options, and one that needs to see inside a
 * request (stage times, the prompt the model saw, PTP's speculations) watches the engine
 * (bench/lib/engineSpy.ts).
 */
import type { Scope, SyntaxDocument } from '../../src/context';
import { DEFAULT_MAX_TOKENS, SCOPES } from '../../src/context';
import type { DraftReference, Engine } from '../../src/engine';
import { type CompleteAtOptions, type CompletionDecoding, type CompletionOutcome, completeAt, warmAt } from '../../src/completion/index';
import type { Policy } from './latencyCurve';

/** Greedy AR: the decoding the quality evals score. */
export const GREEDY: CompletionDecoding = { decoder: 'ar', seed: 0, temperature: 0, topK: 50, topP: 0.95, blockSize: 1 };

/** An inline request: completeAt's options less the mode (inline) and with a default request id. */
export type InlineRequest = Omit<CompleteAtOptions, 'mode' | 'requestId'> & { requestId?: string };

/**
 * Per-scope token caps: each scope's own (DEFAULT_MAX_TOKENS), but at most `n`. completeAt's
 * `maxTokens: n` would set every scope to n, raising the small ones.
 */
export function capAt(n: number): Record<Scope, number> {
  return Object.fromEntries(SCOPES.map((s) => [s, Math.min(DEFAULT_MAX_TOKENS[s], n)])) as Record<Scope, number>;
}

function inline(request: InlineRequest): CompleteAtOptions {
  return { ...request, mode: 'inline', requestId: request.requestId ?? request.cacheKey ?? 'bench' };
}

/** completeAt at `offset` in inline mode, as the worker answers an inline request; throws unless it completes. */
export async function inlineRun(engine: Engine, policy: Policy, doc: SyntaxDocument, offset: number, request: InlineRequest): Promise<CompletionOutcome> {
  const r = await completeAt({ engine, latency: policy.curve }, doc, offset, inline(request));
  if (r.kind === 'rejected') throw new Error(`${doc.uri}:${offset}: no prompt: ${r.reason} (${r.detail})`);
  if (r.kind !== 'done') throw new Error(`${doc.uri}:${offset}: the pipeline gave ${r.kind}`);
  return r;
}

/** warmAt for the same request: its prompt in the engine's cache, nothing generated (what the worker does where the cursor rests). */
export async function warmInline(engine: Engine, policy: Policy, doc: SyntaxDocument, offset: number, request: InlineRequest): Promise<void> {
  await warmAt({ engine, latency: policy.curve }, doc, offset, inline(request));
}

/**
 * What the extension shows at `offset`, greedy: the worker's own `completeAt` (its typed-whitespace
 * holdback, the scope's stop rules and trimming), as the eval's "shown" column scores it.
 */
export async function shownCompletion(
  engine: Engine,
  policy: Policy,
  doc: SyntaxDocument,
  offset: number,
  request: { seed: number; cacheKey: string; requestId: string },
): Promise<string> {
  return (await shownRun(engine, policy, doc, offset, request)).text;
}

/**
 * The worker's own `completeAt` at `offset`, inline mode, with its whole outcome: greedy AR
 * unless `decoding` says otherwise; `firstLine` overrides the engine's first-line rule (what-if).
 */
export function shownRun(
  engine: Engine,
  policy: Policy,
  doc: SyntaxDocument,
  offset: number,
  request: { seed: number; cacheKey: string; requestId: string; decoding?: Partial<CompletionDecoding>; firstLine?: boolean; references?: readonly DraftReference[] },
): Promise<CompletionOutcome> {
  const { seed, decoding, ...rest } = request;
  return inlineRun(engine, policy, doc, offset, { ...rest, decoding: { ...GREEDY, seed, ...decoding } });
}
