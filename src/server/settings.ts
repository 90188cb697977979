/**
 * The worker's settings: what the client sent (initializationOptions, then
 * workspace/didChangeConfiguration), checked with the one settings schema (src/protocol
 * settings.ts). Requests fall back to these and then to the model's manifest (WorkerContext.decodingOf).
 */
import { randomInt } from 'node:crypto';
import type { ContextSettings, InitializationOptions, SettingKey, WorkerSettings } from '../protocol/index';
import { DEFAULT_CONTEXT_SETTINGS, MAX_SEED, parseDecoding, readSetting } from '../protocol/index';

/** ptp/generate writes a few hundred tokens while the person watches: a much longer cap than an inline request's. */
export const GENERATE_TIMEOUT_MS = 60_000;

/** WorkerSettings' scalar fields and the setting each one carries. */
const WORKER_FIELDS = {
  device: 'model.device',
  threads: 'threads',
  logLevel: 'logLevel',
  requestTimeoutMs: 'completion.requestTimeoutMs',
  confidence: 'completion.confidence',
} as const satisfies Partial<Record<keyof WorkerSettings, SettingKey>>;

/**
 * Accepts `initializationOptions` or a didChangeConfiguration payload: either a whole
 * InitializationOptions (`{ settings: WorkerSettings, ... }`) or a bare WorkerSettings. Each
 * payload is the whole configuration, so a missing modelPath means the bundled model and a
 * missing decoding means the defaults; an invalid field keeps its current value and
 * `problems` says which (an invalid decoding field is left out).
 */
export function readSettings(
  raw: unknown,
  current: WorkerSettings,
): { settings: WorkerSettings; grammarDirectory?: string; defaultModelPath?: string; problems: string[] } {
  const problems: string[] = [];
  const outer = isObject(raw) ? raw : {};
  const inner: Record<string, unknown> = isObject(outer.settings) ? outer.settings : outer;
  const s: WorkerSettings = { ...current };
  const modelPath = readSetting('model.path', inner.modelPath ?? undefined, 'modelPath');
  if (modelPath.problem !== undefined) problems.push(modelPath.problem);
  else if (modelPath.value === undefined) delete s.modelPath;
  else s.modelPath = modelPath.value;
  for (const [field, key] of Object.entries(WORKER_FIELDS) as Array<[keyof typeof WORKER_FIELDS, SettingKey]>) {
    if (!(field in inner)) continue;
    const read = readSetting(key, inner[field], field);
    if (read.problem !== undefined) problems.push(read.problem);
    else (s as unknown as Record<string, unknown>)[field] = read.value;
  }
  if (inner.decoding === undefined || inner.decoding === null) delete s.decoding;
  else {
    const read = parseDecoding(inner.decoding, 'decoding.');
    s.decoding = read.decoding;
    problems.push(...read.problems);
  }
  if (inner.context === undefined || inner.context === null) delete s.context;
  else {
    const context = readContext(inner.context);
    if (typeof context === 'string') problems.push(context);
    else s.context = context;
  }
  const opts = outer as Partial<InitializationOptions>;
  return {
    settings: s,
    ...(typeof opts.grammarDirectory === 'string' ? { grammarDirectory: opts.grammarDirectory } : {}),
    ...(typeof opts.defaultModelPath === 'string' ? { defaultModelPath: opts.defaultModelPath } : {}),
    problems,
  };
}

export function freshSeed(): number {
  return randomInt(0, MAX_SEED);
}

/** A whole ContextSettings (missing fields take the defaults), or what is wrong with it. */
function readContext(raw: unknown): ContextSettings | string {
  if (!isObject(raw)) return 'context must be an object';
  const c: ContextSettings = { ...DEFAULT_CONTEXT_SETTINGS };
  for (const key of ['openFiles', 'workspace', 'snippets', 'cacheModel', 'trusted'] as const) {
    if (!(key in raw)) continue;
    if (typeof raw[key] !== 'boolean') return `context.${key} must be true or false, got ${JSON.stringify(raw[key])}`;
    c[key] = raw[key];
  }
  if ('exclude' in raw) {
    if (!Array.isArray(raw.exclude) || !raw.exclude.every((g) => typeof g === 'string')) return `context.exclude must be a list of glob patterns, got ${JSON.stringify(raw.exclude)}`;
    c.exclude = raw.exclude;
  }
  return c;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
