// Running kustomize and helm: no shell, a clean environment, a time limit that kills the whole
// process group, and a cap on what is kept of their output.
import { spawn } from 'node:child_process';
import { access, constants, realpath } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

export interface ToolRun {
  /** Absolute path of the binary. */
  bin: string;
  args: string[];
  cwd: string;
  /** The whole environment of the child: nothing is inherited. */
  env: Record<string, string>;
  timeoutMs: number;
  maxStdoutBytes: number;
}

export interface ToolOutcome {
  code: number | null;
  stdout: Buffer;
  /** The last part of stderr, as text. */
  stderr: string;
  timedOut: boolean;
  stdoutTooLarge: boolean;
}

const MAX_STDERR_BYTES = 64 * 1024;

export function runTool(run: ToolRun): Promise<ToolOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(run.bin, run.args, {
      cwd: run.cwd,
      env: run.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout also stops anything it started
      shell: false,
    });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let timedOut = false;
    let stdoutTooLarge = false;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, run.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdoutTooLarge) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > run.maxStdoutBytes) {
        stdoutTooLarge = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > MAX_STDERR_BYTES) stderr = stderr.subarray(stderr.length - MAX_STDERR_BYTES);
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(stdout),
        stderr: stderr.toString('utf8'),
        timedOut,
        stdoutTooLarge,
      });
    });
  });
}

/** A command name found on a PATH, or an absolute path checked to be executable. */
export async function findExecutable(command: string, searchPath: string): Promise<string | undefined> {
  const candidates = isAbsolute(command)
    ? [command]
    : command.includes('/')
      ? []
      : searchPath
          .split(delimiter)
          .filter((d) => isAbsolute(d))
          .map((d) => join(d, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * A tool's message with the private working copy's paths put back as repository paths: each pair
 * is a path in the copy and the repository path it stands for ('' for the repository root).
 */
export async function repositoryPaths(
  message: string,
  pairs: ReadonlyArray<[string, string]>,
): Promise<string> {
  const expanded: Array<[string, string]> = [];
  for (const [copy, standsFor] of pairs) {
    expanded.push([copy, standsFor]);
    const real = await realpath(copy).catch(() => copy);
    if (real !== copy) expanded.push([real, standsFor]);
  }
  // Longest first, so a values file inside the copy is not cut by the copy's own folder.
  expanded.sort((a, b) => b[0].length - a[0].length);
  let out = message;
  for (const [copy, standsFor] of expanded) {
    out = out
      .split(`${copy}/`)
      .join(standsFor === '' ? '' : `${standsFor}/`)
      .split(copy)
      .join(standsFor === '' ? '.' : standsFor);
  }
  return out;
}
