/**
 * Where the files that ship with the pipeline are, seen from the running script: dist/server.js
 * and dist/cli.js have dist/grammars beside them and the package's models/ one level up (run
 * from source with tsx, src/server/ and src/cli/ are two levels down). The worker and the CLI
 * both start from here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUNDLED_MODEL_DIR } from '../protocol/index';

export function bundledPaths(scriptDir: string): { grammarDirectory: string; defaultModelPath: string } {
  const up = [1, 2, 3].map((n) => path.join(scriptDir, ...Array<string>(n).fill('..'), BUNDLED_MODEL_DIR));
  return {
    grammarDirectory: path.join(scriptDir, 'grammars'),
    defaultModelPath: up.find((p) => fs.existsSync(p)) ?? up[0]!,
  };
}
