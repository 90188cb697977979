/**
 * Where and when a benchmark ran: the exact command, date, CPU, core count, load and model, so
 * a number in bench/results can be traced to the conditions that produced it. The machine is
 * shared with other builds, so the load is sampled at the start and at the end of every run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { relative } from 'node:path';

export const REPO = `${__dirname}/../..`;
export const MODEL_DIR = `${REPO}/models/ptp-code-10m`;

export interface LoadSample {
  at: string;
  /** 1, 5 and 15 minute load averages. */
  loadavg: number[];
  /** `uptime` as printed. */
  uptime: string;
}

export interface RunInfo {
  command: string;
  date: string;
  nproc: number;
  cpuModel: string;
  node: string;
  onnxruntime: string;
  /** ORT intra-op threads: the engine's default, half the cores (at least 1, at most 4). */
  ortThreads: number;
  gitCommit: string;
  model: string;
  modelSha256: string;
  load: LoadSample[];
}

export function sampleLoad(): LoadSample {
  let uptime = '';
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    uptime = '(uptime unavailable)';
  }
  return { at: new Date().toISOString(), loadavg: loadavg().map((x) => Math.round(x * 100) / 100), uptime };
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    return line?.split(':')[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The command as a person would retype it: `npm run X` when run through npm, else the node line. */
export function commandLine(): string {
  const script = process.env.npm_lifecycle_event;
  const args = process.argv.slice(2).join(' ');
  if (script !== undefined) return `npm run ${script}${args ? ` -- ${args}` : ''}`;
  const file = relative(process.cwd(), process.argv[1] ?? '');
  return ['node', ...process.execArgv, file, ...process.argv.slice(2)].join(' ');
}

/** ORT intra-op threads: the engine's default (half the cores, 1 to 4) unless a bench sets them. */
export function defaultOrtThreads(): number {
  return Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
}

export function runInfo(modelSha256: string, ortThreads = defaultOrtThreads()): RunInfo {
  const ort = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string };
  return {
    command: commandLine(),
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    node: process.version,
    onnxruntime: ort.version,
    ortThreads,
    gitCommit: git(['rev-parse', '--short', 'HEAD']),
    model: 'models/ptp-code-10m',
    modelSha256,
    load: [sampleLoad()],
  };
}

/** Markdown lines describing the run (for the top of a results file). */
export function runInfoMarkdown(info: RunInfo): string[] {
  const loads = info.load.map((l) => `${l.loadavg.join(' / ')} (${l.at.slice(11, 19)} UTC)`).join(' → ');
  return [
    `- command: \`${info.command}\``,
    `- date: ${info.date}; git ${info.gitCommit}`,
    `- machine: ${info.nproc} cores, ${info.cpuModel}; node ${info.node}; onnxruntime-node ${info.onnxruntime}, ${info.ortThreads} intra-op thread(s)`,
    `- load average (1/5/15 min) at start → end: ${loads}`,
    `- model: ${info.model}, onnx sha256 ${info.modelSha256.slice(0, 16)}…`,
  ];
}
