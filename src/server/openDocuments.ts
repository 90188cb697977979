/**
 * `OpenDocuments`: incremental LSP document sync feeding src/context's DocumentStore, which
 * keeps one tree-sitter tree per open document and re-parses only what an edit touched.
 *
 * LSP sends each change as a line/character range against the text left by the previous
 * change; the DocumentStore wants UTF-16 offsets. A TextDocument per uri does the conversion
 * (offsetAt before applying each change) and checks the result.
 */
import { TextDocument } from 'vscode-languageserver-textdocument';
import { TextDocumentContentChangeEvent } from 'vscode-languageserver/node';
import type { DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, Position } from 'vscode-languageserver/node';
import type { ContentChange, SyntaxDocument } from '../context/index';
import { DocumentStore } from '../context/index';

export class OpenDocuments {
  private readonly texts = new Map<string, TextDocument>();
  private readonly store: DocumentStore;

  constructor(log: (line: string) => void) {
    this.store = new DocumentStore({ log });
  }

  /** Resolves once the document's grammar is loaded and its first parse is done. */
  open({ textDocument: d }: DidOpenTextDocumentParams): Promise<SyntaxDocument> {
    this.texts.set(d.uri, TextDocument.create(d.uri, d.languageId, d.version, d.text));
    return this.store.open(d.uri, d.languageId, d.text);
  }

  change({ textDocument, contentChanges }: DidChangeTextDocumentParams): void {
    let doc = this.texts.get(textDocument.uri);
    if (doc === undefined) return;
    const changes: ContentChange[] = [];
    for (const change of contentChanges) {
      const length = doc.getText().length;
      if (TextDocumentContentChangeEvent.isIncremental(change)) {
        const start = doc.offsetAt(change.range.start);
        changes.push({ rangeOffset: start, rangeLength: doc.offsetAt(change.range.end) - start, text: change.text });
      } else {
        changes.push({ rangeOffset: 0, rangeLength: length, text: change.text });
      }
      doc = TextDocument.update(doc, [change], textDocument.version);
    }
    this.texts.set(textDocument.uri, doc);
    this.store.applyChange(textDocument.uri, changes, doc.getText());
  }

  close({ textDocument }: DidCloseTextDocumentParams): void {
    this.texts.delete(textDocument.uri);
    this.store.close(textDocument.uri);
  }

  get(uri: string): SyntaxDocument | undefined {
    return this.store.get(uri);
  }

  /** Whether `doc` is still the open document for `uri`, at `version` (nothing changed, closed or reopened since). */
  isCurrent(uri: string, doc: SyntaxDocument, version: number): boolean {
    return this.store.get(uri) === doc && doc.version === version;
  }

  /** UTF-16 offset of an LSP position (clamped to the document, as LSP asks). */
  offsetAt(uri: string, position: Position): number | undefined {
    return this.texts.get(uri)?.offsetAt(position);
  }

  /**
   * Where text typed at `position` goes: its offset, or undefined when the position falls between
   * the two halves of a surrogate pair (an emoji, say), where an insertion would break the
   * character. VS Code never puts the cursor there; another client might.
   */
  insertionOffset(uri: string, position: Position): number | undefined {
    const doc = this.texts.get(uri);
    if (doc === undefined) return undefined;
    const offset = doc.offsetAt(position);
    const text = doc.getText();
    const high = text.charCodeAt(offset - 1);
    const low = text.charCodeAt(offset);
    return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff ? undefined : offset;
  }

  /** The open documents' language ids. */
  languages(): Set<string> {
    return new Set([...this.texts.values()].map((d) => d.languageId));
  }

  /** The LSP position of an offset. */
  positionAt(uri: string, offset: number): Position | undefined {
    return this.texts.get(uri)?.positionAt(offset);
  }

  dispose(): void {
    this.store.dispose();
    this.texts.clear();
  }
}
