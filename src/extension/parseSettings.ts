/**
 * The `ptp.*` settings as typed values, validated and defaulted in one place. Pure: takes a
 * getter (VS Code's configuration in settings.ts, a plain object in tests). The declarations
 * (descriptions, defaults, scopes) are in package.json under contributes.configuration;
 * the defaults here only cover a value that is missing or of the wrong type.
 */
import type { DecodingSettings, WorkerSettings } from '../protocol';

/** What the worker's context settings need besides `ptp.*`: VS Code's trust and files.exclude. */
export interface WorkspaceFacts {
  /** vscode.workspace.isTrusted. */
  readonly trusted: boolean;
  /** The files.exclude setting: glob -> true, false or a `when` clause. */
  readonly filesExclude: unknown;
}

export type DebounceModeSetting = 'adaptive' | 'fixed';

export interface PtpSettings {
  readonly enable: boolean;
  /** languageId -> enabled; "*" is the default for languages not listed. */
  readonly enableLanguages: Readonly<Record<string, boolean>>;
  readonly completion: {
    /** Complete as you type; off = only on an explicit trigger (Alt+\). */
    readonly automatic: boolean;
    readonly debounceMode: DebounceModeSetting;
    readonly debounceMs: number;
    readonly maxTokens: number;
    readonly alternatives: number;
  };
  /** Decoding for every request; maxTokens is filled in per request kind. */
  readonly decoding: Omit<DecodingSettings, 'maxTokens'>;
  readonly worker: WorkerSettings;
}

export type SettingGetter = (key: string) => unknown;

const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const;
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** `workspace`: an untrusted workspace with nothing excluded unless told otherwise. */
export function parseSettings(get: SettingGetter, workspace: WorkspaceFacts = { trusted: false, filesExclude: undefined }): PtpSettings {
  const enable = bool(get('enable'), true);
  return {
    enable,
    enableLanguages: languageMap(get('enableLanguages')),
    completion: {
      automatic: bool(get('completion.automatic'), true),
      debounceMode: oneOf(get('completion.debounceMode'), ['adaptive', 'fixed'] as const, 'adaptive'),
      debounceMs: int(get('completion.debounceMs'), 250, 0, 5000),
      maxTokens: int(get('completion.maxTokens'), 64, 1, 1024),
      alternatives: int(get('completion.alternatives'), 3, 1, 8),
    },
    decoding: {
      decoder: oneOf(get('decoding.decoder'), ['ptp', 'ar'] as const, 'ptp'),
      blockSize: parseBlockSize(get('decoding.blockSize')),
      seed: parseSeed(get('decoding.seed')),
      temperature: num(get('decoding.temperature'), 0.2, 0, 2),
      topK: int(get('decoding.topK'), 50, 0, 100000),
      topP: num(get('decoding.topP'), 0.95, 0.01, 1),
    },
    worker: {
      modelPath: nonEmpty(get('model.path')),
      device: oneOf(get('model.device'), DEVICES, 'auto'),
      threads: int(get('threads'), 0, 0, 256),
      logLevel: oneOf(get('logLevel'), LOG_LEVELS, 'info'),
      requestTimeoutMs: int(get('completion.requestTimeoutMs'), 2000, 100, 60000),
      // Completions off: the worker drops both indexes (it hears of ptp.enable only here).
      context: {
        openFiles: enable && bool(get('context.openFiles'), true),
        workspace: enable && bool(get('context.workspace'), true),
        trusted: workspace.trusted,
        exclude: excludedGlobs(workspace.filesExclude),
      },
    },
  };
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

/** "auto", or an integer 1–64 (numbers written as strings too). */
export function parseBlockSize(value: unknown): number | 'auto' {
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 64) return n;
  return 'auto';
}

/** Empty means a fresh seed per request; otherwise a non-negative 32-bit integer. */
export function parseSeed(value: unknown): number | undefined {
  const n = typeof value === 'string' ? (/^\s*\d+\s*$/.test(value) ? Number(value) : NaN) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n;
  return undefined;
}

/** What a completion depends on besides the text: the cache keeps answers per this key. */
export function decodingKey(settings: PtpSettings): string {
  const d = settings.decoding;
  return JSON.stringify([d.decoder, d.blockSize, d.seed ?? null, d.temperature, d.topK, d.topP, settings.completion.maxTokens, settings.worker.modelPath ?? null]);
}

function bool(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function num(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function int(value: unknown, fallback: number, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : fallback;
}

function oneOf<T extends string>(value: unknown, options: readonly T[], fallback: T): T {
  return typeof value === 'string' && (options as readonly string[]).includes(value) ? (value as T) : fallback;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function languageMap(value: unknown): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) if (typeof v === 'boolean') out[k] = v;
  }
  return out;
}
