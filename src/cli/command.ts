import type { ParseArgsConfig } from 'node:util';
import type { CliIO } from './io.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed command line handed to a command. */
export interface CommandArgs {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

/** One `cairn` subcommand: it gathers flags, calls the engine, and prints. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  examples: string[];
  /** Flags beyond the global ones (--help). */
  options: OptionSpec;
  /** Longer description for --help. */
  description?: string;
  run(args: CommandArgs, io: CliIO): Promise<number>;
}

export function helpText(command: Command): string {
  const lines = [`${command.summary}`, '', `Usage:\n  ${command.usage}`];
  if (command.description) lines.push('', command.description);
  const flags = Object.entries(command.options);
  if (flags.length > 0) {
    lines.push('', 'Options:');
    for (const [name, spec] of flags) {
      const short = spec.short ? `-${spec.short}, ` : '    ';
      const arg = spec.type === 'string' ? ' VALUE' : '';
      lines.push(`  ${short}--${name}${arg}${spec.multiple ? ' (repeatable)' : ''}`);
    }
  }
  lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
