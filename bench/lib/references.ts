/**
 * The draft sources of a FIM speed case (bench/data/fim-speed.jsonl) as the worker would hold
 * them (src/engine/tokenIndex.ts): the case's document as the editor has it (`document`: its
 * text beyond the prompt's window), the files a user would have open beside it (`open`,
 * bench/lib/workspaces.ts openFilesFor) and the rest of its package (`workspace`). The case's
 * own file is never in the open or workspace index: it holds the removed target.
 *
 * Each package's files are tokenized once and indexed once per source; a case only picks its
 * documents by id (`only` / `exclude` filters).
 */
import { performance } from 'node:perf_hooks';
import { type DraftReference, type Engine, type ReferenceSource, TokenIndex, type TokenIndexOptions } from '../../src/engine';
import type { FimCase } from './cases';
import { openFilesFor, readWorkspaces, type WorkspaceFile } from './workspaces';

export const REFERENCE_SOURCES: readonly ReferenceSource[] = ['document', 'open', 'workspace'];

export interface IndexStats {
  files: number;
  tokens: number;
  bytes: number;
  /** Tokenizing and indexing every package, milliseconds. */
  buildMs: number;
}

export class CaseReferences {
  private readonly workspaces: Map<string, WorkspaceFile[]>;
  /** One index per package: every workspace file, id = its path. */
  private readonly packages = new Map<string, TokenIndex>();
  /** Tokens per package file (`pkg/path`). */
  private readonly fileTokens = new Map<string, number[]>();
  /** The open-files index of the last case asked for. */
  private open: { id: string; index: TokenIndex } | undefined;
  /** The case documents (as the editor holds them, target removed), id = the case id. */
  private readonly documents: TokenIndex;
  readonly stats: IndexStats = { files: 0, tokens: 0, bytes: 0, buildMs: 0 };

  /** `makeIndex`: the index type to hold each source in (bench/lib/exhaustiveIndex.ts, for a comparison). */
  constructor(
    engine: Engine,
    cases: readonly FimCase[],
    private readonly makeIndex: (options?: TokenIndexOptions) => TokenIndex = (options) => new TokenIndex(options),
  ) {
    this.documents = makeIndex({ maxTokens: 4_000_000 });
    this.workspaces = readWorkspaces();
    const start = performance.now();
    for (const pkg of new Set(cases.map((c) => c.pkg))) {
      const files = this.workspaces.get(pkg);
      if (files === undefined) throw new Error(`no workspace for package ${pkg} in bench/data/fim-workspaces.jsonl`);
      const index = makeIndex();
      for (const f of files) {
        const tokens = engine.encode(f.text);
        this.fileTokens.set(`${pkg}/${f.path}`, tokens);
        index.set(f.path, tokens);
      }
      this.packages.set(pkg, index);
      this.stats.files += files.length;
      this.stats.tokens += index.tokens;
      this.stats.bytes += index.bytes;
    }
    this.stats.buildMs = performance.now() - start;
    for (const c of cases) this.documents.set(c.id, engine.encode(c.text));
  }

  /**
   * The references for `c` from `sources`. `open`: an index of the openFilesFor() files only (as
   * the worker's open-documents index holds them); `workspace`: the package without the case's file.
   */
  for(c: FimCase, sources: readonly ReferenceSource[]): DraftReference[] {
    const refs: DraftReference[] = [];
    for (const source of sources) {
      if (source === 'document') refs.push({ source, index: this.documents, only: c.id });
      if (source === 'open') refs.push({ source, index: this.openIndex(c) });
      if (source === 'workspace') refs.push({ source, index: this.packages.get(c.pkg)!, exclude: c.path });
    }
    return refs;
  }

  private openIndex(c: FimCase): TokenIndex {
    if (this.open?.id !== c.id) {
      const index = this.makeIndex({ maxTokens: 200_000 });
      for (const f of openFilesFor(c, this.workspaces)) index.set(f.path, this.fileTokens.get(`${c.pkg}/${f.path}`)!);
      this.open = { id: c.id, index };
    }
    return this.open.index;
  }
}
