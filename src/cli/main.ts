// cli: the `cairn` command. Commands only gather flags and print; the engine does the work.
import { parseArgs } from 'node:util';
import { VERSION } from '../version.ts';
import { helpText, type Command } from './command.ts';
import { apply } from './commands/apply.ts';
import { controller } from './commands/controller.ts';
import { diff } from './commands/diff.ts';
import { install } from './commands/install.ts';
import { render } from './commands/render.ts';
import { status } from './commands/status.ts';
import { version } from './commands/version.ts';
import { ExitCode, UsageError, processIO, writeLine, type CliIO } from './io.ts';

export const COMMANDS: readonly Command[] = [render, diff, apply, status, controller, install, version];

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
    writeLine(io.out, topic ? helpText(topic) : overview());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === '--version') return version.run({ values: {}, positionals: [] }, io);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    writeLine(io.err, `cairn: unknown command "${name}" (run "cairn help" for the list)`);
    return ExitCode.Usage;
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
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      writeLine(
        io.err,
        `cairn ${command.name}: ${(e as Error).message}\nRun "cairn ${command.name} --help" for usage.`,
      );
      return ExitCode.Usage;
    }
    writeLine(io.err, `cairn ${command.name}: ${e instanceof Error ? e.message : String(e)}`);
    return ExitCode.Failed;
  }
}
