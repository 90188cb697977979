/**
 * The `ptp.*` settings, defined once: each setting's default and its one check. Every reader
 * parses with these: the extension from VS Code (src/extension/parseSettings.ts), the worker
 * from what the extension sends (src/server/settings.ts), the CLI from its flags (src/cli/args.ts).
 * package.json's contributes.configuration declares the same defaults, ranges and enums for the
 * Settings UI; test/extension/settingsSchema.test.ts checks that the two agree.
 *
 * What the person did not set stays absent where someone else decides: the sampling settings
 * (temperature, top-k, top-p) fall back to the model's manifest in the worker or the CLI, the
 * seed to a fresh one per request, and the block size 'auto' goes to the block-size policy
 * (src/context chooseBlockSize, through src/completion's completeAt) untouched.
 *
 * Pure: no Node or VS Code imports, so the extension bundle can use it.
 */

/** A value read, or what is wrong with it (without the setting's name; the reader adds that). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

export interface Setting<T> {
  /** The value when none is set. `undefined`: absent, decided further on (see the file comment). */
  readonly default: T;
  /** What a valid value is, for messages: "an integer from 1 to 64". */
  readonly expected: string;
  /** The allowed strings, for enum settings (package.json's `enum`). */
  readonly values?: readonly string[];
  /** Numeric bounds (package.json's `minimum` / `maximum`). */
  readonly minimum?: number;
  readonly maximum?: number;
  /** Checks one raw value: a number, a string of digits (the CLI, a seed typed as text), a boolean... */
  parse(raw: unknown): Parsed<T>;
}

export const DEVICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml'] as const;
export type Device = (typeof DEVICES)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DECODERS = ['ptp', 'ar'] as const;
export type Decoder = (typeof DECODERS)[number];
/**
 * How sure the model must be before an automatic suggestion is shown (`ptp.completion.confidence`).
 * 'off' shows everything; the levels map to thresholds on the running product of the tokens'
 * probabilities in src/completion/confidence.ts, calibrated on validation cases
 * (bench/results/eval-confidence.md). An explicit request (Alt+\) uses a lower threshold.
 */
export const CONFIDENCE_LEVELS = ['off', 'low', 'medium', 'high'] as const;
export type ConfidenceLevel = (typeof CONFIDENCE_LEVELS)[number];
export const DEBOUNCE_MODES = ['adaptive', 'fixed'] as const;
export type DebounceMode = (typeof DEBOUNCE_MODES)[number];
/** The largest seed: seeds are 32-bit (the u stream reduces them modulo 2^32). */
export const MAX_SEED = 0xffffffff;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });

/** A number, or a string that is one (flags, and numbers typed as text in settings.json). */
function numeric(raw: unknown): number | undefined {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(raw)) return Number(raw);
  return undefined;
}

function bounds(min: number, max: number, integer: boolean): string {
  const kind = integer ? 'an integer' : 'a number';
  return max === Number.MAX_SAFE_INTEGER ? `${kind} >= ${min}` : `${kind} from ${min} to ${max}`;
}

function int(dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): Setting<number> {
  const expected = bounds(min, max, true);
  return {
    default: dflt,
    expected,
    minimum: min,
    ...(max !== Number.MAX_SAFE_INTEGER ? { maximum: max } : {}),
    parse: (raw) => {
      const n = numeric(raw);
      return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? ok(n) : { ok: false, expected };
    },
  };
}

function num(dflt: number, min: number, max: number): Setting<number> {
  const expected = bounds(min, max, false);
  return {
    default: dflt,
    expected,
    minimum: min,
    maximum: max,
    parse: (raw) => {
      const n = numeric(raw);
      return n !== undefined && Number.isFinite(n) && n >= min && n <= max ? ok(n) : { ok: false, expected };
    },
  };
}

function bool(dflt: boolean): Setting<boolean> {
  const expected = 'true or false';
  return { default: dflt, expected, parse: (raw) => (typeof raw === 'boolean' ? ok(raw) : { ok: false, expected }) };
}

function oneOf<const T extends string>(values: readonly T[], dflt: NoInfer<T>): Setting<T> {
  const expected = `one of ${values.join(', ')}`;
  return { default: dflt, expected, values, parse: (raw) => (typeof raw === 'string' && (values as readonly string[]).includes(raw) ? ok(raw as T) : { ok: false, expected }) };
}

/** Unset (undefined, null, or an empty string) is absent; anything else must pass `inner`. */
function optional<T>(inner: Setting<T>): Setting<T | undefined> {
  const expected = `${inner.expected}, or empty`;
  return {
    ...inner,
    default: undefined,
    expected,
    parse: (raw) => {
      if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return ok(undefined);
      const r = inner.parse(raw);
      return r.ok ? r : { ok: false, expected };
    },
  };
}

/** Tokens drafted per PTP call: 'auto' (the block-size policy decides per request) or 1–64. */
const BLOCK_SIZE_RANGE = int(1, 1, 64);
const blockSize: Setting<number | 'auto'> = {
  default: 'auto',
  expected: `'auto' or ${BLOCK_SIZE_RANGE.expected}`,
  minimum: 1,
  maximum: 64,
  parse: (raw) => {
    if (raw === 'auto') return ok('auto' as const);
    const r = BLOCK_SIZE_RANGE.parse(raw);
    return r.ok ? r : { ok: false, expected: blockSize.expected };
  },
};

/** A folder, or unset (the bundled model). */
const folder: Setting<string | undefined> = {
  default: undefined,
  expected: 'a folder path, or empty',
  parse: (raw) => {
    if (raw === undefined || raw === null) return ok(undefined);
    if (typeof raw !== 'string') return { ok: false, expected: folder.expected };
    return ok(raw.trim() === '' ? undefined : raw.trim());
  },
};

/** languageId -> on/off; "*" is every language not listed. */
const languages: Setting<Readonly<Record<string, boolean>>> = {
  default: Object.freeze({ '*': true, plaintext: false, markdown: false, scminput: false }),
  expected: 'an object of language ids to true or false',
  parse: (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, expected: languages.expected };
    const out: Record<string, boolean> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'boolean') return { ok: false, expected: languages.expected };
      out[k] = v;
    }
    return ok(out);
  },
};

/**
 * Every `ptp.*` setting (without the `ptp.` prefix), its default and its check. package.json
 * declares the same ones; a setting missing here is not read by anyone.
 */
export const SETTINGS = {
  enable: bool(true),
  enableLanguages: languages,
  'completion.automatic': bool(true),
  'completion.confidence': oneOf(CONFIDENCE_LEVELS, 'medium'),
  'completion.debounceMode': oneOf(DEBOUNCE_MODES, 'adaptive'),
  'completion.debounceMs': int(250, 0, 5000),
  /** A ceiling on each scope's own cap (src/context's per-scope token caps). */
  'completion.maxTokens': int(64, 1, 1024),
  'completion.alternatives': int(3, 1, 8),
  /**
   * 2 s: a completion of ~50 tokens at ~5 ms per call is well under a second on a laptop core;
   * past two seconds the person has moved on.
   */
  'completion.requestTimeoutMs': int(2000, 100, 60_000),
  'decoding.decoder': oneOf(DECODERS, 'ptp'),
  'decoding.blockSize': blockSize,
  /** Unset: a fresh seed per request. */
  'decoding.seed': optional(int(0, 0, MAX_SEED)),
  /** Unset: the model's own (model.json `sampling`). */
  'decoding.temperature': optional(num(0, 0, 2)),
  'decoding.topK': optional(int(0, 0)),
  'decoding.topP': optional(num(0, 0.01, 1)),
  'context.openFiles': bool(true),
  /** On: measured to help (bench/results/eval-knowledge.md). */
  'context.cacheModel': bool(true),
  'context.workspace': bool(true),
  /**
   * Off: with the cache model on (the default) a snippet adds nothing on the shipped model, and
   * shows more wrong characters; without it, a little (bench/results/eval-snippets.md).
   */
  'context.snippets': bool(false),
  'model.path': folder,
  'model.device': oneOf(DEVICES, 'auto'),
  /** 0: half the cores, at most 4. */
  threads: int(0, 0, 256),
  logLevel: oneOf(LOG_LEVELS, 'info'),
  /** Read by vscode-languageclient itself; declared here so that package.json has no setting this file lacks. */
  'trace.server': oneOf(['off', 'messages', 'verbose'] as const, 'off'),
} as const;

export type SettingKey = keyof typeof SETTINGS;
export type SettingValue<K extends SettingKey> = (typeof SETTINGS)[K] extends Setting<infer T> ? T : never;

/** The value of `key` in `raw`, or its default with a problem naming `name` (the key by default). */
export function readSetting<K extends SettingKey>(key: K, raw: unknown, name: string = `ptp.${key}`): { value: SettingValue<K>; problem?: string } {
  const setting = SETTINGS[key] as unknown as Setting<SettingValue<K>>;
  if (raw === undefined) return { value: setting.default };
  const r = setting.parse(raw);
  if (r.ok) return { value: r.value };
  return { value: setting.default, problem: `${name} must be ${r.expected}, got ${JSON.stringify(raw)}` };
}

// ---- what the extension sends ----------------------------------------------------------------

/**
 * Everything the worker needs from `ptp.*` settings; sent at start (InitializationOptions) and on
 * every change (workspace/didChangeConfiguration), always whole. A change of modelPath, device or
 * threads reloads the model.
 */
export interface WorkerSettings {
  /** undefined or '' = the bundled default model (InitializationOptions.defaultModelPath). */
  modelPath?: string;
  device: Device;
  /** onnxruntime intra-op threads; 0 = automatic (half the cores, at most 4). */
  threads: number;
  logLevel: LogLevel;
  /** Hard cap on one inline completion, milliseconds (ptp/generate gets at least 60 s). */
  requestTimeoutMs: number;
  /** ptp.completion.confidence, for inline requests that carry none. Missing: the setting's default. */
  confidence?: ConfidenceLevel;
  /**
   * Decoding settings for requests that carry none (an inline completion request sent by
   * vscode-languageclient's built-in feature has no `ptp` field, and ptp/warm none at all).
   * Missing fields: see DecodingSettings.
   */
  decoding?: DecodingSettings;
  /** Where lookup drafts come from besides the prompt. Missing: DEFAULT_CONTEXT_SETTINGS. */
  context?: ContextSettings;
}

/**
 * The other text PTP drafts from (`ptp.context.*`): token indexes of the open documents and of
 * the workspace's files. As drafts they change speed, never the text (drafts are verified
 * exactly); the cache model and snippets (below) let them change the text.
 * The workspace folders come with LSP (`workspaceFolders`, `workspace/didChangeWorkspaceFolders`)
 * and file changes as `workspace/didChangeWatchedFiles`.
 */
export interface ContextSettings {
  /** Index the open documents (ptp.context.openFiles; false while ptp.enable is). */
  openFiles: boolean;
  /** Index the workspace folders' files (ptp.context.workspace; false while ptp.enable is). */
  workspace: boolean;
  /**
   * Mix the cache model into the model's distribution (ptp.context.cacheModel;
   * src/engine/cacheModel.ts): what followed the longest earlier match of the text before the
   * cursor in the prompt, and in the two indexes while they are on. This changes the text.
   * Missing: the setting's default.
   */
  cacheModel?: boolean;
  /**
   * Also put the best-matching window of the open files and the workspace (from the two
   * indexes, never the document itself) ahead of the prefix in the prompt
   * (ptp.context.snippets): unlike drafts, this changes the text. Missing: the setting's default.
   */
  snippets?: boolean;
  /** vscode.workspace.isTrusted: the worker reads no workspace file unless this is true. */
  trusted: boolean;
  /** `files.exclude` globs whose value is true, matched against paths relative to each folder. */
  exclude: string[];
}

/** The worker's settings before the client sends any: the settings' defaults. */
export const DEFAULT_WORKER_SETTINGS: Readonly<WorkerSettings> = Object.freeze({
  device: SETTINGS['model.device'].default,
  threads: SETTINGS.threads.default,
  logLevel: SETTINGS.logLevel.default,
  requestTimeoutMs: SETTINGS['completion.requestTimeoutMs'].default,
});

/**
 * Lookup drafts from the open documents and the workspace unless the client says otherwise;
 * but no workspace file is read until the client says the workspace is trusted.
 */
export const DEFAULT_CONTEXT_SETTINGS: Readonly<ContextSettings> = Object.freeze({
  openFiles: SETTINGS['context.openFiles'].default,
  workspace: SETTINGS['context.workspace'].default,
  snippets: SETTINGS['context.snippets'].default,
  cacheModel: SETTINGS['context.cacheModel'].default,
  trusted: false,
  exclude: [],
});

/**
 * Sent as `initializationOptions`. `workspace/didChangeConfiguration` carries either this
 * whole object or a bare WorkerSettings as its `settings`.
 */
export interface InitializationOptions {
  settings: WorkerSettings;
  /** Where the bundled grammars live (dist/grammars). */
  grammarDirectory?: string;
  /** The bundled default model directory. */
  defaultModelPath: string;
}

/** The bundled model, relative to the package root (the extension's folder, the repository). */
export const BUNDLED_MODEL_DIR = 'models/ptp-code-10m';

/**
 * Decoding settings for one request (and the worker's fallback for requests that carry none).
 * Every field may be absent: then the worker's fallback, else the default here (decoder 'ptp',
 * blockSize 'auto', maxTokens 64), the model's manifest (temperature, topK, topP), or a fresh
 * seed per request.
 */
export interface DecodingSettings {
  decoder?: Decoder;
  /** `auto` lets the worker choose from the syntax scope, the latency curve and the acceptance histogram. */
  blockSize?: number | 'auto';
  seed?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  /** Inline: a ceiling on each scope's token cap. Generate: raised to at least GENERATE_MAX_TOKENS. */
  maxTokens?: number;
}

/**
 * A request's token cap. The setting (ptp.completion.maxTokens, what the extension sends) is
 * 1–1024; a request may ask for more (ptp/generate, a bench, a test): the scope's cap and the
 * model's context end it sooner anyway. Same default.
 */
const REQUEST_MAX_TOKENS: Setting<number> = int(SETTINGS['completion.maxTokens'].default, 1);

/** Each DecodingSettings field's check: its setting's, but for maxTokens. */
const DECODING_FIELDS: Record<keyof DecodingSettings, Setting<unknown>> = {
  decoder: SETTINGS['decoding.decoder'],
  blockSize: SETTINGS['decoding.blockSize'],
  seed: SETTINGS['decoding.seed'],
  temperature: SETTINGS['decoding.temperature'],
  topK: SETTINGS['decoding.topK'],
  topP: SETTINGS['decoding.topP'],
  maxTokens: REQUEST_MAX_TOKENS,
};

/**
 * A DecodingSettings from the wire: fields that pass their setting's check, and a problem for
 * each that does not (named `${prefix}${field}`). Absent fields stay absent.
 */
export function parseDecoding(raw: unknown, prefix = ''): { decoding: DecodingSettings; problems: string[] } {
  const problems: string[] = [];
  const decoding: Record<string, unknown> = {};
  if (raw === undefined || raw === null) return { decoding, problems };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { decoding, problems: [`${prefix || 'decoding'} must be an object, got ${JSON.stringify(raw)}`] };
  for (const [field, setting] of Object.entries(DECODING_FIELDS)) {
    const value = (raw as Record<string, unknown>)[field];
    if (value === undefined || value === null) continue;
    const read = setting.parse(value);
    if (!read.ok) problems.push(`${prefix}${field} must be ${read.expected}, got ${JSON.stringify(value)}`);
    else if (read.value !== undefined) decoding[field] = read.value;
  }
  return { decoding: decoding as DecodingSettings, problems };
}

/** The sampling settings a model was trained for: model.json's `sampling` (docs/MODEL_CONTRACT.md). */
export interface ModelSampling {
  temperature: number;
  top_k: number;
  top_p: number;
}

/** What one decode runs with: every choice made but the block size ('auto' is the policy's) and the seed. */
export interface ResolvedDecoding {
  decoder: Decoder;
  blockSize: number | 'auto';
  /** undefined: a fresh seed per request. */
  seed?: number;
  temperature: number;
  topK: number;
  topP: number;
  maxTokens: number;
}

/** What a decode is for: an automatic inline suggestion, or anything else (explicit, generate, warm). */
export type DecodingUse = 'automatic' | 'other';

/**
 * The decoding a request runs with: each field from the request, else from the worker's
 * fallback (what the extension sent as settings), else the setting's default or, for the
 * sampling settings, the model's own (`model`: the loaded model's manifest.sampling); for an
 * automatic suggestion the temperature the person did not set is 0.
 */
export function resolveDecoding(request: DecodingSettings | undefined, fallback: DecodingSettings | undefined, model: ModelSampling, use: DecodingUse = 'other'): ResolvedDecoding {
  const seed = request?.seed ?? fallback?.seed;
  // An automatic suggestion is one text: greedy unless the person set a temperature. Under the
  // confidence gate it is right at least as often as the model's 0.2 (bench/results/eval-confidence.md);
  // explicit requests keep the model's temperature, so their alternatives differ.
  const modelTemperature = use === 'automatic' ? 0 : model.temperature;
  return {
    decoder: request?.decoder ?? fallback?.decoder ?? SETTINGS['decoding.decoder'].default,
    blockSize: request?.blockSize ?? fallback?.blockSize ?? SETTINGS['decoding.blockSize'].default,
    ...(seed !== undefined ? { seed } : {}),
    temperature: request?.temperature ?? fallback?.temperature ?? modelTemperature,
    topK: request?.topK ?? fallback?.topK ?? model.top_k,
    topP: request?.topP ?? fallback?.topP ?? model.top_p,
    maxTokens: request?.maxTokens ?? fallback?.maxTokens ?? SETTINGS['completion.maxTokens'].default,
  };
}

/** One decode's settings with its seed: alternative i uses seed + i (mod 2^32); no seed means `freshSeed`. */
export function seededDecoding(d: ResolvedDecoding, alternative: number, freshSeed: number): Omit<ResolvedDecoding, 'maxTokens' | 'seed'> & { seed: number } {
  return {
    decoder: d.decoder,
    blockSize: d.blockSize,
    seed: ((d.seed ?? freshSeed) + alternative) >>> 0,
    temperature: d.temperature,
    topK: d.topK,
    topP: d.topP,
  };
}
