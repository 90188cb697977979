/**
 * Entry point of the extension-host suite: VS Code loads this file (extensionTestsPath) in the
 * extension host and calls `run()`. The same compiled files run under both launchers:
 * code-server (test/e2e/suite.e2e.ts, runs here) and @vscode/test-electron
 * (test/e2e/electron.e2e.ts, needs internet to download VS Code).
 *
 * Build: node scripts/build-suite.mjs  ->  .test-output/suite-build/*.js
 * Results: printed (mocha spec reporter; the code-server launcher reads them from the browser
 * console) and, when PTP_E2E_OUTPUT is set, written to $PTP_E2E_OUTPUT/suite-result.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 180_000, color: false, reporter: 'spec' });
  const grep = process.env.PTP_SUITE_GREP;
  if (grep !== undefined && grep !== '') mocha.grep(grep);
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.suite.js')).sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    const failures: Array<{ title: string; error: string }> = [];
    const passes: string[] = [];
    const runner = mocha.run((failed) => {
      const out = process.env.PTP_E2E_OUTPUT;
      if (out !== undefined && out !== '') {
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(path.join(out, 'suite-result.json'), JSON.stringify({ passes, failures }, null, 2));
      }
      if (failed > 0) reject(new Error(`${failed} test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => passes.push(t.fullTitle()));
    runner.on('fail', (t, err: Error) => failures.push({ title: t.fullTitle(), error: String(err?.stack ?? err) }));
  });
}
