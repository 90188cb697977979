/**
 * `WorkspaceIndex`: a TokenIndex over the workspace folders' source files (ids: absolute
 * paths), for lookup drafts. Which files it reads is WorkspaceRules' to say; it reads them
 * only while the workspace is trusted and ptp.context.workspace is on, and sends nothing
 * anywhere: the tokens stay in this process.
 *
 * Built off the request path: listing the folders, reading a file, tokenizing a chunk of it
 * are units of work, each after an IdleGate turn, so a request that arrives mid-build is
 * served first and the build goes on after it.
 *
 *   configure()   off (setting off, untrusted, no folder, no model) ──> no index, nothing read
 *                 on ──> walk ──> the files in the open documents' languages first, then the
 *                        rest ──> read + tokenize each until MAX_INDEXED_FILES or the token cap
 *                        ──> done
 *   filesChanged  created/changed: the rules again, then read again (or drop); deleted: drop
 *                 (a directory: all under it); a .gitignore or a new directory: walk again
 *
 * Walking again (a .gitignore, files.exclude or the folders changed) keeps the files still
 * listed and drops the others; a new model (another tokenizer) builds from nothing.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { TokenIndex } from '../engine/index';
import type { IndexStatus } from '../protocol/index';
import type { Encoder } from './encodeInSlices';
import { encodeInSlices } from './encodeInSlices';
import type { IdleGate } from './idleGate';
import type { Logger } from './logger';
import { message } from './modelHost';
import type { SourceFile } from './workspaceRules';
import { WorkspaceRules, readSource } from './workspaceRules';
import { walkWorkspace } from './workspaceWalker';

/** Most files indexed: past this many, more files add little a completion would draft from. */
export const MAX_INDEXED_FILES = 10_000;
/**
 * Most tokens indexed: about 27 MB of source at 3.4 characters a token (5,000 files of 5.5 KB).
 * TokenIndex keeps 6 bytes a token in an arena that doubles as it grows but never past the cap
 * (plus a separator per file), and compacts once a quarter of it is dead (edited or deleted
 * files), plus an 8 MB hash head: at most about 56 MB, and as much again for a moment while it
 * grows or compacts. Measured: 5,000 files, 6.35M tokens, 53.8 MiB (bench/results/soak-workspace.md).
 */
export const WORKSPACE_MAX_TOKENS = 8_000_000;

export interface WorkspaceIndexConfig {
  /** Absolute paths of the workspace folders (file: URIs only). */
  folders: readonly string[];
  /** ptp.context.workspace (and ptp.enable). */
  enabled: boolean;
  /** The workspace is trusted: nothing is read until it is. */
  trusted: boolean;
  /** files.exclude globs whose value is true. */
  exclude: readonly string[];
  /** The loaded model's tokenizer; undefined while none is loaded. */
  encoder: Encoder | undefined;
}

export interface FileChange {
  path: string;
  kind: 'created' | 'changed' | 'deleted';
}

export interface WorkspaceIndexOptions {
  maxFiles?: number;
  maxTokens?: number;
  /** Told when the state changes (building, done, off), for ptp/statusChanged. */
  onStateChange?: () => void;
}

type Indexed = 'indexed' | 'skipped' | 'full' | 'stopped';

export class WorkspaceIndex {
  private config: WorkspaceIndexConfig = { folders: [], enabled: false, trusted: false, exclude: [], encoder: undefined };
  private tokens: TokenIndex | undefined;
  private rules: WorkspaceRules | undefined;
  /** What the last walk listed, kept current by file events. */
  private listed = new Set<string>();
  private readonly indexed = new Set<string>();
  private state: IndexStatus['workspace']['state'] = 'off';
  private buildMs: number | undefined;
  private walkNeeded = false;
  private readonly pending = new Map<string, FileChange['kind']>();
  private generation = 0;
  private running: Promise<void> | undefined;
  private readonly maxFiles: number;
  private readonly maxTokens: number;

  /** `preferredLanguages`: the open documents' languages, whose files are read first. */
  constructor(
    private readonly gate: IdleGate,
    private readonly log: Logger,
    private readonly preferredLanguages: () => ReadonlySet<string>,
    private readonly options: WorkspaceIndexOptions = {},
  ) {
    this.maxFiles = options.maxFiles ?? MAX_INDEXED_FILES;
    this.maxTokens = options.maxTokens ?? WORKSPACE_MAX_TOKENS;
  }

  /** The index to draft from; undefined while it is off. */
  get index(): TokenIndex | undefined {
    return this.tokens;
  }

  configure(config: WorkspaceIndexConfig): void {
    const previous = this.config;
    this.config = { ...config, folders: [...config.folders], exclude: [...config.exclude] };
    const on = config.enabled && config.trusted && config.folders.length > 0 && config.encoder !== undefined;
    if (!on) {
      if (this.tokens !== undefined) this.reset();
      return;
    }
    if (this.tokens === undefined || config.encoder !== previous.encoder) {
      this.reset();
      this.tokens = new TokenIndex({ maxTokens: this.maxTokens });
      this.walkNeeded = true;
    } else if (!sameList(config.folders, previous.folders) || !sameList(config.exclude, previous.exclude)) {
      this.walkNeeded = true;
    }
    this.start();
  }

  /** File system events (workspace/didChangeWatchedFiles); ignored while the index is off. */
  filesChanged(changes: readonly FileChange[]): void {
    if (this.tokens === undefined) return;
    for (const change of changes) {
      // A delete then a create of the same path is a change; the last word wins otherwise.
      this.pending.delete(change.path);
      this.pending.set(change.path, change.kind);
    }
    this.start();
  }

  status(): IndexStatus['workspace'] {
    return {
      state: this.state,
      files: this.indexed.size,
      found: this.listed.size,
      tokens: this.tokens?.tokens ?? 0,
      bytes: this.tokens?.bytes ?? 0,
      ...(this.state === 'done' && this.buildMs !== undefined ? { buildMs: Math.round(this.buildMs) } : {}),
      maxTokens: this.maxTokens,
    };
  }

  /** Resolves once the work asked for so far is done (tests). */
  async settled(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  dispose(): void {
    this.reset();
  }

  private reset(): void {
    this.generation++;
    this.tokens = undefined;
    this.rules = undefined;
    this.listed = new Set();
    this.indexed.clear();
    this.pending.clear();
    this.walkNeeded = false;
    this.buildMs = undefined;
    this.setState('off');
  }

  /** One worker loop at a time; a reset stops it at its next turn and the next loop takes over. */
  private start(): void {
    if (this.running !== undefined) return;
    this.running = this.work(this.generation)
      .catch((e: unknown) => {
        this.log.error(`[workspace] ${message(e)}`);
        this.walkNeeded = false;
        this.pending.clear();
      })
      .finally(() => {
        this.running = undefined;
        if (this.tokens !== undefined && (this.walkNeeded || this.pending.size > 0)) this.start();
      });
  }

  private async work(generation: number): Promise<void> {
    while (generation === this.generation) {
      if (this.walkNeeded) {
        this.walkNeeded = false;
        await this.build(generation);
        continue;
      }
      const next = this.pending.entries().next();
      if (next.done === true) return;
      const [file, kind] = next.value;
      this.pending.delete(file);
      await this.update(file, kind, generation);
    }
  }

  private async build(generation: number): Promise<void> {
    const started = performance.now();
    const stopped = (): boolean => generation !== this.generation;
    this.setState('building');
    const rules = new WorkspaceRules(this.config.folders, this.config.exclude);
    this.rules = rules;
    const walk = await walkWorkspace(rules, this.gate, stopped);
    if (walk === undefined || stopped()) return;
    if (walk.truncated !== undefined) this.log.info(`[workspace] the walk stopped at its cap of ${walk.truncated === 'files' ? `${walk.files.length} source files` : 'directories'}; the rest is not indexed`);
    this.listed = new Set(walk.files.map((f) => f.path));
    for (const id of [...this.indexed]) if (!this.listed.has(id)) this.drop(id);
    let limit: string | undefined;
    for (const file of byPreference(walk.files, this.preferredLanguages())) {
      if (this.indexed.has(file.path)) continue;
      if (this.indexed.size >= this.maxFiles) {
        limit = `the cap of ${this.maxFiles} files`;
        break;
      }
      const result = await this.indexFile(file.path, generation);
      if (result === 'stopped') return;
      if (result === 'full') {
        limit = `the cap of ${this.maxTokens} tokens`;
        break;
      }
    }
    this.buildMs = performance.now() - started;
    const t = this.tokens!;
    this.log.info(
      `[workspace] ${this.indexed.size} of ${this.listed.size} source files indexed for lookup drafts (${t.tokens} tokens, ` +
        `${(t.bytes / 2 ** 20).toFixed(1)} MiB) in ${(this.buildMs / 1000).toFixed(1)} s${limit !== undefined ? `; stopped at ${limit}` : ''}`,
    );
    this.setState('done');
  }

  private async update(file: string, kind: FileChange['kind'], generation: number): Promise<void> {
    const rules = this.rules;
    if (rules === undefined || rules.folderOf(file) === undefined) return;
    // A .gitignore where the walk goes changes what it lists (one under node_modules does not).
    if (path.basename(file) === '.gitignore') {
      if (await rules.admitsDirectory(path.dirname(file))) this.walkNeeded = true;
      return;
    }
    if (kind === 'deleted') return this.dropUnder(file);
    const admitted = await rules.admits(file);
    if (generation !== this.generation) return;
    if (admitted === undefined) {
      // A directory moved or copied in brings files no event may name.
      if (kind === 'created' && (await rules.admitsDirectory(file))) this.walkNeeded = true;
      else this.drop(file);
      return;
    }
    this.listed.add(file);
    if (this.indexed.has(file) || this.indexed.size < this.maxFiles) await this.indexFile(file, generation);
  }

  private async indexFile(file: string, generation: number): Promise<Indexed> {
    const stopped = (): boolean => generation !== this.generation;
    await this.gate.turn();
    if (stopped()) return 'stopped';
    const text = await readSource(file);
    if (stopped()) return 'stopped';
    if (text === undefined) {
      this.drop(file);
      return 'skipped';
    }
    const ids = await encodeInSlices(text, this.config.encoder!, this.gate, stopped);
    if (ids === undefined || stopped()) return 'stopped';
    if (this.tokens!.set(file, ids)) {
      this.indexed.add(file);
      return 'indexed';
    }
    this.tokens!.delete(file);
    this.indexed.delete(file);
    return 'full';
  }

  private drop(file: string): void {
    this.tokens?.delete(file);
    this.indexed.delete(file);
    this.listed.delete(file);
  }

  /** `file` and, where it was a directory, everything under it. */
  private dropUnder(file: string): void {
    const inside = file + path.sep;
    for (const id of [...this.listed, ...this.indexed]) if (id === file || id.startsWith(inside)) this.drop(id);
  }

  private setState(state: IndexStatus['workspace']['state']): void {
    if (state === this.state) return;
    this.state = state;
    this.options.onStateChange?.();
  }
}

/** Files in the preferred languages first; the walk's order otherwise. */
function byPreference(files: readonly SourceFile[], preferred: ReadonlySet<string>): SourceFile[] {
  return [...files.filter((f) => preferred.has(f.language)), ...files.filter((f) => !preferred.has(f.language))];
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
