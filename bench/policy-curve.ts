/**
 * The block-size policy's latency curve for the benches, measured as the worker measures it
 * (src/completion measureLatencyCurve, the options src/server/modelHost.ts passes; see
 * bench/lib/latencyCurve.ts). `npm run bench` writes it too; this writes only it (a few seconds).
 *
 *   node --import tsx bench/policy-curve.ts          -> bench/results/policy-curve.json
 */
import { Engine } from '../src/engine';
import { measurePolicyCurve, writePolicyCurve } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, sampleLoad } from './lib/machine';
import { exitOnError, log } from './lib/report';

(async () => {
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  log(`policy-curve: ${info.command}; load ${info.load[0]!.uptime}`);
  const file = await measurePolicyCurve(engine, info);
  info.load.push(sampleLoad());
  log(`curve: ${file.curve.map((p) => `${p.rows}r ${p.ms.toFixed(2)}ms`).join(', ')}`);
  writePolicyCurve(file);
  await engine.dispose();
})().catch(exitOnError());
