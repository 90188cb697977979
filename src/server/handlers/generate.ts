/**
 * `ptp/generate`: completeAt in 'generate' mode (a whole block of up to GENERATE_MAX_TOKENS
 * tokens, or the request's maxTokens when larger; never cut by the confidence rule; its trace still has each token's confidence), the
 * partial text streamed through `$/progress` at most every PARTIAL_INTERVAL_MS.
 */
import { LSPErrorCodes, ProgressType, ResponseError } from 'vscode-languageserver/node';
import type { CancellationToken } from 'vscode-languageserver/node';
import type { GenerateParams, GeneratePartial, GenerateResult } from '../../protocol/index';
import { ErrorCodes, GenerateRequest, seededDecoding } from '../../protocol/index';
import { GENERATE_MAX_TOKENS, completeAt } from '../../completion/index';
import { GENERATE_TIMEOUT_MS, freshSeed } from '../settings';
import type { WorkerContext } from '../workerContext';

/** Partial text goes out at most this often (a model call is ~5-30 ms). */
const PARTIAL_INTERVAL_MS = 50;

const GeneratePartialType = new ProgressType<GeneratePartial>();

export function registerGenerate(w: WorkerContext): void {
  w.connection.onRequest(GenerateRequest, (params, token) => generate(w, params, token));
}

async function generate(w: WorkerContext, params: GenerateParams, token: CancellationToken): Promise<GenerateResult> {
  const { docs, connection } = w;
  const uri = params.textDocument.uri;
  const capMs = Math.max(w.settings.requestTimeoutMs, GENERATE_TIMEOUT_MS);
  const request = w.tracker.begin(`generate:${uri}`, token, capMs);
  let served = false;
  try {
    const doc = w.documentFor(uri);
    const version = doc.version;
    const model = await w.modelFor(request);
    if (model === undefined) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    const decoding = w.decodingOf(params.decoding, model);
    // ptp.completion.maxTokens caps ghost text; a block gets GENERATE_MAX_TOKENS, more only when the request asks.
    const maxTokens = Math.max(params.decoding?.maxTokens ?? 0, GENERATE_MAX_TOKENS);
    const offset = docs.insertionOffset(uri, params.position);
    if (offset === undefined) throw new ResponseError(ErrorCodes.DocumentRejected, `${uri}: the position is between the two halves of a character`);
    const partialToken = params.partialResultToken;
    let lastSent = 0;
    let lastText = '';
    const outcome = await w.turns.run(request.signal, async () => {
      if (!docs.isCurrent(uri, doc, version)) return { kind: 'stale' } as const;
      return completeAt(model, doc, offset, {
        decoding: seededDecoding(decoding, 0, freshSeed()),
        mode: 'generate',
        maxTokens,
        ...(params.instruction !== undefined ? { instruction: params.instruction } : {}),
        cacheKey: uri,
        references: w.references(uri),
        snippets: w.snippets(),
        cacheModel: w.cacheModel(),
        requestId: request.id,
        signal: request.signal,
        onText:
          partialToken === undefined
            ? undefined
            : (text) => {
                const now = performance.now();
                if (text === lastText || now - lastSent < PARTIAL_INTERVAL_MS) return;
                [lastSent, lastText] = [now, text];
                void connection.sendProgress(GeneratePartialType, partialToken, { text }).catch(() => undefined);
              },
      });
    });
    if (outcome === undefined) {
      if (request.reason === 'timeout') throw new ResponseError(ErrorCodes.Timeout, `the model was busy for ${capMs} ms`);
      throw new ResponseError(LSPErrorCodes.RequestCancelled, 'cancelled');
    }
    if (outcome.kind === 'rejected') throw new ResponseError(ErrorCodes.DocumentRejected, `${uri}: ${outcome.detail}`);
    if (outcome.kind === 'stale') throw new ResponseError(LSPErrorCodes.ContentModified, `${uri} changed while generating`);
    w.record(uri, params.position, decoding, outcome, request);
    if (request.reason === 'timeout') w.log.warn(`[generate] request ${request.id} for ${uri} hit the ${GENERATE_TIMEOUT_MS} ms cap`);
    served = request.reason === undefined || request.reason === 'timeout';
    return { text: outcome.text, stats: outcome.stats };
  } finally {
    w.finish(request, served);
  }
}
