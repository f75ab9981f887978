// Running the git CLI: without a shell, in its own process group (so a time limit kills ssh and
// the remote helpers too), with an environment that reads no user or system configuration and
// allows only the transports the options allow.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { redactSecrets } from './errors.ts';
import type { Transport } from './url.ts';

/** Variables taken from Cairn's own environment; everything else git sees is set here. */
const INHERITED = [
  'PATH',
  'TMPDIR',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'ALL_PROXY',
  'all_proxy',
  'NO_PROXY',
  'no_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** Quotes a word for the shell that runs `GIT_SSH_COMMAND`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ssh command git runs: no ssh config, no agent, only the given key, host keys only from the
 * given file (or none at all), never a prompt.
 */
export function sshCommand(options: {
  keyFile?: string;
  knownHostsFile?: string;
  connectTimeoutS: number;
}): string {
  return [
    'ssh',
    '-F /dev/null',
    options.keyFile ? `-i ${shellQuote(options.keyFile)}` : '-o IdentityFile=none',
    '-o IdentitiesOnly=yes',
    '-o IdentityAgent=none',
    `-o UserKnownHostsFile=${shellQuote(options.knownHostsFile ?? '/dev/null')}`,
    '-o GlobalKnownHostsFile=/dev/null',
    '-o StrictHostKeyChecking=yes',
    '-o UpdateHostKeys=no',
    '-o BatchMode=yes',
    `-o ConnectTimeout=${options.connectTimeoutS}`,
  ].join(' ');
}

export interface GitEnvironmentInput {
  /** A folder of Cairn's own that stands in for the home folder. */
  home: string;
  allowed: readonly Transport[];
  inherited: NodeJS.ProcessEnv;
  connectTimeoutS: number;
}

/** The base environment of every git command. */
export function gitEnvironment(input: GitEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = input.inherited[key];
    if (value !== undefined) env[key] = value;
  }
  return {
    ...env,
    HOME: input.home,
    XDG_CONFIG_HOME: join(input.home, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: input.allowed.join(':'),
    GIT_SSH_COMMAND: sshCommand({ connectTimeoutS: input.connectTimeoutS }),
    GIT_SSH_VARIANT: 'ssh',
    LC_ALL: 'C',
    LANG: 'C',
  };
}

/** `-c` settings given to every git command; none of them is a secret. */
export function gitConfigArgs(allowFile: boolean): string[] {
  return [
    `protocol.file.allow=${allowFile ? 'always' : 'never'}`,
    'protocol.ext.allow=never',
    'submodule.recurse=false',
    'fetch.recurseSubmodules=false',
    'credential.helper=',
    'core.hooksPath=/dev/null',
    'core.fsmonitor=false',
    'gc.autoDetach=false',
  ].flatMap((setting) => ['-c', setting]);
}

export interface GitCommand {
  git: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Removed from anything this command reports. */
  secrets: readonly string[];
  /** stdout beyond this fails the command. */
  maxOutputBytes?: number;
  /** Written to the command's stdin (closed at once when absent). */
  input?: string;
}

export class GitCommandError extends Error {
  override name = 'GitCommandError';
  /** The subcommand, e.g. `fetch`. */
  readonly subcommand: string;
  /** git's stderr, redacted. */
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly timedOut: boolean;

  constructor(fields: {
    subcommand: string;
    stderr: string;
    exitCode: number | null;
    timedOut: boolean;
    message: string;
  }) {
    super(fields.message);
    this.subcommand = fields.subcommand;
    this.stderr = fields.stderr;
    this.exitCode = fields.exitCode;
    this.timedOut = fields.timedOut;
  }
}

/** The first argument that is not a global option, for messages (`git fetch failed`). */
function subcommandOf(args: string[]): string {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-c' || arg === '-C' || arg === '--git-dir' || arg === '--work-tree') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return 'git';
}

/** Runs git and returns its stdout; rejects with a redacted GitCommandError. */
export function runGit(command: GitCommand): Promise<string> {
  const subcommand = subcommandOf(command.args);
  const maxOutput = command.maxOutputBytes ?? 256 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(command.git, command.args, {
      cwd: command.cwd,
      env: command.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    // A command that exits before reading all of it closes the pipe: its exit code says why.
    child.stdin.on('error', () => {});
    child.stdin.end(command.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let overflow = false;
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, command.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > maxOutput) {
        overflow = true;
        killGroup();
      } else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < 64 * 1024) err.push(chunk);
      errBytes += chunk.length;
    });
    const fail = (message: string, exitCode: number | null) => {
      const stderr = redactSecrets(Buffer.concat(err).toString('utf8').trim(), command.secrets);
      reject(
        new GitCommandError({
          subcommand,
          stderr,
          exitCode,
          timedOut,
          message: redactSecrets(message, command.secrets),
        }),
      );
    };
    child.once('error', (e) => {
      clearTimeout(timer);
      fail(`cannot run ${command.git}: ${e.message}`, null);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) fail(`git ${subcommand} timed out after ${formatSeconds(command.timeoutMs)}`, code);
      else if (overflow) fail(`git ${subcommand} printed more than ${maxOutput} bytes`, code);
      else if (code !== 0) {
        const stderr = Buffer.concat(err).toString('utf8').trim();
        const detail = stderr === '' ? `exit ${code ?? signal}` : lastLines(stderr);
        fail(`git ${subcommand} failed: ${detail}`, code);
      } else resolve(Buffer.concat(out).toString('utf8'));
    });
  });
}

const formatSeconds = (ms: number): string => `${+(ms / 1000).toFixed(1)} s`;

// The advice git appends to every failed connection; it says nothing about this one.
const BOILERPLATE = [
  'fatal: Could not read from remote repository.',
  'Please make sure you have the correct access rights',
  'and the repository exists.',
];

/** The end of git's stderr, which says what went wrong; progress lines before it do not. */
function lastLines(stderr: string, max = 4): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !BOILERPLATE.includes(l));
  return lines.slice(-max).join('; ');
}

/** Bytes of objects in a repository, from `git count-objects -v` (loose plus packed, in KiB). */
export function parseObjectsSize(output: string): number {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}: (\\d+)$`, 'm').exec(output);
    if (!m) throw new Error(`count-objects printed no ${name}`);
    return Number(m[1]) * 1024;
  };
  return field('size') + field('size-pack');
}

/** One entry of `git ls-tree -r -l -z`. */
export interface TreeEntry {
  /** `100644`, `100755` (executable), `120000` (symbolic link), `160000` (submodule). */
  mode: string;
  /** `blob`, or `commit` for a submodule. */
  type: string;
  /** Bytes; 0 for a submodule. */
  size: number;
  /** Repository-relative, as stored. */
  path: string;
}

export function parseTreeEntries(output: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const entry of output.split('\0')) {
    if (entry === '') continue;
    const m = /^(\d+) (\w+) [0-9a-f]+ +(-|\d+)\t(.*)$/s.exec(entry);
    if (!m) throw new Error(`unexpected ls-tree entry ${JSON.stringify(entry.slice(0, 100))}`);
    entries.push({ mode: m[1]!, type: m[2]!, size: m[3] === '-' ? 0 : Number(m[3]), path: m[4]! });
  }
  return entries;
}

/** Total bytes of the blobs of a tree (submodule entries have no size). */
export function treeBytes(entries: readonly TreeEntry[]): number {
  return entries.reduce((total, e) => total + e.size, 0);
}
