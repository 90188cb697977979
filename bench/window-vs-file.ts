/**
 * Next-line "shown" exact match on the committed case windows against the whole files they were
 * cut from: how much the eval's windows (bench/data/makeCases.ts) change what the worker shows.
 *
 *   npm run bench:window-vs-file       (= node --import tsx bench/window-vs-file.ts; needs data/corpus)
 *
 * A case keeps a window of its file, from a top-level line before the cursor when one is near,
 * else from an arbitrary line (inside a class, a function or a docstring). The worker parses the
 * document it is given, so on a window its scope analysis, stop rules and parse check read a
 * tree that the whole file would not have. Each case of eval-line.jsonl whose file is found in
 * the local validation split (same package and path, the window's prefix and the target where
 * the case says) is completed twice, greedy, through the worker's completeAt: on the window and
 * on the whole file with the target removed. Cases whose file changed since the cases were drawn
 * are skipped and counted.
 */
import { Engine } from '../src/engine';
import { type FimCase, newStore, openCase, readCases, TOP_LEVEL_START } from './lib/cases';
import { readValidation } from './lib/corpus';
import { loadPolicy } from './lib/latencyCurve';
import { MODEL_DIR, runInfo, runInfoMarkdown, sampleLoad } from './lib/machine';
import { exactMatch } from './lib/match';
import { shownCompletion } from './lib/pipeline';
import { exitOnError, log, table, writeResults } from './lib/report';
import { pct } from './lib/stats';

interface Row {
  id: string;
  lang: string;
  target: string;
  window: string;
  file: string;
  /** Window starts at a top-level line (makeCases' preferred start). */
  topLevelStart: boolean;
}

/** The whole file with the case's target removed, and the cursor in it; undefined when the file changed. */
function wholeFile(c: FimCase, files: Map<string, string>): FimCase | undefined {
  const text = files.get(`${c.pkg}\u0000${c.path}`);
  if (text === undefined) return undefined;
  const at = text.indexOf(c.text.slice(0, c.offset));
  const a = at + c.offset;
  if (at < 0 || text.slice(a, a + c.target.length) !== c.target) return undefined;
  return { ...c, id: `${c.id}/file`, text: text.slice(0, a) + text.slice(a + c.target.length), offset: a };
}

(async () => {
  const files = new Map(readValidation().map((f) => [`${f.pkg}\u0000${f.path}`, f.text]));
  const engine = await Engine.load(MODEL_DIR);
  const info = runInfo(engine.manifest.onnx.sha256);
  const policy = loadPolicy(engine);
  const store = newStore();
  const cases = readCases('eval-line.jsonl');
  log(`window-vs-file: ${info.command}; ${cases.length} cases`);
  const rows: Row[] = [];
  const skipped: Record<string, number> = {};
  for (const [n, c] of cases.entries()) {
    const file = wholeFile(c, files);
    if (file === undefined) {
      skipped[c.lang] = (skipped[c.lang] ?? 0) + 1;
      continue;
    }
    const shown: string[] = [];
    for (const k of [c, file]) {
      const doc = await openCase(store, k);
      const text = await shownCompletion(engine, policy, doc, k.offset, { seed: n, cacheKey: k.id, requestId: k.id });
      shown.push(text.split('\n', 1)[0]!);
    }
    rows.push({ id: c.id, lang: c.lang, target: c.target, window: shown[0]!, file: shown[1]!, topLevelStart: TOP_LEVEL_START.test(c.text) });
    if ((n + 1) % 50 === 0) log(`  ${n + 1} of ${cases.length}`);
  }
  await engine.dispose();
  info.load.push(sampleLoad());

  // Language groups report how many of their cases were skipped; the other groups cut across languages.
  const byLangs = (name: string, langs: string[]) => ({ name, keep: (r: Row) => langs.includes(r.lang), langs });
  const groups: { name: string; keep: (r: Row) => boolean; langs?: string[] }[] = [
    byLangs('python', ['python']),
    byLangs('javascript', ['javascript']),
    byLangs('typescript', ['typescript']),
    byLangs('JS+TS', ['javascript', 'typescript']),
    { name: 'all', keep: () => true },
    { name: 'windows from a top-level line', keep: (r) => r.topLevelStart },
    { name: 'windows from another line', keep: (r) => !r.topLevelStart },
  ];
  const em = (rs: Row[], k: 'window' | 'file'): string => pct(rs.filter((r) => exactMatch(r[k], r.target)).length / rs.length, 1);
  const summary = groups.map(({ name, keep, langs }) => {
    const rs = rows.filter(keep);
    const skip = langs?.reduce((n, lang) => n + (skipped[lang] ?? 0), 0) ?? '';
    return [name, rs.length, skip, em(rs, 'window'), em(rs, 'file'), rs.filter((r) => r.window !== r.file).length];
  });
  const differ = rows.filter((r) => r.window !== r.file);
  const md = [
    '# Next-line cases: the committed window against the whole file',
    '',
    ...runInfoMarkdown(info),
    '- cases: bench/data/eval-line.jsonl whose file is in the local validation split (data/corpus/val.jsonl.xz) unchanged; greedy, through the worker\'s completeAt, first line, as the eval\'s "shown"',
    '',
    ...table(['cases', 'n', 'skipped (file changed)', 'shown EM on the window', 'shown EM on the whole file', 'different text'], summary),
    '',
    '## Where the two differ',
    '',
    ...table(
      ['case', 'target', 'window', 'whole file'],
      differ.map((r) => [r.id, '`' + JSON.stringify(r.target) + '`', '`' + JSON.stringify(r.window) + '`', '`' + JSON.stringify(r.file) + '`'].map((s) => s.replace(/\|/g, '\\|'))),
    ),
  ];
  writeResults('window-vs-file', { run: info, skipped, rows }, md);
})().catch(exitOnError());
