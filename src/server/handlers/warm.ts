/**
 * `ptp/warm`: the cursor came to rest; when the model is idle, run the prompt a completion there
 * would send into the engine's cache (warmAt), so the first keystroke does not wait for the
 * prefill. Never delays a request: only into an idle model, and the warm-up is one queue turn.
 */
import { WarmNotification, resolveDecoding, seededDecoding } from '../../protocol/index';
import { warmAt } from '../../completion/index';
import { message } from '../modelHost';
import type { WorkerContext } from '../workerContext';
import { perScopeCap } from './inlineCompletion';

export function registerWarm(w: WorkerContext): void {
  const { connection, docs, host, turns, log } = w;
  connection.onNotification(WarmNotification, (params) => {
    const uri = params.textDocument.uri;
    const model = host.model;
    const doc = docs.get(uri);
    if (host.state !== 'ready' || model === undefined || doc === undefined || turns.depth > 0) return;
    const offset = docs.insertionOffset(uri, params.position);
    if (offset === undefined) return;
    const version = doc.version;
    const never = new AbortController();
    void turns
      .run(never.signal, async () => {
        if (!docs.isCurrent(uri, doc, version)) return;
        const decoding = resolveDecoding(undefined, w.settings.decoding, model.engine.manifest.sampling);
        const started = performance.now();
        // The prompt does not depend on the seed: any one will do.
        const prefilled = await warmAt(model, doc, offset, {
          decoding: seededDecoding(decoding, 0, 0),
          mode: 'inline',
          maxTokens: perScopeCap(decoding.maxTokens),
          cacheKey: uri,
          // The same snippet as the completion's, so that its prompt is the one warmed.
          ...(w.snippets() ? { references: w.references(uri), snippets: true } : {}),
          requestId: 'warm',
        });
        if (prefilled) log.debug(`[warm] ${uri}:${params.position.line + 1}:${params.position.character + 1}: ${prefilled} prompt tokens in ${(performance.now() - started).toFixed(1)} ms`);
      })
      .catch((e: unknown) => log.warn(`[warm] ${uri}: ${message(e)}`));
  });
}
