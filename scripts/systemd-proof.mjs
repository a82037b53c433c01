// npm run systemd-proof: the unit of `shmem service unit` under a real systemd.
//
// Boots Debian 12 (debootstrap, cached in /var/tmp/shmem-nspawn) with systemd-nspawn, its own
// network namespace (loopback only), dist/shmem bound read-only at /usr/local/bin/shmem, then
// runs a 3-node cluster as three units and checks what the unit promises: Type=notify start
// (systemctl start returns once the node serves), writes and reads through it, restart after a
// crash (kill -9 of the main process), clean stop on SIGTERM (exit 0, result success), reload
// on SIGHUP. Needs root, debootstrap and systemd-container (apt-get install debootstrap
// systemd-container); not part of `npm test` (it downloads a Debian base system once).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const base = '/var/tmp/shmem-nspawn';
const fs = join(base, 'root');
const bin = join(root, 'dist/shmem');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
const checks = [];
const check = (what, ok, detail = '') => {
  checks.push({ what, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
};

if (process.getuid?.() !== 0) throw new Error('systemd-proof needs root (debootstrap, systemd-nspawn)');
for (const tool of ['debootstrap', 'systemd-nspawn', 'nsenter']) run('sh', ['-c', `command -v ${tool}`]);
if (!existsSync(join(fs, 'usr/lib/systemd/systemd'))) {
  console.log('debootstrap: Debian 12 with systemd into', fs, '(once)');
  mkdirSync(base, { recursive: true });
  run('debootstrap', ['--variant=minbase', '--include=systemd,systemd-sysv,dbus', 'bookworm', fs, 'http://deb.debian.org/debian'], { stdio: 'inherit' });
}
if (!existsSync(bin)) run('node', [join(root, 'scripts/package.mjs')], { stdio: 'inherit' });

// Three units, written by the CLI under test.
const ports = [3030, 3031, 3032];
const names = ['shmem-a', 'shmem-b', 'shmem-c'];
for (const [i, port] of ports.entries()) {
  const unit = run(bin, ['service', 'unit', '--name', names[i], '--binary', '/usr/local/bin/shmem', '--port', String(port),
    '--peers', ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`).join(','), '--heartbeat-ms', '200']);
  writeFileSync(join(fs, 'etc/systemd/system', `${names[i]}.service`), unit);
}

rmSync(join(fs, 'var/log/journal'), { recursive: true, force: true }); // this run's journal only
for (const n of names) rmSync(join(fs, 'var/lib/private', n), { recursive: true, force: true }); // a new cluster each time
const container = spawn('systemd-nspawn', ['-D', fs, '--boot', '--register=no', '--keep-unit', '--private-network', '--machine', 'shmem-proof',
  `--bind-ro=${bin}:/usr/local/bin/shmem`], { stdio: ['ignore', 'ignore', 'inherit'] });
let leader;
const inside = (...args) => run('nsenter', ['--target', String(leader), '--all', ...args]);
try {
  // The container's systemd: the first systemd process whose parent is nspawn.
  for (let i = 0; i < 100 && leader === undefined; i++) {
    await sleep(200);
    leader = run('sh', ['-c', `pgrep -P ${container.pid} -x systemd || true`]).trim() || undefined;
  }
  if (!leader) throw new Error('the container did not boot');
  for (let i = 0; i < 100; i++) {
    let state = '';
    try {
      state = inside('systemctl', 'is-system-running').trim();
    } catch (err) {
      state = String(err.stdout ?? '').trim(); // non-zero while starting
    }
    if (['running', 'degraded'].includes(state)) break;
    await sleep(300);
  }
  const show = (unit, props) => Object.fromEntries(inside('systemctl', 'show', unit, `--property=${props}`).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)));
  inside('systemctl', 'daemon-reload');
  const started = Date.now();
  // Type=notify: start returns once READY=1 arrived (a new cluster: all three at once).
  try {
    inside('systemctl', 'start', ...names.map((n) => `${n}.service`));
  } catch (err) {
    for (const n of names) console.log(`--- journal of ${n}\n${inside('journalctl', '-u', n, '--no-pager', '-o', 'cat').split('\n').slice(-15).join('\n')}`);
    throw new Error(`systemctl start failed: ${String(err.stderr ?? err).trim()}`);
  }
  const a = show('shmem-a', 'ActiveState,SubState,MainPID,Type,StatusText');
  check('systemctl start returns with the units active (Type=notify, READY=1 received)', a.ActiveState === 'active' && a.Type === 'notify',
    `${a.ActiveState}/${a.SubState} in ${Date.now() - started} ms, status "${a.StatusText}"`);
  const cli = (...args) => inside('env', 'HOME=/root', '/usr/local/bin/shmem', ...args);
  let ready = false;
  for (let i = 0; i < 50 && !ready; i++) {
    try {
      ready = cli('status', '--endpoints', '127.0.0.1:3030').includes('quorum ok');
    } catch {
      await sleep(200);
    }
  }
  check('the cluster serves: status says quorum ok', ready);
  cli('write', '7', 'under-systemd', '--endpoints', '127.0.0.1:3031');
  check('a write through one unit reads back through another', cli('read', '7', '--endpoints', '127.0.0.1:3032').trim() === 'under-systemd');

  // Restart on a crash: kill -9 of the main process.
  const before = show('shmem-b', 'MainPID,NRestarts');
  inside('systemctl', 'kill', '--signal=SIGKILL', '--kill-whom=main', 'shmem-b');
  let after = before;
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    after = show('shmem-b', 'MainPID,NRestarts,ActiveState');
    if (after.ActiveState === 'active' && after.MainPID !== before.MainPID && after.MainPID !== '0') break;
  }
  check('after kill -9 systemd restarts it (Restart=on-failure)', after.ActiveState === 'active' && Number(after.NRestarts) === Number(before.NRestarts) + 1,
    `MainPID ${before.MainPID} -> ${after.MainPID}, NRestarts ${before.NRestarts} -> ${after.NRestarts}`);
  check('the restarted node serves the newest value', cli('read', '7', '--endpoints', '127.0.0.1:3031').trim() === 'under-systemd');

  // Reload: SIGHUP re-reads credentials and never stops the node.
  const pidBeforeReload = show('shmem-a', 'MainPID').MainPID;
  inside('systemctl', 'reload', 'shmem-a');
  await sleep(500);
  const reloaded = show('shmem-a', 'MainPID,ActiveState');
  check('systemctl reload (SIGHUP) keeps the node running', reloaded.ActiveState === 'active' && reloaded.MainPID === pidBeforeReload);

  // Clean stop on SIGTERM.
  const stopStarted = Date.now();
  inside('systemctl', 'stop', 'shmem-c');
  const stopped = show('shmem-c', 'ActiveState,Result,ExecMainStatus,ExecMainCode');
  const log = inside('journalctl', '-u', 'shmem-c', '--no-pager', '-o', 'cat');
  check('systemctl stop: SIGTERM, a clean exit 0, result success', stopped.ActiveState === 'inactive' && stopped.Result === 'success' && stopped.ExecMainStatus === '0',
    `${Date.now() - stopStarted} ms, ${stopped.Result}, exit ${stopped.ExecMainStatus}`);
  check('the journal has the node\'s JSON log, its drain and its stop', /"msg":"shutting down"/.test(log) && /"msg":"stopped"/.test(log));
  const mode = inside('stat', '-c', '%a', '/var/lib/private/shmem-a').trim();
  check('the data dir is private to the service (DynamicUser, 0700)', mode === '700', mode);
} finally {
  if (leader) {
    try {
      inside('systemctl', 'poweroff');
    } catch {
      // it may already be going down
    }
  }
  await Promise.race([new Promise((r) => container.on('exit', r)), sleep(15_000)]);
  container.kill('SIGKILL');
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`\n${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
