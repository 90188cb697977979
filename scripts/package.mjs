// Builds the .vsix for one platform, offline, with @vscode/vsce.
//
//   node scripts/package.mjs [--target linux-x64|linux-arm64|darwin-arm64|win32-x64|win32-arm64] [--out FILE]
//   (npm run package = linux-x64)
//
// The extension bundles its JavaScript (dist/), but onnxruntime-node is a native addon that
// must sit in node_modules next to its binaries, so the package carries node_modules/
// onnxruntime-node (+ onnxruntime-common) with only the target's binding: vsce lists the
// production dependencies (`npm list`), and .vscodeignore keeps just those files. The package
// is platform-specific (`vsce package --target`), so VS Code installs the right one per OS;
// onnxruntime-node 1.30 ships bindings for the five targets above (no darwin-x64).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const target = option('--target', 'linux-x64');
const TARGETS = { 'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'darwin-arm64': 'darwin/arm64', 'win32-x64': 'win32/x64', 'win32-arm64': 'win32/arm64' };
if (!(target in TARGETS)) throw new Error(`--target must be one of ${Object.keys(TARGETS).join(', ')} (onnxruntime-node has no binding for ${target})`);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = option('--out', join(root, `${pkg.name}-${pkg.version}-${target}.vsix`));
const binding = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', TARGETS[target]);
if (!existsSync(binding)) throw new Error(`${binding} is missing: run npm ci`);

// 1. Bundles, minified (source maps stay out of the package).
execFileSync(process.execPath, [join(root, 'esbuild.config.mjs'), '--minify'], { cwd: root, stdio: 'inherit' });

// 2. The ignore file for this target: .vscodeignore with the target's native binding.
const ignore = readFileSync(join(root, '.vscodeignore'), 'utf8').replace('!node_modules/onnxruntime-node/bin/napi-v6/linux/x64/**', `!node_modules/onnxruntime-node/bin/napi-v6/${TARGETS[target]}/**`);
const ignoreFile = join(root, '.test-output', `vscodeignore.${target}`);
mkdirSync(dirname(ignoreFile), { recursive: true });
writeFileSync(ignoreFile, ignore);

// 3. vsce, offline: no repository or licence prompts, README links left as they are.
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
execFileSync(
  process.execPath,
  [vsce, 'package', '--target', target, '--ignoreFile', relative(root, ignoreFile), '--out', out, '--skip-license', '--allow-missing-repository', '--no-rewrite-relative-links'],
  { cwd: root, stdio: 'inherit' },
);
console.log(`package: ${relative(root, out)} (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${target})`);
