import { VERSION } from '../../version.ts';
import type { Command } from '../command.ts';
import { writeLine } from '../io.ts';

export const version: Command = {
  name: 'version',
  summary: 'print the version',
  usage: 'cairn version',
  examples: ['cairn version'],
  options: {},
  run(_args, io) {
    writeLine(io.out, `cairn ${VERSION}`);
    return Promise.resolve(0);
  },
};
