/**
 * The per-document syntax store: each open document's text and tree-sitter tree, kept
 * in step with edits by `tree.edit` plus an incremental re-parse.
 *
 * A document goes without a tree (and the rest of src/context falls back to indentation
 * and bracket rules) when its language has no grammar, while its grammar loads, when it
 * is larger than `maxLength`, or when a parse runs past `parseBudgetMs`. The last two
 * each log one line when they happen.
 */
import type { Grammar, SyntaxTree, TreeEdit } from './grammars';
import { editTree, loadGrammar, parse } from './grammars';
import { languageRules } from './languages';
import { advancePosition, positionAt } from './text';

/** One edit, LSP-style: each change applies to the text left by the previous one. */
export interface ContentChange {
  /** UTF-16 offset where the replaced range starts. */
  readonly rangeOffset: number;
  /** UTF-16 length of the replaced range. */
  readonly rangeLength: number;
  /** The text that replaces it. */
  readonly text: string;
}

export type FallbackReason =
  /** The language has no grammar. */
  | 'no-grammar'
  /** The grammar is still loading. */
  | 'loading'
  /** The grammar file could not be loaded (logged). */
  | 'grammar-error'
  /** The document is longer than `maxLength` (logged). */
  | 'too-large'
  /** A parse ran past `parseBudgetMs` (logged); the document stays on the fallback until reopened. */
  | 'too-slow';

/**
 * A document as src/context sees it. The store updates it in place; `tree` is replaced
 * (and the old one freed) on every change, so use it synchronously and do not keep it.
 */
export interface SyntaxDocument {
  readonly uri: string;
  readonly languageId: string;
  readonly text: string;
  /** Starts at 0, +1 per `applyChange`. */
  readonly version: number;
  readonly tree: SyntaxTree | undefined;
  readonly grammar: Grammar | undefined;
  /** Why `tree` is undefined; undefined when there is a tree. */
  readonly fallback: FallbackReason | undefined;
}

export interface DocumentStoreOptions {
  readonly log: (line: string) => void;
  /**
   * Documents longer than this (UTF-16 units) get no tree. About 1 MB of text: the
   * initial parse of that much takes about a second on a shared laptop core.
   */
  readonly maxLength?: number;
  /** A parse that takes longer is cancelled and the document falls back. */
  readonly parseBudgetMs?: number;
  /** Milliseconds clock; tests inject one. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_LENGTH = 1_000_000;
/** Typical files parse in well under 50 ms; this only stops pathological ones. */
export const DEFAULT_PARSE_BUDGET_MS = 500;

class Entry implements SyntaxDocument {
  text: string;
  version = 0;
  tree: SyntaxTree | undefined;
  grammar: Grammar | undefined;
  fallback: FallbackReason | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    text: string,
  ) {
    this.text = text;
  }

  dropTree(): void {
    this.tree?.delete();
    this.tree = undefined;
  }
}

export class DocumentStore {
  private readonly docs = new Map<string, Entry>();
  private readonly log: (line: string) => void;
  private readonly maxLength: number;
  private readonly budgetMs: number;
  private readonly now: () => number;

  constructor(options: DocumentStoreOptions) {
    this.log = options.log;
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    this.budgetMs = options.parseBudgetMs ?? DEFAULT_PARSE_BUDGET_MS;
    this.now = options.now ?? (() => performance.now());
    if (!(this.maxLength >= 0)) throw new RangeError(`maxLength must be >= 0, got ${this.maxLength}`);
    if (!(this.budgetMs > 0)) throw new RangeError(`parseBudgetMs must be > 0, got ${this.budgetMs}`);
  }

  /**
   * Starts tracking a document (replacing any earlier one with the same uri). Resolves
   * once its grammar has loaded and the first parse is done (or fell back).
   */
  async open(uri: string, languageId: string, text: string): Promise<SyntaxDocument> {
    this.close(uri);
    const entry = new Entry(uri, languageId, text);
    this.docs.set(uri, entry);
    if (languageRules(languageId).grammar === undefined) {
      entry.fallback = 'no-grammar';
      return entry;
    }
    entry.fallback = 'loading';
    let grammar: Grammar | undefined;
    try {
      grammar = await loadGrammar(languageId);
    } catch (err) {
      if (this.docs.get(uri) === entry) {
        entry.fallback = 'grammar-error';
        this.log(`[syntax] ${uri}: ${err instanceof Error ? err.message : String(err)}; using indentation and bracket rules`);
      }
      return entry;
    }
    // Closed or reopened while the grammar loaded: the newer entry is the live one.
    if (this.docs.get(uri) !== entry || grammar === undefined) return entry;
    entry.grammar = grammar;
    this.parseFully(entry);
    return entry;
  }

  /**
   * Applies edits (in order, each to the text left by the previous one) and re-parses
   * incrementally. `newText` is the full text afterwards; if the edits do not produce
   * it, the store logs that and parses `newText` from scratch.
   */
  applyChange(uri: string, changes: readonly ContentChange[], newText: string): SyntaxDocument | undefined {
    const entry = this.docs.get(uri);
    if (entry === undefined) {
      this.log(`[syntax] ${uri}: change for a document that is not open; ignored`);
      return undefined;
    }
    entry.version++;
    const tree = entry.tree;
    let text = entry.text;
    let consistent = true;
    for (const change of changes) {
      const { rangeOffset: start, rangeLength: length } = change;
      if (!(Number.isInteger(start) && Number.isInteger(length) && start >= 0 && length >= 0 && start + length <= text.length)) {
        consistent = false;
        break;
      }
      if (tree !== undefined) editTree(tree, treeEdit(text, change));
      text = text.slice(0, start) + change.text + text.slice(start + length);
    }
    entry.text = newText;
    if (!consistent || text !== newText) {
      this.log(`[syntax] ${uri}: edits do not produce the new text; parsing it from scratch`);
      entry.dropTree();
      if (entry.grammar !== undefined) this.parseFully(entry);
      return entry;
    }
    if (entry.grammar === undefined) return entry;
    if (tree === undefined) {
      // A document that shrank back under the size limit gets its tree again.
      if (entry.fallback === 'too-large' && newText.length <= this.maxLength) this.parseFully(entry);
      return entry;
    }
    if (newText.length > this.maxLength) {
      entry.dropTree();
      this.fallBack(entry, 'too-large');
      return entry;
    }
    const next = parse(entry.grammar, newText, { oldTree: tree, budgetMs: this.budgetMs, now: this.now });
    entry.dropTree();
    if (next === undefined) this.fallBack(entry, 'too-slow');
    else entry.tree = next;
    return entry;
  }

  get(uri: string): SyntaxDocument | undefined {
    return this.docs.get(uri);
  }

  close(uri: string): void {
    this.docs.get(uri)?.dropTree();
    this.docs.delete(uri);
  }

  /** Frees every tree. */
  dispose(): void {
    for (const entry of this.docs.values()) entry.dropTree();
    this.docs.clear();
  }

  private parseFully(entry: Entry): void {
    entry.dropTree();
    if (entry.grammar === undefined) return;
    if (entry.text.length > this.maxLength) {
      this.fallBack(entry, 'too-large');
      return;
    }
    const tree = parse(entry.grammar, entry.text, { budgetMs: this.budgetMs, now: this.now });
    if (tree === undefined) {
      this.fallBack(entry, 'too-slow');
      return;
    }
    entry.tree = tree;
    entry.fallback = undefined;
  }

  private fallBack(entry: Entry, reason: 'too-large' | 'too-slow'): void {
    if (entry.fallback === reason) return;
    entry.fallback = reason;
    const why =
      reason === 'too-large'
        ? `${entry.text.length} characters is over the ${this.maxLength}-character syntax limit`
        : `parsing took longer than ${this.budgetMs} ms`;
    this.log(`[syntax] ${entry.uri}: ${why}; using indentation and bracket rules`);
  }
}

/**
 * The tree-sitter edit for one change against `text` (the text before it).
 *
 *   text:   …before… [start ─ replaced ─ oldEnd) …after…
 *   result: …before… [start ─ change.text ─ newEnd) …after…
 */
function treeEdit(text: string, change: ContentChange): TreeEdit {
  const startIndex = change.rangeOffset;
  const oldEndIndex = startIndex + change.rangeLength;
  const startPosition = positionAt(text, startIndex);
  const oldEndPosition = advancePosition(startPosition, text.slice(startIndex, oldEndIndex));
  const newEndPosition = advancePosition(startPosition, change.text);
  return {
    startIndex,
    oldEndIndex,
    newEndIndex: startIndex + change.text.length,
    startPosition,
    oldEndPosition,
    newEndPosition,
  };
}
