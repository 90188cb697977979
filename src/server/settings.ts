/**
 * The worker's settings: what the client sent (initializationOptions, then
 * workspace/didChangeConfiguration), checked and filled with defaults, plus the decoding
 * settings a request falls back to when it carries none.
 */
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Manifest } from '../engine/index';
import type { ContextSettings, DecodingSettings, InitializationOptions, WorkerSettings } from '../protocol/index';
import type { CompletionDecoding } from '../completion/index';

/**
 * 2 s: a completion of ~50 tokens at ~5 ms per call is well under a second on a laptop core;
 * past two seconds the person has moved on.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 2000;
/** ptp/generate writes a few hundred tokens while the person watches: a much longer cap. */
export const GENERATE_TIMEOUT_MS = 60_000;
/** Inline completions are capped per scope (src/context DEFAULT_MAX_TOKENS); this is the ceiling. */
export const DEFAULT_MAX_TOKENS = 256;

export const DEFAULT_WORKER_SETTINGS: WorkerSettings = {
  device: 'auto',
  threads: 0,
  logLevel: 'info',
  requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
};

/**
 * Lookup drafts from the open documents and the workspace unless the client says otherwise;
 * but no workspace file is read until the client says the workspace is trusted.
 */
export const DEFAULT_CONTEXT_SETTINGS: ContextSettings = { openFiles: true, workspace: true, trusted: false, exclude: [] };

const DEVICES: readonly WorkerSettings['device'][] = ['auto', 'cpu', 'cuda', 'dml', 'coreml'];
const LEVELS: readonly WorkerSettings['logLevel'][] = ['error', 'warn', 'info', 'debug'];

export const DEFAULT_MODEL = path.join('models', 'ptp-code-10m');

/**
 * Where the bundled files are, seen from the running script: dist/server.js and dist/cli.js
 * have dist/grammars beside them and the package's models/ one level up (run from source
 * with tsx, src/server/ is two levels down).
 */
export function bundledPaths(scriptDir: string): { grammarDirectory: string; defaultModelPath: string } {
  const up = [1, 2, 3].map((n) => path.join(scriptDir, ...Array<string>(n).fill('..'), DEFAULT_MODEL));
  return {
    grammarDirectory: path.join(scriptDir, 'grammars'),
    defaultModelPath: up.find((p) => fs.existsSync(p)) ?? up[0]!,
  };
}

/**
 * Accepts `initializationOptions` or a didChangeConfiguration payload: either a whole
 * InitializationOptions (`{ settings: WorkerSettings, ... }`) or a bare WorkerSettings. Each
 * payload is the whole configuration, so a missing modelPath means the bundled model and a
 * missing decoding means the defaults; an invalid field keeps its current value and
 * `problems` says which.
 */
export function readSettings(
  raw: unknown,
  current: WorkerSettings,
): { settings: WorkerSettings; grammarDirectory?: string; defaultModelPath?: string; problems: string[] } {
  const problems: string[] = [];
  const outer = isObject(raw) ? raw : {};
  const inner: Record<string, unknown> = isObject(outer.settings) ? outer.settings : outer;
  const s: WorkerSettings = { ...current };
  if (inner.modelPath === undefined || inner.modelPath === null || inner.modelPath === '') delete s.modelPath;
  else if (typeof inner.modelPath === 'string') s.modelPath = inner.modelPath;
  else problems.push(`modelPath must be a string`);
  if ('device' in inner) {
    if (DEVICES.includes(inner.device as WorkerSettings['device'])) s.device = inner.device as WorkerSettings['device'];
    else problems.push(`device must be one of ${DEVICES.join(', ')}, got ${JSON.stringify(inner.device)}`);
  }
  if ('threads' in inner) {
    if (Number.isInteger(inner.threads) && (inner.threads as number) >= 0) s.threads = inner.threads as number;
    else problems.push(`threads must be an integer >= 0 (0 = automatic), got ${JSON.stringify(inner.threads)}`);
  }
  if ('logLevel' in inner) {
    if (LEVELS.includes(inner.logLevel as WorkerSettings['logLevel'])) s.logLevel = inner.logLevel as WorkerSettings['logLevel'];
    else problems.push(`logLevel must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(inner.logLevel)}`);
  }
  if ('requestTimeoutMs' in inner) {
    if (typeof inner.requestTimeoutMs === 'number' && inner.requestTimeoutMs > 0) s.requestTimeoutMs = inner.requestTimeoutMs;
    else problems.push(`requestTimeoutMs must be a number > 0, got ${JSON.stringify(inner.requestTimeoutMs)}`);
  }
  if (inner.decoding === undefined || inner.decoding === null) delete s.decoding;
  else if (isObject(inner.decoding)) s.decoding = inner.decoding as unknown as DecodingSettings;
  else problems.push('decoding must be an object');
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

/** The decoding settings a request runs with: its own, else the worker's, else the model's. */
export function resolveDecoding(request: Partial<DecodingSettings> | undefined, fallback: Partial<DecodingSettings> | undefined, manifest: Manifest): DecodingSettings {
  const pick = <K extends keyof DecodingSettings>(k: K, dflt: DecodingSettings[K]): DecodingSettings[K] => request?.[k] ?? fallback?.[k] ?? dflt;
  const seed = request?.seed ?? fallback?.seed;
  return {
    decoder: pick('decoder', 'ptp'),
    blockSize: pick('blockSize', 'auto'),
    ...(seed !== undefined ? { seed } : {}),
    temperature: pick('temperature', manifest.sampling.temperature),
    topK: pick('topK', manifest.sampling.top_k),
    topP: pick('topP', manifest.sampling.top_p),
    maxTokens: pick('maxTokens', DEFAULT_MAX_TOKENS),
  };
}

/** Alternative i decodes with seed + i; no seed means a fresh one per request. */
export function decodingFor(settings: DecodingSettings, alternative: number, freshSeed: number): CompletionDecoding {
  const base = settings.seed ?? freshSeed;
  return {
    decoder: settings.decoder,
    blockSize: settings.blockSize,
    seed: (base + alternative) >>> 0,
    temperature: settings.temperature,
    topK: settings.topK,
    topP: settings.topP,
  };
}

export function freshSeed(): number {
  return randomInt(0, 2 ** 32 - 1);
}

/** One problem with a DecodingSettings, or undefined. The engine re-checks sampling values. */
export function decodingProblem(d: DecodingSettings): string | undefined {
  if (d.decoder !== 'ptp' && d.decoder !== 'ar') return `decoder must be 'ptp' or 'ar', got ${JSON.stringify(d.decoder)}`;
  if (d.blockSize !== 'auto' && !(Number.isInteger(d.blockSize) && d.blockSize >= 1)) return `blockSize must be 'auto' or an integer >= 1, got ${JSON.stringify(d.blockSize)}`;
  if (!(Number.isInteger(d.maxTokens) && d.maxTokens >= 1)) return `maxTokens must be an integer >= 1, got ${JSON.stringify(d.maxTokens)}`;
  if (d.seed !== undefined && !(Number.isInteger(d.seed) && d.seed >= 0)) return `seed must be an integer >= 0, got ${JSON.stringify(d.seed)}`;
  return undefined;
}

/** A whole ContextSettings (missing fields take the defaults), or what is wrong with it. */
function readContext(raw: unknown): ContextSettings | string {
  if (!isObject(raw)) return 'context must be an object';
  const c: ContextSettings = { ...DEFAULT_CONTEXT_SETTINGS };
  for (const key of ['openFiles', 'workspace', 'trusted'] as const) {
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
