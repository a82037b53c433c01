// Builds the single shmem executable as pkg.config.json describes. Runs offline: every
// input comes from node_modules (npm ci) and this checkout.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cfg = JSON.parse(readFileSync(join(root, 'pkg.config.json'), 'utf8'));
const at = (p) => join(root, p);
if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`package: pkg.config.json targets ${cfg.platform}; this is ${process.platform}-${process.arch}`);
  process.exit(1);
}

/** Resolves each named package to a module whose use throws: for optional development-only imports. */
function stubPlugin(names) {
  const filter = new RegExp(`^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|')})$`);
  return {
    name: 'stub',
    setup(b) {
      if (names.length === 0) return;
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'stub' }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
        contents: `const fail = () => { throw new Error(${JSON.stringify(`${args.path} is not included in the shmem executable`)}); };
export default new Proxy({}, { get: fail });`,
        loader: 'js',
      }));
    },
  };
}

mkdirSync(at(cfg.bundle.outdir), { recursive: true });
// 1. The CLI as two ESM files (the fast path, and the whole CLI it loads for anything else), each
// self-contained. CommonJS dependencies get a real `require` for Node builtins.
await build({
  entryPoints: Object.fromEntries(Object.entries(cfg.bundle.entries).map(([name, entry]) => [name, at(entry)])),
  outdir: at(cfg.bundle.outdir),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: cfg.bundle.format,
  target: cfg.bundle.target,
  external: cfg.bundle.external,
  plugins: [stubPlugin(cfg.bundle.stubbed ?? [])],
  banner: { js: "import { createRequire as __shmemCreateRequire } from 'node:module'; const require = __shmemCreateRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
// 2. The CommonJS bootstrap that Node runs as the injected main script.
await build({
  entryPoints: [at(cfg.bootstrap.entry)],
  outfile: at(cfg.bootstrap.outfile),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: cfg.bundle.target,
  logLevel: 'warning',
});
// 3. The SEA blob: bootstrap + assets, plus the assets' digest that names their cache folder.
const digest = createHash('sha256');
for (const file of Object.values(cfg.assets)) digest.update(readFileSync(at(file)));
const digestFile = at('dist/app/digest');
writeFileSync(digestFile, `${digest.digest('hex').slice(0, 16)}\n`);
const seaConfig = at('dist/app/sea-config.json');
const blob = at('dist/app/sea.blob');
writeFileSync(seaConfig, JSON.stringify({
  main: at(cfg.bootstrap.outfile),
  output: blob,
  disableExperimentalSEAWarning: true,
  useCodeCache: false,
  // V8 flags the executable starts with; NODE_OPTIONS still extends them (execArgvExtension's default).
  execArgv: cfg.execArgv ?? [],
  assets: { ...Object.fromEntries(Object.entries(cfg.assets).map(([k, v]) => [k, at(v)])), digest: digestFile },
}, null, 2));
execFileSync(at(cfg.node), ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
// 4. A copy of the project's Node with the blob injected.
const out = at(cfg.output);
rmSync(out, { force: true });
copyFileSync(at(cfg.node), out);
chmodSync(out, 0o755);
execFileSync(process.execPath, [at('node_modules/postject/dist/cli.js'), out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', cfg.sentinelFuse], { stdio: ['ignore', 'ignore', 'inherit'] });
// 5. It must really run.
const version = execFileSync(out, ['--version'], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } }).trim();
console.log(`${cfg.output}: ${(statSync(out).size / 1024 / 1024).toFixed(1)} MiB, ${version}`);
