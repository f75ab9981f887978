// Writing to a repository: files in, one commit on a branch pushed out, or none when the branch
// already holds exactly those files. Used by `cairn bootstrap`; the same git environment and
// out-of-band credentials as the mirrors that read.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ASKPASS_SCRIPT, credentialsProblem, prepareAuth, type GitCredentials } from './credentials.ts';
import { GitCommandError, gitConfigArgs, gitEnvironment, runGit } from './git.ts';
import { parseGitUrl, type GitUrl, type Transport } from './url.ts';

export interface RepositoryFile {
  /** Relative to the repository root, with `/`. */
  path: string;
  content: string;
}

export interface PublishOptions {
  url: string;
  branch: string;
  credentials?: GitCredentials;
  allowHttp: boolean;
  message: string;
  author: { name: string; email: string };
  git: string;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
}

export function defaultPublishOptions(): Omit<PublishOptions, 'url' | 'branch' | 'message'> {
  return {
    allowHttp: false,
    author: { name: 'Cairn', email: 'cairn@cairn.dev' },
    git: 'git',
    timeoutMs: 120_000,
    env: process.env,
  };
}

export interface PublishResult {
  /** The head of the branch afterwards. */
  commit: string;
  /** Whether this call made (and pushed) a commit. */
  committed: boolean;
  /** Files whose content changed in that commit. */
  changed: string[];
  /** The URL as messages show it, without credentials. */
  display: string;
}

export class PublishError extends Error {
  override name = 'PublishError';
}

/**
 * Makes the branch hold `files` (other files are left alone): fetches the branch (an empty
 * repository or a missing branch starts one), writes, and commits and pushes only if a file
 * differs. A push that loses a race is an error, never a force-push.
 */
export async function publishFiles(
  files: readonly RepositoryFile[],
  options: PublishOptions,
): Promise<PublishResult> {
  let url: GitUrl;
  try {
    url = parseGitUrl(options.url, { allowHttp: options.allowHttp, allowFile: false });
  } catch (e) {
    throw new PublishError(`${options.url}: ${(e as Error).message}`, { cause: e });
  }
  const credentials =
    options.credentials ?? (url.embedded ? { kind: 'basic' as const, ...url.embedded } : undefined);
  const problem = credentialsProblem(url, credentials);
  if (problem) throw new PublishError(`${url.display}: ${problem}`);
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').some((p) => p === '..' || p === '' || p === '.git'))
      throw new PublishError(`${f.path}: not a plain path inside the repository`);
  }

  const scratch = await mkdtemp(join(tmpdir(), 'cairn-publish-'));
  try {
    await chmod(scratch, 0o700);
    const askpass = join(scratch, `askpass-${randomBytes(4).toString('hex')}`);
    await writeFile(askpass, ASKPASS_SCRIPT, { mode: 0o700 });
    const connectTimeoutS = Math.max(1, Math.ceil(options.timeoutMs / 1000));
    const auth = await prepareAuth({ credentials, scratch, askpass, connectTimeoutS });
    const allowed: Transport[] = ['https', 'ssh', ...(options.allowHttp ? (['http'] as const) : [])];
    const work = join(scratch, 'work');
    await mkdir(work);
    const env = {
      ...gitEnvironment({ home: join(scratch, 'home'), allowed, inherited: options.env, connectTimeoutS }),
      GIT_CEILING_DIRECTORIES: scratch,
      ...auth.env,
    };
    const git = (args: string[]) =>
      runGit({
        git: options.git,
        args: [...gitConfigArgs(false), ...args],
        cwd: work,
        env,
        timeoutMs: options.timeoutMs,
        secrets: auth.secrets,
      }).catch((e: unknown) => {
        throw new PublishError(`${url.display}: ${(e as Error).message}`, { cause: e });
      });
    try {
      await git(['init', '--quiet', `--initial-branch=${options.branch}`]);
      await git(['remote', 'add', 'origin', url.fetchUrl]);
      const exists =
        (await git(['ls-remote', '--heads', 'origin', `refs/heads/${options.branch}`])).trim() !== '';
      if (exists) {
        await git(['fetch', '--quiet', '--depth=1', 'origin', `refs/heads/${options.branch}`]);
        await git(['checkout', '--quiet', '-B', options.branch, 'FETCH_HEAD']);
      }
      const changed: string[] = [];
      for (const f of files) {
        const target = join(work, ...f.path.split('/'));
        const before = await readFile(target, 'utf8').catch(() => undefined);
        if (before === f.content) continue;
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, f.content);
        changed.push(f.path);
      }
      if (changed.length === 0) {
        return {
          commit: (await git(['rev-parse', 'HEAD'])).trim(),
          committed: false,
          changed,
          display: url.display,
        };
      }
      await git(['add', '--', ...changed]);
      await git([
        '-c',
        `user.name=${options.author.name}`,
        '-c',
        `user.email=${options.author.email}`,
        'commit',
        '--quiet',
        '--no-verify',
        '-m',
        options.message,
      ]);
      await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${options.branch}`]);
      return {
        commit: (await git(['rev-parse', 'HEAD'])).trim(),
        committed: true,
        changed,
        display: url.display,
      };
    } finally {
      await auth.dispose();
    }
  } catch (e) {
    if (e instanceof PublishError) throw e;
    if (e instanceof GitCommandError) throw new PublishError(`${url.display}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
