/**
 * `walkWorkspace`: lists the source files under the workspace folders that WorkspaceRules lets
 * the index read. Breadth first, entries by name, so a folder's own files come before those
 * deep in its tree and a capped walk keeps the shallow ones. A directory listing is one unit
 * of work (an IdleGate turn), and so is each file's size check. Symbolic links are passed
 * over, never followed; a folder nested in another is walked as its own folder only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IdleGate } from './idleGate';
import type { SourceFile, WorkspaceRules } from './workspaceRules';
import { MAX_FILE_BYTES } from './workspaceRules';
import { sourceLanguageOf } from '../completion/index';

/** The walk stops listing here: a workspace this large is indexed in part anyway (see WorkspaceIndex). */
export const MAX_LISTED_FILES = 50_000;
/** Nor does it look into more directories than this (a tree of data or assets with no source in it). */
export const MAX_DIRECTORIES = 20_000;

export interface WalkResult {
  files: SourceFile[];
  /** The cap the walk stopped at, if it did. */
  truncated?: 'files' | 'directories';
}

/** The folders' source files; undefined when `stopped()` says so at a turn. */
export async function walkWorkspace(rules: WorkspaceRules, gate: IdleGate, stopped: () => boolean): Promise<WalkResult | undefined> {
  const folders = new Set(rules.folders);
  const files: SourceFile[] = [];
  const queue = [...folders].map((folder) => ({ folder, rel: '' }));
  for (let next = 0; next < queue.length; next++) {
    if (next >= MAX_DIRECTORIES) return { files, truncated: 'directories' };
    const { folder, rel } = queue[next]!;
    const directory = path.join(folder, rel);
    await gate.turn();
    if (stopped()) return undefined;
    for (const entry of await listDirectory(directory)) {
      const sub = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const full = path.join(directory, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) {
        if (!folders.has(full) && !(await rules.leavesOut(folder, sub, true))) queue.push({ folder, rel: sub });
        continue;
      }
      if (!entry.isFile() || (await rules.leavesOut(folder, sub, false))) continue;
      await gate.turn();
      if (stopped()) return undefined;
      const size = await sizeOf(full);
      if (size === undefined || size > MAX_FILE_BYTES) continue;
      files.push({ path: full, language: sourceLanguageOf(entry.name)!, size });
      if (files.length >= MAX_LISTED_FILES) return { files, truncated: 'files' };
    }
  }
  return { files };
}

/** A directory's entries by name; none if it cannot be read (gone, no permission). */
async function listDirectory(directory: string): Promise<fs.Dirent[]> {
  try {
    const entries = await fs.promises.readdir(directory, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

/** Size of a regular file (not followed if it became a link), or undefined. */
async function sizeOf(file: string): Promise<number | undefined> {
  try {
    const stat = await fs.promises.lstat(file);
    return stat.isFile() ? stat.size : undefined;
  } catch {
    return undefined;
  }
}
