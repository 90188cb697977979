/**
 * `WorkspaceRules`: which files under the workspace folders the workspace index reads, and how
 * it reads one. A path is read only when all of these hold:
 *
 *   - it lies inside one of the workspace folders, and no directory on the way there from the
 *     folder, nor the file itself, is a symbolic link (links are never followed, so nothing
 *     outside the folders is ever read)
 *   - no directory on the way is in SKIPPED_DIRECTORIES: version control, and `node_modules`
 *     even where no .gitignore names it (installed packages: often more code than the
 *     workspace's own, and not what the person writes)
 *   - no `files.exclude` glob whose value is true matches it or a directory on the way
 *     (picomatch, against the path relative to its folder, dot files included)
 *   - no .gitignore in its folder or a directory on the way ignores it (the `ignore` package,
 *     as git reads them: a deeper file's rules come later, `!` takes a path back; a .gitignore
 *     above the folder is outside it and not read, nor are .git/info/exclude and
 *     core.excludesFile)
 *   - its extension names a language src/context has rules for (languageOfFile.ts)
 *   - it is a regular file of at most MAX_FILE_BYTES, with no NUL byte in its first
 *     BINARY_PROBE_BYTES (a binary file)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import picomatch from 'picomatch';
import { sourceLanguageOf } from '../completion/index';

/** Larger source files are generated or data more often than not, and cost the most to tokenize. */
export const MAX_FILE_BYTES = 512 * 1024;
/** A NUL byte this early means a binary file (git looks at the first 8000 bytes for the same). */
export const BINARY_PROBE_BYTES = 8192;
/** Directory names never walked into, whatever the ignore files say. */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set(['.git', '.hg', '.svn', 'node_modules']);

/** A file the index may read: its absolute path, language and size when listed. */
export interface SourceFile {
  path: string;
  language: string;
  size: number;
}

const NO_FOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export class WorkspaceRules {
  readonly folders: readonly string[];
  private readonly excluded: (rel: string) => boolean;
  /** Each directory's parsed .gitignore, null where it has none; read once per WorkspaceRules. */
  private readonly gitignores = new Map<string, Promise<Ignore | null>>();

  /** `folders`: absolute paths. `exclude`: files.exclude globs. */
  constructor(folders: readonly string[], exclude: readonly string[]) {
    this.folders = folders.map((f) => path.resolve(f));
    const globs = exclude.filter((g) => g.trim() !== '');
    this.excluded = globs.length === 0 ? () => false : picomatch(globs, { dot: true });
  }

  /** The folder `file` lies inside (the innermost, where folders nest), or undefined. */
  folderOf(file: string): string | undefined {
    let best: string | undefined;
    for (const folder of this.folders) {
      if (relativeInside(folder, file) !== undefined && (best === undefined || folder.length > best.length)) best = folder;
    }
    return best;
  }

  /**
   * Whether the walker leaves out `rel` ('/'-separated, inside `folder`) by its name: a skipped
   * directory, files.exclude, a .gitignore, or (files) an unknown extension. Its directories are
   * the caller's to check: the walker never enters a left-out one.
   */
  async leavesOut(folder: string, rel: string, isDirectory: boolean): Promise<boolean> {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    if (isDirectory ? SKIPPED_DIRECTORIES.has(name) : sourceLanguageOf(name) === undefined) return true;
    if (this.excluded(rel)) return true;
    return this.gitignored(folder, rel, isDirectory);
  }

  /**
   * `file` as a SourceFile if the index may read it (every rule above but the binary check,
   * which needs its text), else undefined. For a file named by a change event: checks every
   * directory from its folder down, the way the walker would have come.
   */
  async admits(file: string): Promise<SourceFile | undefined> {
    const resolved = path.resolve(file);
    const stat = await this.reach(resolved, 'file');
    return stat !== undefined && stat.size <= MAX_FILE_BYTES ? { path: resolved, language: sourceLanguageOf(resolved)!, size: stat.size } : undefined;
  }

  /** Whether the walker would enter `directory` (a folder itself counts): for a .gitignore or a directory named by an event. */
  async admitsDirectory(directory: string): Promise<boolean> {
    const resolved = path.resolve(directory);
    return this.folders.includes(resolved) || (await this.reach(resolved, 'directory')) !== undefined;
  }

  /** The lstat of `target` if the walk would come to it, through directories it would enter. */
  private async reach(target: string, kind: 'file' | 'directory'): Promise<fs.Stats | undefined> {
    const folder = this.folderOf(target);
    const rel = folder === undefined ? undefined : relativeInside(folder, target);
    if (folder === undefined || rel === undefined) return undefined;
    const parts = rel.split('/');
    let stat: fs.Stats | undefined;
    for (let depth = 1; depth <= parts.length; depth++) {
      const sub = parts.slice(0, depth).join('/');
      const isDirectory = depth < parts.length || kind === 'directory';
      stat = await lstatOrUndefined(path.join(folder, sub));
      if (stat === undefined || stat.isSymbolicLink() || (isDirectory ? !stat.isDirectory() : !stat.isFile())) return undefined;
      if (await this.leavesOut(folder, sub, isDirectory)) return undefined;
    }
    return stat;
  }

  /** The .gitignore files from `folder` down to rel's directory, read in git's order: the last rule that matches decides. */
  private async gitignored(folder: string, rel: string, isDirectory: boolean): Promise<boolean> {
    const parts = rel.split('/');
    let ignored = false;
    for (let depth = 0; depth < parts.length; depth++) {
      const rules = await this.gitignoreOf(path.join(folder, ...parts.slice(0, depth)));
      if (rules === null) continue;
      const result = rules.test(parts.slice(depth).join('/') + (isDirectory ? '/' : ''));
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }

  private gitignoreOf(directory: string): Promise<Ignore | null> {
    let rules = this.gitignores.get(directory);
    if (rules === undefined) {
      rules = readRegularFile(path.join(directory, '.gitignore'), MAX_FILE_BYTES).then((bytes) => (bytes === undefined ? null : ignore().add(bytes.toString('utf8'))));
      this.gitignores.set(directory, rules);
    }
    return rules;
  }
}

/**
 * The text of a source file the rules admitted, or undefined: gone, a symbolic link by now,
 * grown past MAX_FILE_BYTES, or binary.
 */
export async function readSource(file: string): Promise<string | undefined> {
  const bytes = await readRegularFile(file, MAX_FILE_BYTES);
  if (bytes === undefined || bytes.subarray(0, BINARY_PROBE_BYTES).includes(0)) return undefined;
  return new TextDecoder('utf-8').decode(bytes);
}

/** A regular file's bytes, opened without following a symbolic link; undefined if it is not one or is larger than maxBytes. */
async function readRegularFile(file: string, maxBytes: number): Promise<Buffer | undefined> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, fs.constants.O_RDONLY | NO_FOLLOW);
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return undefined;
    const bytes = await handle.readFile();
    return bytes.length <= maxBytes ? bytes : undefined;
  } catch {
    // Gone, a link (ELOOP), unreadable: not indexed.
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** `file` relative to `folder`, '/'-separated, if it lies inside it (not the folder itself). */
export function relativeInside(folder: string, file: string): string | undefined {
  const rel = path.relative(folder, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

async function lstatOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(file);
  } catch {
    return undefined;
  }
}
