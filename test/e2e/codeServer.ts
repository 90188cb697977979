/**
 * A real VS Code for the tests: code-server 4.139.1 (= VS Code 1.139.1) on Node 24, driven by
 * Debian's chromium through playwright-core (test/e2e/README.md). scripts/e2e-setup.sh installs both
 * and prints the cache folder; `e2eHome()` finds the same folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '..', '..');
export const OUTPUT = path.join(ROOT, '.test-output');
export const CHROMIUM = process.env.PTP_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** The setup script's cache folder (runs the script, which is instant once installed). */
export function e2eHome(): string {
  if (process.env.PTP_E2E_HOME !== undefined) return process.env.PTP_E2E_HOME;
  const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'e2e-setup.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop()!;
}

export interface CodeServerPaths {
  readonly node: string;
  readonly entry: string;
}

export function codeServerPaths(home = e2eHome()): CodeServerPaths {
  return { node: path.join(home, 'node', 'bin', 'node'), entry: path.join(home, 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js') };
}

/** User settings every run starts from (test/e2e/README.md). */
export const BASE_SETTINGS: Record<string, unknown> = {
  'files.autoSave': 'off',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'chat.disableAIFeatures': true,
  'editor.inlineSuggest.enabled': true,
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'workbench.editor.languageDetection': false,
  // The run folders live inside this repository: no "open the parent repository?" prompt.
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
};

export interface RunDirs {
  readonly root: string;
  readonly userData: string;
  readonly extensions: string;
  readonly workspace: string;
  readonly browserProfile: string;
  readonly xdg: string;
}

/** Fresh folders for one run under .test-output/<name>/. */
export function runDirs(name: string, settings: Record<string, unknown> = {}): RunDirs {
  const root = path.join(OUTPUT, name);
  fs.rmSync(root, { recursive: true, force: true });
  const dirs: RunDirs = {
    root,
    userData: path.join(root, 'user-data'),
    extensions: path.join(root, 'extensions'),
    workspace: path.join(root, 'workspace'),
    browserProfile: path.join(root, 'browser'),
    xdg: path.join(root, 'xdg'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
  fs.writeFileSync(path.join(root, 'config.yaml'), '');
  return dirs;
}

/** `code-server --install-extension <vsix>` into the run's extensions folder. */
export function installExtension(dirs: RunDirs, vsix: string, cs = codeServerPaths()): void {
  execFileSync(cs.node, [cs.entry, '--config', path.join(dirs.root, 'config.yaml'), '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions, '--install-extension', vsix], {
    stdio: 'inherit',
    env: { ...process.env, XDG_CONFIG_HOME: dirs.xdg, XDG_DATA_HOME: path.join(dirs.xdg, 'data') },
  });
}

export interface CodeServer {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startCodeServer(dirs: RunDirs, options: { smokeTestDriver?: boolean; env?: Record<string, string> } = {}, cs = codeServerPaths()): Promise<CodeServer> {
  const port = await freePort();
  const args = [
    cs.entry,
    '--config', path.join(dirs.root, 'config.yaml'),
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
  ];
  if (options.smokeTestDriver === true) args.push('--vscode-option', 'enable-smoke-test-driver');
  args.push(dirs.workspace);
  const log = fs.openSync(path.join(dirs.root, 'code-server.log'), 'a');
  // Its own process group, so stop() ends the extension host and the worker with it.
  const child = spawn(cs.node, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...options.env, XDG_CONFIG_HOME: dirs.xdg, XDG_DATA_HOME: path.join(dirs.xdg, 'data') },
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const exited = await Promise.race([new Promise<boolean>((r) => child.once('exit', () => r(true))), sleep(5000).then(() => false)]);
    if (!exited) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const deadline = Date.now() + 30_000;
  while (!(await healthy(url))) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; see ${path.join(dirs.root, 'code-server.log')}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer /healthz within 30 s; see ${path.join(dirs.root, 'code-server.log')}`);
    }
    await sleep(200);
  }
  return { url, port, process: child, stop };
}

export async function openBrowser(dirs: RunDirs): Promise<{ context: BrowserContext; page: Page }> {
  process.env.XDG_CONFIG_HOME = dirs.xdg;
  const context = await chromium.launchPersistentContext(dirs.browserProfile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/**
 * The extension's log and the worker's stderr (both go to the "PTP Complete" log channel,
 * which VS Code writes under the user data folder), for printing when a test fails.
 */
export function extensionLogs(dirs: RunDirs): string {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/PTP Complete|ptp-complete|exthost\d*\.log|remoteexthost\.log/i.test(p) && p.endsWith('.log')) found.push(p);
    }
  };
  walk(path.join(dirs.userData, 'logs'));
  return found.map((f) => `----- ${path.relative(dirs.root, f)} -----\n${fs.readFileSync(f, 'utf8').slice(-20000)}`).join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.setTimeout(1000, () => {
      req.destroy();
      resolve(false);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
    server.on('error', reject);
  });
}
