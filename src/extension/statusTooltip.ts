/**
 * The status bar tooltip's lines about the worker's work, as markdown: the last request (and,
 * when the worker showed nothing, why: the confidence rule withheld it) and what the lookup
 * drafts draw on. Pure, so it is unit-tested; statusBar.ts puts the lines in a MarkdownString.
 */
import type { CompletionStats, IndexStatus, Withheld } from '../protocol';

const WITHHELD_REASON: Record<Withheld['reason'], string> = {
  unsure: 'the model was not sure enough',
  short: 'what the model was sure of is less than a word',
};

/**
 * The newer of two stats of the same worker (its request ids count up: "12", "12.2" for an
 * alternative): the inline answer's arrives first, ptp/status's a moment later or from a request
 * of another kind (Generate Code).
 */
export function newerStats(a: CompletionStats | undefined, b: CompletionStats | undefined): CompletionStats | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  const id = (s: CompletionStats): number => Number.parseFloat(s.requestId);
  return id(b) > id(a) ? b : a;
}

/** The last request: withheld or not, then its numbers. */
export function lastRequestMarkdown(stats: CompletionStats, latencyMs: number | undefined): string {
  const withheld =
    stats.withheld !== undefined
      ? `**Last suggestion withheld**: ${WITHHELD_REASON[stats.withheld.reason] ?? escapeMarkdown(stats.withheld.reason)} (${escapeMarkdown(stats.withheld.detail)}). ` +
        'Alt+\\\\ asks with a lower bar; `ptp.completion.confidence` sets it.\n\n'
      : '';
  return (
    withheld +
    `Last request: ${stats.tokens} tokens in ${stats.calls} model calls (**${stats.tokensPerCall.toFixed(2)} tokens per call**, block size ${stats.blockSize}, ${stats.scope} scope); ` +
    `prefill ${Math.round(stats.msPrefill)} ms, decode ${Math.round(stats.msDecode)} ms` +
    (latencyMs !== undefined ? `; ${Math.round(latencyMs)} ms round trip` : '')
  );
}

/** What the lookup drafts draw on besides the prompt, in one line; undefined when nothing (both off, or an older worker). */
export function indexLine(index: IndexStatus | undefined): string | undefined {
  if (index === undefined) return undefined;
  const { open, workspace } = index;
  const sources: string[] = [];
  if (open.documents > 0) sources.push(`${open.documents} open file(s)`);
  if (workspace.state === 'building') sources.push(`the workspace (indexing, ${workspace.files} of ${workspace.found} files so far)`);
  else if (workspace.state === 'done') sources.push(`${workspace.files} of ${workspace.found} workspace files`);
  if (sources.length === 0) return undefined;
  const tokens = open.tokens + workspace.tokens;
  const mib = (open.bytes + workspace.bytes) / 2 ** 20;
  return `Drafts also from ${sources.join(' and ')}: ${(tokens / 1e6).toFixed(1)}M tokens, ${mib.toFixed(0)} MiB`;
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
}
