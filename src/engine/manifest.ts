/**
 * model.json, the model manifest (MODEL_CONTRACT.md). `parseManifest` checks every field the
 * engine relies on and names the first one that is missing or wrong.
 */
import type { SpecialTokens } from './tokenizer';

export interface Manifest {
  name: string;
  version: string;
  license: string;
  architecture: {
    vocab_size: number;
    num_layers: number;
    num_heads: number;
    /** Grouped-query attention: K/V heads per layer (the cache's heads). Absent: num_heads. */
    num_kv_heads?: number;
    head_dim: number;
    hidden_size?: number;
    intermediate_size?: number;
    rope_theta?: number;
    lora_rank?: number;
    u_bits?: number;
    tied_embeddings?: boolean;
  };
  context_length: number;
  special_tokens: SpecialTokens;
  /**
   * The text of each special token, where it is not the contract's default spelling
   * (`<|endoftext|>`, `<|fim_prefix|>`...): converted models keep their tokenizer's own.
   */
  special_token_text?: Partial<Record<keyof SpecialTokens, string>>;
  /** "prefix-first ..." for a model trained PSM (converted models); otherwise suffix-first (prompt.ts). */
  fim_layout?: string;
  /** The sampling settings the drafter was trained for. */
  sampling: { temperature: number; top_k: number; top_p: number };
  ptp: {
    /**
     * false: the graph has no PTP adapters (a converted model, MODEL_CONTRACT.md "Models without
     * adapters"); the engine sends no aux rows and drafts from the context only. Absent: true.
     */
    adapters?: boolean;
    window_length: number;
    /** [c] = probability that exactly c leading draft tokens are correct, c = 0..window_length. */
    acceptance_histogram: number[];
  };
  onnx: {
    file: string;
    sha256: string;
    /** "additive" or "additive ..." with a description (0 attend, -1e9 masked). */
    attention_mask: string;
    kv_layout: 'batch,seq,heads,head_dim';
    outputs_new_rows_only: true;
  };
  metrics?: Record<string, unknown>;
}

/** A manifest problem: the dotted field path and what is wrong with it. */
export class ManifestError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`field "${field}" ${problem}`);
  }
}

type Check = (value: unknown) => string | undefined;

const string: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'must be a positive integer');
const nonNegativeInt: Check = (v) => (Number.isInteger(v) && (v as number) >= 0 ? undefined : 'must be an integer >= 0');
const finite: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number');
const sha256: Check = (v) => (typeof v === 'string' && /^[0-9a-f]{64}$/i.test(v) ? undefined : 'must be 64 hex digits');
const exactly =
  (expected: unknown): Check =>
  (v) =>
    v === expected ? undefined : `must be ${JSON.stringify(expected)} (got ${JSON.stringify(v)})`;
const additive: Check = (v) =>
  typeof v === 'string' && /^additive\b/.test(v) ? undefined : `must describe an additive mask ("additive ..."), got ${JSON.stringify(v)}`;
const histogram: Check = (v) =>
  Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)
    ? undefined
    : 'must be a non-empty array of probabilities';

const FIELDS: [string, Check][] = [
  ['name', string],
  ['version', string],
  ['license', string],
  ['architecture.vocab_size', positiveInt],
  ['architecture.num_layers', positiveInt],
  ['architecture.num_heads', positiveInt],
  ['architecture.head_dim', positiveInt],
  ['context_length', positiveInt],
  ['special_tokens.endoftext', nonNegativeInt],
  ['sampling.temperature', finite],
  ['sampling.top_k', nonNegativeInt],
  ['sampling.top_p', finite],
  ['ptp.window_length', positiveInt],
  ['ptp.acceptance_histogram', histogram],
  ['onnx.file', string],
  ['onnx.sha256', sha256],
  ['onnx.attention_mask', additive],
  ['onnx.kv_layout', exactly('batch,seq,heads,head_dim')],
  ['onnx.outputs_new_rows_only', exactly(true)],
];

/** Optional fields: checked when present. */
const OPTIONAL: [string, Check][] = [
  ['architecture.num_kv_heads', positiveInt],
  ['special_tokens.fim_prefix', nonNegativeInt],
  ['special_tokens.fim_middle', nonNegativeInt],
  ['special_tokens.fim_suffix', nonNegativeInt],
  ['special_tokens.file_sep', nonNegativeInt],
  ['ptp.adapters', (v) => (typeof v === 'boolean' ? undefined : 'must be true or false')],
];

const FIM: (keyof SpecialTokens)[] = ['fim_prefix', 'fim_middle', 'fim_suffix'];

/** K/V heads per layer: what the cache and the graph's past/new tensors hold. */
export function kvHeads(m: Manifest): number {
  return m.architecture.num_kv_heads ?? m.architecture.num_heads;
}

/** Whether the graph has PTP adapters (aux rows draft); absent means yes. */
export function hasAdapters(m: Manifest): boolean {
  return m.ptp.adapters !== false;
}

function lookup(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Validates parsed model.json. @throws ManifestError naming the first bad field. */
export function parseManifest(json: unknown): Manifest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ManifestError('(root)', 'must be a JSON object');
  }
  for (const [path, check] of FIELDS) {
    const value = lookup(json, path);
    if (value === undefined) throw new ManifestError(path, 'is missing');
    const problem = check(value);
    if (problem) throw new ManifestError(path, problem);
  }
  for (const [path, check] of OPTIONAL) {
    const value = lookup(json, path);
    const problem = value === undefined ? undefined : check(value);
    if (problem) throw new ManifestError(path, problem);
  }
  const m = json as Manifest;
  const fim = FIM.filter((k) => m.special_tokens[k] !== undefined);
  if (fim.length > 0 && fim.length < FIM.length) {
    const missing = FIM.find((k) => !fim.includes(k))!;
    throw new ManifestError(`special_tokens.${missing}`, `is missing (FIM needs fim_prefix, fim_middle and fim_suffix, or none of them for left-to-right only)`);
  }
  const kv = m.architecture.num_kv_heads;
  if (kv !== undefined && m.architecture.num_heads % kv !== 0) throw new ManifestError('architecture.num_kv_heads', `${kv} does not divide num_heads ${m.architecture.num_heads}`);
  const ids = Object.values(m.special_tokens);
  const bad = ids.find((id) => id >= m.architecture.vocab_size);
  if (bad !== undefined) throw new ManifestError('special_tokens', `id ${bad} is outside vocab_size ${m.architecture.vocab_size}`);
  return m;
}
