/**
 * The one file that imports web-tree-sitter: runtime init, grammar loading by VS Code
 * languageId, and parsing under a time budget.
 *
 * Where the wasm files come from:
 *   - by default, `@vscode/tree-sitter-wasm/wasm/` (found with require.resolve at run
 *     time) for the grammars and `web-tree-sitter/web-tree-sitter.wasm` for the runtime;
 *   - after `setGrammarDirectory(dir)`, the grammars come from `dir` (the bundled
 *     extension copies them to `dist/grammars`), and so does the runtime if `dir` holds a
 *     `web-tree-sitter.wasm`. Set it before the first load: the runtime starts once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Edit, Language, Parser } from 'web-tree-sitter';
import type { Node, Point, Tree } from 'web-tree-sitter';
import { languageRules } from './languages';

export type SyntaxTree = Tree;
export type SyntaxNode = Node;
export type SyntaxPoint = Point;

/** A loaded grammar and the parser bound to it. Parsing is synchronous, so one parser suffices. */
export interface Grammar {
  /** The grammar's base name, e.g. `cpp` (also used for `c`). */
  readonly name: string;
  readonly parser: Parser;
}

export interface TreeEdit {
  readonly startIndex: number;
  readonly oldEndIndex: number;
  readonly newEndIndex: number;
  readonly startPosition: Point;
  readonly oldEndPosition: Point;
  readonly newEndPosition: Point;
}

export interface ParseOptions {
  /** A tree of the same document, already edited to match `text`, to reuse. */
  readonly oldTree?: SyntaxTree | undefined;
  /** Give up (return undefined) once parsing has taken this long. */
  readonly budgetMs?: number | undefined;
  /** Clock in milliseconds; tests inject one. */
  readonly now?: (() => number) | undefined;
}

const RUNTIME_WASM = 'web-tree-sitter.wasm';

let explicitDirectory: string | undefined;
let runtime: Promise<void> | undefined;
const grammars = new Map<string, Promise<Grammar>>();

/** Load grammars (and, if present, the runtime wasm) from `dir`; undefined restores the default. */
export function setGrammarDirectory(dir: string | undefined): void {
  explicitDirectory = dir;
}

/** The directory grammars are loaded from now. Throws if none is set and the package is missing. */
export function grammarDirectory(): string {
  if (explicitDirectory !== undefined) return explicitDirectory;
  return path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
}

/** Path of the wasm file for `languageId`, or undefined when the language has no grammar. */
export function grammarFile(languageId: string): string | undefined {
  const name = languageRules(languageId).grammar;
  return name === undefined ? undefined : path.join(grammarDirectory(), `tree-sitter-${name}.wasm`);
}

/**
 * The grammar for a VS Code languageId, loaded on first use and shared afterwards.
 * Resolves undefined for languages without a grammar; rejects, naming the file, when a
 * grammar file cannot be read or loaded.
 */
export function loadGrammar(languageId: string): Promise<Grammar | undefined> {
  const name = languageRules(languageId).grammar;
  if (name === undefined) return Promise.resolve(undefined);
  let pending = grammars.get(name);
  if (pending === undefined) {
    pending = loadByName(name);
    grammars.set(name, pending);
    // A failed load is retried next time (the directory may have been fixed).
    pending.catch(() => grammars.delete(name));
  }
  return pending;
}

async function loadByName(name: string): Promise<Grammar> {
  await initRuntime();
  const file = path.join(grammarDirectory(), `tree-sitter-${name}.wasm`);
  let language: Language;
  try {
    language = await Language.load(await fs.promises.readFile(file));
  } catch (err) {
    throw new Error(`cannot load tree-sitter grammar ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parser = new Parser();
  parser.setLanguage(language);
  return { name, parser };
}

function initRuntime(): Promise<void> {
  runtime ??= Parser.init({ locateFile: locateRuntimeFile }).catch((err: unknown) => {
    runtime = undefined;
    throw err;
  });
  return runtime;
}

function locateRuntimeFile(file: string, scriptDirectory: string): string {
  if (explicitDirectory !== undefined && fs.existsSync(path.join(explicitDirectory, file))) {
    return path.join(explicitDirectory, file);
  }
  try {
    return path.join(path.dirname(require.resolve(`web-tree-sitter/${RUNTIME_WASM}`)), file);
  } catch {
    // Bundled without node_modules: the runtime wasm sits next to the bundle.
    return scriptDirectory + file;
  }
}

/**
 * Parses `text`; with `oldTree` (edited to match), only the changed region is re-parsed.
 * Returns undefined if the budget ran out; the caller owns the tree (call `delete()`).
 */
export function parse(grammar: Grammar, text: string, options: ParseOptions = {}): SyntaxTree | undefined {
  const { oldTree, budgetMs } = options;
  const now = options.now ?? (() => performance.now());
  let tree: Tree | null;
  if (budgetMs === undefined || !Number.isFinite(budgetMs)) {
    tree = grammar.parser.parse(text, oldTree ?? null);
  } else {
    const deadline = now() + budgetMs;
    // web-tree-sitter cancels the parse when the progress callback returns true.
    tree = grammar.parser.parse(text, oldTree ?? null, { progressCallback: () => now() > deadline });
  }
  if (tree === null) {
    // Otherwise the next parse would try to resume this one.
    grammar.parser.reset();
    return undefined;
  }
  return tree;
}

/** Tells `tree` about a text edit so the next parse can reuse the unchanged parts. */
export function editTree(tree: SyntaxTree, edit: TreeEdit): void {
  tree.edit(new Edit(edit));
}
