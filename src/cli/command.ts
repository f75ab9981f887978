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
  /** A group such as `cairn app`: the word after it names one of these. */
  subcommands?: readonly Command[];
  /** The group whose `list -o name` gives the NAME this command takes (shell completion). */
  completesNamesOf?: 'app' | 'source';
}

/** A command that only groups others (`cairn app list`, `cairn app get`, ...). */
export function commandGroup(
  name: string,
  summary: string,
  subcommands: readonly Command[],
  examples: string[],
): Command {
  return {
    name,
    summary,
    usage: `cairn ${name} COMMAND [options]`,
    examples,
    options: {},
    subcommands,
    run: () => Promise.resolve(2),
  };
}

/** The help of a group: its subcommands, one line each. */
export function groupHelpText(group: Command): string {
  const subs = group.subcommands ?? [];
  const width = Math.max(...subs.map((c) => c.name.length));
  return [
    group.summary,
    '',
    `Usage:\n  ${group.usage}`,
    '',
    'Commands:',
    ...subs.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Examples:',
    ...group.examples.map((e) => `  ${e}`),
    '',
    `Run "cairn ${group.name} COMMAND --help" for a command's options and examples.`,
  ].join('\n');
}

/** One line of help for the flags many commands share. */
const OPTION_HELP: Record<string, string> = {
  kubeconfig: 'kubeconfig file (default $KUBECONFIG, then ~/.kube/config)',
  context: 'kubeconfig context (default the current one)',
  namespace: "namespace (default the context's, then default)",
  'all-namespaces': 'every namespace',
  output: 'output format, as the usage line lists',
  timeout: 'how long to wait, e.g. 90s or 5m',
  revision: 'a Git revision, as the usage line lists',
  async: 'do not wait: return once the request is written',
  local: 'a local folder to render instead of Git',
  'allow-http': 'allow a plain http:// Git URL',
  orphan: 'leave the objects in the cluster',
  wait: 'wait until done',
};

export function helpText(command: Command): string {
  const lines = [`${command.summary}`, '', `Usage:\n  ${command.usage}`];
  if (command.description) lines.push('', command.description);
  const flags = Object.entries(command.options);
  if (flags.length > 0) {
    lines.push('', 'Options:');
    for (const [name, spec] of flags) {
      const short = spec.short ? `-${spec.short}, ` : '    ';
      const arg = spec.type === 'string' ? ' VALUE' : '';
      const about = OPTION_HELP[name];
      const flag = `  ${short}--${name}${arg}${spec.multiple ? ' (repeatable)' : ''}`;
      lines.push(about ? `${flag.padEnd(30)} ${about}` : flag);
    }
  }
  lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}
