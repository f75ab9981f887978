// cli: the `cairn` command. Commands only gather flags and print; the engine does the work.
import { parseArgs } from 'node:util';
import { VERSION } from '../version.ts';

const USAGE = `cairn: GitOps for Kubernetes

Usage:
  cairn version        print the version
  cairn help           this text

More commands arrive with the pipeline stages (render, diff, apply, controller).`;

export function main(argv: string[]): number {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } },
  });
  const [command] = positionals;
  if (values.version || command === 'version') {
    console.log(`cairn ${VERSION}`);
    return 0;
  }
  if (values.help || command === 'help' || command === undefined) {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  console.error(`cairn: unknown command "${command}" (see cairn help)`);
  return 2;
}
