/**
 * `CliSession`: what every CLI command needs once per process: the model, the grammars, a
 * DocumentStore, and the latency curve (measured on first use, only where 'auto' needs it).
 */
import { randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import type { LatencyPoint, SyntaxDocument } from '../context/index';
import { DocumentStore, setGrammarDirectory } from '../context/index';
import { Engine } from '../engine/index';
import { type DecodingUse, MAX_SEED, resolveDecoding, seededDecoding } from '../protocol/index';
import type { CompletionDecoding, CompletionEnv } from '../completion/index';
import { bundledPaths, measureLatencyCurve } from '../completion/index';
import type { CommandLine } from './args';

export class CliSession {
  private latency: readonly LatencyPoint[] | undefined;
  readonly store: DocumentStore;

  private constructor(
    readonly engine: Engine,
    private readonly cl: CommandLine,
    private readonly log: (line: string) => void,
  ) {
    this.store = new DocumentStore({ log });
  }

  /** @throws ModelLoadError (its message is the one line to print) */
  static async open(cl: CommandLine, scriptDir: string): Promise<CliSession> {
    const paths = bundledPaths(scriptDir);
    if (fs.existsSync(paths.grammarDirectory)) setGrammarDirectory(paths.grammarDirectory);
    const log = cl.verbose ? (line: string) => process.stderr.write(`${line}\n`) : () => undefined;
    const engine = await Engine.load(cl.model ?? paths.defaultModelPath, { log, ...(cl.threads !== undefined ? { threads: cl.threads } : {}) });
    return new CliSession(engine, cl, log);
  }

  /**
   * The command line's decoding settings (checked by the settings schema in args.ts); the
   * sampling settings not given are the model's own (model.json; an automatic suggestion's
   * temperature 0), the seed a fresh one unless --seed.
   */
  decoding(use: DecodingUse = 'other'): CompletionDecoding {
    const { cl } = this;
    const settings = resolveDecoding(cl.decoding, undefined, this.engine.manifest.sampling, use);
    return { ...seededDecoding(settings, 0, randomInt(0, MAX_SEED)), lookup: cl.lookup };
  }

  /** The engine and, when PTP's block size is 'auto', the measured latency curve. */
  async env(decoding: CompletionDecoding): Promise<CompletionEnv> {
    if (decoding.decoder === 'ar' || decoding.blockSize !== 'auto') return { engine: this.engine };
    this.latency ??= await measureLatencyCurve(this.engine, { device: 'cpu', threads: this.cl.threads ?? 0 });
    this.log(`[latency] ${this.latency.map((p) => `${p.rows} rows ${p.ms.toFixed(1)} ms`).join(', ')}`);
    return { engine: this.engine, latency: this.latency };
  }

  async openDocument(uri: string, languageId: string, text: string): Promise<SyntaxDocument> {
    return this.store.open(uri, languageId, text);
  }

  async dispose(): Promise<void> {
    this.store.dispose();
    await this.engine.dispose();
  }
}
