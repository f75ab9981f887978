import type { Writable } from 'node:stream';

/** Where a command writes, and whether a person is watching (colour and progress only then). */
export interface CliIO {
  out: Writable;
  err: Writable;
  /** stderr is a terminal: progress lines and colour may be shown. */
  interactive: boolean;
  /** stdout is a terminal and NO_COLOR is unset: tables may use colour. */
  color?: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CliIO {
  return {
    out: process.stdout,
    err: process.stderr,
    interactive: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    env: process.env,
    cwd: process.cwd(),
  };
}

/** A mistake in how the command was called: exit code 2 and a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Something named on the command line does not exist; the message says how to find what does. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export const ExitCode = { Ok: 0, Failed: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}
