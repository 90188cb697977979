/**
 * The validation split of the local corpus (data/corpus/val.jsonl.xz, ignored by git), minus
 * every package reserved in training/corpus/heldout.txt. Reserved packages are not in the corpus;
 * the filter is a second guard, and `readValidation` fails if one ever shows up.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './machine';

export interface CorpusFile {
  pkg: string;
  path: string;
  /** The corpus language name, which is also the VS Code languageId for the languages used here. */
  lang: string;
  license?: string;
  text: string;
}

export const VAL_CORPUS = join(REPO, 'data/corpus/val.jsonl.xz');
/** The reserved packages (nothing in them is trained or tuned on); '#' lines are comments. */
export const HELDOUT_LIST = join(REPO, 'training/corpus/heldout.txt');

/** `npm ky` / `debian python3-click` lines -> a test on corpus package names (`npm:ky@1.2.3`, `deb:python3-click`). */
export function reservedMatcher(listPath = HELDOUT_LIST): (pkg: string) => boolean {
  const names: { registry: string; name: string }[] = [];
  for (const raw of readFileSync(listPath, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [registry, name] = line.split(/\s+/);
    if (registry === undefined || name === undefined) continue;
    names.push({ registry, name });
  }
  return (pkg) =>
    names.some(({ registry, name }) => {
      if (registry === 'npm') return pkg === `npm:${name}` || pkg.startsWith(`npm:${name}@`);
      if (registry === 'debian') return pkg === `deb:${name}`;
      return pkg.includes(name);
    });
}

/** Validation files, reserved packages removed. Throws if the corpus is missing. */
export function readValidation(path = VAL_CORPUS): CorpusFile[] {
  if (!existsSync(path)) throw new Error(`${path} is missing: fetch the corpus first (see data/fetch.log); the case files in bench/data need it only to be regenerated`);
  const isReserved = reservedMatcher();
  const text = execFileSync('xz', ['-dc', path], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const files: CorpusFile[] = [];
  let reserved = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = JSON.parse(line) as CorpusFile;
    if (isReserved(f.pkg)) {
      reserved++;
      continue;
    }
    files.push(f);
  }
  if (reserved > 0) process.stderr.write(`note: dropped ${reserved} validation files from reserved packages\n`);
  return files;
}
