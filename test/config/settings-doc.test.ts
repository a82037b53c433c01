import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig, SETTINGS } from '../../src/config/config.js';
import { settingsTable, SETTINGS_TABLE_END, SETTINGS_TABLE_START } from '../../src/config/settings-doc.js';
import { ROOT } from '../helpers/cluster.js';

const test = suite('settings documentation');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('the README\'s settings table is the one generated from the settings (npm run docs)', () => {
  const inside = readme.slice(readme.indexOf(SETTINGS_TABLE_START) + SETTINGS_TABLE_START.length, readme.indexOf(SETTINGS_TABLE_END)).trim();
  assert.is(inside, settingsTable());
  for (const [key, s] of Object.entries(SETTINGS)) assert.ok(inside.includes(`| \`${s.flag}\` | \`${s.env}\` | \`${key}\` |`), key);
});

test('the README\'s config file example uses keys the daemon accepts', () => {
  const example = /A config file uses the keys[^`]*`(\{[^`]+\})`/.exec(readme)?.[1];
  assert.ok(example, 'the example is there');
  const doc = JSON.parse(example!) as Record<string, unknown>;
  for (const key of Object.keys(doc)) assert.ok(Object.hasOwn(SETTINGS, key), `${key} is a setting`);
  const settings = Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith('tls') && k !== 'clientCertAuth')
    .map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : String(v)]));
  const config = loadConfig({}, {}, { path: 'README example', settings });
  assert.is(config.heartbeatIntervalMs, 500);
});

test.run();
