/**
 * Writes the benchmark and evaluation case files in bench/data from the validation split of the
 * local corpus (data/corpus/val.jsonl.xz), never from a package in training/corpus/heldout.txt.
 *
 *   npm run bench:cases                        (= node --import tsx bench/data/makeCases.ts)
 *   npm run bench:cases -- --only eval-whole-line   (one case file: its name without .jsonl)
 *
 * Everything is drawn with a fixed seed, so the same corpus gives the same files. Each case keeps
 * only a window of its file (from a top-level line at least PREFIX_MIN characters before the
 * cursor to a line end SUFFIX_MIN characters after it): more than the 512-token model context
 * ever sees, and small enough to commit.
 *
 *   eval-line.jsonl       next-line cases, Python / JavaScript / TypeScript (cursor at a random
 *                         point in a line, target = the rest of the line)
 *   eval-multiline.jsonl  a few whole lines (target = 2-4 lines) and emptied block bodies
 *   eval-whole-line.jsonl the moment after Enter: one line's code removed, its indentation and
 *                         line break kept, the cursor after the indentation, target = that
 *                         line's code; Python / JavaScript / TypeScript / Go, and the document is
 *                         the whole file (files of at most WHOLE_FILE_MAX characters)
 *   blocksize.jsonl       cases per context scope (expression, line, statement, block)
 *   speed-prompts.jsonl   prompts with a long removed middle, for 64-token completions
 *   fim-speed.jsonl       (--only fim-speed) for FIM decoding speed with drafts from the file,
 *                         the open files and the workspace: whole-line cases as above, and
 *                         emptied bodies after Enter (a function, method, class, if or loop
 *                         header kept, its 2-12 body lines removed but for the first line's
 *                         indentation); Python / JavaScript / TypeScript / Go, whole files of at
 *                         most WHOLE_FILE_MAX characters, from packages with at least
 *                         WORKSPACE_OTHERS_MIN other files of the case's language
 *   fim-workspaces.jsonl  written with fim-speed.jsonl: per package of its cases, the package's
 *                         files of those languages (case files included; see bench/lib/workspaces.ts)
 */
import { writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { Scope } from '../../src/context';
import { analyze } from '../../src/context';
import { type CaseKind, DATA_DIR, type FimCase, newStore, TOP_LEVEL_START } from '../lib/cases';
import { type CorpusFile, readValidation } from '../lib/corpus';
import { args, log } from '../lib/report';
import { Rng } from '../lib/rng';
import type { Workspace, WorkspaceFile } from '../lib/workspaces';

const SEED = 20261126;
/** Characters kept before the cursor, at least (about 400 tokens: the model keeps ~330 of the prefix). */
const PREFIX_MIN = 1200;
/** ... and at most, while looking for a top-level line to start the window at. */
const PREFIX_MAX = 2400;
/** Characters kept after the cursor (the model keeps ~110 suffix tokens, ~350 characters). */
const SUFFIX_MIN = 600;
/** Lines before this offset have too little context to be realistic completions. */
const MIN_CURSOR = 300;
const MAX_LINE = 200;
/** Cases drawn from one file, at most, per case set (TypeScript has only 20 validation files). */
const PER_FILE: Record<string, number> = { typescript: 6 };
const DEFAULT_PER_FILE = 3;
/** Whole-line cases keep their whole file; files up to this size keep the case files small. */
const WHOLE_FILE_MAX = 16_000;
/** TypeScript has few validation files under WHOLE_FILE_MAX: more cases per file there. */
const WHOLE_TS_PER_FILE = 10;

interface Line {
  start: number;
  /** Index of the `\n` (or text length). */
  end: number;
  indent: number;
  /** End of the line's content (trailing whitespace excluded). */
  contentEnd: number;
}

function lineTable(text: string): Line[] {
  const lines: Line[] = [];
  for (let start = 0; start <= text.length; ) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(start, end);
    lines.push({ start, end, indent: line.length - line.trimStart().length, contentEnd: start + line.trimEnd().length });
    if (nl < 0) break;
    start = nl + 1;
  }
  return lines;
}

const blank = (l: Line): boolean => l.contentEnd <= l.start + l.indent;

/** A line that starts a top-level statement (not indented, not a closer, not inside a string by the look of it). */
function topLevel(text: string, l: Line): boolean {
  return l.indent === 0 && !blank(l) && TOP_LEVEL_START.test(text[l.start] ?? '');
}

/**
 * The case document: the file with [a, b) replaced by nothing, cut to a window around the
 * cursor (which sits at a). Returns the window and the cursor offset in it.
 */
function windowed(text: string, a: number, b: number): { text: string; offset: number } {
  const doc = text.slice(0, a) + text.slice(b);
  const lines = lineTable(doc);
  let i = lines.findIndex((l) => l.end >= Math.max(0, a - PREFIX_MIN));
  while (i > 0 && a - lines[i]!.start <= PREFIX_MAX && !topLevel(doc, lines[i]!)) i--;
  if (a - lines[i]!.start > PREFIX_MAX || !topLevel(doc, lines[i]!)) i = lines.findIndex((l) => l.end >= Math.max(0, a - PREFIX_MIN));
  const start = i <= 0 ? 0 : lines[i]!.start;
  const nl = doc.indexOf('\n', Math.min(doc.length, a + SUFFIX_MIN));
  const end = nl < 0 ? doc.length : nl + 1;
  return { text: doc.slice(start, end), offset: a - start };
}

type Draft = Omit<FimCase, 'id' | 'scope'>;

function draft(f: CorpusFile, kind: CaseKind, a: number, b: number, target: string): Draft {
  return { kind, lang: f.lang, pkg: f.pkg, path: f.path, ...windowed(f.text, a, b), target };
}

/** A random line with content, far enough into the file, not too long. */
function randomLine(lines: Line[], rng: Rng): number | undefined {
  const i = rng.int(0, lines.length);
  const l = lines[i]!;
  if (l.start < MIN_CURSOR || blank(l) || l.end - l.start > MAX_LINE) return undefined;
  return i;
}

/** Cursor at a random point in a line's content; target = the rest of the line. */
function lineCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const i = randomLine(lines, rng);
  if (i === undefined) return undefined;
  const l = lines[i]!;
  const from = l.start + l.indent;
  if (l.contentEnd - from < 2) return undefined;
  const cursor = rng.int(from, l.contentEnd);
  return draft(f, 'line', cursor, l.end, f.text.slice(cursor, l.contentEnd));
}

/**
 * Cursor inside ( … ) or [ … ] on its line, the text up to the matching closer removed and the
 * closer kept, as an editor with auto-closing brackets leaves it. Brackets are matched by a
 * plain scan that skips simple quoted strings; analyze() confirms the scope afterwards.
 */
function expressionCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const i = randomLine(lines, rng);
  if (i === undefined) return undefined;
  const l = lines[i]!;
  const text = f.text.slice(l.start, l.contentEnd);
  const opens: number[] = [];
  const candidates: { cursor: number; closer: number }[] = [];
  let quote: string | undefined;
  const match = new Map<number, number>();
  for (let p = 0; p < text.length; p++) {
    const ch = text[p]!;
    if (quote !== undefined) {
      if (ch === '\\') p++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[') opens.push(p);
    else if (ch === ')' || ch === ']') {
      const o = opens.pop();
      if (o !== undefined) match.set(o, p);
    }
  }
  for (const [o, c] of match) {
    if (c - o < 3) continue;
    for (let p = o + 1; p < c; p++) candidates.push({ cursor: l.start + p, closer: l.start + c });
  }
  if (candidates.length === 0) return undefined;
  const { cursor, closer } = rng.pick(candidates);
  const target = f.text.slice(cursor, closer);
  if (target.trim() === '') return undefined;
  return draft(f, 'expression', cursor, closer, target);
}

/** Cursor at the indentation of a line; that line and the next 1-3 removed (2-4 lines of target). */
function linesCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const i = randomLine(lines, rng);
  if (i === undefined) return undefined;
  const k = rng.int(2, 5);
  const last = lines[i + k - 1];
  if (last === undefined || blank(last)) return undefined;
  const first = lines[i]!;
  for (let j = i; j < i + k; j++) {
    const l = lines[j]!;
    if (!blank(l) && l.indent < first.indent) return undefined;
  }
  const cursor = first.start + first.indent;
  const target = f.text.slice(cursor, last.contentEnd);
  if (target.length < 20 || target.length > 400) return undefined;
  return draft(f, 'lines', cursor, last.end, target);
}

/**
 * An emptied block body: a header line ending in `:` (Python) or `{` (brace languages) whose
 * next line is indented deeper; the body runs to the dedent (Python) or to the `}` at the
 * header's indentation, 12 lines at most. Returns the body's first and last line (the last with
 * content), or undefined when line h heads no such body.
 */
function blockBody(f: CorpusFile, lines: Line[], h: number): { first: number; last: number } | undefined {
  const header = lines[h]!;
  const code = f.text.slice(header.start, header.contentEnd);
  const python = f.lang === 'python';
  if (python ? !code.endsWith(':') || code.trimStart().startsWith('#') : !code.endsWith('{')) return undefined;
  const first = lines[h + 1];
  if (first === undefined || blank(first) || first.indent <= header.indent) return undefined;
  let last = h + 1;
  for (let j = h + 2; j < lines.length && j <= h + 12; j++) {
    const l = lines[j]!;
    if (blank(l)) continue;
    if (l.indent <= header.indent) {
      const closes = python || (l.indent === header.indent && f.text[l.start + l.indent] === '}');
      return closes ? { first: h + 1, last } : undefined;
    }
    last = j;
  }
  return undefined;
}

/** A random line's block body emptied (blockBody); the cursor sits at the body's indentation on its first line. */
function blockCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const h = randomLine(lines, rng);
  const body = h === undefined ? undefined : blockBody(f, lines, h);
  if (body === undefined) return undefined;
  const first = lines[body.first]!;
  const last = lines[body.last]!;
  const cursor = first.start + first.indent;
  const target = f.text.slice(cursor, last.contentEnd);
  if (target.length > 300) return undefined;
  return draft(f, 'block', cursor, last.end, target);
}

/** A long middle (at least 500 characters of whole lines) removed: completions run to 64 tokens. */
function longCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const i = randomLine(lines, rng);
  if (i === undefined || lines[i]!.start < PREFIX_MIN) return undefined;
  const first = lines[i]!;
  const cursor = first.start + first.indent;
  let j = i;
  while (j < lines.length - 1 && lines[j]!.end - cursor < 500) j++;
  if (lines[j]!.end - cursor < 500 || j - i > 30) return undefined;
  return draft(f, 'long', cursor, lines[j]!.end, f.text.slice(cursor, lines[j]!.contentEnd));
}

/** A case whose document is the whole file with [cursor, end) removed. */
function wholeFile(f: CorpusFile, kind: CaseKind, cursor: number, end: number, target: string): Draft {
  return { kind, lang: f.lang, pkg: f.pkg, path: f.path, text: f.text.slice(0, cursor) + f.text.slice(end), offset: cursor, target };
}

/**
 * After Enter: a line's code removed, its indentation and line break kept, the cursor after the
 * indentation; the document is the whole file. Lines that are only a closer (`}`, `});`) are
 * skipped: what follows Enter there is rarely worth measuring.
 */
function wholeLineCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const i = randomLine(lines, rng);
  if (i === undefined) return undefined;
  const l = lines[i]!;
  const cursor = l.start + l.indent;
  const target = f.text.slice(cursor, l.contentEnd);
  if (target.length < 2 || /^[)\]}>;,\s]*$/.test(target)) return undefined;
  return wholeFile(f, 'whole-line', cursor, l.end, target);
}

/** Headers of a JavaScript / TypeScript function, method, class, if/else, loop or try/catch body (the trimmed line, ending in `{`). */
const JS_BODY_HEADER = new RegExp(
  [
    /=>\s*\{$/,
    /\bfunction\b/,
    /^(\}\s*)?(if|else|for|while|do|try|catch|finally)\b/,
    /^(export\s+)?(default\s+)?(abstract\s+)?class\b/,
    /^(?!switch\b)((public|private|protected|static|async|get|set|override)\s+)*\*?#?[A-Za-z_$][\w$]*\s*(<[^>]*>)?\(.*\)\s*(:[^=]*)?\{$/,
  ]
    .map((r) => r.source)
    .join('|'),
);

/** Per language, the block headers fim-speed's block cases empty: no object literals, struct types or switches. */
const BODY_HEADER: Record<string, RegExp> = {
  python: /^(async\s+)?(def|class|if|elif|else|for|while|with|try|except|finally)\b/,
  javascript: JS_BODY_HEADER,
  typescript: JS_BODY_HEADER,
  go: /^(\}\s*)?(if|else|for)\b|\bfunc\b/,
};
/** fim-speed block targets, at most (characters): 2-12 lines of ordinary code. */
const BODY_TARGET_MAX = 800;

/**
 * After Enter on a header (BODY_HEADER, its parentheses balanced: not the `{` of a parameter's
 * type on a header split over lines): its body of 2-12 lines emptied but for the first line's
 * indentation, the cursor after it, the rest of the file kept; the document is the whole file.
 */
function bodyCase(f: CorpusFile, lines: Line[], rng: Rng): Draft | undefined {
  const h = randomLine(lines, rng);
  if (h === undefined) return undefined;
  const header = lines[h]!;
  const body = blockBody(f, lines, h);
  if (body === undefined || body.last === body.first) return undefined;
  const code = f.text.slice(header.start + header.indent, header.contentEnd);
  const count = (re: RegExp): number => code.match(re)?.length ?? 0;
  if (!BODY_HEADER[f.lang]!.test(code) || count(/\(/g) !== count(/\)/g)) return undefined;
  const first = lines[body.first]!;
  const last = lines[body.last]!;
  const cursor = first.start + first.indent;
  const target = f.text.slice(cursor, last.contentEnd);
  if (target.length > BODY_TARGET_MAX) return undefined;
  return wholeFile(f, 'block', cursor, last.end, target);
}

type Generator = (f: CorpusFile, lines: Line[], rng: Rng) => Draft | undefined;

/** Minified or generated by the look of it: long lines on average, or one over 1,000 characters. */
function minified(text: string): boolean {
  const lines = text.split('\n');
  return text.length / lines.length > 100 || lines.some((l) => l.length > 1000);
}

/**
 * Files of one language, usable for completion: not tiny, not minified. Packages are drawn with
 * weight sqrt(characters), so one large package (monaco-editor) does not supply most cases.
 */
class FilePool {
  private readonly byPkg: Map<string, CorpusFile[]>;
  private readonly pkgs: string[];
  private readonly weights: number[];
  private readonly used = new Map<CorpusFile, number>();
  private readonly lineCache = new Map<CorpusFile, Line[]>();

  private readonly perFile: number;

  constructor(files: CorpusFile[], lang: string, maxChars = Infinity, perFile = PER_FILE[lang] ?? DEFAULT_PER_FILE) {
    this.perFile = perFile;
    this.byPkg = new Map();
    for (const f of files) {
      if (f.lang !== lang || f.text.length < 1500 || f.text.length > maxChars || minified(f.text)) continue;
      this.byPkg.set(f.pkg, [...(this.byPkg.get(f.pkg) ?? []), f]);
    }
    this.pkgs = [...this.byPkg.keys()].sort();
    this.weights = this.pkgs.map((p) => Math.sqrt(this.byPkg.get(p)!.reduce((s, file) => s + file.text.length, 0)));
  }

  get size(): number {
    return this.pkgs.length;
  }

  draw(rng: Rng, gen: Generator): Draft | undefined {
    const total = this.weights.reduce((s, w) => s + w, 0);
    let x = rng.next() * total;
    let p = 0;
    while (p < this.pkgs.length - 1 && x >= this.weights[p]!) x -= this.weights[p++]!;
    const f = rng.pick(this.byPkg.get(this.pkgs[p]!)!);
    if ((this.used.get(f) ?? 0) >= this.perFile) return undefined;
    let lines = this.lineCache.get(f);
    if (lines === undefined) this.lineCache.set(f, (lines = lineTable(f.text)));
    const d = gen(f, lines, rng);
    if (d !== undefined) this.used.set(f, (this.used.get(f) ?? 0) + 1);
    return d;
  }
}

const store = newStore();
let docCounter = 0;

async function scopeOf(d: Draft): Promise<Scope> {
  const uri = `gen:///${docCounter++}`;
  const doc = await store.open(uri, d.lang, d.text);
  const scope = analyze(doc, d.offset).scope;
  store.close(uri);
  return scope;
}

/** Draws `n` cases of one kind and language. */
async function drawCases(pool: FilePool, rng: Rng, gen: Generator, n: number, accept: (d: Draft, s: Scope) => boolean = () => true): Promise<(Draft & { scope: Scope })[]> {
  const out: (Draft & { scope: Scope })[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < n && tries < n * 2000; tries++) {
    const d = pool.draw(rng, gen);
    if (d === undefined) continue;
    const key = `${d.path}|${d.text.length}|${d.offset}`;
    if (seen.has(key)) continue;
    const scope = await scopeOf(d);
    if (!accept(d, scope)) continue;
    seen.add(key);
    out.push({ ...d, scope });
  }
  if (out.length < n) log(`warning: only ${out.length} of ${n} cases drawn`);
  return out;
}

function write(name: string, cases: FimCase[]): void {
  writeFileSync(join(DATA_DIR, name), cases.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const bytes = cases.reduce((s, c) => s + c.text.length, 0);
  const by = new Map<string, number>();
  for (const c of cases) by.set(`${c.lang}/${c.kind}/${c.scope}`, (by.get(`${c.lang}/${c.kind}/${c.scope}`) ?? 0) + 1);
  log(`${name}: ${cases.length} cases, ${(bytes / 1024).toFixed(0)} KiB of text; ${[...by].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}

function ids(prefix: string, drafts: (Draft & { scope: Scope })[]): FimCase[] {
  return drafts.map((d, i) => ({ id: `${prefix}-${String(i).padStart(3, '0')}`, ...d }));
}

/** fim-speed: the languages, with whole-line and block cases per language. */
const FIM_SPEED = [
  ['python', 24, 12],
  ['javascript', 24, 12],
  ['typescript', 10, 6],
  ['go', 22, 10],
] as const;
/** fim-speed cases per file, at most, whole-line and block together. */
const FIM_PER_FILE = 3;
/** A fim-speed case's package has at least this many other workspace files of the case's language. */
const WORKSPACE_OTHERS_MIN = 4;
/** Bytes of a workspace file, at most; of a package's workspace; of fim-workspaces.jsonl. */
const WORKSPACE_FILE_MAX = 64 * 1024;
const WORKSPACE_MAX = 400 * 1024;
const WORKSPACES_FILE_MAX = 4 * 1024 * 1024;

/** A file a fim-speed workspace holds: one of the case languages, not too large, not minified. */
function inWorkspace(f: CorpusFile): boolean {
  return FIM_SPEED.some(([lang]) => lang === f.lang) && Buffer.byteLength(f.text) <= WORKSPACE_FILE_MAX && !minified(f.text);
}

/** The files of packages with more than WORKSPACE_OTHERS_MIN workspace files of the language. */
function withWorkspace(files: CorpusFile[], lang: string): CorpusFile[] {
  const count = new Map<string, number>();
  for (const f of files) if (f.lang === lang && inWorkspace(f)) count.set(f.pkg, (count.get(f.pkg) ?? 0) + 1);
  return files.filter((f) => (count.get(f.pkg) ?? 0) > WORKSPACE_OTHERS_MIN);
}

const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * A package's workspace: its case files, then the other files in the cases' directories, then
 * the rest, each group by path, as long as the package stays within WORKSPACE_MAX bytes.
 */
function workspace(pkg: string, files: CorpusFile[], cases: FimCase[]): Workspace {
  const casePaths = new Set(cases.filter((c) => c.pkg === pkg).map((c) => c.path));
  const dirs = new Set([...casePaths].map((p) => posix.dirname(p)));
  const rank = (f: CorpusFile): number => (casePaths.has(f.path) ? 0 : dirs.has(posix.dirname(f.path)) ? 1 : 2);
  const chosen: WorkspaceFile[] = [];
  let bytes = 0;
  for (const f of files.filter((file) => file.pkg === pkg && inWorkspace(file)).sort((a, b) => rank(a) - rank(b) || byPath(a, b))) {
    const size = Buffer.byteLength(f.text);
    if (bytes + size > WORKSPACE_MAX) continue;
    chosen.push({ path: f.path, lang: f.lang, text: f.text });
    bytes += size;
  }
  return { pkg, files: chosen.sort(byPath) };
}

/** The workspaces of the cases' packages; fails if one lacks a case file or WORKSPACE_OTHERS_MIN others of its language. */
function writeWorkspaces(name: string, files: CorpusFile[], cases: FimCase[]): void {
  const workspaces = [...new Set(cases.map((c) => c.pkg))].sort().map((pkg) => workspace(pkg, files, cases));
  for (const c of cases) {
    const ws = workspaces.find((w) => w.pkg === c.pkg)!.files;
    const others = ws.filter((f) => f.lang === c.lang && f.path !== c.path).length;
    if (!ws.some((f) => f.path === c.path) || others < WORKSPACE_OTHERS_MIN) throw new Error(`${c.id}: its workspace has ${others} other ${c.lang} files`);
  }
  const text = workspaces.map((w) => JSON.stringify(w)).join('\n') + '\n';
  if (Buffer.byteLength(text) > WORKSPACES_FILE_MAX) throw new Error(`${name} would be ${Buffer.byteLength(text)} bytes, over ${WORKSPACES_FILE_MAX}: draw fewer cases`);
  writeFileSync(join(DATA_DIR, name), text);
  const summary = workspaces.map((w) => `${w.pkg} ${w.files.length} files ${(w.files.reduce((s, f) => s + Buffer.byteLength(f.text), 0) / 1024).toFixed(0)} KiB`);
  log(`${name}: ${workspaces.length} packages, ${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB; ${summary.join(', ')}`);
}

const CASE_FILES = ['eval-whole-line', 'eval-line', 'eval-multiline', 'blocksize', 'speed-prompts', 'fim-speed'];
const only = args().get('only');

(async () => {
  const files = readValidation();
  const langs = ['python', 'javascript', 'typescript', 'go', 'rust', 'php'];
  for (const l of langs) log(`${l}: ${new FilePool(files, l).size} packages`);
  // A fresh pool per case set: the per-file cap counts within one set.
  const pool = (l: string): FilePool => new FilePool(files, l);
  if (only !== undefined && !CASE_FILES.includes(only)) throw new Error(`--only ${only}: no such case file (one of ${CASE_FILES.join(', ')})`);
  const wanted = (name: string): boolean => only === undefined || only === name;

  // After Enter, the whole file as context: 100 Python, 80 JavaScript, 60 TypeScript, 60 Go.
  if (wanted('eval-whole-line')) {
    const whole: FimCase[] = [];
    for (const [lang, n] of [['python', 100], ['javascript', 80], ['typescript', 60], ['go', 60]] as const) {
      whole.push(...ids(`whole-${lang}`, await drawCases(new FilePool(files, lang, WHOLE_FILE_MAX, lang === 'typescript' ? WHOLE_TS_PER_FILE : undefined), new Rng(SEED * 13 + lang.length), wholeLineCase, n)));
    }
    write('eval-whole-line.jsonl', whole);
  }

  // Next-line evaluation: 150 Python, 100 JavaScript, 60 TypeScript.
  if (wanted('eval-line')) {
    const lineSet: FimCase[] = [];
    for (const [lang, n] of [['python', 150], ['javascript', 100], ['typescript', 60]] as const) {
      lineSet.push(...ids(`line-${lang}`, await drawCases(pool(lang), new Rng(SEED + lang.length), lineCase, n)));
    }
    write('eval-line.jsonl', lineSet);
  }

  // Multi-line evaluation: whole lines and emptied block bodies.
  if (wanted('eval-multiline')) {
    const multi: FimCase[] = [];
    for (const [lang, nBlock, nLines] of [['python', 50, 40], ['javascript', 30, 25], ['typescript', 25, 20]] as const) {
      const rng = new Rng(SEED * 3 + lang.length);
      multi.push(...ids(`block-${lang}`, await drawCases(pool(lang), rng, blockCase, nBlock, (_, s) => s === 'block')));
      multi.push(...ids(`lines-${lang}`, await drawCases(pool(lang), rng, linesCase, nLines)));
    }
    write('eval-multiline.jsonl', multi);
  }

  // Block-size cases: 20 per scope, languages in turn, classified by analyze().
  if (wanted('blocksize')) {
    const perScope = 20;
    const scopeGen: Record<Scope, Generator> = { expression: expressionCase, line: lineCase, statement: linesCase, block: blockCase };
    const sizeSet: FimCase[] = [];
    const rng = new Rng(SEED * 7);
    for (const scope of ['expression', 'line', 'statement', 'block'] as const) {
      const drafts: (Draft & { scope: Scope })[] = [];
      const pools = new Map(langs.map((l) => [l, pool(l)]));
      for (let k = 0; drafts.length < perScope && k < perScope * 4; k++) {
        const lang = langs[k % langs.length]!;
        drafts.push(...(await drawCases(pools.get(lang)!, rng, scopeGen[scope], 1, (_, s) => s === scope)));
      }
      sizeSet.push(...ids(`size-${scope}`, drafts.slice(0, perScope)));
    }
    write('blocksize.jsonl', sizeSet);
  }

  // Speed prompts: 16, mostly Python and JavaScript like the corpus.
  if (wanted('speed-prompts')) {
    const speed: FimCase[] = [];
    const srng = new Rng(SEED * 11);
    for (const [lang, n] of [['python', 5], ['javascript', 4], ['typescript', 3], ['go', 2], ['rust', 1], ['php', 1]] as const) {
      speed.push(...ids(`speed-${lang}`, await drawCases(pool(lang), srng, longCase, n)));
    }
    write('speed-prompts.jsonl', speed);
  }

  // FIM decoding speed with a workspace: after Enter, whole lines and emptied bodies, from
  // packages with other files of the language; then those packages' files. Blocks are drawn
  // first (the rarer kind) from the same pool, so the per-file cap counts both.
  if (wanted('fim-speed')) {
    const fim: FimCase[] = [];
    for (const [i, [lang, nWhole, nBlock]] of FIM_SPEED.entries()) {
      const fimPool = new FilePool(withWorkspace(files, lang), lang, WHOLE_FILE_MAX, FIM_PER_FILE);
      const rng = new Rng(SEED * 17 + i);
      const blocks = await drawCases(fimPool, rng, bodyCase, nBlock, (_, s) => s === 'block');
      fim.push(...ids(`fim-whole-${lang}`, await drawCases(fimPool, rng, wholeLineCase, nWhole)), ...ids(`fim-block-${lang}`, blocks));
    }
    write('fim-speed.jsonl', fim);
    writeWorkspaces('fim-workspaces.jsonl', files, fim);
  }
  store.dispose();
})().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
