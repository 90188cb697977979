/**
 * `ptp-complete convert --hf DIR --out OUT [--weights fp32|fp16|int8] [--name N] [--context-length N]`:
 * converts a local Hugging Face checkpoint (Llama, Qwen2, StarCoder2) into a model directory
 * by running training/convert.py (PyTorch), then replays the directory's parity.json through
 * the engine's own onnxruntime runner: the graph's logits must match the reference forward pass
 * (training/hf_reference.py) within parity.json's atol. Nothing is downloaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkParity } from '../engine/index';

export interface ConvertOptions {
  hf: string;
  out: string;
  weights?: 'fp32' | 'fp16' | 'int8';
  name?: string;
  contextLength?: number;
  /** The Python with PyTorch; default $PTP_PYTHON, else the first of python3, /usr/bin/python3 that has it. */
  python?: string;
  /** Where training/convert.py is: the package root (default: found from this script). */
  root?: string;
  /** Each line of progress. */
  log?: (line: string) => void;
}

/** A conversion failure: one line (the file and what is wrong, or what to install). */
export class ConvertFailure extends Error {}

/** The package root: the folder above this script's that holds training/convert.py. */
export function packageRoot(scriptDir: string): string {
  for (const up of [1, 2, 3]) {
    const dir = path.resolve(scriptDir, ...Array<string>(up).fill('..'));
    if (fs.existsSync(path.join(dir, 'training', 'convert.py'))) return dir;
  }
  return path.resolve(scriptDir, '..');
}

export async function convertCheckpoint(opts: ConvertOptions): Promise<{ parity: { name: string; maxAbsDiff: number; source: string }[]; atol: number | null }> {
  const log = opts.log ?? (() => undefined);
  const root = opts.root ?? packageRoot(__dirname);
  const script = path.join(root, 'training', 'convert.py');
  if (!fs.existsSync(script)) throw new ConvertFailure(`${script}: missing - convert needs the repository's training/ folder (run it from a clone of the repository)`);
  const python = opts.python ?? process.env.PTP_PYTHON ?? findPython();
  const args = [script, '--hf', opts.hf, '--out', opts.out, '--weights', opts.weights ?? 'fp32'];
  if (opts.name !== undefined) args.push('--name', opts.name);
  if (opts.contextLength !== undefined) args.push('--context-length', String(opts.contextLength));
  const { code, stderr } = await run(python, args, log);
  if (code === 'ENOENT') throw new ConvertFailure(`${python}: not found - convert needs Python 3 with PyTorch (Debian/Ubuntu: apt install python3-torch; or set PTP_PYTHON)`);
  if (/No module named '?torch'?/.test(stderr)) throw new ConvertFailure(`${python}: has no PyTorch - install it (Debian/Ubuntu: apt install python3-torch, else pip install torch) or set PTP_PYTHON to a Python that has it`);
  if (/No module named '?onnx'?/.test(stderr)) throw new ConvertFailure(`${python}: has no onnx package, which --weights ${opts.weights} needs (apt install python3-onnx or pip install onnx)`);
  if (code !== 0) {
    const error = stderr.split('\n').find((l) => l.startsWith('error: '));
    throw new ConvertFailure(error ? error.slice('error: '.length) : `training/convert.py failed (exit ${code}): ${lastLine(stderr)}`);
  }
  const parity = await checkParity(opts.out);
  for (const c of parity.cases) log(`onnxruntime vs ${c.source}, ${c.name}: max |logit diff| ${c.maxAbsDiff.toExponential(2)}`);
  const worst = Math.max(...parity.cases.map((c) => c.maxAbsDiff));
  if (parity.atol !== null && worst > parity.atol) throw new ConvertFailure(`${path.join(opts.out, 'model.onnx')}: onnxruntime's logits differ from the reference by ${worst.toExponential(2)} (> ${parity.atol})`);
  return { parity: parity.cases, atol: parity.atol };
}

/** python3 on the PATH if it imports torch, else the system one if that does, else python3 (its error is reported). */
function findPython(): string {
  const candidates = ['python3', '/usr/bin/python3'];
  return candidates.find((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? candidates[0]!;
}

function run(cmd: string, args: string[], log: (line: string) => void): Promise<{ code: number | 'ENOENT'; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const l of lines) if (l.trim()) log(l);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => resolve({ code: e.code === 'ENOENT' ? 'ENOENT' : 1, stderr: e.message }));
    child.on('close', (code) => {
      if (pending.trim()) log(pending);
      resolve({ code: code ?? 1, stderr });
    });
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((l) => l.trim() && !/Warning|warnings\.warn|^\s/.test(l)).pop() ?? 'no output';
}
