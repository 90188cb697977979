/** `ptp/trace`: the most recent requests with the tokens each model call committed (TraceLog), newest first. */
import type { TraceResult } from '../../protocol/index';
import { TraceRequest } from '../../protocol/index';
import type { WorkerContext } from '../workerContext';

/** Requests listed when the client asks for no particular number. */
const DEFAULT_TRACE_LIMIT = 20;

export function registerTrace(w: WorkerContext): void {
  w.connection.onRequest(TraceRequest, (params): TraceResult => ({ requests: w.traces.recent(params?.limit ?? DEFAULT_TRACE_LIMIT) }));
}
