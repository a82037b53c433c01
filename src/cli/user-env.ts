/**
 * A service user without a passwd entry (systemd DynamicUser= on a system without
 * nss-systemd): os.homedir() and os.userInfo() throw, and oclif asks for both (its config
 * directories, the shell). Found by running the unit under a real systemd
 * (scripts/systemd-proof.mjs): every start failed. The environment stands in for the user.
 */
export function standInForUser(): void {
  const os = process.getBuiltinModule('node:os');
  if (!process.env['HOME']) {
    try {
      os.homedir();
    } catch {
      process.env['HOME'] = process.env['CACHE_DIRECTORY']?.split(':')[0] ?? os.tmpdir();
    }
  }
  if (!process.env['SHELL']) {
    try {
      os.userInfo();
    } catch {
      process.env['SHELL'] = '/bin/sh';
    }
  }
}
