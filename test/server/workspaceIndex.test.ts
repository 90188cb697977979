// The workspace index on real files in a temp dir: which files the walker lists (.gitignore,
// files.exclude, node_modules, links, binary, huge, unknown extensions), file events, trust,
// turning it off, and that its build gives way to requests.
// Run: node --import tsx --test test/server/workspaceIndex.test.ts
import { after, before, suite, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CHUNK_CHARS, chunkEnds } from '../../src/server/encodeInSlices';
import { EngineQueue } from '../../src/server/engineQueue';
import { IdleGate } from '../../src/server/idleGate';
import type { Logger } from '../../src/server/logger';
import { RequestTracker } from '../../src/server/requestTracker';
import type { WorkspaceIndexConfig } from '../../src/server/workspaceIndex';
import { WORKSPACE_MAX_TOKENS, WorkspaceIndex } from '../../src/server/workspaceIndex';
import { MAX_FILE_BYTES, WorkspaceRules } from '../../src/server/workspaceRules';
import { walkWorkspace } from '../../src/server/workspaceWalker';

/** One token per character: token counts say which text was indexed. */
const chars = { encode: (text: string) => Array.from(text, (c) => c.charCodeAt(0)) };

function quietLog(lines: string[] = []): Logger {
  const push = (line: string): void => void lines.push(line);
  return { error: push, warn: push, info: push, debug: push };
}

function write(root: string, rel: string, content: string | Buffer): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

/**
 * The tree every test starts from: what the walker must list is `LISTED`; everything else is
 * there to be left out, each for one reason.
 */
function makeWorkspace(root: string, outside: string): void {
  write(root, '.gitignore', 'dist/\n*.gen.ts\nsecret.ts\n');
  write(root, 'a.ts', 'export const a = 1;\n');
  write(root, 'secret.ts', 'ignored by the root .gitignore\n');
  write(root, 'dist/out.js', 'an ignored directory\n');
  write(root, 'src/b.py', 'def b():\n    return 2\n');
  write(root, 'src/.gitignore', 'local/\n!keep.gen.ts\n');
  write(root, 'src/keep.gen.ts', 'taken back by the nested .gitignore\n');
  write(root, 'src/other.gen.ts', 'ignored by the root .gitignore\n');
  write(root, 'src/local/x.ts', 'ignored by the nested .gitignore\n');
  write(root, 'local/y.ts', 'the nested rule does not reach here\n');
  write(root, 'vendor/v.go', 'package v // vendored but neither ignored nor excluded\n');
  write(root, 'node_modules/pkg/index.js', 'skipped by default\n');
  write(root, '.git/hooks/pre-commit.sh', 'skipped always\n');
  write(root, 'excluded/e.ts', 'files.exclude **/excluded\n');
  write(root, 'app.min.js', 'files.exclude **/*.min.js\n');
  write(root, 'README.md', 'no language the context layer knows\n');
  write(root, 'notes.txt', 'no language either\n');
  write(root, 'binary.ts', Buffer.from([0x63, 0x6f, 0x6e, 0x73, 0x74, 0x00, 0x01, 0x02]));
  write(root, 'huge.ts', '// ' + 'x'.repeat(MAX_FILE_BYTES) + '\n');
  fs.symlinkSync(path.join(root, 'a.ts'), path.join(root, 'link.ts'));
  fs.symlinkSync(path.join(root, 'src'), path.join(root, 'linkdir'));
  write(outside, 'private.ts', 'export const secret = "outside the workspace";\n');
  fs.symlinkSync(path.join(outside, 'private.ts'), path.join(root, 'escape.ts'));
  fs.symlinkSync(outside, path.join(root, 'escapedir'));
}

const EXCLUDE = ['**/excluded', '**/*.min.js'];
/** What the walker lists (binary.ts is listed: its bytes show it is binary only when read). */
const LISTED = ['a.ts', 'binary.ts', 'local/y.ts', 'src/b.py', 'src/keep.gen.ts', 'vendor/v.go'];
const INDEXED = LISTED.filter((f) => f !== 'binary.ts');

let tmp: string;
let root: string;
let outside: string;
let counter = 0;

/** A fresh copy of the tree for a test that changes it. */
function freshWorkspace(): string {
  const dir = path.join(tmp, `ws${++counter}`);
  makeWorkspace(dir, path.join(tmp, `outside${counter}`));
  return dir;
}

function config(folder: string, overrides: Partial<WorkspaceIndexConfig> = {}): WorkspaceIndexConfig {
  return { folders: [folder], enabled: true, trusted: true, exclude: EXCLUDE, encoder: chars, ...overrides };
}

function indexedFiles(index: WorkspaceIndex, folder: string, candidates: readonly string[]): string[] {
  return candidates.filter((rel) => index.index?.has(path.join(folder, rel)) === true);
}

const ALL = [...LISTED, 'secret.ts', 'dist/out.js', 'src/other.gen.ts', 'src/local/x.ts', 'node_modules/pkg/index.js', '.git/hooks/pre-commit.sh', 'excluded/e.ts', 'app.min.js', 'README.md', 'huge.ts', 'link.ts', 'linkdir/b.py', 'escape.ts', 'escapedir/private.ts'];

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ptp-workspace-'));
  root = path.join(tmp, 'root');
  outside = path.join(tmp, 'outside');
  makeWorkspace(root, outside);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

suite('walkWorkspace', () => {
  test('lists source files, leaving out what .gitignore (nested too), files.exclude, node_modules, .git, links, huge files and unknown extensions leave out', async () => {
    const walk = await walkWorkspace(new WorkspaceRules([root], EXCLUDE), new IdleGate(() => false), () => false);
    assert.ok(walk !== undefined);
    assert.deepEqual(walk.files.map((f) => path.relative(root, f.path).split(path.sep).join('/')).sort(), LISTED);
    assert.equal(walk.truncated, undefined);
    assert.deepEqual(Object.fromEntries(walk.files.map((f) => [path.basename(f.path), f.language])), {
      'a.ts': 'typescript', 'binary.ts': 'typescript', 'y.ts': 'typescript', 'b.py': 'python', 'keep.gen.ts': 'typescript', 'v.go': 'go',
    });
  });

  test('without files.exclude the excluded files are listed', async () => {
    const walk = await walkWorkspace(new WorkspaceRules([root], []), new IdleGate(() => false), () => false);
    const listed = walk!.files.map((f) => path.relative(root, f.path).split(path.sep).join('/'));
    assert.ok(listed.includes('excluded/e.ts') && listed.includes('app.min.js'), listed.join(', '));
  });

  test('a folder inside another is walked once, as its own folder', async () => {
    const walk = await walkWorkspace(new WorkspaceRules([root, path.join(root, 'src')], EXCLUDE), new IdleGate(() => false), () => false);
    const paths = walk!.files.map((f) => f.path);
    assert.equal(new Set(paths).size, paths.length);
    assert.ok(paths.includes(path.join(root, 'src', 'b.py')));
  });

  test('WorkspaceRules.admits applies the same rules to one path, directories on the way included', async () => {
    const rules = new WorkspaceRules([root], EXCLUDE);
    const admitted: string[] = [];
    for (const rel of ALL) if ((await rules.admits(path.join(root, rel))) !== undefined) admitted.push(rel);
    assert.deepEqual(admitted.sort(), LISTED);
    assert.equal(await rules.admits(path.join(outside, 'private.ts')), undefined);
    assert.equal(await rules.admits(path.join(root, '..', 'outside', 'private.ts')), undefined);
  });
});

suite('WorkspaceIndex', () => {
  test('indexes the listed files but the binary one, and reports its size', async () => {
    const states: string[] = [];
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set(), { onStateChange: () => states.push(index.status().state) });
    index.configure(config(root));
    await index.settled();
    assert.deepEqual(indexedFiles(index, root, ALL), INDEXED);
    const status = index.status();
    assert.equal(status.state, 'done');
    assert.equal(status.files, INDEXED.length);
    assert.equal(status.found, INDEXED.length);
    const expectedTokens = INDEXED.reduce((n, rel) => n + fs.readFileSync(path.join(root, rel), 'utf8').length, 0);
    assert.equal(status.tokens, expectedTokens);
    assert.ok(status.bytes > 0);
    assert.equal(typeof status.buildMs, 'number');
    assert.deepEqual(states, ['building', 'done']);
    index.dispose();
  });

  test('an untrusted workspace: no index and not one file read, until trust comes', async (t) => {
    const opened: string[] = [];
    for (const method of ['open', 'readdir', 'lstat', 'readFile', 'stat'] as const) {
      const original = fs.promises[method] as (...args: unknown[]) => unknown;
      t.mock.method(fs.promises, method, (...args: unknown[]) => {
        opened.push(String(args[0]));
        return original.apply(fs.promises, args);
      });
    }
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(root, { trusted: false }));
    index.filesChanged([{ path: path.join(root, 'a.ts'), kind: 'changed' }]);
    await index.settled();
    await delay(20);
    assert.equal(index.index, undefined);
    assert.equal(index.status().state, 'off');
    assert.deepEqual(opened, []);
    index.configure(config(root, { trusted: true }));
    await index.settled();
    assert.deepEqual(indexedFiles(index, root, ALL), INDEXED);
    index.dispose();
  });

  test('turning it off drops the index; on again builds it again', async () => {
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(root));
    await index.settled();
    assert.equal(index.status().files, INDEXED.length);
    index.configure(config(root, { enabled: false }));
    assert.equal(index.index, undefined);
    assert.deepEqual(index.status(), { state: 'off', files: 0, found: 0, tokens: 0, bytes: 0, maxTokens: WORKSPACE_MAX_TOKENS });
    index.configure(config(root));
    await index.settled();
    assert.equal(index.status().files, INDEXED.length);
    index.dispose();
  });

  test('a new tokenizer indexes everything again with it', async () => {
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(root));
    await index.settled();
    const before = index.status().tokens;
    const twice = { encode: (text: string) => [...chars.encode(text), ...chars.encode(text)] };
    index.configure(config(root, { encoder: twice }));
    await index.settled();
    assert.equal(index.status().tokens, 2 * before);
    index.dispose();
  });

  test('file events: a change is read again, a new file indexed, a deleted one dropped, an ignored or outside one left alone', async () => {
    const ws = freshWorkspace();
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(ws));
    await index.settled();
    const tokens = index.status().tokens;
    const a = path.join(ws, 'a.ts');

    fs.writeFileSync(a, 'export const a = 1000;\n');
    index.filesChanged([{ path: a, kind: 'changed' }]);
    await index.settled();
    assert.equal(index.status().tokens, tokens + 3);

    write(ws, 'src/c.ts', 'export const c = 3;\n');
    write(ws, 'dist/new.js', 'still ignored\n');
    write(ws, 'node_modules/pkg/new.js', 'still skipped\n');
    index.filesChanged([
      { path: path.join(ws, 'src/c.ts'), kind: 'created' },
      { path: path.join(ws, 'dist/new.js'), kind: 'created' },
      { path: path.join(ws, 'node_modules/pkg/new.js'), kind: 'created' },
      { path: path.join(outside, 'private.ts'), kind: 'changed' },
    ]);
    await index.settled();
    assert.deepEqual(indexedFiles(index, ws, ['src/c.ts', 'dist/new.js', 'node_modules/pkg/new.js']), ['src/c.ts']);
    assert.equal(index.index!.has(path.join(outside, 'private.ts')), false);

    fs.rmSync(a);
    index.filesChanged([{ path: a, kind: 'deleted' }]);
    await index.settled();
    assert.equal(index.index!.has(a), false);
    assert.equal(index.status().files, INDEXED.length);

    // A file that becomes binary, or a link, leaves the index.
    fs.writeFileSync(path.join(ws, 'local/y.ts'), Buffer.from([0x61, 0x00]));
    index.filesChanged([{ path: path.join(ws, 'local/y.ts'), kind: 'changed' }]);
    await index.settled();
    assert.equal(index.index!.has(path.join(ws, 'local/y.ts')), false);

    // A deleted directory takes everything under it.
    fs.rmSync(path.join(ws, 'src'), { recursive: true });
    index.filesChanged([{ path: path.join(ws, 'src'), kind: 'deleted' }]);
    await index.settled();
    assert.deepEqual(indexedFiles(index, ws, ['src/b.py', 'src/keep.gen.ts', 'src/c.ts']), []);
    assert.deepEqual(indexedFiles(index, ws, ALL), ['vendor/v.go']);
    assert.equal(index.status().found, 1);
    index.dispose();
  });

  test('a changed .gitignore walks again: newly ignored files go, newly allowed ones come', async () => {
    const ws = freshWorkspace();
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(ws));
    await index.settled();
    fs.writeFileSync(path.join(ws, '.gitignore'), 'vendor/\n');
    index.filesChanged([{ path: path.join(ws, '.gitignore'), kind: 'changed' }]);
    await index.settled();
    const now = indexedFiles(index, ws, ALL);
    assert.ok(!now.includes('vendor/v.go'), now.join(', '));
    assert.ok(now.includes('secret.ts') && now.includes('src/other.gen.ts'), now.join(', '));
    index.dispose();
  });

  test('only a .gitignore the walk reaches walks again (not one in node_modules or an ignored directory)', async () => {
    const ws = freshWorkspace();
    let changes = 0;
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set(), { onStateChange: () => changes++ });
    index.configure(config(ws));
    await index.settled();
    changes = 0;
    write(ws, 'node_modules/pkg/.gitignore', '*\n');
    write(ws, 'dist/.gitignore', '*\n');
    index.filesChanged([
      { path: path.join(ws, 'node_modules/pkg/.gitignore'), kind: 'created' },
      { path: path.join(ws, 'dist/.gitignore'), kind: 'created' },
    ]);
    await index.settled();
    assert.equal(changes, 0);
    index.filesChanged([{ path: path.join(ws, 'src/.gitignore'), kind: 'changed' }]);
    await index.settled();
    assert.equal(changes, 2, 'building, done');
    index.dispose();
  });

  test('a directory moved in is walked: its files are indexed', async () => {
    const ws = freshWorkspace();
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(ws));
    await index.settled();
    write(tmp, `moved${counter}/deep/m.rs`, 'fn m() {}\n');
    fs.renameSync(path.join(tmp, `moved${counter}`), path.join(ws, 'moved'));
    index.filesChanged([{ path: path.join(ws, 'moved'), kind: 'created' }]);
    await index.settled();
    assert.equal(index.index!.has(path.join(ws, 'moved/deep/m.rs')), true);
    index.dispose();
  });

  test('files.exclude or the folders changing walks again', async () => {
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set());
    index.configure(config(root));
    await index.settled();
    index.configure(config(root, { exclude: [...EXCLUDE, '**/vendor'] }));
    await index.settled();
    assert.ok(!indexedFiles(index, root, ALL).includes('vendor/v.go'));
    // The root's .gitignore is outside this folder now, so it is not read: other.gen.ts comes in.
    index.configure(config(root, { folders: [path.join(root, 'src')] }));
    await index.settled();
    assert.deepEqual(indexedFiles(index, root, ALL), ['src/b.py', 'src/keep.gen.ts', 'src/other.gen.ts']);
    index.dispose();
  });

  test('the open documents\' languages are read first, and the file cap keeps them', async () => {
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(), () => new Set(['python', 'go']), { maxFiles: 2 });
    index.configure(config(root));
    await index.settled();
    assert.deepEqual(indexedFiles(index, root, ALL), ['src/b.py', 'vendor/v.go']);
    assert.equal(index.status().found, LISTED.length);
    index.dispose();
  });

  test('the token cap stops the build and says so in the log', async () => {
    const lines: string[] = [];
    const index = new WorkspaceIndex(new IdleGate(() => false), quietLog(lines), () => new Set(), { maxTokens: 30 });
    index.configure(config(root));
    await index.settled();
    assert.equal(index.status().state, 'done');
    assert.ok(index.status().tokens <= 30);
    assert.ok(index.status().files < INDEXED.length);
    assert.ok(lines.some((l) => /stopped at the cap of 30 tokens/.test(l)), lines.join('\n'));
    index.dispose();
  });
});

suite('WorkspaceIndex gives way to requests', () => {
  const BIG = 'export const x = 1;\n'.repeat(6400);
  const CHUNKS = chunkEnds(BIG, CHUNK_CHARS).length;

  /** One 128 KB file (~32 chunks), each chunk's encode taking ~2 ms: a build of ~70 ms that only the gate can interrupt. */
  function slowWorkspace(): { folder: string; encoder: { encode(text: string): number[] }; calls: () => number } {
    const folder = path.join(tmp, `slow${++counter}`);
    write(folder, 'big.ts', BIG);
    let calls = 0;
    const encoder = {
      encode(text: string): number[] {
        calls++;
        const until = performance.now() + 2;
        while (performance.now() < until);
        return chars.encode(text);
      },
    };
    return { folder, encoder, calls: () => calls };
  }

  test('a request that arrives mid-build runs before the build goes on, and the build finishes after it', async () => {
    const { folder, encoder, calls } = slowWorkspace();
    const tracker = new RequestTracker();
    const turns = new EngineQueue();
    const index = new WorkspaceIndex(new IdleGate(() => tracker.pending > 0 || turns.depth > 0), quietLog(), () => new Set());
    index.configure({ folders: [folder], enabled: true, trusted: true, exclude: [], encoder });
    while (calls() === 0) await delay(1);
    // The request as server.ts serves one: begun in the tracker, then a turn on the model.
    let during: { state: string; calls: number; callsAfter: number } | undefined;
    await new Promise<void>((resolve) =>
      setTimeout(async () => {
        const request = tracker.begin('inline', undefined, 10_000);
        await turns.run(request.signal, async () => {
          const at = calls();
          await delay(60);
          during = { state: index.status().state, calls: at, callsAfter: calls() };
        });
        request.done();
        resolve();
      }, 0),
    );
    assert.ok(during !== undefined);
    assert.equal(during.state, 'building', 'the build was over before the request ran');
    assert.ok(during.calls < CHUNKS, `all ${during.calls} chunks ran before the request`);
    assert.equal(during.callsAfter, during.calls, 'the build went on while the request was served');
    await index.settled();
    assert.equal(index.status().state, 'done');
    assert.equal(index.status().files, 1);
    assert.equal(calls(), CHUNKS);
    index.dispose();
  });

  test('while busy, the build makes no progress; it resumes after', async () => {
    const { folder, encoder, calls } = slowWorkspace();
    let busy = false;
    const index = new WorkspaceIndex(new IdleGate(() => busy), quietLog(), () => new Set());
    index.configure({ folders: [folder], enabled: true, trusted: true, exclude: [], encoder });
    while (calls() === 0) await delay(1);
    busy = true;
    const at = calls();
    await delay(150);
    assert.equal(calls(), at);
    assert.equal(index.status().state, 'building');
    busy = false;
    await index.settled();
    assert.equal(index.status().files, 1);
    index.dispose();
  });
});
