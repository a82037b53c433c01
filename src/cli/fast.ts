import { VERSION } from '../version.js';
import { CLIENT_FLAGS, type ClientFlags } from './client-flags.js';
import { reportError } from './report.js';

/**
 * The fast path of the CLI: `shmem read`, `shmem write` and `shmem --version` in their common
 * forms, without loading oclif (or got, or the dashboard): a script that calls `shmem read`
 * in a loop pays Node's start-up and one HTTP request, not the framework's. Whatever this
 * parser does not know for certain (help, an unknown flag, a short flag, a malformed number,
 * the wrong number of arguments) goes to oclif, which explains it; both run the same
 * src/cli/client-ops.ts.
 */

/** The flags of each fast command besides the client flags: name -> takes a value. */
const COMMAND_FLAGS: Record<'read' | 'write', Record<string, true>> = { read: { output: true }, write: { file: true } };
const ARGS: Record<'read' | 'write', { min: number; max: number }> = { read: { min: 1, max: 1 }, write: { min: 1, max: 2 } };

interface Parsed {
  readonly args: string[];
  readonly flags: ClientFlags;
  readonly own: Record<string, string>;
}

/** Runs the command line if it is one the fast path handles; false when oclif must. */
export async function fastPath(argv: readonly string[]): Promise<boolean> {
  const [command, ...rest] = argv;
  if (argv.length === 1 && (command === '--version' || command === '-v')) {
    process.stdout.write(`shmem/${VERSION} ${process.platform}-${process.arch} node-${process.version}\n`);
    return true;
  }
  if (command !== 'read' && command !== 'write') return false;
  const parsed = parse(command, rest);
  if (parsed === undefined) return false;
  try {
    const { runRead, runWrite } = await import('./client-ops.js');
    if (command === 'read') await runRead({ addr: parsed.args[0]!, output: parsed.own['output'] }, parsed.flags);
    else await runWrite({ addr: parsed.args[0]!, value: parsed.args[1], file: parsed.own['file'] }, parsed.flags);
  } catch (err) {
    process.exitCode = reportError(err, parsed.flags.json);
  }
  return true;
}

function parse(command: 'read' | 'write', tokens: readonly string[]): Parsed | undefined {
  const args: string[] = [];
  const given: Record<string, string | true> = {};
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '-' || !t.startsWith('-')) {
      args.push(t);
      continue;
    }
    if (!t.startsWith('--') || t === '--') return undefined;
    const eq = t.indexOf('=');
    const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
    const spec = (CLIENT_FLAGS as Record<string, { kind: string }>)[name];
    const takesValue = spec ? spec.kind !== 'boolean' : COMMAND_FLAGS[command][name] === true;
    if (!spec && !takesValue) return undefined; // unknown (or --help): oclif explains
    if (name in given) return undefined;
    if (!takesValue) {
      if (eq >= 0) return undefined;
      given[name] = true;
      continue;
    }
    const value = eq >= 0 ? t.slice(eq + 1) : tokens[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) return undefined;
    given[name] = value;
  }
  const { min, max } = ARGS[command];
  if (args.length < min || args.length > max) return undefined;
  const str = (name: keyof typeof CLIENT_FLAGS): string | undefined => {
    const v = given[name];
    if (typeof v === 'string') return v;
    const env = (CLIENT_FLAGS[name] as { env?: string }).env;
    return env === undefined ? undefined : process.env[env] || undefined;
  };
  const int = (name: 'timeout-ms' | 'connect-timeout-ms'): number | undefined => {
    const v = given[name];
    if (v === undefined) return CLIENT_FLAGS[name].default;
    if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= CLIENT_FLAGS[name].min ? n : undefined;
  };
  const timeout = int('timeout-ms');
  const connect = int('connect-timeout-ms');
  if (timeout === undefined || connect === undefined) return undefined;
  const own: Record<string, string> = {};
  for (const name of Object.keys(COMMAND_FLAGS[command])) if (typeof given[name] === 'string') own[name] = given[name] as string;
  return {
    args,
    own,
    flags: {
      endpoints: str('endpoints'), json: given['json'] === true, 'timeout-ms': timeout, 'connect-timeout-ms': connect,
      cacert: str('cacert'), cert: str('cert'), key: str('key'), token: str('token'),
    },
  };
}
