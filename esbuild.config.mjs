// Bundles the extension, the worker and the CLI into dist/ and copies the tree-sitter wasm
// files next to them. Run: node esbuild.config.mjs [--watch] [--minify]
//
//   dist/extension.js  src/extension/extension.ts  (VS Code loads it; skipped while it does not exist)
//   dist/server.js     src/server/main.ts          (the worker: a language server over IPC or stdio)
//   dist/cli.js        src/cli/main.ts             (bin/ptp-complete.js requires it)
//   dist/grammars/     tree-sitter-<lang>.wasm + web-tree-sitter.wasm (the runtime src/context loads)
//
// Three separate bundles: the extension host must never load onnxruntime-node or the engine,
// and the worker must never load `vscode`.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const watch = process.argv.includes('--watch');
const minify = process.argv.includes('--minify');
const dist = join(root, 'dist');

/**
 * ESM-only or dual packages whose ESM build reads `import.meta.url` (web-tree-sitter finds its
 * wasm that way), which a CommonJS bundle cannot provide. Resolve them the way Node's `require`
 * would, i.e. to their CommonJS build, even where the source says `import`.
 */
const USE_REQUIRE_BUILD = ['web-tree-sitter', '@huggingface/tokenizers'];
const requireBuilds = {
  name: 'use-require-build',
  setup(build) {
    const filter = new RegExp(`^(${USE_REQUIRE_BUILD.map((n) => n.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: require.resolve(args.path) }));
  },
};

/** @type {esbuild.BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // vscode is provided by the extension host; onnxruntime-node is a native addon that must
  // stay in node_modules next to its binaries.
  // The third is only ever require.resolve()d by src/context/grammars.ts for its default grammar
  // directory (node_modules); bundles set dist/grammars instead.
  external: ['vscode', 'onnxruntime-node', '@vscode/tree-sitter-wasm/package.json'],
  sourcemap: true,
  minify,
  logLevel: 'warning',
  // A stray ESM-only dependency would silently get `import.meta = {}`: fail the build instead.
  logOverride: { 'empty-import-meta': 'error' },
  plugins: [requireBuilds],
};

const entries = [
  { name: 'extension', entry: 'src/extension/extension.ts', optional: true },
  { name: 'server', entry: 'src/server/main.ts' },
  { name: 'cli', entry: 'src/cli/main.ts' },
];

function copyGrammars() {
  const out = join(dist, 'grammars');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const grammarDir = join(dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm');
  const grammars = readdirSync(grammarDir).filter((f) => /^tree-sitter-.+\.wasm$/.test(f));
  for (const f of grammars) copyFileSync(join(grammarDir, f), join(out, f));
  // src/context/grammars.ts runs web-tree-sitter's own runtime (not @vscode's tree-sitter.wasm).
  copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), join(out, 'web-tree-sitter.wasm'));
  return grammars.length + 1;
}

const options = [];
for (const { name, entry, optional } of entries) {
  if (!existsSync(join(root, entry))) {
    if (!optional) throw new Error(`esbuild.config.mjs: entry ${entry} is missing`);
    console.warn(`esbuild.config.mjs: ${entry} does not exist yet; dist/${name}.js not built`);
    continue;
  }
  options.push({ ...common, entryPoints: { [name]: join(root, entry) }, outdir: dist });
}

mkdirSync(dist, { recursive: true });
const copied = copyGrammars();
if (watch) {
  for (const o of options) await (await esbuild.context(o)).watch();
  console.log(`esbuild.config.mjs: watching ${options.length} bundle(s); ${copied} wasm files in dist/grammars`);
} else {
  await Promise.all(options.map((o) => esbuild.build(o)));
  console.log(`esbuild.config.mjs: built ${options.map((o) => Object.keys(o.entryPoints)[0] + '.js').join(', ')}; ${copied} wasm files in dist/grammars`);
}
