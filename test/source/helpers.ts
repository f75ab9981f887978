// What the source tests share: a mirror cache per test, working copies that commit and push,
// and snapshots of folders to show that nothing was transferred or left behind.
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import { git } from '../harness/index.ts';
import {
  GitMirrors,
  defaultMirrorOptions,
  type MirrorOptions,
  type SourceEvent,
} from '../../src/source/index.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'source');

/** A temporary folder removed when the test ends (read-only trees included). */
export async function scratch(t: TestContext, prefix = 'cairn-source-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(async () => {
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

async function makeWritable(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  await chmod(dir, 0o700).catch(() => {});
  for (const e of entries)
    if (e.isDirectory()) await chmod(join(e.parentPath, e.name), 0o700).catch(() => {});
}

/** A GitMirrors over a fresh cache, recording its events; http allowed for the test servers. */
export async function newMirrors(
  t: TestContext,
  options: Partial<MirrorOptions> = {},
): Promise<{ mirrors: GitMirrors; events: SourceEvent[]; cacheDir: string }> {
  const cacheDir = join(await scratch(t, 'cairn-source-cache-'), 'cache');
  const events: SourceEvent[] = [];
  const mirrors = new GitMirrors({
    ...defaultMirrorOptions(),
    cacheDir,
    allowHttp: true,
    commandTimeoutMs: 30_000,
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { mirrors, events, cacheDir };
}

const AUTHOR = ['-c', 'user.name=Cairn Test', '-c', 'user.email=test@cairn.dev'];

/** A working copy on branch `main`, to commit in and push from. */
export async function workTree(t: TestContext): Promise<string> {
  const dir = await scratch(t, 'cairn-source-work-');
  await git(['init', '--quiet', '--initial-branch=main'], { cwd: dir });
  return dir;
}

/** Writes (or, for null, deletes) files, commits everything, and returns the new commit. */
export async function commit(
  work: string,
  files: Record<string, string | null>,
  message = 'change',
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const file = join(work, path);
    if (content === null) await rm(file, { force: true });
    else {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
  }
  await git(['add', '--all'], { cwd: work });
  await git([...AUTHOR, 'commit', '--quiet', '--allow-empty', '-m', message], { cwd: work });
  return head(work);
}

export async function head(work: string): Promise<string> {
  return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
}

/** Copies a fixture folder into the working copy. */
export async function addFixture(work: string, name: string): Promise<void> {
  await cp(join(FIXTURES, name), work, { recursive: true });
}

export async function tag(work: string, name: string, options: { annotated?: boolean } = {}): Promise<void> {
  await git([...AUTHOR, 'tag', ...(options.annotated ? ['-a', '-m', name] : []), name], { cwd: work });
}

/** Pushes refspecs to a remote URL (or path); `force` allows rewriting history. */
export async function push(
  work: string,
  remote: string,
  refspecs: string[],
  options: { force?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  await git(['push', '--quiet', ...(options.force ? ['--force'] : []), remote, ...refspecs], {
    cwd: work,
    ...(options.env ? { env: options.env } : {}),
  });
}

/** Every file below `dir` with its size and modification time: equal snapshots, nothing written. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    out[relative(dir, path)] = entry.isDirectory() ? 'dir' : `${info.size}@${info.mtimeMs}`;
  }
  return out;
}

/** Names (not contents) below `dir`, sorted; a missing folder has none. */
export async function listing(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true })).sort();
  } catch {
    return [];
  }
}

/** A path in /tmp that an injected command would create; unique so a stale file cannot fool a test. */
export function markerPath(name: string): string {
  return join(tmpdir(), `cairn-${name}-${randomBytes(4).toString('hex')}`);
}
