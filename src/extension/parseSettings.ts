/**
 * The `ptp.*` settings as typed values. Pure: takes a getter (VS Code's configuration in
 * settings.ts, a plain object in tests). Each value is checked and defaulted by the one settings
 * schema (src/protocol settings.ts), which package.json's contributes.configuration mirrors;
 * a value of the wrong type or out of range takes the default, and `problems` names it.
 *
 * What the person did not set stays unset on the wire: the sampling settings (temperature,
 * top-k, top-p) then come from the model's model.json in the worker, the seed is fresh per
 * request, and the block size 'auto' is the worker's block-size policy.
 */
import type { ConfidenceLevel, DebounceMode, DecodingSettings, SettingKey, SettingValue, WorkerSettings } from '../protocol';
import { readSetting } from '../protocol';

/** What the worker's context settings need besides `ptp.*`: VS Code's trust and files.exclude. */
export interface WorkspaceFacts {
  /** vscode.workspace.isTrusted. */
  readonly trusted: boolean;
  /** The files.exclude setting: glob -> true, false or a `when` clause. */
  readonly filesExclude: unknown;
}

export interface PtpSettings {
  readonly enable: boolean;
  /** languageId -> enabled; "*" is the default for languages not listed. */
  readonly enableLanguages: Readonly<Record<string, boolean>>;
  readonly completion: {
    /** Complete as you type; off = only on an explicit trigger (Alt+\). */
    readonly automatic: boolean;
    /** How sure the model must be before a suggestion is shown (the worker applies it). */
    readonly confidence: ConfidenceLevel;
    readonly debounceMode: DebounceMode;
    readonly debounceMs: number;
    readonly maxTokens: number;
    readonly alternatives: number;
  };
  /** Decoding for every request, only what is set (see the file comment); maxTokens is added per request kind. */
  readonly decoding: Omit<DecodingSettings, 'maxTokens'>;
  readonly worker: WorkerSettings;
  /** One line per value that was invalid and replaced by its default. */
  readonly problems: readonly string[];
}

export type SettingGetter = (key: string) => unknown;

/** `workspace`: an untrusted workspace with nothing excluded unless told otherwise. */
export function parseSettings(get: SettingGetter, workspace: WorkspaceFacts = { trusted: false, filesExclude: undefined }): PtpSettings {
  const problems: string[] = [];
  const read = <K extends SettingKey>(key: K): SettingValue<K> => {
    const r = readSetting(key, get(key));
    if (r.problem !== undefined) problems.push(r.problem);
    return r.value;
  };
  const enable = read('enable');
  const completion = {
    automatic: read('completion.automatic'),
    confidence: read('completion.confidence'),
    debounceMode: read('completion.debounceMode'),
    debounceMs: read('completion.debounceMs'),
    maxTokens: read('completion.maxTokens'),
    alternatives: read('completion.alternatives'),
  };
  const decoding = {
    decoder: read('decoding.decoder'),
    blockSize: read('decoding.blockSize'),
    ...set('seed', read('decoding.seed')),
    ...set('temperature', read('decoding.temperature')),
    ...set('topK', read('decoding.topK')),
    ...set('topP', read('decoding.topP')),
  };
  const worker: WorkerSettings = {
    ...set('modelPath', read('model.path')),
    device: read('model.device'),
    threads: read('threads'),
    logLevel: read('logLevel'),
    requestTimeoutMs: read('completion.requestTimeoutMs'),
    confidence: completion.confidence,
    // Completions off: the worker drops both indexes (it hears of ptp.enable only here).
    context: {
      openFiles: enable && read('context.openFiles'),
      workspace: enable && read('context.workspace'),
      snippets: enable && read('context.snippets'),
      cacheModel: read('context.cacheModel'),
      trusted: workspace.trusted,
      exclude: excludedGlobs(workspace.filesExclude),
    },
  };
  return { enable, enableLanguages: read('enableLanguages'), completion, decoding, worker, problems };
}

/** files.exclude's patterns that are on (`true`); a `when` clause needs a sibling file, which the worker does not look for. */
export function excludedGlobs(filesExclude: unknown): string[] {
  if (typeof filesExclude !== 'object' || filesExclude === null) return [];
  return Object.entries(filesExclude).flatMap(([glob, on]) => (on === true ? [glob] : []));
}

/** Whether completions run in documents of this language. */
export function languageEnabled(settings: PtpSettings, languageId: string): boolean {
  if (!settings.enable) return false;
  return settings.enableLanguages[languageId] ?? settings.enableLanguages['*'] ?? true;
}

/** What a completion depends on besides the text: the cache keeps answers per this key. */
export function decodingKey(settings: PtpSettings): string {
  const d = settings.decoding;
  const c = settings.completion;
  return JSON.stringify([d.decoder, d.blockSize, d.seed ?? null, d.temperature ?? null, d.topK ?? null, d.topP ?? null, c.maxTokens, c.confidence, settings.worker.modelPath ?? null, settings.worker.context?.snippets ?? null, settings.worker.context?.cacheModel ?? null]);
}

/** `{ [field]: value }` when the value is set, else nothing: an unset field is absent, not undefined. */
function set<F extends string, T>(field: F, value: T | undefined): Partial<Record<F, T>> {
  return value === undefined ? {} : ({ [field]: value } as Record<F, T>);
}
