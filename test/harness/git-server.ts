// Git servers on loopback, so tests push and fetch as they would with GitHub or GitLab:
// smart HTTP (`git http-backend` behind a Node server, optional basic auth) and SSH
// (Debian's sshd on its own port, key authentication only).
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, isRunning, startDaemon, stopProcess, tail, waitUntil } from './processes.ts';

const execFileP = promisify(execFile);

/** Runs git without a shell; the error carries git's own message. */
export async function git(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileP('git', args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`git ${args[0]} failed: ${(err.stderr ?? err.message).trim()}`, { cause: e });
  }
}

export interface GitServerOptions {
  /** Folder holding the bare repositories (`<name>.git`). */
  root: string;
  /** When set, every request needs one of these users (basic auth). */
  users?: Record<string, string>;
}

/** Git's smart HTTP protocol served by `git http-backend` as a CGI program. */
export class GitHttpServer {
  readonly root: string;
  readonly #server: Server;
  readonly #users: Record<string, string> | undefined;

  private constructor(root: string, users?: Record<string, string>) {
    this.root = root;
    this.#users = users;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(options: GitServerOptions): Promise<GitHttpServer> {
    await mkdir(options.root, { recursive: true });
    const self = new GitHttpServer(options.root, options.users);
    const server = self.#server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    // A test process must be able to exit while the server is still listening.
    server.unref();
    return self;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** The clone URL of a repository, with credentials embedded when given. */
  url(repo: string, credentials?: { user: string; password: string }): string {
    const auth = credentials
      ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@`
      : '';
    return `http://${auth}127.0.0.1:${this.port}/${repo}.git`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #authorized(req: IncomingMessage): string | undefined | false {
    if (!this.#users) return undefined;
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Basic ')) return false;
    const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    const password = rest.join(':');
    return user !== undefined && this.#users[user] === password ? user : false;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const user = this.#authorized(req);
    if (user === false) {
      res
        .writeHead(401, { 'WWW-Authenticate': 'Basic realm="cairn-test-git"' })
        .end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.includes('..')) {
      res.writeHead(400).end('bad path\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: this.root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_HTTP_MAX_REQUEST_BUFFER: '100M',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      // http-backend allows pushes only from an authenticated user; without auth, everyone is one.
      REMOTE_USER: user ?? 'anonymous',
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
    };
    const cgi = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    const stderr: Buffer[] = [];
    cgi.stderr.on('data', (d: Buffer) => stderr.push(d));
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headerDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('utf8').split('\r\n')) {
        const i = line.indexOf(':');
        if (i < 0) continue;
        const key = line.slice(0, i).trim();
        const value = line.slice(i + 1).trim();
        if (key.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[key] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', (code) => {
      if (!headerDone) {
        res.writeHead(500).end(`git http-backend failed (${code}): ${Buffer.concat(stderr).toString()}`);
      } else {
        res.end();
      }
    });
  }
}

/** An SSH server (Debian's openssh-server) that accepts one generated key, for git over SSH. */
export class GitSshServer {
  readonly dir: string;
  readonly port: number;
  readonly #pid: number;
  readonly #sshd: string;

  private constructor(dir: string, port: number, pid: number, sshd: string) {
    this.dir = dir;
    this.port = port;
    this.#pid = pid;
    this.#sshd = sshd;
  }

  static async start(dir: string): Promise<GitSshServer> {
    const sshd = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));
    if (!sshd)
      throw new Error(
        'sshd is not installed (Debian package openssh-server) but the SSH git server needs it',
      );
    await mkdir(dir, { recursive: true });
    const hostKey = join(dir, 'host_ed25519');
    const clientKey = join(dir, 'client_ed25519');
    for (const key of [hostKey, clientKey]) {
      if (!existsSync(key)) await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    }
    await writeFile(
      join(dir, 'authorized_keys'),
      `restrict ${(await readFile(`${clientKey}.pub`, 'utf8')).trim()}\n`,
    );
    await writeFile(join(dir, 'known_hosts'), '');
    // sshd refuses to start without its privilege separation folder.
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
    const port = await freePort();
    const config = join(dir, 'sshd_config');
    await writeFile(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        'UsePAM no',
        'LogLevel ERROR',
        '',
      ].join('\n'),
    );
    await chmod(config, 0o600);
    const log = join(dir, 'sshd.log');
    const pid = await startDaemon({ bin: sshd, args: ['-D', '-e', '-f', config], log });
    const server = new GitSshServer(dir, port, pid, sshd);
    try {
      await waitUntil(
        'sshd to accept connections',
        async () => {
          const { stdout } = await execFileP('ssh-keyscan', [
            '-p',
            String(port),
            '-t',
            'ed25519',
            '127.0.0.1',
          ]);
          if (!stdout.includes('ssh-ed25519')) return false;
          await writeFile(join(dir, 'known_hosts'), stdout);
          return true;
        },
        {
          timeoutMs: 20_000,
          failIf: () => (isRunning(pid, sshd) ? undefined : `sshd exited:\n${tail(log)}`),
        },
      );
    } catch (e) {
      server.killNow(); // never leave a daemon behind a failed start
      throw e;
    }
    return server;
  }

  /** The private key a client authenticates with. */
  get clientKey(): string {
    return join(this.dir, 'client_ed25519');
  }
  get knownHosts(): string {
    return join(this.dir, 'known_hosts');
  }

  /** An ssh:// URL for a bare repository at an absolute path on this machine. */
  url(repoPath: string): string {
    return `ssh://${userInfo().username}@127.0.0.1:${this.port}${repoPath}`;
  }

  /** The environment that makes `git` use this server's key and host key, and nothing else. */
  gitEnv(): NodeJS.ProcessEnv {
    return {
      GIT_SSH_COMMAND: `ssh -i ${this.clientKey} -o IdentitiesOnly=yes -o UserKnownHostsFile=${this.knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`,
    };
  }

  async stop(): Promise<void> {
    await stopProcess(this.#pid, this.#sshd);
  }

  /** Synchronous, for an exit handler: the daemon is a process group of its own. */
  killNow(): void {
    try {
      process.kill(-this.#pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Creates an empty bare repository that accepts pushes over both protocols. */
export async function createBareRepo(root: string, name: string): Promise<string> {
  const path = join(root, `${name}.git`);
  await git(['init', '--quiet', '--bare', '--initial-branch=main', path]);
  await git(['config', 'http.receivepack', 'true'], { cwd: path });
  return path;
}

/**
 * Commits a whole folder tree to a new bare repository (so relative references between folders
 * keep working) and returns its path. The folder is copied, never changed.
 */
export async function commitFolder(bareRepo: string, folder: string, message = 'import'): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-git-'));
  try {
    await cp(folder, work, { recursive: true, filter: (src) => !src.split('/').includes('.git') });
    await initAndCommit(work, message);
    await git(['push', '--quiet', bareRepo, 'HEAD:refs/heads/main'], { cwd: work });
    return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function initAndCommit(work: string, message: string): Promise<void> {
  await git(['init', '--quiet', '--initial-branch=main'], { cwd: work });
  await git(['add', '--all'], { cwd: work });
  await git(
    [
      '-c',
      'user.name=Cairn Test',
      '-c',
      'user.email=test@cairn.dev',
      'commit',
      '--quiet',
      '--allow-empty',
      '-m',
      message,
    ],
    { cwd: work },
  );
}
