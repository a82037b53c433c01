import Add from './add.js';
import Backup from './backup.js';
import Cas from './cas.js';
import Help from './help.js';
import MemberAdd from './member/add.js';
import MemberList from './member/list.js';
import MemberRemove from './member/remove.js';
import MemberReplace from './member/replace.js';
import Read from './read.js';
import Recover from './recover.js';
import Repair from './repair.js';
import Restore from './restore.js';
import ServiceUnit from './service/unit.js';
import Start from './start.js';
import Status from './status.js';
import TokenCreate from './token/create.js';
import Top from './top.js';
import Write from './write.js';

/**
 * Every command, loaded explicitly (oclif's "explicit" strategy): no file-system command
 * discovery at run time, so a bundler can follow every import.
 */
export const COMMANDS = {
  add: Add,
  backup: Backup,
  cas: Cas,
  help: Help,
  'member:add': MemberAdd,
  'member:list': MemberList,
  'member:remove': MemberRemove,
  'member:replace': MemberReplace,
  read: Read,
  recover: Recover,
  repair: Repair,
  restore: Restore,
  'service:unit': ServiceUnit,
  start: Start,
  status: Status,
  'token:create': TokenCreate,
  top: Top,
  write: Write,
};
