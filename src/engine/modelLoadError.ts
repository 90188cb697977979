/**
 * Why a model directory could not be used. The message is one line: the file, the problem,
 * and what to do about it, e.g.
 *   "/m/model.onnx: sha256 is 3fa1… but model.json says 9b2c…; the file is truncated, corrupt
 *    or from another export - re-copy or re-export the model directory"
 */
export class ModelLoadError extends Error {
  /** Path of the file (or directory) at fault. */
  readonly file: string;

  constructor(file: string, problem: string, action: string) {
    super(`${file}: ${problem} - ${action}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'ModelLoadError';
    this.file = file;
  }
}
