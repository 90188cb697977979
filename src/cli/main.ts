/**
 * `ptp-complete`: the engine and the context layer without VS Code (bundled as dist/cli.js,
 * started by bin/ptp-complete.js). Same pipeline as the worker: src/completion's completeAt,
 * then fitAt, so `complete` prints what the editor would show at that cursor (an automatic
 * request by default, with the confidence rule; --explicit for Alt+\).
 *
 *   npx ptp-complete complete --file examples/sample.ts --line 7 --column 1 --json
 *   npx ptp-complete complete --cases cases.jsonl
 *   npx ptp-complete generate --prompt 'def fib(n):'
 *   npx ptp-complete bench
 *   npx ptp-complete convert --hf ~/models/Qwen2.5-Coder-0.5B --out ~/models/qwen-ptp
 *
 * Exit status: 0 ok, 1 a failure (missing file, bad position, model load error, a failed
 * case), 2 a bad command line. Errors are one line on stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelLoadError } from '../engine/index';
import type { TraceCall, Withheld } from '../protocol/index';
import type { CompletionOutcome } from '../completion/index';
import { completeAt, languageOfFile } from '../completion/index';
import type { CommandLine } from './args';
import { USAGE, UsageError, parseCommandLine } from './args';
import { runBench } from './bench';
import { ConvertFailure, convertCheckpoint } from './convert';
import { CliSession } from './session';

/** A failure to report in one line and exit 1 with. */
class CliError extends Error {}

/** What --json prints for one completion (and, for --cases, with file/line/column first). */
export interface CliResult {
  /**
   * complete: what the editor would insert at the cursor (fitted to the line, '' when nothing
   * is shown); generate: the generated block.
   */
  text: string;
  /** complete: characters right of the cursor the text replaces (auto-closed brackets it re-supplies). */
  replaces?: number;
  /** complete: why nothing is shown, when the confidence rule withheld it. */
  withheld?: Withheld;
  /** The running confidence of what is shown (the product of its tokens' probabilities). */
  confidence?: number;
  /** Ids of every generated token, the re-typed `healed` word first (decoded: healed + the text before trimming). */
  tokens: number[];
  /** The prompt's last word, re-typed by the first tokens (token healing); '' when none. */
  healed: string;
  calls: number;
  tokensPerCall: number;
  msPrefill: number;
  msDecode: number;
  msTotal: number;
  scope: string;
  decoder: 'ptp' | 'ar';
  blockSize: number;
  budget: number;
  stopReason: string;
  seed: number;
  promptTokens: number;
  /** Per model call: the tokens it committed and each one's confidence (the probability the model gave it). */
  trace: TraceCall[];
}

async function main(argv: readonly string[]): Promise<number> {
  let cl: CommandLine | 'help';
  try {
    cl = parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) return fail(`${e.message} (see ptp-complete --help)`, 2);
    throw e;
  }
  if (cl === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cl.command === 'convert') return convert(cl);
  // Check what can be checked before spending a second on the model.
  if (cl.file !== undefined) offsetOf(readText(cl.file), cl.line!, cl.column!, cl.file);
  if (cl.cases !== undefined) readText(cl.cases);

  const session = await CliSession.open(cl, __dirname);
  try {
    switch (cl.command) {
      case 'complete':
        return cl.cases !== undefined ? await completeCases(session, cl, cl.cases) : await completeOne(session, cl);
      case 'generate':
        return await generate(session, cl);
      case 'bench':
        return await runBench(session, cl);
    }
  } finally {
    await session.dispose();
  }
}

async function convert(cl: CommandLine): Promise<number> {
  try {
    const { parity, atol } = await convertCheckpoint({
      hf: cl.hf!,
      out: cl.out!,
      weights: cl.weights,
      ...(cl.name !== undefined ? { name: cl.name } : {}),
      ...(cl.contextLength !== undefined ? { contextLength: cl.contextLength } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    if (cl.json) process.stdout.write(`${JSON.stringify({ out: cl.out, weights: cl.weights, atol, parity })}\n`);
    else process.stdout.write(`${cl.out}: ready for --model ${cl.out} or the ptp.model.path setting\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConvertFailure) return fail(e.message, 1);
    throw e;
  }
}

async function completeOne(session: CliSession, cl: CommandLine): Promise<number> {
  const result = await completeFile(session, cl, cl.file!, cl.line!, cl.column!, '1');
  print(cl, result);
  return 0;
}

/** One JSON line per case, in order; a failed case prints {file, line, column, error}. */
async function completeCases(session: CliSession, cl: CommandLine, casesFile: string): Promise<number> {
  const dir = path.dirname(path.resolve(casesFile));
  const lines = readText(casesFile).split(/\r?\n/);
  let failed = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (raw === '') continue;
    let c: { file?: unknown; line?: unknown; column?: unknown };
    try {
      c = JSON.parse(raw) as typeof c;
    } catch (e) {
      failed++;
      process.stdout.write(`${JSON.stringify({ case: i + 1, error: `${casesFile}:${i + 1}: not JSON (${(e as Error).message})` })}\n`);
      continue;
    }
    const where = { file: c.file, line: c.line, column: c.column };
    try {
      if (typeof c.file !== 'string' || !Number.isInteger(c.line) || !Number.isInteger(c.column)) {
        throw new CliError(`${casesFile}:${i + 1}: a case needs {"file": string, "line": integer, "column": integer}`);
      }
      const result = await completeFile(session, cl, path.resolve(dir, c.file), c.line as number, c.column as number, String(i + 1));
      process.stdout.write(`${JSON.stringify({ ...where, ...result })}\n`);
    } catch (e) {
      if (!(e instanceof CliError || e instanceof RangeError)) throw e;
      failed++;
      process.stdout.write(`${JSON.stringify({ ...where, error: e.message })}\n`);
    }
  }
  if (failed > 0) process.stderr.write(`ptp-complete: ${failed} case(s) failed\n`);
  return failed > 0 ? 1 : 0;
}

async function completeFile(session: CliSession, cl: CommandLine, file: string, line: number, column: number, requestId: string): Promise<CliResult> {
  const text = readText(file);
  const offset = offsetOf(text, line, column, file);
  const uri = pathToFileURL(path.resolve(file)).href;
  const doc = await session.openDocument(uri, cl.language ?? languageOfFile(file), text);
  try {
    const decoding = session.decoding(cl.explicit ? 'other' : 'automatic');
    const outcome = await completeAt(await session.env(decoding), doc, offset, {
      decoding,
      mode: 'inline',
      ...(cl.maxTokens !== undefined ? { maxTokens: cl.maxTokens } : {}),
      confidence: cl.confidence,
      explicit: cl.explicit,
      cacheModel: cl.cacheModel,
      cacheKey: uri,
      requestId,
    });
    if (outcome.kind === 'rejected') throw new CliError(`${file}:${line}:${column}: no completion here: ${outcome.detail}`);
    if (outcome.kind === 'stale') throw new CliError(`${file}: changed while completing`);
    // What the worker answers the editor with: the text fitted to the cursor's line.
    const fit = outcome.item;
    return { ...resultOf(outcome, decoding.decoder), text: fit?.insertText ?? '', replaces: fit?.coverLength ?? 0 };
  } finally {
    session.store.close(uri);
  }
}

async function generate(session: CliSession, cl: CommandLine): Promise<number> {
  const prompt = cl.prompt!;
  const uri = 'untitled:prompt';
  const doc = await session.openDocument(uri, cl.language ?? 'plaintext', prompt);
  const decoding = session.decoding();
  const outcome = await completeAt(await session.env(decoding), doc, prompt.length, {
    decoding,
    mode: 'generate',
    ...(cl.maxTokens !== undefined ? { maxTokens: cl.maxTokens } : {}),
    cacheModel: cl.cacheModel,
    cacheKey: uri,
    requestId: '1',
  });
  if (outcome.kind !== 'done') throw new CliError(outcome.kind === 'rejected' ? `no generation for this prompt: ${outcome.detail}` : 'prompt changed');
  print(cl, resultOf(outcome, decoding.decoder), prompt);
  return 0;
}

function resultOf(o: CompletionOutcome, decoder: 'ptp' | 'ar'): CliResult {
  const s = o.stats;
  return {
    text: o.text,
    ...(s.withheld !== undefined ? { withheld: s.withheld } : {}),
    ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
    tokens: o.result.tokens,
    healed: o.result.healed,
    calls: s.calls,
    tokensPerCall: s.tokensPerCall,
    msPrefill: s.msPrefill,
    msDecode: s.msDecode,
    msTotal: s.msTotal,
    scope: s.scope,
    decoder,
    blockSize: s.blockSize,
    budget: o.result.budget,
    stopReason: s.stopReason,
    seed: s.seed,
    promptTokens: o.result.promptTokens,
    trace: o.calls,
  };
}

/** --json: one line of JSON. Otherwise the text on stdout and the numbers on stderr. */
function print(cl: CommandLine, r: CliResult, before = ''): void {
  if (cl.json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  // Nothing to insert: say so, and why when the confidence rule withheld it.
  const shown = r.text !== '' || r.withheld === undefined ? r.text : `(nothing shown: ${r.withheld.detail})`;
  process.stdout.write(`${before}${shown}\n`);
  const n = r.tokens.length;
  const perToken = n > 1 ? ` (${(r.msDecode / (n - 1)).toFixed(2)} ms/token)` : '';
  const healed = r.healed === '' ? '' : ` (the first re-type ${JSON.stringify(r.healed)})`;
  process.stderr.write(
    `-- ${r.scope} scope, ${r.decoder} M=${r.blockSize} B=${r.budget}, seed ${r.seed}: ${n} tokens${healed} in ${r.calls} calls ` +
      `(${r.tokensPerCall} tokens/call); prefill ${r.msPrefill} ms (${r.promptTokens} prompt tokens), decode ${r.msDecode} ms${perToken}; stop: ${r.stopReason}` +
      (r.replaces !== undefined && r.replaces > 0 ? `; the text replaces the ${r.replaces} character(s) after the cursor` : '') +
      '\n',
  );
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/** UTF-16 offset of a 1-based line and column; the column may be one past the line's end. */
function offsetOf(text: string, line: number, column: number, file: string): number {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) throw new CliError(`${file}: line ${line} is past the end (the file has ${l} line${l === 1 ? '' : 's'})`);
    start = nl + 1;
  }
  const nl = text.indexOf('\n', start);
  let end = nl < 0 ? text.length : nl;
  if (end > start && text[end - 1] === '\r') end--;
  if (column > end - start + 1) throw new CliError(`${file}:${line}: column ${column} is past the end of the line (${end - start} characters; the last column is ${end - start + 1})`);
  return start + column - 1;
}

function fail(line: string, code: number): number {
  process.stderr.write(`ptp-complete: ${line}\n`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliError || e instanceof ModelLoadError || e instanceof UsageError || e instanceof RangeError) {
      process.exitCode = fail(e.message, e instanceof UsageError ? 2 : 1);
    } else {
      process.exitCode = fail(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, 1);
    }
  },
);
