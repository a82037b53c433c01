// Runs every test, then prints the one plain line CI reads: "N passed, N failed".
//   1. every uvu suite under build/test against the checkout's launcher (bin/shmem), but the nemesis;
//   2. builds the single executable (npm run package), copies it alone into an empty folder
//      and runs the process-level suites (process/, hostile/, package/) again against that copy, with no Node on PATH;
//      the nemesis suite runs only here (in pass 1 only with --quick).
// Exits non-zero when anything failed. `node scripts/run-tests.mjs --quick` skips pass 2.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Always the project's Node (npm ci installs it): better-sqlite3's addon crashes on older ones.
const projectNode = join(root, 'node_modules/node/bin/node');
const node = existsSync(projectNode) ? projectNode : process.execPath;

function uvu(pattern, env, label) {
  console.log(`\n=== ${label}`);
  return new Promise((resolve) => {
    const child = spawn(node, [join(root, 'node_modules/uvu/bin.js'), 'build/test', pattern], {
      cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env },
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code, signal) => {
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      const num = (name) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN);
      const total = num('Total');
      const passed = num('Passed');
      const skipped = Number.isNaN(num('Skipped')) ? 0 : num('Skipped');
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        console.log(`${label}: the run ended without a summary (exit ${code ?? signal})`);
        resolve({ passed: 0, failed: 1, skipped: 0 });
        return;
      }
      const failed = total - passed - skipped + (code !== 0 && total === passed ? 1 : 0);
      // uvu names each failing test on a "FAIL  suite  "test"" line, far up in a long log.
      const names = plain.split('\n').filter((l) => /^\s*FAIL\s/.test(l)).map((l) => `${label}: ${l.trim()}`);
      resolve({ passed, failed, skipped, names });
    });
  });
}

const quick = process.argv.includes('--quick');
// The nemesis (two minutes of live faults) runs once, against the single executable operators
// run; bin/shmem runs the same code, so a second round there only doubled the suite's longest part.
const results = [await uvu(quick ? '^(?!package/).*\\.test\\.js$' : '^(?!package/|process/nemesis\\.).*\\.test\\.js$', {}, 'all suites, against bin/shmem' + (quick ? '' : ' (the nemesis runs in pass 2)'))];
if (!quick) {
  let bin;
  try {
    execFileSync(node, [join(root, 'scripts/package.mjs')], { cwd: root, stdio: 'inherit' });
    bin = join(mkdtempSync(join(tmpdir(), 'shmem-bin-')), 'shmem');
    copyFileSync(join(root, 'dist/shmem'), bin);
    execFileSync('chmod', ['+x', bin]);
  } catch (err) {
    console.log(`packaging failed: ${err.message}`);
    results.push({ passed: 0, failed: 1, skipped: 0 });
  }
  if (bin) {
    results.push(await uvu('^(process|package|hostile)/.*\\.test\\.js$', { SHMEM_BIN: bin }, `process and package suites, against the single executable ${bin}`));
    rmSync(dirname(bin), { recursive: true, force: true });
  }
}
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const skipped = sum('skipped');
const failedNames = results.flatMap((r) => r.names ?? []);
if (failedNames.length > 0) console.log(`\nfailed:\n${failedNames.map((n) => `  ${n}`).join('\n')}`);
console.log(`\n${sum('passed')} passed, ${sum('failed')} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(sum('failed') === 0 ? 0 : 1);
