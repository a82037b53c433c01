import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const test = suite('npm run bench: its flags');
const BENCH = fileURLToPath(new URL('../../bench/main.js', import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, [BENCH, ...args], { encoding: 'utf8', timeout: 20_000 });

test('--help prints the usage and starts nothing', () => {
  const r = bench('--help');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /npm run bench -- \[--vs-etcd\]/);
  assert.not.match(r.stdout, /ops\/s/);
});

test('an unknown flag, a stray word or a flag without its value is refused (exit 2, named) before any cluster starts', () => {
  for (const [args, named] of [[['--bogus'], '"--bogus" is not a bench flag'], [['--vs-etcd', 'extra'], '"extra" is not a bench flag'], [['--seconds'], '--seconds needs a value'], [['--seconds', '--tls'], '--seconds needs a value']] as const) {
    const r = bench(...args);
    assert.is(r.status, 2, `${args.join(' ')}: exit ${r.status}`);
    assert.ok(r.stderr.includes(named), `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stdout, '', `${args.join(' ')}: nothing measured`);
  }
});

test.run();
