/**
 * One settings schema: package.json's contributes.configuration (what the Settings UI shows)
 * declares exactly the settings of src/protocol/settings.ts, with the same defaults, enums and
 * ranges, so the editor, the worker and the CLI agree with what a person reads in the UI.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, test } from 'node:test';
import type { Setting, SettingKey } from '../../src/protocol/index';
import { SETTINGS } from '../../src/protocol/index';

interface Declared {
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  anyOf?: Declared[];
}

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, Declared> } } };
const declared = pkg.contributes.configuration.properties;
const keys = Object.keys(SETTINGS) as SettingKey[];

suite('the settings schema and package.json', () => {
  test('declare the same settings', () => {
    assert.deepEqual(Object.keys(declared).sort(), keys.map((k) => `ptp.${k}`).sort());
  });

  test('with the same defaults (package.json null or "" is an unset value)', () => {
    for (const key of keys) {
      const d = declared[`ptp.${key}`]!.default;
      const expected = SETTINGS[key].default;
      if (expected === undefined) assert.ok(d === null || d === '', `ptp.${key}: package.json default ${JSON.stringify(d)}, the schema leaves it unset`);
      else assert.deepEqual(d, expected, `ptp.${key}`);
    }
  });

  test('with the same enums and ranges', () => {
    for (const key of keys) {
      const s = SETTINGS[key] as Setting<unknown>;
      const d = declared[`ptp.${key}`]!;
      const numeric = d.anyOf?.find((a) => a.minimum !== undefined) ?? d;
      if (s.values !== undefined) assert.deepEqual(d.enum, [...s.values], `ptp.${key} enum`);
      assert.equal(numeric.minimum, s.minimum, `ptp.${key} minimum`);
      assert.equal(numeric.maximum, s.maximum, `ptp.${key} maximum`);
    }
  });

  test('every default passes its own check', () => {
    for (const key of keys) {
      const s = SETTINGS[key] as Setting<unknown>;
      assert.ok(s.parse(s.default).ok, `ptp.${key}: default ${JSON.stringify(s.default)}`);
    }
  });

  test('the confidence setting says what it does', () => {
    const d = declared['ptp.completion.confidence'] as Declared & { markdownDescription: string };
    assert.deepEqual(d.enum, ['off', 'low', 'medium', 'high']);
    assert.equal(d.default, 'medium');
    assert.match(d.markdownDescription, /^How sure the model must be before a suggestion appears by itself\. Higher shows fewer, more often right suggestions; an explicit request \(Alt\+\\\\\) uses a lower bar; `off` shows everything\./);
  });
});
