// Daemons of the test bed: started detached with a log file each, found again by pid, stopped
// with SIGTERM and, after a grace period, SIGKILL.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** A port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Throws PortInUseError naming what the port was meant for when something already listens on it. */
export function assertPortFree(port: number, purpose: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') {
        reject(new PortInUseError(`port ${port} (for ${purpose}) is already in use by another process`));
      } else if (e.code === 'EACCES') {
        reject(new PortInUseError(`port ${port} (for ${purpose}) may not be bound by this user`));
      } else {
        reject(e);
      }
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export interface DaemonSpec {
  bin: string;
  args: string[];
  log: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a process in its own process group, detached from ours, its output appended to a log. */
export async function startDaemon(spec: DaemonSpec): Promise<number> {
  const fd = openSync(spec.log, 'a');
  try {
    const child = spawn(spec.bin, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.env ?? process.env,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new Error(`cannot start ${spec.bin}: ${e.message}`, { cause: e })));
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${spec.bin}: no pid`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** True while the process runs (a zombie counts as gone). `bin` guards against a reused pid. */
export function isRunning(pid: number | undefined, bin?: string): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    if (bin) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      // includes, not startsWith: some daemons (sshd) rewrite their title around the command line.
      if (!cmdline.includes(bin)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(pid: number, bin: string | undefined, graceMs = 5000): Promise<void> {
  if (!isRunning(pid, bin)) return;
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isRunning(pid, bin) && Date.now() < deadline) await sleep(50);
  if (isRunning(pid, bin)) {
    signal(pid, 'SIGKILL');
    const killDeadline = Date.now() + 5000;
    while (isRunning(pid, bin) && Date.now() < killDeadline) await sleep(50);
    if (isRunning(pid, bin)) throw new Error(`process ${pid} (${bin ?? '?'}) did not stop after SIGKILL`);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig); // the whole group: daemons are group leaders
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

/** Runs a program without a shell and returns its stdout; the error carries its stderr. */
export function run(
  bin: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      {
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error)
          reject(new Error(`${bin} ${args.join(' ')}: ${stderr.trim() || error.message}`, { cause: error }));
        else resolve(stdout);
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called on each round; a returned message ends the wait with that error at once. */
  failIf?: () => string | undefined;
}

/**
 * Polls `check` until it returns a value other than undefined or false. On timeout the error
 * says what was awaited and, when `check` threw, the last reason.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    const failure = options.failIf?.();
    if (failure) throw new Error(`${what}: ${failure}`);
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new Error(
        `timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${reason}`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** The last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return text.slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
