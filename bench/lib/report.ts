/**
 * Writes a benchmark's results as bench/results/<name>.json (everything, machine-readable) and
 * <name>.md (the tables a person reads), and formats markdown tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './machine';

export const RESULTS_DIR = join(REPO, 'bench/results');

export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string[] {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)];
}

export function writeResults(name: string, json: unknown, markdown: readonly string[], dir = RESULTS_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(json, null, 1)}\n`);
  writeFileSync(join(dir, `${name}.md`), `${markdown.join('\n')}\n`);
  process.stderr.write(`wrote ${join(dir, name)}.{json,md}\n`);
}

/** Parses `--name value` and `--flag` arguments. */
export function args(argv = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out.set(a.slice(2), next);
      i++;
    } else {
      out.set(a.slice(2), 'true');
    }
  }
  return out;
}

/** Bytes as MiB with one decimal, for a table or a log line. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * The end of a bench's entry, `main().catch(exitOnError())`: an uncaught error writes its stack
 * (after `prefix`) to stderr and exits with `code`.
 */
export function exitOnError(code = 1, prefix = ''): (error: unknown) => never {
  return (error) => {
    log(`${prefix}${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(code);
  };
}
