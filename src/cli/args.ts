/**
 * `parseCommandLine`: the CLI's arguments, checked, with one-line errors that name the option.
 * The options that are settings (decoder, block size, seed, sampling, token cap, threads,
 * confidence) are checked by the one settings schema (src/protocol settings.ts), so the CLI
 * accepts exactly what the editor's settings accept.
 */
import { parseArgs } from 'node:util';
import type { ConfidenceLevel, DecodingSettings, Setting, SettingKey } from '../protocol/index';
import { SETTINGS } from '../protocol/index';

export const USAGE = `Usage: ptp-complete <command> [options]

Commands:
  complete --file F --line L --column C   complete F at 1-based line L, column C (the rest of
                                          the file is the suffix; language from the extension)
  complete --cases F.jsonl                one {"file","line","column"} per line (paths relative
                                          to F.jsonl); one JSON result per line; model loaded once
  generate --prompt TEXT                  continue TEXT as a new block
  bench                                   AR vs PTP on built-in prompts: tokens/call, ms/token
  convert --hf DIR --out OUT              a local Hugging Face checkpoint (Llama, Qwen2,
                                          StarCoder2: config.json, *.safetensors, tokenizer.json)
                                          to a model directory for --model / ptp.model.path,
                                          checked against a reference forward pass; needs Python
                                          with PyTorch ($PTP_PYTHON, default python3)

Options:
  --decoder ptp|ar        decoder (default ptp)
  --seed N                u-stream seed, 0 to 4294967295 (default: a fresh one, reported)
  --temperature T, --top-k K, --top-p P
                          sampling: T 0 to 2, K >= 0, P 0.01 to 1 (default: the model's
                          own, from its model.json)
  --block-size auto|N     tokens per PTP call, 1 to 64 (default auto: from the scope, the
                          measured latency curve and the model's acceptance histogram)
  --confidence off|low|medium|high
                          complete: how sure the model must be before a suggestion is shown,
                          as the ptp.completion.confidence setting (default medium); what it
                          withholds prints as "(nothing shown: why)". generate is never cut
  --explicit              complete: as an explicit request (Alt+\\): the lower confidence bar,
                          shorter suggestions allowed (default: as one that appears by itself)
  --cache-model on|off    mix in what followed earlier occurrences of the text before the
                          cursor in the file (the ptp.context.cacheModel setting; default on)
  --lookup on|off         PTP also verifies drafts copied from the context (default on;
                          the output is the same either way, only the calls differ)
  --max-tokens N          token cap, 1 to 1024 (default: the scope's cap; 384 for generate,
                          64 for bench)
  --model DIR             model directory (default: the bundled models/ptp-code-10m)
  --threads N             onnxruntime threads (default 0: half the cores, at most 4)
  --language ID           VS Code language id (default: from the file extension; plaintext for generate)
  --json                  one JSON object per result on stdout
  --weights fp32|fp16|int8  convert: weight storage (default fp32; see docs/BYO_MODEL.md)
  --name NAME, --context-length N   convert: the model's name, tokens of context (default 2048)
  --verbose               engine and syntax log lines on stderr
  -h, --help              this text`;

export type Command = 'complete' | 'generate' | 'bench' | 'convert';

export interface CommandLine {
  command: Command;
  file?: string;
  line?: number;
  column?: number;
  cases?: string;
  prompt?: string;
  /** Only what was given: decoder, block size, seed and sampling left out are decided further on (session.ts). */
  decoding: DecodingSettings;
  lookup: boolean;
  /** The cache model (ptp.context.cacheModel) over the prompt's own text. */
  cacheModel: boolean;
  maxTokens?: number;
  /** complete: the confidence level, and whether it runs as an explicit request. */
  confidence: ConfidenceLevel;
  explicit: boolean;
  model?: string;
  threads?: number;
  language?: string;
  json: boolean;
  verbose: boolean;
  /** convert: the checkpoint, the output directory, the weight storage, the name, the context. */
  hf?: string;
  out?: string;
  weights?: 'fp32' | 'fp16' | 'int8';
  name?: string;
  contextLength?: number;
}

/** A bad command line: print the message (and a hint to --help), exit 2. */
export class UsageError extends Error {}

export function parseCommandLine(argv: readonly string[]): CommandLine | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        file: { type: 'string' },
        line: { type: 'string' },
        column: { type: 'string' },
        cases: { type: 'string' },
        prompt: { type: 'string' },
        decoder: { type: 'string' },
        seed: { type: 'string' },
        confidence: { type: 'string' },
        explicit: { type: 'boolean' },
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        'block-size': { type: 'string' },
        lookup: { type: 'string' },
        'cache-model': { type: 'string' },
        'max-tokens': { type: 'string' },
        model: { type: 'string' },
        threads: { type: 'string' },
        language: { type: 'string' },
        json: { type: 'boolean' },
        hf: { type: 'string' },
        out: { type: 'string' },
        weights: { type: 'string' },
        name: { type: 'string' },
        'context-length': { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const { values: v, positionals } = parsed;
  if (v.help || positionals[0] === 'help') return 'help';
  const command = positionals[0];
  if (command === undefined) throw new UsageError('missing command (complete, generate, bench or convert)');
  if (command !== 'complete' && command !== 'generate' && command !== 'bench' && command !== 'convert') throw new UsageError(`unknown command '${command}' (complete, generate, bench or convert)`);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);

  const lookup = v.lookup ?? 'on';
  if (lookup !== 'on' && lookup !== 'off') throw new UsageError(`--lookup must be on or off, got '${lookup}'`);
  const cacheModel = v['cache-model'] ?? (SETTINGS['context.cacheModel'].default ? 'on' : 'off');
  if (cacheModel !== 'on' && cacheModel !== 'off') throw new UsageError(`--cache-model must be on or off, got '${cacheModel}'`);
  const decoding: DecodingSettings = {
    ...given('decoder', setting('--decoder', 'decoding.decoder', v.decoder)),
    ...given('blockSize', setting('--block-size', 'decoding.blockSize', v['block-size'])),
    ...given('seed', setting('--seed', 'decoding.seed', v.seed)),
    ...given('temperature', setting('--temperature', 'decoding.temperature', v.temperature)),
    ...given('topK', setting('--top-k', 'decoding.topK', v['top-k'])),
    ...given('topP', setting('--top-p', 'decoding.topP', v['top-p'])),
  };
  const maxTokens = setting('--max-tokens', 'completion.maxTokens', v['max-tokens']);
  // 0 is the setting's "automatic", which is the engine's default.
  const threads = setting('--threads', 'threads', v.threads);
  const cl: CommandLine = {
    command,
    decoding,
    lookup: lookup === 'on',
    cacheModel: cacheModel === 'on',
    confidence: setting('--confidence', 'completion.confidence', v.confidence) ?? SETTINGS['completion.confidence'].default,
    explicit: v.explicit ?? false,
    json: v.json ?? false,
    verbose: v.verbose ?? false,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(threads !== undefined && threads > 0 ? { threads } : {}),
    ...(v.model !== undefined ? { model: v.model } : {}),
    ...(v.language !== undefined ? { language: v.language } : {}),
  };

  if (command === 'complete') {
    if (v.cases !== undefined) {
      if (v.file !== undefined || v.line !== undefined || v.column !== undefined) throw new UsageError('--cases cannot be combined with --file, --line or --column');
      return { ...cl, cases: v.cases };
    }
    if (v.file === undefined) throw new UsageError('complete needs --file F --line L --column C, or --cases F.jsonl');
    if (v.line === undefined || v.column === undefined) throw new UsageError('complete --file needs --line and --column (1-based)');
    return { ...cl, file: v.file, line: integer('--line', v.line, 1), column: integer('--column', v.column, 1) };
  }
  if (command === 'convert') {
    if (v.hf === undefined || v.out === undefined) throw new UsageError('convert needs --hf DIR (a local Hugging Face checkpoint) and --out DIR');
    const weights = v.weights ?? 'fp32';
    if (weights !== 'fp32' && weights !== 'fp16' && weights !== 'int8') throw new UsageError(`--weights must be fp32, fp16 or int8, got '${weights}'`);
    return {
      ...cl,
      hf: v.hf,
      out: v.out,
      weights,
      ...(v.name !== undefined ? { name: v.name } : {}),
      ...(v['context-length'] !== undefined ? { contextLength: integer('--context-length', v['context-length'], 16) } : {}),
    };
  }
  if (command === 'generate') {
    if (v.prompt === undefined) throw new UsageError('generate needs --prompt TEXT');
    return { ...cl, prompt: v.prompt };
  }
  return cl;
}

/** A flag that is a setting: undefined when not given, else its value as the setting's check reads it. */
function setting<K extends SettingKey>(flag: string, key: K, raw: string | undefined): Exclude<(typeof SETTINGS)[K]['default'], undefined> | undefined {
  if (raw === undefined) return undefined;
  const r = (SETTINGS[key] as Setting<unknown>).parse(raw);
  // A flag that is given cannot be empty: its rule without the setting's ", or empty".
  const expected = (r.ok ? SETTINGS[key].expected : r.expected).replace(/, or empty$/, '');
  if (!r.ok || r.value === undefined) throw new UsageError(`${flag} must be ${expected}, got '${raw}'`);
  return r.value as Exclude<(typeof SETTINGS)[K]['default'], undefined>;
}

/** `{ [field]: value }` when the value was given, else nothing. */
function given<F extends string, T>(field: F, value: T | undefined): Partial<Record<F, T>> {
  return value === undefined ? {} : ({ [field]: value } as Record<F, T>);
}

function integer(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}
