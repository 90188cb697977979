/**
 * A realistic source workspace for the worker soak: JS/TS files copied from this repository's
 * own node_modules (so CI, which has no data/corpus, can build it), laid out as a monorepo
 * under dir/packages/<pkg>/<path in the package>, plus what a workspace indexer must skip:
 *
 *   .gitignore            ignores dist/ and *.log
 *   dist/                 a few built files            (ignored by .gitignore)
 *   build.log             a log                        (ignored by .gitignore)
 *   node_modules/         a dependency's files         (never indexed)
 *   src/asset.ts          NUL bytes under a .ts name   (binary)
 *   src/generated.js      2 MiB of short lines         (too large)
 *   src/outside.ts        a symlink to a file outside the workspace
 *
 * Copied files are taken in sorted order (packages, then paths in a package), skipping files
 * over FILE_MAX bytes, minified ones (a line over LINE_MAX characters), and everything under a
 * package's own node_modules/, dist/ (the fixture's .gitignore would hide it) or dot folders.
 */
import { type Dirent, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO } from './machine';

export interface WorkspaceFixture {
  /** Source files an indexer should index (the copied ones). */
  files: number;
  /** Their bytes. */
  bytes: number;
  /** Files written that an indexer should skip (the list in the header; .gitignore not counted). */
  skippedExpected: number;
}

const SOURCE = /\.(js|ts|mjs|cjs)$/;
const FILE_MAX = 256 * 1024;
const LINE_MAX = 1000;
const SKIPPED_DIRS = new Set(['node_modules', 'dist']);

const sorted = (dir: string): Dirent[] => readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** Package folders in node_modules (`@scope/name` for scoped ones), sorted; links and dot entries left out. */
function packages(root: string): string[] {
  const out: string[] = [];
  for (const e of sorted(root)) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    if (!e.name.startsWith('@')) out.push(e.name);
    else for (const s of sorted(join(root, e.name))) if (s.isDirectory()) out.push(`${e.name}/${s.name}`);
  }
  return out;
}

/** A package's source files (paths relative to it), sorted; links, node_modules/, dist/ and dot folders left out. */
function* sources(root: string, rel = ''): Generator<string> {
  for (const e of sorted(join(root, rel))) {
    const path = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory() && !SKIPPED_DIRS.has(e.name) && !e.name.startsWith('.')) yield* sources(root, path);
    else if (e.isFile() && SOURCE.test(e.name)) yield path;
  }
}

/** Every package's source files in order, as `<pkg>/<path in the package>`. */
function* candidates(root: string): Generator<string> {
  for (const pkg of packages(root)) for (const rel of sources(join(root, pkg))) yield `${pkg}/${rel}`;
}

/** The file's bytes if it is worth indexing: not too large, not minified, not binary. */
function usable(path: string): Buffer | undefined {
  if (statSync(path).size > FILE_MAX) return undefined;
  const bytes = readFileSync(path);
  if (bytes.includes(0) || bytes.toString('utf8').split('\n').some((l) => l.length > LINE_MAX)) return undefined;
  return bytes;
}

function put(path: string, content: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** What an indexer must skip (the header's list); returns how many files it wrote. */
function writeSkipped(dir: string): number {
  put(join(dir, '.gitignore'), 'dist/\n*.log\n');
  const skipped: [string, string | Buffer][] = [
    ['dist/index.js', '"use strict";\nmodule.exports = require("./chunk-1.js");\n'],
    ['dist/index.d.ts', 'export declare function main(): void;\n'],
    ['dist/chunk-1.js', '"use strict";\nexports.main = function main() {};\n'],
    ['build.log', 'build started\nbuild finished in 1.2s\n'],
    ['node_modules/left-pad/index.js', 'module.exports = (s, n, c = " ") => String(s).padStart(n, c);\n'],
    ['node_modules/left-pad/index.d.ts', 'export default function leftPad(s: string, n: number, c?: string): string;\n'],
    ['node_modules/left-pad/lib/pad.mjs', 'export const pad = (s, n) => String(s).padStart(n);\n'],
    ['src/asset.ts', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1])],
    ['src/generated.js', generated(2 * 1024 * 1024)],
  ];
  for (const [path, content] of skipped) put(join(dir, path), content);
  symlinkSync(join(REPO, 'bench/lib/workspaceFixture.ts'), join(dir, 'src/outside.ts'));
  return skipped.length + 1;
}

/** Ordinary-looking generated code of at least `bytes` bytes. */
function generated(bytes: number): string {
  const lines: string[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `export const value${i} = ${i} * 2 + 1;\n`;
    lines.push(line);
    size += line.length;
  }
  return lines.join('');
}

/**
 * Writes the workspace into dir (missing or empty): `files` source files copied from
 * node_modules (fewer if it runs out) and the files an indexer must skip.
 */
export function makeWorkspace(dir: string, files = 5000): WorkspaceFixture {
  const root = join(REPO, 'node_modules');
  let written = 0;
  let bytes = 0;
  for (const path of candidates(root)) {
    if (written >= files) break;
    const content = usable(join(root, path));
    if (content === undefined) continue;
    put(join(dir, 'packages', path), content);
    written++;
    bytes += content.length;
  }
  return { files: written, bytes, skippedExpected: writeSkipped(dir) };
}
