// Compiles the extension-host suite (test/suite/*.ts) to .test-output/suite-build/*.js, one bundle per
// file (vscode and mocha stay external: the extension host provides vscode, mocha comes from
// node_modules). Run: node scripts/build-suite.mjs
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, '.test-output', 'suite-build');
rmSync(out, { recursive: true, force: true });
const entries = readdirSync(join(root, 'test', 'suite')).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'test', 'suite', f));
await esbuild.build({
  entryPoints: entries,
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode', 'mocha'],
  sourcemap: 'inline',
  logLevel: 'warning',
});
console.log(`build-suite: ${entries.length} file(s) -> ${out}`);
