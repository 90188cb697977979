// The repository stands alone: what a newcomer clones is what CI runs. The committed HEAD is
// cloned into an empty temporary folder (no node_modules, no notes folder beside it), and there
//   - the README's first code block and .ci/run name the same commands, in the same order, and
//     .ci/run runs nothing else (the two cannot drift apart again);
//   - `npm test` starts with the setup step that installs, or names, what the tests need;
//   - no tracked file reads or cites the team's notes folder beside the checkout (SHARED), and the
//     training tests collect without it.
// Run: node --import tsx --test test/repository.test.ts
import { suite, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '..');
/** The notes folder beside a dev checkout, as a path from the repository (spelt so this file does not match). */
const SHARED = ['..', 'shared'].join('/');


function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8' });
const noClone = head.status !== 0 ? 'needs git and a git checkout of the repository' : false;

/** Shell lines -> simple commands: comments dropped, `\` continuations joined, `a && b` split. */
function simpleCommands(lines: string[]): string[] {
  const joined: string[] = [];
  let pending = '';
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full !== '') joined.push(full);
  }
  return joined.flatMap((l) => l.split('&&').map((c) => c.trim().replace(/\s+/g, ' ')));
}

/** The README's first fenced code block, as simple commands. */
function readmeCommands(readme: string): string[] {
  const m = /^```[^\n]*\n([\s\S]*?)^```/m.exec(readme);
  assert.ok(m, 'README.md has a code block');
  return simpleCommands(m[1].split('\n'));
}

/**
 * What .ci/run executes, as simple commands. Only its preamble may be more: the shebang, `set`
 * options and the `cd` to the repository root; everything else is returned for comparison.
 */
function ciCommands(script: string): string[] {
  const preamble = [/^set -[a-z]+( pipefail)?$/, /^cd "\$\(dirname "\$0"\)\/\.\."$/];
  return simpleCommands(script.split('\n').filter((l) => !l.startsWith('#!'))).filter(
    (c) => !preamble.some((p) => p.test(c)),
  );
}

suite('a fresh clone of the repository', { skip: noClone }, () => {
  let tmp = '';
  let clone = '';

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'ptp-clone-'));
    clone = join(tmp, 'repo');
    git(tmp, 'clone', '--quiet', '--no-checkout', REPO, clone);
    git(clone, 'checkout', '--quiet', '--detach', head.stdout.trim());
  });
  after(() => {
    if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
  });

  test('.ci/run runs exactly the README\'s commands, in order', () => {
    const readme = readmeCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
    const ci = ciCommands(readFileSync(join(clone, '.ci/run'), 'utf8'));
    assert.ok(readme.includes('npm ci') && readme.includes('npm test'), `README's first block: ${readme.join(' | ')}`);
    assert.deepEqual(ci, readme);
  });

  test('npm test starts with the setup step, so it stops (or installs) before the first test', () => {
    const pkg = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(simpleCommands([pkg.scripts.test])[0], 'bash scripts/setup.sh');
    assert.ok(existsSync(join(clone, 'scripts/setup.sh')));
  });

  test(`no tracked file reads or cites ${SHARED}`, () => {
    const r = spawnSync('git', ['grep', '-l', '-I', '-F', SHARED], { cwd: clone, encoding: 'utf8' });
    assert.ok(r.status === 0 || r.status === 1, r.stderr);
    const offenders = r.stdout.split('\n').filter((f) => f !== '');
    assert.deepEqual(offenders, []);
  });

  test('the reserved-package list and the corpus lists are in the repository', () => {
    const heldout = readFileSync(join(clone, 'training/corpus/heldout.txt'), 'utf8');
    assert.match(heldout, /^#.*trained on, tuned on/m);
    assert.ok(heldout.split('\n').some((l) => /^npm \S+$/.test(l)));
    assert.ok(existsSync(join(clone, 'training/corpus/lists/npm-recommended.tsv')));
  });

  const python = spawnSync('/usr/bin/python3', ['-c', 'import pytest'], { encoding: 'utf8' });
  test('the training tests collect in the clone, with nothing beside it', { skip: python.status !== 0 && 'needs /usr/bin/python3 with pytest (scripts/setup.sh)' }, () => {
    assert.ok(!existsSync(join(tmp, 'shared')));
    const r = spawnSync('/usr/bin/python3', ['-m', 'pytest', '-q', '--collect-only', '-p', 'no:cacheprovider', 'training/tests'], {
      cwd: clone,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

suite('parsing the two command lists', () => {
  test('README: comments dropped, && split', () => {
    assert.deepEqual(readmeCommands('# T\n\n```sh\nnpm ci && npm run demo   # install\nnpm test  # all\n```\n\n```sh\nnpm run x\n```\n'), [
      'npm ci',
      'npm run demo',
      'npm test',
    ]);
  });
  test('.ci/run: the preamble is allowed, anything else is a command', () => {
    const script = '#!/usr/bin/env bash\n# c\nset -euo pipefail\ncd "$(dirname "$0")/.."\nnpm ci \\\n  && npm run demo\napt-get install x\nnpm test\n';
    assert.deepEqual(ciCommands(script), ['npm ci', 'npm run demo', 'apt-get install x', 'npm test']);
  });
});
