// One bare mirror per repository in a cache folder, fetched incrementally and only when the
// wanted commit is missing, and a read-only tree per commit: the artifact later stages read.
//
//   <cacheDir>/mirrors/<digest of the URL>.git   bare mirror (+refs/heads/*, +refs/tags/*, pruned)
//   <cacheDir>/trees/<commit>/                   files of one commit, read-only, shared by URLs
//   <cacheDir>/scratch/                          index files, key files; removed after use
//   <cacheDir>/home/                             HOME for git, so no user configuration is read
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import {
  chmod,
  link,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  rename,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { mapLimit } from '../limit.ts';
import { ASKPASS_SCRIPT, credentialsProblem, prepareAuth, type GitCredentials } from './credentials.ts';
import { classifyGitFailure, SourceError, SourceErrorReason } from './errors.ts';
import {
  gitConfigArgs,
  gitEnvironment,
  GitCommandError,
  parseObjectsSize,
  parseTreeEntries,
  runGit,
  treeBytes,
  type TreeEntry,
} from './git.ts';
import {
  describeRef,
  FOR_EACH_REF_FORMAT,
  parseForEachRef,
  parseGitRef,
  parseLsRemote,
  RefError,
  resolveRef,
  type GitRef,
  type RefQuery,
  type RemoteRef,
  type Resolution,
} from './refs.ts';
import { displayRawUrl, mirrorName, parseGitUrl, UrlError, type GitUrl, type Transport } from './url.ts';

/** An immutable snapshot of a repository at one commit. */
export interface Artifact {
  /** The repository URL, without credentials. */
  url: string;
  /** The full ref that was followed (`refs/heads/main`, `refs/tags/v1.4.2`), or the SHA asked for. */
  ref: string;
  /** Full 40-hex commit SHA. */
  commit: string;
  /** The commit message's subject line, at most `SUBJECT_LIMIT` characters: for people to read. */
  subject: string;
  /** Absolute path of the commit's files, read-only, shared by everyone who asks for this commit. */
  dir: string;
}

export interface GitRemote {
  url: string;
  credentials?: GitCredentials;
}

export interface GitSourceSpec extends GitRemote {
  ref: GitRef;
}

/** What `update` did to a mirror. */
export interface MirrorUpdate {
  url: string;
  /** Refs that were added, moved or removed, sorted. */
  changed: string[];
}

export const SourceEventKind = {
  /** The remote's refs were listed (every call does this: it also proves access). */
  ListedRefs: 'listed-refs',
  /** Objects were fetched into the mirror. */
  Fetched: 'fetched',
  /** The mirror already had the wanted commit: no fetch. */
  FetchSkipped: 'fetch-skipped',
  /** A commit's tree was written. */
  TreeWritten: 'tree-written',
  /** A commit's tree already existed. */
  TreeReused: 'tree-reused',
} as const;
export type SourceEventKind = (typeof SourceEventKind)[keyof typeof SourceEventKind];

export interface SourceEvent {
  kind: SourceEventKind;
  /** Without credentials. */
  url: string;
  commit?: string;
  durationMs: number;
}

export interface MirrorOptions {
  /** Holds mirrors, trees and scratch files; created with mode 0700. Disposable. */
  cacheDir: string;
  /** Allow plain `http://` URLs (credentials would cross the network in clear text). */
  allowHttp: boolean;
  /** Allow `file:///` URLs (repositories on this machine). */
  allowFile: boolean;
  /** Each git command, with its ssh or HTTP helper, is killed after this long. */
  commandTimeoutMs: number;
  /** After a fetch, a mirror whose objects take more bytes than this is deleted and the call fails. */
  maxMirrorBytes: number;
  /** A commit whose files add up to more bytes than this is not written out. */
  maxTreeBytes: number;
  /**
   * A commit's tree nobody asked for in this long is removed (the newest trees of each mirror
   * stay); it is written again if asked for later. When a tree was last asked for is its folder's
   * modification time, so processes that share a cache see each other's use.
   */
  keepTreesMs: number;
  /** The git executable, looked up on PATH. */
  git: string;
  /** Told about network operations and trees (for logs and metrics). */
  onEvent: (event: SourceEvent) => void;
  /** The environment proxies, PATH and CA settings are taken from. */
  env: NodeJS.ProcessEnv;
  /** Measures durations; passed in so tests can fix it. */
  now: () => number;
  /** Wall-clock milliseconds, for when trees were last asked for; passed in so tests can move it. */
  clock: () => number;
}

export function defaultMirrorOptions(): MirrorOptions {
  const cacheHome = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return {
    cacheDir: join(cacheHome, 'cairn', 'git'),
    allowHttp: false,
    allowFile: false,
    commandTimeoutMs: 120_000,
    maxMirrorBytes: 2 * 1024 ** 3,
    maxTreeBytes: 1024 ** 3,
    keepTreesMs: 10 * 60_000,
    git: 'git',
    onEvent: () => {},
    env: process.env,
    now: () => performance.now(),
    clock: () => Date.now(),
  };
}

const FETCH_REFSPECS = ['+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'];

/** Subjects are shown in tables and status; a longer one is cut (in characters, not bytes). */
export const SUBJECT_LIMIT = 200;

/** Runs git for one call: credentials in the environment, secrets redacted. */
type Git = (args: string[], extraEnv?: Record<string, string>, input?: string) => Promise<string>;

/** Trees kept per mirror whatever their age: the head, and the one before it (a render may be on it). */
const NEWEST_TREES_KEPT = 2;
/** A temporary tree folder older than this was left by a process that stopped. */
const ABANDONED_AFTER_MS = 60 * 60_000;

export class GitMirrors {
  readonly options: MirrorOptions;
  readonly #cacheDir: string;
  readonly #locks = new Map<string, Promise<void>>();
  /** Recent changedPaths answers, oldest first. */
  readonly #changes = new Map<string, Promise<string[] | undefined>>();
  /** The commits whose trees each mirror wrote or served last, newest last. */
  readonly #newest = new Map<string, string[]>();
  /** When this process last marked each tree as asked for (options.clock). */
  readonly #touched = new Map<string, number>();
  #sweeping = false;
  #ready: Promise<void> | undefined;

  constructor(options: MirrorOptions) {
    this.options = options;
    this.#cacheDir = resolve(options.cacheDir);
  }

  /** Where the mirror of a repository lives (whether or not it exists yet). */
  /**
   * The tree of a commit this cache already holds, without contacting any remote: what an
   * Application reads after its GitRepository fetched. Undefined when it is not there (yet).
   */
  async localTree(commit: string): Promise<string | undefined> {
    if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
    const dir = join(this.#dir('trees'), commit);
    if (!(await isDirectory(dir))) return undefined;
    await this.#touch(commit);
    return dir;
  }

  /**
   * The paths of files that differ between two commits the mirror of `url` holds, without
   * contacting the remote; undefined when either commit or the mirror is missing. Cheap: it
   * compares trees, so a commit that touched one folder of a thousand costs one folder's worth.
   */
  changedPaths(url: string, from: string, to: string): Promise<string[] | undefined> {
    // Every Application of a repository asks the same question after a push: answer it once.
    const key = `${url} ${from} ${to}`;
    let answer = this.#changes.get(key);
    if (!answer) {
      answer = this.#diffTrees(url, from, to);
      this.#changes.set(key, answer);
      if (this.#changes.size > 32) this.#changes.delete(this.#changes.keys().next().value!);
      // A missing mirror or commit may be there next time.
      void answer.then((paths) => paths === undefined && this.#changes.delete(key));
    }
    return answer;
  }

  async #diffTrees(url: string, from: string, to: string): Promise<string[] | undefined> {
    if (!/^[0-9a-f]{40}$/.test(from) || !/^[0-9a-f]{40}$/.test(to)) return undefined;
    const mirror = this.mirrorPath(url);
    if (!(await isDirectory(mirror))) return undefined;
    try {
      const out = await runGit({
        git: this.options.git,
        args: [...gitConfigArgs(this.options.allowFile), ...diffTreeArgs(mirror, from, to)],
        cwd: this.#dir('home'),
        env: gitEnvironment({
          home: this.#dir('home'),
          allowed: [],
          inherited: this.options.env,
          connectTimeoutS: 1,
        }),
        timeoutMs: this.options.commandTimeoutMs,
        secrets: [],
      });
      return namesOf(out);
    } catch (e) {
      if (e instanceof GitCommandError) return undefined;
      throw e;
    }
  }

  mirrorPath(url: string): string {
    return join(this.#cacheDir, 'mirrors', `${mirrorName(this.#parseUrl(url).key)}.git`);
  }

  /**
   * Resolves a ref to a commit and returns that commit's read-only tree. Lists the remote's refs
   * every time (cheap, and proves the caller's credentials still grant access); fetches only when
   * the mirror lacks the commit.
   */
  async fetch(spec: GitSourceSpec): Promise<Artifact> {
    const remote = this.#remote(spec);
    let query: RefQuery;
    try {
      query = parseGitRef(spec.ref);
    } catch (e) {
      if (e instanceof RefError)
        throw new SourceError(remote.url.display, SourceErrorReason.InvalidRef, e.message);
      throw e;
    }
    return this.#session(remote, async (git, openMirror) => {
      const display = remote.url.display;
      const advertised = await this.#listRemote(git, remote.url, query);
      let wanted = this.#resolve(display, advertised, query);
      // Only a repository that answered gets a mirror.
      const mirror = await openMirror();
      if (await this.#hasCommit(git, mirror, wanted.commit)) {
        this.#emit(SourceEventKind.FetchSkipped, display, this.options.now(), wanted.commit);
      } else {
        await this.#fetchInto(
          git,
          mirror,
          remote.url,
          query.kind === 'name' ? [`+${query.value}:${query.value}`] : [],
        );
        if (!(await this.#hasCommit(git, mirror, wanted.commit))) {
          if (query.kind === 'commit') {
            throw new SourceError(
              display,
              SourceErrorReason.RefNotFound,
              `${describeRef(query)} not found in any branch or tag`,
            );
          }
          // The ref moved between listing and fetching: answer from what was fetched.
          wanted = this.#resolve(display, await this.#localRefs(git, mirror), query);
        }
      }
      const commit = await this.#peel(git, mirror, display, wanted);
      const dir = await this.#materialise(git, mirror, display, commit);
      const subject = await this.#subject(git, mirror, commit);
      return { url: display, ref: wanted.ref, commit, subject, dir };
    });
  }

  /**
   * Fetches every branch and tag into the mirror now (for a push webhook), following force-pushes
   * and deletions, and reports which refs changed.
   */
  async update(remote: GitRemote): Promise<MirrorUpdate> {
    const parsed = this.#remote(remote);
    return this.#session(parsed, async (git, openMirror) => {
      const mirror = await openMirror();
      const before = await this.#localRefs(git, mirror);
      await this.#fetchInto(git, mirror, parsed.url, []);
      const after = await this.#localRefs(git, mirror);
      return { url: parsed.url.display, changed: changedRefs(before, after) };
    });
  }

  #parseUrl(url: unknown): GitUrl {
    if (typeof url !== 'string')
      throw new SourceError('<no url>', SourceErrorReason.InvalidUrl, 'url must be a string');
    try {
      return parseGitUrl(url, this.options);
    } catch (e) {
      if (e instanceof UrlError) {
        throw new SourceError(
          displayRawUrl(url),
          SourceErrorReason.InvalidUrl,
          `invalid repository URL: it ${e.message}`,
        );
      }
      throw e;
    }
  }

  #remote(remote: GitRemote): { url: GitUrl; credentials: GitCredentials | undefined } {
    const url = this.#parseUrl(remote.url);
    let credentials = remote.credentials;
    if (url.embedded) {
      if (credentials) {
        throw new SourceError(
          url.display,
          SourceErrorReason.InvalidUrl,
          'credentials are given both in the URL and separately; keep them out of the URL',
        );
      }
      credentials = { kind: 'basic', ...url.embedded };
    }
    const problem = credentialsProblem(url, credentials);
    if (problem) throw new SourceError(url.display, SourceErrorReason.AuthFailed, problem);
    return { url, credentials };
  }

  /** Serialises work on one repository and gives it a git runner with the caller's credentials. */
  async #session<T>(
    remote: { url: GitUrl; credentials: GitCredentials | undefined },
    work: (git: Git, openMirror: () => Promise<string>) => Promise<T>,
  ): Promise<T> {
    const display = remote.url.display;
    await this.#prepare().catch((e: unknown) => {
      throw new SourceError(display, SourceErrorReason.Failed, `cannot prepare the cache: ${message(e)}`);
    });
    const connectTimeoutS = Math.max(1, Math.ceil(this.options.commandTimeoutMs / 1000));
    return this.#locked(remote.url.key, async () => {
      const auth = await prepareAuth({
        credentials: remote.credentials,
        scratch: this.#dir('scratch'),
        askpass: this.#dir('askpass'),
        connectTimeoutS,
      }).catch((e: unknown) => {
        throw new SourceError(display, SourceErrorReason.Failed, `cannot prepare credentials: ${message(e)}`);
      });
      const env = {
        ...gitEnvironment({
          home: this.#dir('home'),
          allowed: this.#allowedTransports(),
          inherited: this.options.env,
          connectTimeoutS,
        }),
        // Never look for a repository above our own folders (its config would apply).
        GIT_CEILING_DIRECTORIES: this.#cacheDir,
        ...auth.env,
      };
      const config = gitConfigArgs(this.options.allowFile);
      const git: Git = async (args, extraEnv, input) => {
        try {
          return await runGit({
            git: this.options.git,
            args: [...config, ...args],
            cwd: this.#dir('home'),
            env: { ...env, ...extraEnv },
            timeoutMs: this.options.commandTimeoutMs,
            secrets: auth.secrets,
            ...(input !== undefined ? { input } : {}),
          });
        } catch (e) {
          if (!(e instanceof GitCommandError)) throw e;
          throw new SourceError(display, classifyGitFailure(e.stderr, e.timedOut), e.message, { cause: e });
        }
      };
      let created: string | undefined;
      const openMirror = async () => {
        const mirror = await this.#ensureMirror(git, remote.url);
        if (mirror.created) created = mirror.path;
        return mirror.path;
      };
      try {
        return await work(git, openMirror);
      } catch (e) {
        // A mirror this call created and could not fill is of no use to the next one.
        if (created && (await this.#localRefs(git, created).catch(() => [])).length === 0) {
          await rm(created, { recursive: true, force: true });
        }
        throw e;
      } finally {
        await auth.dispose();
      }
    });
  }

  #allowedTransports(): Transport[] {
    return [
      'https',
      'ssh',
      ...(this.options.allowHttp ? (['http'] as const) : []),
      ...(this.options.allowFile ? (['file'] as const) : []),
    ];
  }

  #dir(name: 'mirrors' | 'trees' | 'scratch' | 'home' | 'askpass'): string {
    return join(this.#cacheDir, name);
  }

  /** Creates the cache folders and the askpass program once per instance. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#cacheDir, { recursive: true, mode: 0o700 });
      for (const name of ['mirrors', 'trees', 'scratch', 'home'] as const) {
        await mkdir(this.#dir(name), { recursive: true, mode: 0o700 });
      }
      const temp = join(this.#dir('scratch'), `askpass-${randomBytes(6).toString('hex')}`);
      await writeFile(temp, ASKPASS_SCRIPT, { mode: 0o700 });
      await rename(temp, this.#dir('askpass'));
    })().catch((e: unknown) => {
      // The next call tries again (the folder may have been fixed meanwhile).
      this.#ready = undefined;
      throw e;
    });
    return this.#ready;
  }

  async #locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((done) => (release = done));
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  /** The mirror of a repository, created (atomically) on first use. */
  async #ensureMirror(git: Git, url: GitUrl): Promise<{ path: string; created: boolean }> {
    const path = join(this.#dir('mirrors'), `${mirrorName(url.key)}.git`);
    if (await isDirectory(path)) return { path, created: false };
    const temp = await mkdtemp(join(this.#dir('mirrors'), '.new-'));
    try {
      await git(['init', '--quiet', '--bare', '--template=', temp]);
      for (const [key, value] of [
        ['core.logAllRefUpdates', 'false'],
        ['gc.autoDetach', 'false'],
      ] as const) {
        await git(['--git-dir', temp, 'config', key, value]);
      }
      // For a person looking at the cache: which repository this is.
      await writeFile(join(temp, 'description'), `${url.key}\n`);
      try {
        await rename(temp, path);
        return { path, created: true };
      } catch (e) {
        // Another process created it first; use theirs.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
        await rm(temp, { recursive: true, force: true });
        return { path, created: false };
      }
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e;
    }
  }

  async #listRemote(git: Git, url: GitUrl, query: RefQuery): Promise<RemoteRef[]> {
    const started = this.options.now();
    // A pattern narrows the listing, but hides the peeled line of an annotated tag: tags are
    // listed in full.
    const selection =
      query.kind === 'branch'
        ? ['--', url.fetchUrl, `refs/heads/${query.value}`]
        : query.kind === 'tag' || query.kind === 'semver'
          ? ['--tags', '--', url.fetchUrl]
          : query.kind === 'commit'
            ? ['--heads', '--', url.fetchUrl]
            : ['--', url.fetchUrl];
    const output = await git(['ls-remote', ...selection]);
    this.#emit(SourceEventKind.ListedRefs, url.display, started);
    try {
      return parseLsRemote(output);
    } catch (e) {
      throw new SourceError(url.display, SourceErrorReason.Failed, message(e));
    }
  }

  #resolve(display: string, refs: RemoteRef[], query: RefQuery): Resolution {
    try {
      return resolveRef(refs, query);
    } catch (e) {
      if (e instanceof RefError) throw new SourceError(display, SourceErrorReason.RefNotFound, e.message);
      throw e;
    }
  }

  async #localRefs(git: Git, mirror: string): Promise<RemoteRef[]> {
    return parseForEachRef(
      await git(['--git-dir', mirror, 'for-each-ref', `--format=${FOR_EACH_REF_FORMAT}`]),
    );
  }

  /** True when the mirror has `oid` and it is (or an annotated tag peels to) a commit. */
  async #hasCommit(git: Git, mirror: string, oid: string): Promise<boolean> {
    try {
      await git(['--git-dir', mirror, 'cat-file', '-e', `${oid}^{commit}`]);
      return true;
    } catch (e) {
      if (e instanceof SourceError && e.reason === SourceErrorReason.Failed) return false;
      throw e;
    }
  }

  async #fetchInto(git: Git, mirror: string, url: GitUrl, extraRefspecs: string[]): Promise<void> {
    const started = this.options.now();
    await git([
      '--git-dir',
      mirror,
      'fetch',
      '--quiet',
      '--prune',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      '--',
      url.fetchUrl,
      ...FETCH_REFSPECS,
      ...extraRefspecs,
    ]);
    this.#emit(SourceEventKind.Fetched, url.display, started);
    const size = parseObjectsSize(await git(['--git-dir', mirror, 'count-objects', '-v']));
    if (size > this.options.maxMirrorBytes) {
      await rm(mirror, { recursive: true, force: true });
      throw new SourceError(
        url.display,
        SourceErrorReason.TooLarge,
        `the repository takes ${formatBytes(size)}, over the limit of ${formatBytes(this.options.maxMirrorBytes)} (maxMirrorBytes); its mirror was removed`,
      );
    }
  }

  async #peel(git: Git, mirror: string, display: string, wanted: Resolution): Promise<string> {
    const commit = (
      await git([
        '--git-dir',
        mirror,
        'rev-parse',
        '--verify',
        '--end-of-options',
        `${wanted.commit}^{commit}`,
      ])
    ).trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) {
      throw new SourceError(
        display,
        SourceErrorReason.Failed,
        `${wanted.ref} resolved to ${JSON.stringify(commit)}`,
      );
    }
    return commit;
  }

  async #subject(git: Git, mirror: string, commit: string): Promise<string> {
    const out = await git(['--git-dir', mirror, 'log', '-1', '--no-show-signature', '--format=%s', commit]);
    return commitSubject(out);
  }

  /**
   * Writes a commit's files to `trees/<commit>` (read-only), or reuses what is there. Files the
   * commit shares with the mirror's newest tree are hard links to it (trees are never written
   * after they are made), so a push that changed one folder of a thousand writes one folder's
   * files; only the folders themselves are made anew.
   */
  async #materialise(git: Git, mirror: string, display: string, commit: string): Promise<string> {
    const started = this.options.now();
    const dir = join(this.#dir('trees'), commit);
    if (await isDirectory(dir)) {
      await this.#served(mirror, commit);
      this.#emit(SourceEventKind.TreeReused, display, started, commit);
      return dir;
    }
    const entries = parseTreeEntries(
      await git(['--git-dir', mirror, 'ls-tree', '-r', '-l', '-z', '--full-tree', commit]),
    );
    const size = treeBytes(entries);
    if (size > this.options.maxTreeBytes) {
      throw new SourceError(
        display,
        SourceErrorReason.TooLarge,
        `commit ${commit} has ${formatBytes(size)} of files, over the limit of ${formatBytes(this.options.maxTreeBytes)} (maxTreeBytes)`,
      );
    }
    // Written beside its final place, so the rename is atomic and needs no write access to it.
    let temp = await mkdtemp(join(this.#dir('trees'), `.${commit}-`));
    const index = join(this.#dir('scratch'), `index-${randomBytes(8).toString('hex')}`);
    try {
      await git(['--git-dir', mirror, 'read-tree', commit], { GIT_INDEX_FILE: index });
      const linked = await this.#linkUnchanged(git, mirror, commit, entries, temp).catch(async () => {
        // A base tree that cannot serve (removed meanwhile, say): write every file instead.
        await removeWritable(temp);
        temp = await mkdtemp(join(this.#dir('trees'), `.${commit}-`));
        return undefined;
      });
      const written = ['--git-dir', mirror, '--work-tree', temp];
      if (!linked) {
        await git([...written, 'checkout-index', '--all', '--force'], { GIT_INDEX_FILE: index });
        await makeReadOnly(temp);
      } else {
        if (linked.rest.length > 0) {
          await git(
            [...written, 'checkout-index', '--force', '-z', '--stdin'],
            { GIT_INDEX_FILE: index },
            linked.rest.map((e) => e.path).join('\0'),
          );
        }
        // The linked files are read-only already: they are the base tree's.
        await dropWrite([
          ...linked.rest.filter((e) => e.mode !== '120000').map((e) => join(temp, e.path)),
          ...linked.dirs.map((d) => join(temp, d)),
          temp,
        ]);
      }
      try {
        await rename(temp, dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Another caller (a fork with the same commit, another process) wrote it first.
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      }
      await this.#served(mirror, commit);
      this.#emit(SourceEventKind.TreeWritten, display, started, commit);
      void this.#sweepTrees();
      return dir;
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError(
        display,
        SourceErrorReason.Failed,
        `cannot write the tree of ${commit}: ${message(e)}`,
      );
    } finally {
      await removeWritable(temp);
      await rm(index, { force: true });
    }
  }

  /**
   * Makes the folders of `entries` under `temp` and hard-links every regular file the mirror's
   * newest tree has unchanged; returns the folders made and the entries still to check out.
   * Undefined when there is no base tree or too little to share.
   */
  async #linkUnchanged(
    git: Git,
    mirror: string,
    commit: string,
    entries: TreeEntry[],
    temp: string,
  ): Promise<{ dirs: string[]; rest: TreeEntry[] } | undefined> {
    const baseCommit = this.#newest.get(mirror)?.at(-1);
    if (!baseCommit || baseCommit === commit || entries.some((e) => e.type !== 'blob')) return undefined;
    const base = join(this.#dir('trees'), baseCommit);
    if (!(await isDirectory(base))) return undefined;
    const changed = new Set(namesOf(await git(diffTreeArgs(mirror, baseCommit, commit))));
    const shared = (e: TreeEntry) => (e.mode === '100644' || e.mode === '100755') && !changed.has(e.path);
    const linkable = entries.filter(shared);
    // A small tree, or one mostly changed: one checkout costs less than linking.
    if (linkable.length < 32 || linkable.length < entries.length / 2) return undefined;
    const dirs = new Set<string>();
    for (const e of entries) {
      for (let d = dirname(e.path); d !== '.' && !dirs.has(d); d = dirname(d)) dirs.add(d);
    }
    // A level at a time, parents first.
    const levels = Map.groupBy(dirs, (d) => d.split('/').length);
    for (const depth of [...levels.keys()].sort((a, b) => a - b))
      await mapLimit(levels.get(depth)!, FS_PARALLEL, (d) => mkdir(join(temp, d)));
    await mapLimit(linkable, FS_PARALLEL, (e) => link(join(base, e.path), join(temp, e.path)));
    return { dirs: [...dirs], rest: entries.filter((e) => !shared(e)) };
  }

  /**
   * Marks a tree as asked for now: its folder's modification time, set at most every tenth of
   * `keepTreesMs` (an Application reads its tree at every render).
   */
  async #touch(commit: string): Promise<void> {
    const now = this.options.clock();
    if (now - (this.#touched.get(commit) ?? -Infinity) < this.options.keepTreesMs / 10) return;
    this.#touched.set(commit, now);
    await utimes(join(this.#dir('trees'), commit), new Date(now), new Date(now)).catch(() => {});
  }

  /** Remembers that a mirror wrote or served a commit's tree just now. */
  async #served(mirror: string, commit: string): Promise<void> {
    await this.#touch(commit);
    const newest = (this.#newest.get(mirror) ?? []).filter((c) => c !== commit);
    newest.push(commit);
    this.#newest.set(mirror, newest.slice(-NEWEST_TREES_KEPT));
  }

  /**
   * Removes trees nobody asked for in `keepTreesMs` (by any process sharing the cache), except the
   * newest of each mirror of this one: without this, every commit of a busy repository would stay
   * on disk.
   */
  async #sweepTrees(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      const now = this.options.clock();
      const kept = new Set([...this.#newest.values()].flat());
      for (const name of await readdir(this.#dir('trees'))) {
        const path = join(this.#dir('trees'), name);
        if (name.startsWith('.')) {
          // Half-written or half-removed by a process that stopped; an hour leaves any live one be.
          if (now - (await lstat(path)).mtimeMs > ABANDONED_AFTER_MS) await removeWritable(path);
          continue;
        }
        if (!/^[0-9a-f]{40}$/.test(name) || kept.has(name)) continue;
        if (now - (await lstat(path)).mtimeMs < this.options.keepTreesMs) continue;
        // Out of sight first (atomically), so nobody finds half a tree.
        const doomed = join(this.#dir('trees'), `.old-${name}-${randomBytes(4).toString('hex')}`);
        await rename(path, doomed);
        this.#touched.delete(name);
        await removeWritable(doomed);
      }
    } catch {
      // The next write sweeps again.
    } finally {
      this.#sweeping = false;
    }
  }

  #emit(kind: SourceEventKind, url: string, started: number, commit?: string): void {
    this.options.onEvent({
      kind,
      url,
      durationMs: this.options.now() - started,
      ...(commit ? { commit } : {}),
    });
  }
}

/** git's `%s` output as one line of at most `SUBJECT_LIMIT` characters, control characters removed. */
export function commitSubject(raw: string): string {
  // eslint-disable-next-line no-control-regex
  const line = raw.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  const chars = Array.from(line);
  return chars.length > SUBJECT_LIMIT ? `${chars.slice(0, SUBJECT_LIMIT - 1).join('')}…` : line;
}

/** Refs added, moved or removed between two listings, sorted. */
export function changedRefs(before: RemoteRef[], after: RemoteRef[]): string[] {
  const old = new Map(before.map((r) => [r.name, r.oid]));
  const now = new Map(after.map((r) => [r.name, r.oid]));
  const names = new Set([...old.keys(), ...now.keys()]);
  return [...names].filter((name) => old.get(name) !== now.get(name)).sort();
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** `git diff-tree` naming the files two commits differ in (a rename as a deletion and an addition). */
function diffTreeArgs(mirror: string, from: string, to: string): string[] {
  return ['--git-dir', mirror, 'diff-tree', '-r', '-z', '--name-only', '--no-renames', from, to];
}

/** Paths from `-z` output. */
const namesOf = (out: string): string[] => out.split('\0').filter(Boolean);

/** File-system calls a tree write keeps in flight (they wait on the disk, not on this process). */
const FS_PARALLEL = 16;

/** Drops every write permission below and at `root` (symbolic links have none of their own). */
async function makeReadOnly(root: string): Promise<void> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  await dropWrite(entries.filter((e) => !e.isSymbolicLink()).map((e) => join(e.parentPath, e.name)));
  await chmod(root, 0o555);
}

/** Drops the write permissions of each path (files and folders, not symbolic links). */
async function dropWrite(paths: string[]): Promise<void> {
  await mapLimit(paths, FS_PARALLEL, async (path) => {
    const mode = (await lstat(path)).mode & 0o777;
    await chmod(path, mode & 0o555);
  });
}

/** Removes a folder that may hold read-only folders (left by a failed write). */
async function removeWritable(root: string): Promise<void> {
  if (!(await isDirectory(root))) return;
  const dirs = (await readdir(root, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory());
  await chmod(root, 0o700).catch(() => {});
  for (const dir of dirs) await chmod(join(dir.parentPath, dir.name), 0o700).catch(() => {});
  await rm(root, { recursive: true, force: true });
}
