import { Args, loadHelpClass } from '@oclif/core';
import { ShmemCommand } from './base.js';

export default class Help extends ShmemCommand {
  static override summary = 'Show help for shmem, or for one command';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help write', '<%= config.bin %> help service unit'];
  static override strict = false;
  static override args = { command: Args.string({ description: 'the command (and subcommand) to explain', required: false, ignoreStdin: true }) };

  async run(): Promise<void> {
    const HelpClass = await loadHelpClass(this.config);
    await new HelpClass(this.config).showHelp(this.argv);
  }
}
