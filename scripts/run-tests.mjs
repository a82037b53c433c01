// Runs every uvu test file under build/test, streams uvu's output, then prints the one
// plain line CI reads: "N passed, N failed". Exits non-zero when anything failed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pattern = process.argv[2] ?? '\\.test\\.js$';
// Always the project's Node (npm ci installs it): better-sqlite3's addon crashes on older ones.
const projectNode = join(root, 'node_modules/node/bin/node');
const child = spawn(existsSync(projectNode) ? projectNode : process.execPath, [join(root, 'node_modules/uvu/bin.js'), 'build/test', pattern], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  process.stdout.write(chunk);
});
child.on('close', (code, signal) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN);
  const total = num('Total');
  const passed = num('Passed');
  const skipped = num('Skipped');
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log(`\nthe test run ended without a summary (exit ${code ?? signal})`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  const failed = total - passed - (Number.isNaN(skipped) ? 0 : skipped);
  console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});

