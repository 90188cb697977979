/**
 * `parseCommandLine`: the CLI's arguments, checked, with one-line errors that name the option.
 */
import { parseArgs } from 'node:util';

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
  --seed N                u-stream seed (default: a fresh one, reported)
  --temperature T, --top-k K, --top-p P
                          sampling (default: the model's trained settings)
  --block-size auto|N     tokens per PTP call (default auto: from the scope, the measured
                          latency curve and the model's acceptance histogram)
  --lookup on|off         PTP also verifies drafts copied from the context (default on;
                          the output is the same either way, only the calls differ)
  --max-tokens N          token cap (default: the scope's cap; 384 for generate, 64 for bench)
  --model DIR             model directory (default: the bundled models/ptp-code-10m)
  --threads N             onnxruntime threads (default: half the cores, at most 4)
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
  decoder: 'ptp' | 'ar';
  seed?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  blockSize: number | 'auto';
  lookup: boolean;
  maxTokens?: number;
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
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        'block-size': { type: 'string' },
        lookup: { type: 'string' },
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

  const decoder = v.decoder ?? 'ptp';
  if (decoder !== 'ptp' && decoder !== 'ar') throw new UsageError(`--decoder must be ptp or ar, got '${decoder}'`);
  const blockSize = v['block-size'] === undefined || v['block-size'] === 'auto' ? 'auto' : integer('--block-size', v['block-size'], 1);
  const lookup = v.lookup ?? 'on';
  if (lookup !== 'on' && lookup !== 'off') throw new UsageError(`--lookup must be on or off, got '${lookup}'`);
  const cl: CommandLine = {
    command,
    decoder,
    blockSize,
    lookup: lookup === 'on',
    json: v.json ?? false,
    verbose: v.verbose ?? false,
    ...(v.seed !== undefined ? { seed: integer('--seed', v.seed, 0) } : {}),
    ...(v.temperature !== undefined ? { temperature: number('--temperature', v.temperature, 0, Infinity) } : {}),
    ...(v['top-k'] !== undefined ? { topK: integer('--top-k', v['top-k'], 0) } : {}),
    ...(v['top-p'] !== undefined ? { topP: number('--top-p', v['top-p'], Number.MIN_VALUE, 1) } : {}),
    ...(v['max-tokens'] !== undefined ? { maxTokens: integer('--max-tokens', v['max-tokens'], 1) } : {}),
    ...(v.threads !== undefined ? { threads: integer('--threads', v.threads, 1) } : {}),
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

function integer(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got '${raw}'`);
  return n;
}

function number(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a number in [${min === Number.MIN_VALUE ? '>0' : min}, ${max}], got '${raw}'`);
  }
  return n;
}
