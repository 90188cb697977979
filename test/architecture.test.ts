/**
 * Architecture: no import cycles in src/ or bench/ (type-only imports count: they tie the files
 * together just the same), and imports between the src/ layers go the way DESIGN.md draws them:
 *
 *   extension ──> protocol <── server ──> completion ──> engine, context
 *                                cli ──> completion, engine, context, protocol
 *
 * engine, context and protocol import no other layer; only src/extension imports `vscode`; other
 * layers reach src/engine and src/context through their index.ts. bench/ measures the pipeline
 * (src/completion) and the engine, and starts the worker as a program: it imports nothing from
 * src/server or src/extension. Imports are read with the
 * TypeScript scanner (ts.preProcessFile), so import-like text in strings and comments is ignored.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, test } from 'node:test';
import ts from 'typescript';

const ROOT = path.join(__dirname, '..');

/** Each layer (a folder under src/) and the other layers it may import. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  engine: [],
  context: [],
  protocol: [],
  completion: ['protocol', 'engine', 'context'],
  server: ['protocol', 'engine', 'context', 'completion'],
  extension: ['protocol'],
  cli: ['completion', 'engine', 'context', 'protocol'],
};

/** Layers whose files other layers may import only through `index.ts`. */
const INDEX_ONLY = ['engine', 'context'];

interface Import {
  readonly spec: string;
  /** Repository-relative path of the imported file; undefined for a package. */
  readonly file: string | undefined;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(rel);
    return /\.m?ts$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

function resolveRelative(from: string, spec: string): string {
  const base = path.posix.join(path.posix.dirname(from), spec);
  const candidates = [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), `${base}/index.ts`];
  const found = candidates.find((c) => fs.existsSync(path.join(ROOT, c)) && fs.statSync(path.join(ROOT, c)).isFile());
  assert.ok(found, `${from} imports ${spec}, which resolves to no file`);
  return found;
}

function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName: spec }) => ({ spec, file: spec.startsWith('.') ? resolveRelative(file, spec) : undefined }));
}

function importGraph(dirs: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of dirs.flatMap(tsFiles)) {
    graph.set(file, importsOf(file).flatMap((i) => (i.file === undefined ? [] : [i.file])));
  }
  return graph;
}

/**
 * Every cycle's strongly connected component (Tarjan), each shown as one concrete loop through
 * it, `a.ts -> b.ts -> a.ts`. Only edges between files in the graph count.
 */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const edges = (v: string) => (graph.get(v) ?? []).filter((w) => graph.has(w));

  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges(v).includes(v)) components.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);

  return components.map((component) => loopThrough(component.sort()[0]!, new Set(component), edges).join(' -> '));
}

/** A shortest path from `start` back to itself inside one component (breadth-first). */
function loopThrough(start: string, component: ReadonlySet<string>, edges: (v: string) => string[]): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of edges(v).filter((x) => component.has(x))) {
      if (w === start) {
        const between: string[] = [];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = previous.get(u)) between.unshift(u);
        return [start, ...between, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...component, start];
}

const layerOf = (file: string): string | undefined => /^src\/([^/]+)\//.exec(file)?.[1];

suite('architecture', () => {
  const srcFiles = tsFiles('src');

  test('the cycle check finds a planted cycle and names it', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts', 'x.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts', 'd.ts']],
      ['x.ts', []],
    ]);
    assert.deepEqual(findCycles(graph).sort(), ['a.ts -> b.ts -> c.ts -> a.ts', 'd.ts -> d.ts']);
    assert.deepEqual(findCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  });

  test('no import cycles in src/ or bench/', () => {
    const graph = importGraph(['src', 'bench']);
    assert.ok(graph.size >= 60, `only ${graph.size} files found`);
    assert.deepEqual(findCycles(graph), [], 'import cycles');
  });

  test('every file under src/ is in a known layer', () => {
    for (const file of srcFiles) assert.ok(layerOf(file)! in MAY_IMPORT, `${file} is in no layer DESIGN.md names`);
  });

  test('layers import only the layers DESIGN.md allows', () => {
    const wrong: string[] = [];
    for (const file of srcFiles) {
      const from = layerOf(file)!;
      for (const { spec, file: target } of importsOf(file)) {
        const to = target === undefined ? undefined : layerOf(target);
        if (target !== undefined && to === undefined) wrong.push(`${file} imports ${spec}, outside src/`);
        if (to !== undefined && to !== from && !MAY_IMPORT[from]!.includes(to)) wrong.push(`${file} (${from}) imports ${spec} (${to})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('bench/ imports nothing from src/server or src/extension', () => {
    const wrong: string[] = [];
    for (const file of tsFiles('bench')) {
      for (const { spec, file: target } of importsOf(file)) {
        const to = target === undefined ? undefined : layerOf(target);
        if (to === 'server' || to === 'extension') wrong.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('only src/extension imports vscode', () => {
    const importers = srcFiles.filter((f) => importsOf(f).some((i) => i.spec === 'vscode' || i.spec.startsWith('vscode/')));
    assert.ok(importers.length > 0);
    assert.deepEqual(importers.filter((f) => layerOf(f) !== 'extension'), []);
  });

  test('other layers reach src/engine and src/context through their index.ts', () => {
    const wrong: string[] = [];
    for (const file of srcFiles) {
      for (const { spec, file: target } of importsOf(file)) {
        const to = target === undefined ? undefined : layerOf(target);
        if (to !== undefined && to !== layerOf(file) && INDEX_ONLY.includes(to) && target !== `src/${to}/index.ts`) wrong.push(`${file} imports ${spec}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
