/**
 * Fill-in-the-middle cases: a document as the editor holds it (a window of a validation file
 * with the target text removed), the cursor offset, and the removed text. The committed case
 * files under bench/data are JSON lines of these; bench/data/makeCases.ts writes them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scope, SyntaxDocument } from '../../src/context';
import { DocumentStore } from '../../src/context';
import { REPO } from './machine';

export type CaseKind =
  /** Cursor at a random point in a line; the rest of the line was removed. */
  | 'line'
  /** Cursor inside brackets on its line; the text up to the (kept) closing bracket was removed. */
  | 'expression'
  /** Cursor at the indentation of a line; that line and the next 1-3 were removed. */
  | 'lines'
  /** Cursor on the first line of an emptied block body (after `:` or `{`); the body was removed but for its first line's indentation. */
  | 'block'
  /** Speed prompts: a long middle (several lines) removed, so a completion runs to 64 tokens. */
  | 'long'
  /** After Enter: one line's code removed (its indentation and line break kept), cursor after the indentation; the whole file. */
  | 'whole-line';

export interface FimCase {
  id: string;
  kind: CaseKind;
  /** VS Code languageId (the corpus uses the same names). */
  lang: string;
  /** The corpus package; for fim-speed cases also the key of its workspace (bench/lib/workspaces.ts). */
  pkg: string;
  path: string;
  /** The document: the file from a top-level line before the cursor to a line end after it (whole-line and fim-speed cases: the whole file). */
  text: string;
  offset: number;
  /** The removed text: what a perfect completion inserts. */
  target: string;
  /** context analyze()'s scope at generation time (with the default latency curve). */
  scope: Scope;
}

export const DATA_DIR = join(REPO, 'bench/data');

/**
 * The first character of a line that starts a top-level statement, by the look of it (no
 * indentation, not a closer or a quote): where makeCases.ts prefers a case's window to begin.
 */
export const TOP_LEVEL_START = /^[A-Za-z_@#$<\/]/;

export function readCases(file: string): FimCase[] {
  const path = file.includes('/') ? file : join(DATA_DIR, file);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FimCase);
}

/** One store for a benchmark run; log lines (grammar fallbacks) go to stderr. */
export function newStore(): DocumentStore {
  return new DocumentStore({ log: (line) => process.stderr.write(`${line}\n`) });
}

export function caseUri(c: FimCase): string {
  return `bench:///${c.id}/${c.path.split('/').pop() ?? 'file'}`;
}

export function openCase(store: DocumentStore, c: FimCase): Promise<SyntaxDocument> {
  return store.open(caseUri(c), c.lang, c.text);
}
