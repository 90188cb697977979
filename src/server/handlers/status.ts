/** `ptp/status`: the model's state, the counters, the last request's stats and the indexes' sizes (WorkerContext.status). */
import { StatusRequest } from '../../protocol/index';
import type { WorkerContext } from '../workerContext';

export function registerStatus(w: WorkerContext): void {
  w.connection.onRequest(StatusRequest, () => w.status());
}
