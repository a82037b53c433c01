// Regenerates the README's generated parts (the settings table) from the code: npm run docs.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { withSettingsTable } = await import(join(root, 'build/src/config/settings-doc.js'));
const path = join(root, 'README.md');
const before = readFileSync(path, 'utf8');
const after = withSettingsTable(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md is up to date' : 'README.md: settings table regenerated');
