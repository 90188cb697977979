/**
 * src/context: syntax trees, FIM prompt, scope and block-size policy, stop rules and
 * post-processing. Nothing here imports VS Code; only grammars.ts imports web-tree-sitter.
 */
export type { Grammar, SyntaxNode, SyntaxPoint, SyntaxTree } from './grammars';
export { grammarDirectory, grammarFile, loadGrammar, setGrammarDirectory } from './grammars';
export type { BlockStyle, LanguageRules, LexicalRules } from './languages';
export { GRAMMAR_LANGUAGE_IDS, languageRules } from './languages';
export type { ContentChange, DocumentStoreOptions, FallbackReason, SyntaxDocument } from './documents';
export { DEFAULT_MAX_LENGTH, DEFAULT_PARSE_BUDGET_MS, DocumentStore } from './documents';
export type { CursorContext, DocumentView, OpenerInfo } from './cursorContext';
export { cursorContext } from './cursorContext';
export type { Scope } from './scopes';
export { SCOPES } from './scopes';
export type { AnalyzeOptions, ScopeInfo } from './scope';
export { DEFAULT_MAX_TOKENS, analyze } from './scope';
export type { BlockChoice, BlockSizeOptions, LatencyPoint } from './blockSize';
export { DEFAULT_ACCEPTANCE, DEFAULT_LATENCY_CURVE, SCOPE_MEAN_TOKENS, chooseBlockSize, latencyAt } from './blockSize';
export type { Stopper } from './stop';
export { makeStopper } from './stop';
export type { TrimOptions } from './trim';
export { restatesFollowingLine, trimCompletion } from './trim';
export type { Eol, FimPrompt, NoPromptReason, PromptOptions, PromptResult } from './prompt';
export { DEFAULT_MAX_LINE_CHARS, DEFAULT_PREFIX_CHARS, DEFAULT_SUFFIX_CHARS, buildPrompt, detectEol, restoreEol } from './prompt';
export { isWordChar } from './text';
