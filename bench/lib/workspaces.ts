/**
 * The workspaces of the FIM speed cases (bench/data/fim-speed.jsonl): for each package a case
 * comes from, its source files (bench/data/fim-workspaces.jsonl, written by
 * bench/data/makeCases.ts), so a benchmark can draft from other open files and from the rest of
 * the package as well as from the current file.
 *
 * A workspace holds the case files themselves as they are on disk, target included: a benchmark
 * drops the case's own file (by path) before it drafts from the workspace.
 */
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { DATA_DIR, type FimCase } from './cases';

export interface WorkspaceFile {
  /** The path in the package, as FimCase.path has it. */
  path: string;
  /** VS Code languageId. */
  lang: string;
  text: string;
}

/** One line of fim-workspaces.jsonl. */
export interface Workspace {
  /** FimCase.pkg of the cases it serves. */
  pkg: string;
  /** Sorted by path. */
  files: WorkspaceFile[];
}

export const WORKSPACES_FILE = join(DATA_DIR, 'fim-workspaces.jsonl');

/** Package -> its workspace files. */
export function readWorkspaces(path = WORKSPACES_FILE): Map<string, WorkspaceFile[]> {
  const out = new Map<string, WorkspaceFile[]>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const ws = JSON.parse(line) as Workspace;
    out.set(ws.pkg, ws.files);
  }
  return out;
}

/** Steps from directory a to directory b through their common ancestor (0: the same directory). */
function dirDistance(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  let common = 0;
  while (common < as.length && common < bs.length && as[common] === bs[common]) common++;
  return as.length - common + (bs.length - common);
}

/**
 * The n files a user would plausibly have open beside the case's file: the nearest by directory
 * (the same directory first), then those of the case's language, then by path. Never the case's
 * own file.
 */
export function openFilesFor(c: FimCase, workspaces: Map<string, WorkspaceFile[]>, n = 4): WorkspaceFile[] {
  const files = workspaces.get(c.pkg);
  if (files === undefined) throw new Error(`${c.id}: no workspace for ${c.pkg}`);
  const dir = posix.dirname(c.path);
  const rank = (f: WorkspaceFile): [number, number, string] => [dirDistance(dir, posix.dirname(f.path)), f.lang === c.lang ? 0 : 1, f.path];
  return files
    .filter((f) => f.path !== c.path)
    .map((f) => ({ f, r: rank(f) }))
    .sort((x, y) => x.r[0] - y.r[0] || x.r[1] - y.r[1] || (x.r[2] < y.r[2] ? -1 : x.r[2] > y.r[2] ? 1 : 0))
    .slice(0, n)
    .map(({ f }) => f);
}
