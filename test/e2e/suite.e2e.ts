/**
 * Launcher: the extension-host suite (test/suite) inside code-server, the way
 * @vscode/test-electron runs it in desktop VS Code. code-server runs with the smoke-test
 * driver; the workbench loads the extension from the repository (extensionDevelopmentPath)
 * and the compiled suite (extensionTestsPath), then calls window.codeAutomationExit(0 | 1).
 *
 * Run (after npm run build and node scripts/build-suite.mjs):
 *   node --import tsx test/e2e/suite.e2e.ts
 * Env: PTP_SUITE_GREP=<pattern> runs only matching tests.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUTPUT, ROOT, extensionLogs, openBrowser, runDirs, startCodeServer } from './codeServer';

const TIMEOUT_MS = 12 * 60 * 1000;

async function main(): Promise<number> {
  const suiteIndex = path.join(OUTPUT, 'suite-build', 'index.js');
  if (!fs.existsSync(suiteIndex)) throw new Error(`${suiteIndex} is missing: run node scripts/build-suite.mjs`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run npm run build');
  const dirs = runDirs('e2e-suite');
  seedWorkspace(dirs.workspace);
  const started = Date.now();
  const server = await startCodeServer(dirs, {
    smokeTestDriver: true,
    env: { PTP_E2E_OUTPUT: dirs.root, ...(process.env.PTP_SUITE_GREP !== undefined ? { PTP_SUITE_GREP: process.env.PTP_SUITE_GREP } : {}) },
  });
  const console_: string[] = [];
  const { context, page } = await openBrowser(dirs);
  try {
    const remote = (p: string): string => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remote(ROOT)],
      ['extensionTestsPath', remote(suiteIndex)],
    ]);
    const exit = new Promise<number>((resolve) => {
      void page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    page.on('console', (m) => {
      const text = m.text();
      console_.push(text);
      // Mocha's spec reporter lines, as they come.
      if (/^\s*(✔|✓|\d+\)|passing|failing|pending|[A-Z][\w ]+$)|Error|AssertionError/.test(text)) process.stdout.write(`  | ${text}\n`);
    });
    await page.goto(`${server.url}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(payload)}`);
    const code = await Promise.race([exit, new Promise<number>((r) => setTimeout(() => r(124), TIMEOUT_MS))]);
    fs.writeFileSync(path.join(dirs.root, 'browser-console.log'), console_.join('\n'));
    const resultFile = path.join(dirs.root, 'suite-result.json');
    const result = fs.existsSync(resultFile) ? (JSON.parse(fs.readFileSync(resultFile, 'utf8')) as { passes: string[]; failures: Array<{ title: string; error: string }> }) : undefined;
    console.log(`\nextension-host suite: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s` + (result ? `, ${result.passes.length} passed, ${result.failures.length} failed` : ''));
    for (const f of result?.failures ?? []) console.log(`  FAILED ${f.title}\n${f.error}\n`);
    if (code !== 0) {
      if (code === 124) console.log(`timed out after ${TIMEOUT_MS / 1000} s`);
      console.log(`\n===== extension log and worker stderr =====\n${extensionLogs(dirs)}`);
      console.log(`\n===== browser console (last 100 lines; all in ${path.join(dirs.root, 'browser-console.log')}) =====\n${console_.slice(-100).join('\n')}`);
    }
    return code === 0 && result !== undefined && result.failures.length === 0 ? 0 : 1;
  } finally {
    await context.close().catch(() => undefined);
    await server.stop();
  }
}

/**
 * The folder the suite opens, for test/suite/workspaceIndex.suite.ts: the two examples, and a
 * .gitignore'd build output the worker's workspace index must not read.
 */
function seedWorkspace(dir: string): void {
  for (const name of ['inventory.py', 'sample.ts']) fs.copyFileSync(path.join(ROOT, 'examples', name), path.join(dir, name));
  fs.writeFileSync(path.join(dir, '.gitignore'), 'build/\n');
  fs.mkdirSync(path.join(dir, 'build'));
  fs.writeFileSync(path.join(dir, 'build', 'inventory.js'), 'exports.total = () => 0;\n');
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
