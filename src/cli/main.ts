// cli: the `cairn` command. Commands only gather flags and print; the engine does the work.
import { parseArgs } from 'node:util';
import { VERSION } from '../version.ts';
import { groupHelpText, helpText, type Command } from './command.ts';
import { app } from './commands/app.ts';
import { completion } from './commands/completion.ts';
import { events } from './commands/events.ts';
import { source } from './commands/source.ts';
import { trace } from './commands/trace.ts';
import { describeError } from './errors.ts';
import { apply } from './commands/apply.ts';
import { controller } from './commands/controller.ts';
import { diff } from './commands/diff.ts';
import { bootstrap } from './commands/bootstrap.ts';
import { check } from './commands/check.ts';
import { init } from './commands/init.ts';
import { install } from './commands/install.ts';
import { uninstall } from './commands/uninstall.ts';
import { render } from './commands/render.ts';
import { server } from './commands/server.ts';
import { status } from './commands/status.ts';
import { version } from './commands/version.ts';
import { ExitCode, processIO, writeLine, type CliIO } from './io.ts';

export const COMMANDS: readonly Command[] = [
  app,
  source,
  events,
  trace,
  render,
  diff,
  apply,
  status,
  controller,
  server,
  install,
  uninstall,
  check,
  bootstrap,
  init,
  version,
  completion,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `cairn ${VERSION}: GitOps for Kubernetes`,
    '',
    'Usage:',
    '  cairn COMMAND [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "cairn COMMAND --help" for a command\'s options and examples.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    writeLine(io.out, topic ? (topic.subcommands ? groupHelpText(topic) : helpText(topic)) : overview());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version') return version.run({ values: {}, positionals: [] }, io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    writeLine(io.err, `cairn: unknown command "${name}" (run "cairn help" for the list)`);
    return ExitCode.Usage;
  }
  return runCommand(command, command.name, rest, io);
}

/** Runs a command, or the subcommand of a group the next word names; errors are one line. */
async function runCommand(command: Command, path: string, rest: string[], io: CliIO): Promise<number> {
  if (command.subcommands) {
    const [word, ...tail] = rest;
    if (word === undefined || word === 'help' || word === '--help' || word === '-h') {
      writeLine(io.out, groupHelpText(command));
      return word === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    const sub = command.subcommands.find((c) => c.name === word);
    if (!sub) {
      writeLine(io.err, `cairn ${path}: unknown command "${word}" (run "cairn ${path} --help" for the list)`);
      return ExitCode.Usage;
    }
    return runCommand(sub, `${path} ${sub.name}`, tail, io);
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      writeLine(io.out, helpText(command));
      return ExitCode.Ok;
    }
    return await command.run({ values, positionals }, io);
  } catch (e) {
    const { message, code } = describeError(e, path);
    writeLine(io.err, `cairn ${path}: ${message}`);
    return code;
  }
}
