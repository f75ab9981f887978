import type { Writable } from 'node:stream';

/** Where a command writes, and whether a person is watching (colour and progress only then). */
export interface CliIO {
  out: Writable;
  err: Writable;
  /** stderr is a terminal: progress lines and colour may be shown. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return {
    out: process.stdout,
    err: process.stderr,
    interactive: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A mistake in how the command was called: exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
