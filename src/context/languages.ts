/**
 * What src/context knows about each VS Code language: which grammar parses it, and the
 * lexical rules (comments, strings, block openers) used by the bracket scanner, the stop
 * rules and the fallback when there is no tree.
 */

/** Comment and string syntax, enough to count brackets outside strings and comments. */
export interface LexicalRules {
  readonly lineComments: readonly string[];
  readonly blockComments: readonly (readonly [open: string, close: string])[];
  /** Single-character string delimiters. */
  readonly quotes: readonly string[];
  /** Delimiters whose strings may span lines (others end at a newline, as an error). */
  readonly multilineQuotes: readonly string[];
  /** Delimiters whose strings have no backslash escapes (Go's raw strings). */
  readonly rawQuotes: readonly string[];
  /** Three-character delimiters (Python, Java text blocks); always multi-line. */
  readonly tripleQuotes: readonly string[];
  /** Rust: `'a` is a lifetime, only `'x'` and `'\n'` are character literals. */
  readonly lifetimes: boolean;
  /** Shell: `#` starts a comment only at the start of a word (`$#` and `${#x}` do not). */
  readonly hashNeedsWordStart: boolean;
}

export type BlockStyle =
  /** `{ … }` bodies. */
  | 'braces'
  /** A header ending in `:` and an indented body that ends at the dedent (Python). */
  | 'indentation'
  /** Keyword-opened bodies that end with a keyword line (`end`, `fi`, `done`), plus braces. */
  | 'keywords';

export interface LanguageRules {
  /** The VS Code languageId. */
  readonly languageId: string;
  /** Base name of the grammar in @vscode/tree-sitter-wasm (`tree-sitter-<name>.wasm`), if any. */
  readonly grammar: string | undefined;
  readonly lexical: LexicalRules;
  readonly blocks: BlockStyle;
  /** Keyword languages: a line (before the cursor) that opens a body. */
  readonly keywordOpener?: RegExp;
  /** Keyword languages: a line that ends (or splits) a body, tested on the trimmed line. */
  readonly keywordCloser?: RegExp;
  /** Keyword closers that belong to the body being written (as opposed to `else` etc.). */
  readonly keywordTerminator?: RegExp;
}

const C_LIKE: LexicalRules = {
  lineComments: ['//'],
  blockComments: [['/*', '*/']],
  quotes: ['"', "'"],
  multilineQuotes: [],
  rawQuotes: [],
  tripleQuotes: [],
  lifetimes: false,
  hashNeedsWordStart: false,
};

const JS_LIKE: LexicalRules = { ...C_LIKE, quotes: ['"', "'", '`'], multilineQuotes: ['`'] };

const SHELL: LexicalRules = {
  lineComments: ['#'],
  blockComments: [],
  quotes: ['"', "'", '`'],
  multilineQuotes: ['"', "'", '`'],
  rawQuotes: ["'"],
  tripleQuotes: [],
  lifetimes: false,
  hashNeedsWordStart: true,
};

function rules(
  languageId: string,
  grammar: string | undefined,
  lexical: LexicalRules,
  blocks: BlockStyle = 'braces',
  keywords: Pick<LanguageRules, 'keywordOpener' | 'keywordCloser' | 'keywordTerminator'> = {},
): LanguageRules {
  return { languageId, grammar, lexical, blocks, ...keywords };
}

const RUBY_KEYWORDS = {
  // `def f`, `class A`, `if x` at the start of a line (not `x = 1 if y`), or a trailing `do |a|`.
  keywordOpener:
    /^\s*(def|class|module|if|unless|while|until|case|begin|for)\b(?!.*\bend\s*$)|\bdo(\s*\|[^|]*\|)?\s*$|\{\s*\|[^|]*\|\s*$/,
  keywordCloser: /^(end|else|elsif|when|in|rescue|ensure)\b|^\}/,
  keywordTerminator: /^end\b|^\}/,
};

const SHELL_KEYWORDS = {
  keywordOpener: /(\bthen|\bdo|\belse|\bin|\{)\s*$/,
  keywordCloser: /^(fi|done|esac|else|elif)\b|^\}|^;;/,
  keywordTerminator: /^(fi|done|esac)\b|^\}/,
};

/**
 * Languages with a grammar in @vscode/tree-sitter-wasm 0.3.1. There is no C grammar
 * there, so C is parsed with the C++ grammar (a few C-only constructs, such as K&R
 * parameter lists, parse with errors).
 */
const TABLE: readonly LanguageRules[] = [
  rules('typescript', 'typescript', JS_LIKE),
  rules('typescriptreact', 'tsx', JS_LIKE),
  rules('javascript', 'javascript', JS_LIKE),
  // The JavaScript grammar parses JSX.
  rules('javascriptreact', 'javascript', JS_LIKE),
  rules(
    'python',
    'python',
    {
      ...C_LIKE,
      lineComments: ['#'],
      blockComments: [],
      tripleQuotes: ['"""', "'''"],
    },
    'indentation',
  ),
  rules('go', 'go', { ...C_LIKE, quotes: ['"', "'", '`'], multilineQuotes: ['`'], rawQuotes: ['`'] }),
  rules('rust', 'rust', { ...C_LIKE, lifetimes: true }),
  rules('java', 'java', { ...C_LIKE, tripleQuotes: ['"""'] }),
  rules('c', 'cpp', C_LIKE),
  rules('cpp', 'cpp', C_LIKE),
  rules('csharp', 'c-sharp', { ...C_LIKE, tripleQuotes: ['"""'] }),
  rules(
    'ruby',
    'ruby',
    { ...SHELL, rawQuotes: [], hashNeedsWordStart: false },
    'keywords',
    RUBY_KEYWORDS,
  ),
  rules('php', 'php', { ...C_LIKE, lineComments: ['//', '#'], multilineQuotes: ['"', "'"] }),
  rules('shellscript', 'bash', SHELL, 'keywords', SHELL_KEYWORDS),
  rules('css', 'css', { ...C_LIKE, lineComments: [] }),
];

/** Languages without a grammar that still get sensible lexical rules. */
const FALLBACK_TABLE: readonly LanguageRules[] = [
  rules('yaml', undefined, { ...SHELL, hashNeedsWordStart: false, rawQuotes: [] }, 'indentation'),
  rules('coffeescript', undefined, { ...SHELL, hashNeedsWordStart: false, rawQuotes: [] }, 'indentation'),
  rules('scss', undefined, C_LIKE),
  rules('less', undefined, C_LIKE),
  rules('lua', undefined, { ...C_LIKE, lineComments: ['--'], blockComments: [['--[[', ']]']] }),
  rules('sql', undefined, { ...C_LIKE, lineComments: ['--'] }),
  rules('kotlin', undefined, { ...C_LIKE, tripleQuotes: ['"""'] }),
  rules('swift', undefined, { ...C_LIKE, tripleQuotes: ['"""'] }),
  rules('dart', undefined, { ...JS_LIKE, tripleQuotes: ['"""', "'''"] }),
  rules('scala', undefined, { ...C_LIKE, tripleQuotes: ['"""'] }),
  rules('perl', undefined, { ...SHELL, hashNeedsWordStart: false, rawQuotes: [] }),
  rules('r', undefined, { ...SHELL, hashNeedsWordStart: false, rawQuotes: [] }),
  rules('powershell', undefined, { ...SHELL, hashNeedsWordStart: false, blockComments: [['<#', '#>']] }),
];

/** Unknown languages: C-style comments and the usual quotes, braces for blocks. */
const GENERIC = rules('plaintext', undefined, { ...C_LIKE, lineComments: ['//', '#'] });

const BY_ID = new Map<string, LanguageRules>([...TABLE, ...FALLBACK_TABLE].map((r) => [r.languageId, r]));

/** The VS Code languageIds that have a tree-sitter grammar. */
export const GRAMMAR_LANGUAGE_IDS: readonly string[] = TABLE.map((r) => r.languageId);

export function languageRules(languageId: string): LanguageRules {
  return BY_ID.get(languageId) ?? { ...GENERIC, languageId };
}

/** Pairs of brackets, opener to closer. */
export const CLOSER_OF: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
export const OPENER_OF: Readonly<Record<string, string>> = { ')': '(', ']': '[', '}': '{' };
