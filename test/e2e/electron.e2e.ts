/**
 * Launcher: the same extension-host suite (test/suite) in desktop VS Code through
 * @vscode/test-electron, for machines with internet (it downloads VS Code; here that fails
 * with ENOTFOUND, so CI uses test/e2e/suite.e2e.ts on code-server instead).
 *
 * Run: npm run test:e2e:electron   (PTP_VSCODE_VERSION=1.91.0 tests the oldest supported VS Code)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { OUTPUT, ROOT } from './codeServer';

async function main(): Promise<number> {
  const suiteIndex = path.join(OUTPUT, 'suite-build', 'index.js');
  if (!fs.existsSync(suiteIndex)) throw new Error(`${suiteIndex} is missing: run node scripts/build-suite.mjs`);
  const root = path.join(OUTPUT, 'e2e-electron');
  fs.rmSync(root, { recursive: true, force: true });
  const workspace = path.join(root, 'workspace');
  const userData = path.join(root, 'user-data');
  fs.mkdirSync(workspace, { recursive: true });
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'files.autoSave': 'off', 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false }, null, 2));
  await runTests({
    version: process.env.PTP_VSCODE_VERSION ?? 'stable',
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: suiteIndex,
    extensionTestsEnv: { PTP_E2E_OUTPUT: root, ...(process.env.PTP_SUITE_GREP !== undefined ? { PTP_SUITE_GREP: process.env.PTP_SUITE_GREP } : {}) },
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', userData],
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  },
);
