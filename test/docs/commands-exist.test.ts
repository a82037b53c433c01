import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../../commands/index.js';
import { ROOT } from '../helpers/cluster.js';

/**
 * The guides show commands people copy: every `shmem …` invocation they show names a command
 * that exists, with flags that command takes, and every `npm run X` a script of package.json.
 * A renamed flag or command fails here, not in a user's terminal.
 */
const test = suite('the guides show commands and flags that exist');

const GUIDES = ['README.md', 'docs/reference.md', 'docs/operations.md', 'docs/security.md', 'docs/recovery.md', 'docs/limits.md'];
/** Mistyped commands the guides show on purpose (what the CLI suggests for them). */
const MISTAKES = new Set(['reed']);
/** Flags oclif gives every command. */
const GLOBAL_FLAGS = new Set(['--help', '-h']);

type CommandClass = { flags?: Record<string, { char?: string }>; baseFlags?: Record<string, { char?: string }> };
const commands = COMMANDS as unknown as Record<string, CommandClass>;

/** Every flag (`--name`, and `-c` for a char) a command takes. */
function flagsOf(id: string): Set<string> {
  const c = commands[id]!;
  const all = { ...c.baseFlags, ...c.flags };
  return new Set([...Object.keys(all).map((f) => `--${f}`), ...Object.values(all).flatMap((f) => (f.char ? [`-${f.char}`] : [])), ...GLOBAL_FLAGS]);
}

/** Code the guide shows: fenced blocks line by line, and inline code spans. */
function codeOf(text: string): string[] {
  const out: string[] = [];
  const fences = text.split(/^```[^\n]*\n/m);
  for (const [i, part] of fences.entries()) {
    if (i % 2 === 1) {
      const [block = ''] = part.split(/^```/m);
      out.push(...block.split('\n'));
      out.push(...inline(part.split(/^```/m).slice(1).join('```')));
    } else {
      out.push(...inline(part));
    }
  }
  return out;
}

function inline(prose: string): string[] {
  return [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
}

/** The `shmem` invocations of a line of code: the words after `shmem` up to a shell separator or comment. */
function invocations(line: string): string[][] {
  const out: string[][] = [];
  const code = line.replace(/\s#.*$/, '');
  for (const m of code.matchAll(/(?:^|[\s(;&|])(?:\.\/bin\/|bin\/|dist\/|\/usr\/local\/bin\/)?shmem((?:\s+[^\s|;&<>()`]+)*)/g)) {
    out.push(m[1]!.trim().split(/\s+/).filter((w) => w !== ''));
  }
  return out;
}

/** The command id the words start with (the longest that exists: `member add` is member:add) and the rest. */
function commandOf(words: readonly string[]): { id: string; rest: string[] } | undefined {
  for (let n = Math.min(2, words.length); n >= 1; n--) {
    const id = words.slice(0, n).join(':');
    if (Object.hasOwn(commands, id)) return { id, rest: words.slice(n) };
  }
  return undefined;
}

/** Topics (`shmem member`): named alone, or with a placeholder for their commands (`member ...`, `member add/remove`). */
const TOPICS = new Set(Object.keys(commands).filter((id) => id.includes(':')).map((id) => id.split(':')[0]!));
function isTopicMention(words: readonly string[]): boolean {
  return TOPICS.has(words[0]!) && (words.length === 1 || words[1] === '...' || words[1]!.includes('/'));
}

const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);

for (const guide of GUIDES) {
  const text = readFileSync(join(ROOT, guide), 'utf8');
  test(`${guide}: every shmem command and flag shown exists`, () => {
    let seen = 0;
    const problems: string[] = [];
    for (const line of codeOf(text)) {
      for (const words of invocations(line)) {
        // `shmem` alone, or shmem's own flags (--version, --help) with no command, or a topic.
        if (words.length === 0 || words[0]!.startsWith('-') || isTopicMention(words) || MISTAKES.has(words[0]!)) continue;
        // Placeholders in a table of commands: ADDR, FILE, ... and words such as "start" need the command.
        const found = commandOf(words);
        if (!found) {
          problems.push(`"shmem ${words.join(' ')}": no command ${words.slice(0, 2).join(' ')}`);
          continue;
        }
        seen += 1;
        const known = flagsOf(found.id);
        for (const w of found.rest) {
          const flag = w.split('=')[0]!;
          if (/^--?[a-z]/.test(flag) && !known.has(flag)) problems.push(`"shmem ${words.join(' ')}": ${found.id.replace(':', ' ')} has no ${flag}`);
        }
      }
    }
    assert.equal(problems, []);
    if (guide === 'README.md') assert.ok(seen >= 20, `the README shows commands (${seen} seen)`);
  });

  test(`${guide}: every npm script shown exists`, () => {
    const missing = [...text.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!).filter((s) => !scripts.includes(s));
    assert.equal(missing, []);
  });
}

test('a flag the README names on its own (`--x` in prose) is a flag of some command', () => {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const every = new Set(Object.keys(commands).flatMap((id) => [...flagsOf(id)]));
  const prose = inline(text.split(/^```[^\n]*\n[\s\S]*?^```/m).join('')).filter((c) => /^--[a-z]/.test(c));
  assert.ok(prose.length >= 10, `flags named in prose: ${prose.length}`);
  const unknown = prose.map((c) => c.split(/[\s=]/)[0]!).filter((f) => !every.has(f));
  assert.equal(unknown, []);
});

test('the check finds what it must: an unknown command and an unknown flag', () => {
  assert.equal(invocations('./bin/shmem member add 127.0.0.1:3033   # epoch 2'), [['member', 'add', '127.0.0.1:3033']]);
  assert.equal(commandOf(['member', 'add', 'x'])?.id, 'member:add');
  assert.is(commandOf(['membr', 'add']), undefined);
  assert.not.ok(flagsOf('read').has('--file'), 'read takes no --file');
  assert.ok(flagsOf('write').has('--file'));
  assert.ok(flagsOf('status').has('--endpoints'), 'client flags count');
});

test.run();
