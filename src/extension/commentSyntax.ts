/**
 * Line comments per VS Code language id, so Generate Code… can write the instruction as a
 * comment the model reads as intent ("# parse the header", "// parse the header").
 * Languages without line comments get a block comment on one line.
 */

interface Comment {
  readonly start: string;
  readonly end?: string;
}

const SLASHES: Comment = { start: '//' };
const HASH: Comment = { start: '#' };
const DASHES: Comment = { start: '--' };
const SEMICOLON: Comment = { start: ';' };
const PERCENT: Comment = { start: '%' };
const BLOCK: Comment = { start: '/*', end: '*/' };
const MARKUP: Comment = { start: '<!--', end: '-->' };

const BY_LANGUAGE: Record<string, Comment> = {
  c: SLASHES, cpp: SLASHES, csharp: SLASHES, cuda: SLASHES, dart: SLASHES, go: SLASHES, groovy: SLASHES,
  java: SLASHES, javascript: SLASHES, javascriptreact: SLASHES, jsonc: SLASHES, kotlin: SLASHES,
  objective_c: SLASHES, 'objective-c': SLASHES, 'objective-cpp': SLASHES, php: SLASHES, rust: SLASHES,
  scala: SLASHES, swift: SLASHES, typescript: SLASHES, typescriptreact: SLASHES, zig: SLASHES, solidity: SLASHES,
  coffeescript: HASH, dockerfile: HASH, elixir: HASH, julia: HASH, makefile: HASH, nim: HASH, perl: HASH,
  powershell: HASH, python: HASH, r: HASH, ruby: HASH, shellscript: HASH, toml: HASH, yaml: HASH, cmake: HASH,
  haskell: DASHES, lua: DASHES, sql: DASHES, elm: DASHES, ada: DASHES,
  clojure: SEMICOLON, lisp: SEMICOLON, scheme: SEMICOLON, ini: SEMICOLON,
  latex: PERCENT, tex: PERCENT, erlang: PERCENT, matlab: PERCENT,
  css: BLOCK, less: SLASHES, scss: SLASHES,
  html: MARKUP, xml: MARKUP, markdown: MARKUP, vue: MARKUP, svelte: MARKUP,
  vb: { start: "'" }, bat: { start: 'REM' }, fortran: { start: '!' }, 'fortran-modern': { start: '!' },
};

/** The comment delimiters for a language (`//` when unknown: the most common). */
export function commentSyntax(languageId: string): Comment {
  return BY_LANGUAGE[languageId] ?? SLASHES;
}

/** One comment line (without indentation or line break) holding `instruction`. */
export function commentLine(languageId: string, instruction: string): string {
  const { start, end } = commentSyntax(languageId);
  // One line: the model reads a comment line as an instruction for the code below it.
  let text = instruction.replace(/\s*\r?\n\s*/g, ' ').trim();
  if (end !== undefined) text = text.split(end).join(end.split('').join(' '));
  return end === undefined ? `${start} ${text}` : `${start} ${text} ${end}`;
}
