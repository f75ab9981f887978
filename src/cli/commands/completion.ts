import type { Command } from '../command.ts';
import { Shell, completionScript } from '../completion.ts';
import { UsageError } from '../io.ts';

export const completion: Command = {
  name: 'completion',
  summary: 'print a shell completion script (bash, zsh or fish)',
  usage: 'cairn completion bash|zsh|fish',
  description:
    'Completes commands, subcommands and flags, and the NAME of an Application or GitRepository (asked of the\n' +
    'cluster with "cairn app list -o name", in the namespace and context of the line so far); the script is made\n' +
    'from the commands of this version.',
  examples: [
    'source <(cairn completion bash)',
    'source <(cairn completion zsh)',
    'cairn completion fish | source',
  ],
  options: {},
  async run({ positionals }, io) {
    const shell = positionals[0];
    if (positionals.length !== 1 || !(Object.values(Shell) as string[]).includes(shell ?? ''))
      throw new UsageError('give one shell: bash, zsh or fish');
    // The command list lives in main.ts, which lists this command too.
    const { COMMANDS } = await import('../main.ts');
    io.out.write(completionScript(shell as Shell, COMMANDS));
    return 0;
  },
};
