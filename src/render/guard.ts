// The one path guard: every file or folder a repository names (kustomize resources and patches,
// values files, chart dependencies, symlinks met while walking a folder) is resolved here, one
// component at a time, and must stay inside the repository root. Symlinks are followed the way the
// kernel does (`..` after a symlinked folder climbs from its real location), absolute symlinks are
// refused outright, and a symlink whose target is missing is a clear error.
import { createHash } from 'node:crypto';
import { lstat, open, readlink, realpath, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { RenderError, RenderErrorReason, displayText } from './errors.ts';
import type { RenderLimits } from './types.ts';

/** Who names a path: the repository file and its field, for messages. */
export interface PathNamer {
  file: string;
  field: string;
}

/** A symlink crossed while resolving: where it is (real, repository-relative) and its text. */
export interface CrossedLink {
  at: string;
  target: string;
}

export interface RepoPath {
  /** Repository-relative, normalised, as named. */
  path: string;
  /** Repository-relative after every symlink is resolved. */
  real: string;
  absolute: string;
  kind: 'file' | 'dir';
  links: CrossedLink[];
}

const MAX_LINK_HOPS = 40;

/** The realpath of the artifact root; every check compares against it. */
export async function openRoot(root: string): Promise<string> {
  if (!posix.isAbsolute(root)) {
    throw new RenderError(
      root,
      RenderErrorReason.InvalidRequest,
      'the artifact root must be an absolute path',
    );
  }
  try {
    const real = await realpath(root);
    if (!(await stat(real)).isDirectory()) throw new Error('not a directory');
    return real;
  } catch (e) {
    throw new RenderError(root, RenderErrorReason.NotFound, 'the artifact root is not a readable folder', {
      cause: e,
    });
  }
}

/** Looks like a URL or a Helm/go-getter scheme (`file://`, `secrets://`, `git::`). */
export function looksLikeUrl(name: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(name) || /^[a-zA-Z][a-zA-Z0-9+.-]*::/.test(name);
}

/**
 * `name` as written in `namer.file`, relative to the repository folder `base`: normalised and
 * checked to stay inside the repository by its letters alone (symlinks come later).
 */
export function joinInside(base: string, name: string, namer: PathNamer): string {
  const shown = JSON.stringify(displayText(name));
  if (typeof name !== 'string' || name === '') {
    throw new RenderError(namer.file, RenderErrorReason.InvalidRequest, `${namer.field}: an empty path`);
  }
  if (name.includes('\0')) {
    throw new RenderError(
      namer.file,
      RenderErrorReason.InvalidRequest,
      `${namer.field} ${shown}: a NUL byte`,
    );
  }
  if (looksLikeUrl(name)) {
    throw new RenderError(
      namer.file,
      RenderErrorReason.OutsideRepository,
      `${namer.field} ${shown} is a URL; only paths inside the repository are allowed`,
    );
  }
  if (posix.isAbsolute(name) || /^[a-zA-Z]:[\\/]/.test(name) || name.startsWith('\\')) {
    throw new RenderError(
      namer.file,
      RenderErrorReason.OutsideRepository,
      `${namer.field} ${shown} is an absolute path; only paths inside the repository are allowed`,
    );
  }
  const joined = posix.normalize(posix.join(base === '' ? '.' : base, name));
  if (joined === '..' || joined.startsWith('../')) {
    throw new RenderError(
      namer.file,
      RenderErrorReason.OutsideRepository,
      `${namer.field} ${shown} points outside the repository`,
    );
  }
  return joined === '.' ? '' : joined.replace(/\/$/, '');
}

interface Part {
  name: string;
  /** The symlink whose target text this component came from. */
  via?: CrossedLink;
}

function splitParts(path: string, via?: CrossedLink): Part[] {
  return path
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .map((name) => (via ? { name, via } : { name }));
}

/**
 * Resolves a repository-relative path through its symlinks. Returns undefined when the path (not a
 * symlink on it) does not exist; throws for absolute, escaping, dangling or looping symlinks.
 */
export async function resolveInside(
  rootReal: string,
  path: string,
  namer: PathNamer,
): Promise<RepoPath | undefined> {
  const parts = splitParts(path);
  const real: string[] = [];
  const links: CrossedLink[] = [];
  let hops = 0;
  let kind: 'file' | 'dir' = 'dir';
  while (parts.length > 0) {
    const part = parts.shift() as Part;
    if (part.name === '..') {
      if (real.length === 0) {
        // Only symlink targets can climb here: joinInside refused a lexical escape already.
        const link = part.via;
        throw new RenderError(
          link?.at ?? namer.file,
          RenderErrorReason.OutsideRepository,
          link
            ? `symlink to ${JSON.stringify(displayText(link.target))} points outside the repository`
            : `${namer.field} points outside the repository`,
        );
      }
      real.pop();
      continue;
    }
    const here = [...real, part.name].join('/');
    const abs = posix.join(rootReal, here);
    let info;
    try {
      info = await lstat(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (part.via) {
          throw new RenderError(
            part.via.at,
            RenderErrorReason.BadSymlink,
            `dangling symlink: its target ${JSON.stringify(displayText(part.via.target))} does not exist`,
          );
        }
        return undefined;
      }
      throw new RenderError(here, RenderErrorReason.NotFound, `cannot be read (${code ?? 'error'})`, {
        cause: e,
      });
    }
    if (info.isSymbolicLink()) {
      const target = await readlink(abs);
      const link = { at: here, target };
      if (++hops > MAX_LINK_HOPS) {
        throw new RenderError(
          here,
          RenderErrorReason.BadSymlink,
          'symlink loop (too many levels of symlinks)',
        );
      }
      if (posix.isAbsolute(target)) {
        throw new RenderError(
          here,
          RenderErrorReason.BadSymlink,
          `symlink to the absolute path ${JSON.stringify(displayText(target))}: only relative symlinks inside the repository are allowed`,
        );
      }
      links.push(link);
      parts.unshift(...splitParts(target, link));
      continue;
    }
    if (!info.isDirectory() && !info.isFile()) {
      throw new RenderError(here, RenderErrorReason.Unsupported, 'not a regular file or folder');
    }
    const next = parts[0];
    if (next && !info.isDirectory()) {
      if (next.via) {
        throw new RenderError(
          next.via.at,
          RenderErrorReason.BadSymlink,
          `dangling symlink: its target ${JSON.stringify(displayText(next.via.target))} does not exist`,
        );
      }
      return undefined;
    }
    kind = info.isDirectory() ? 'dir' : 'file';
    real.push(part.name);
  }
  const absolute = posix.join(rootReal, ...real);
  // Belt and braces: the kernel's answer must agree with the walk above.
  const kernel = await realpath(absolute);
  if (kernel !== absolute) {
    throw new RenderError(path, RenderErrorReason.OutsideRepository, 'changed while it was being resolved');
  }
  return { path, real: real.join('/'), absolute, kind, links };
}

/** resolveInside, with a missing path an error naming who named it. */
export async function requireInside(rootReal: string, path: string, namer: PathNamer): Promise<RepoPath> {
  const found = await resolveInside(rootReal, path, namer);
  if (!found) {
    throw new RenderError(
      namer.file,
      RenderErrorReason.NotFound,
      `${namer.field} ${JSON.stringify(displayText(path))} does not exist in the repository`,
    );
  }
  return found;
}

/** A file the render read: its content, digest and where it really lives. */
export interface ReadFile {
  path: string;
  real: string;
  bytes: Buffer;
  sha256: string;
}

/** What one render has consumed so far. */
export interface ReadBudget {
  bytes: number;
  entries: number;
}

export function newReadBudget(): ReadBudget {
  return { bytes: 0, entries: 0 };
}

/** Counts one more file or folder visited against `maxFiles`. */
export function chargeEntry(budget: ReadBudget, limits: RenderLimits, path: string): void {
  if (++budget.entries > limits.maxFiles) {
    throw new RenderError(
      path,
      RenderErrorReason.LimitExceeded,
      `the render visits more than ${limits.maxFiles} files and folders`,
    );
  }
}

/** Counts bytes against the per-render total. */
export function chargeBytes(budget: ReadBudget, limits: RenderLimits, path: string, bytes: number): void {
  budget.bytes += bytes;
  if (budget.bytes > limits.maxTotalBytes) {
    throw new RenderError(
      path,
      RenderErrorReason.LimitExceeded,
      `the render reads more than ${limits.maxTotalBytes} bytes in all`,
    );
  }
}

/** Reads a resolved regular file, refusing it before reading when it is over the per-file limit. */
export async function readInside(
  target: RepoPath,
  limits: RenderLimits,
  budget: ReadBudget,
  maxBytes = limits.maxFileBytes,
): Promise<ReadFile> {
  if (target.kind !== 'file') {
    throw new RenderError(target.path, RenderErrorReason.Unsupported, 'is a folder, not a file');
  }
  const handle = await open(target.absolute, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new RenderError(target.path, RenderErrorReason.Unsupported, 'not a regular file');
    if (info.size > maxBytes) {
      throw new RenderError(
        target.path,
        RenderErrorReason.LimitExceeded,
        `${info.size} bytes is over the limit of ${maxBytes} bytes per file`,
      );
    }
    chargeBytes(budget, limits, target.path, info.size);
    // Read at most one byte past the limit: a file that grows after the stat is still caught.
    const buffer = Buffer.alloc(Math.min(info.size, maxBytes) + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      throw new RenderError(
        target.path,
        RenderErrorReason.LimitExceeded,
        `over the limit of ${maxBytes} bytes per file`,
      );
    }
    const bytes = buffer.subarray(0, length);
    return {
      path: target.path,
      real: target.real,
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  } finally {
    await handle.close();
  }
}
