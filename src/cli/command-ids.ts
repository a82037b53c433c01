/**
 * The ids of every command (oclif's form: `service:unit`), without loading them: for the
 * suggestions to a mistyped command. test/cli/command-ids.test.ts checks it against COMMANDS.
 */
export const COMMAND_IDS: readonly string[] = ['add', 'backup', 'cas', 'help', 'member:add', 'member:list', 'member:remove', 'member:replace', 'read', 'recover', 'repair', 'restore', 'service:unit', 'start', 'status', 'token:create', 'top', 'write'];
