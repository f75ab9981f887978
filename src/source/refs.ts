// What to follow in a repository, and how a list of remote refs answers it. Pure: the lists come
// from `git ls-remote` or `git for-each-ref` output, parsed here too.
import {
  compareVersions,
  maxSatisfying,
  parseRange,
  parseVersion,
  RangeSyntaxError,
  type Range,
  type Version,
} from './semver.ts';

/** The ways to name what to follow; a GitRef sets exactly one of them. */
export interface GitRefFields {
  branch: string;
  tag: string;
  /** npm-style range over tags named like versions (`v1.2.3` or `1.2.3`), e.g. `>=1.2.0 <2`, `~1.4`. */
  semver: string;
  /** A full 40-hex commit SHA, which must exist in the repository. */
  commit: string;
  /** A full ref name, e.g. `refs/pull/7/head`. */
  name: string;
}

/** Exactly one of GitRefFields, as in a GitRepository's `spec.ref`. */
export type GitRef = {
  [K in keyof GitRefFields]: Pick<GitRefFields, K> & { [O in Exclude<keyof GitRefFields, K>]?: undefined };
}[keyof GitRefFields];

export const RefKind = {
  Branch: 'branch',
  Tag: 'tag',
  Semver: 'semver',
  Commit: 'commit',
  Name: 'name',
} as const;
export type RefKind = (typeof RefKind)[keyof typeof RefKind];

/** A validated GitRef: one kind, one value, and for semver its parsed range. */
export type RefQuery =
  | { kind: 'branch' | 'tag' | 'name'; value: string }
  | { kind: 'semver'; value: string; range: Range }
  | { kind: 'commit'; value: string };

/** A ref as a remote or the mirror lists it; `peeled` is the commit an annotated tag points at. */
export interface RemoteRef {
  name: string;
  oid: string;
  peeled?: string;
}

/** How a query was answered: the full ref name (or the SHA for a commit query) and its commit. */
export interface Resolution {
  ref: string;
  commit: string;
}

/** Why a query is not acceptable, or why a list cannot answer it. */
export class RefError extends Error {
  override name = 'RefError';
  readonly notFound: boolean;
  constructor(message: string, notFound = false) {
    super(message);
    this.notFound = notFound;
  }
}

const OID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** Human form of a query for messages: `branch "main"`, `semver range ">=1 <2"`. */
export function describeRef(query: { kind: RefKind; value: string }): string {
  const noun = { branch: 'branch', tag: 'tag', semver: 'semver range', commit: 'commit', name: 'ref' }[
    query.kind
  ];
  return `${noun} ${JSON.stringify(query.value)}`;
}

/**
 * Why `name` is not a valid ref name by `git check-ref-format` rules (with one-level names allowed),
 * or undefined. Stricter than git in one way: a name may not start with `-`, so it can never be
 * read as an option.
 */
export function refNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > 1024) return 'is longer than 1024 characters';
  if (name.startsWith('-')) return 'starts with "-"';
  // Control characters, space, DEL and the characters git reserves for revision syntax and globs.
  const bad = [...name].find((c) => c.charCodeAt(0) <= 0x20 || c === '\x7f' || '~^:?*[\\'.includes(c));
  if (bad !== undefined) return `contains ${showChar(bad)}`;
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name === '@') return 'is "@"';
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return 'has an empty path component';
  if (name.endsWith('.')) return 'ends with "."';
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return 'has a path component starting with "."';
    if (component.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/** A character for a message, control characters as `"\u007f"`. */
function showChar(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f ? `"\\u${code.toString(16).padStart(4, '0')}"` : JSON.stringify(c);
}

/** Validates a GitRef (which arrives from a CRD or a command line, so anything goes). */
export function parseGitRef(ref: unknown): RefQuery {
  if (typeof ref !== 'object' || ref === null) throw new RefError('ref must be an object');
  const set = Object.entries(ref as Record<string, unknown>).filter(([, value]) => value !== undefined);
  const kinds = Object.values(RefKind) as string[];
  const unknown = set.find(([key]) => !kinds.includes(key));
  if (unknown) throw new RefError(`unknown ref field ${JSON.stringify(unknown[0])}`);
  if (set.length !== 1) {
    throw new RefError(`ref must set exactly one of ${kinds.join(', ')} (got ${set.length})`);
  }
  const [kind, value] = set[0] as [RefKind, unknown];
  if (typeof value !== 'string') throw new RefError(`ref ${kind} must be a string`);
  const query = { kind, value };
  switch (kind) {
    case 'branch':
    case 'tag': {
      const problem = refNameProblem(value) ?? (value === 'HEAD' ? 'is "HEAD"' : undefined);
      if (problem) throw new RefError(`${describeRef(query)} is not a valid ${kind} name: it ${problem}`);
      if (value.startsWith('refs/')) {
        throw new RefError(`${describeRef(query)}: give the short name, or use ref.name for a full ref`);
      }
      return { kind, value };
    }
    case 'name': {
      const problem = refNameProblem(value);
      if (problem) throw new RefError(`${describeRef(query)} is not a valid ref name: it ${problem}`);
      if (!value.startsWith('refs/')) throw new RefError(`${describeRef(query)} must start with "refs/"`);
      return { kind, value };
    }
    case 'commit':
      if (!COMMIT.test(value)) {
        throw new RefError(`${describeRef(query)} is not a full 40-character lowercase hex SHA`);
      }
      return { kind, value };
    case 'semver':
      try {
        if (value.trim() === '') throw new RangeSyntaxError('range is empty');
        return { kind, value, range: parseRange(value) };
      } catch (e) {
        if (e instanceof RangeSyntaxError) throw new RefError(`invalid semver range: ${e.message}`);
        throw e;
      }
  }
}

/** Parses `git ls-remote` output (`<oid>\t<ref>` lines, `<ref>^{}` for peeled tags). */
export function parseLsRemote(output: string): RemoteRef[] {
  const refs = new Map<string, RemoteRef>();
  const peeled = new Map<string, string>();
  for (const line of output.split('\n')) {
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const oid = line.slice(0, tab);
    const name = line.slice(tab + 1);
    if (tab < 0 || !OID.test(oid) || name === '')
      throw new Error(`unexpected ls-remote line ${JSON.stringify(line)}`);
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), oid);
    else refs.set(name, { name, oid });
  }
  for (const [name, commit] of peeled) {
    const ref = refs.get(name);
    if (ref) ref.peeled = commit;
  }
  return [...refs.values()];
}

/** The `git for-each-ref` format that `parseForEachRef` reads. */
export const FOR_EACH_REF_FORMAT = '%(objectname)%09%(*objectname)%09%(refname)';

/** Parses `git for-each-ref --format=FOR_EACH_REF_FORMAT` output. */
export function parseForEachRef(output: string): RemoteRef[] {
  return output
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [oid = '', peeled = '', ...rest] = line.split('\t');
      const name = rest.join('\t');
      if (!OID.test(oid) || (peeled !== '' && !OID.test(peeled)) || name === '') {
        throw new Error(`unexpected for-each-ref line ${JSON.stringify(line)}`);
      }
      return peeled ? { name, oid, peeled } : { name, oid };
    });
}

/** The commit a ref names: the peeled commit for an annotated tag, else the ref's own object. */
const commitOf = (ref: RemoteRef): string => ref.peeled ?? ref.oid;

/**
 * Answers a query from a list of refs. A commit query is answered by itself (whether the commit
 * exists is for the caller to check). Throws a RefError with `notFound` when nothing matches.
 */
export function resolveRef(refs: RemoteRef[], query: RefQuery): Resolution {
  const byName = new Map(refs.map((r) => [r.name, r]));
  const exact = (name: string): Resolution => {
    const ref = byName.get(name);
    if (!ref) throw new RefError(`${describeRef(query)} not found`, true);
    return { ref: name, commit: commitOf(ref) };
  };
  switch (query.kind) {
    case 'commit':
      return { ref: query.value, commit: query.value };
    case 'branch':
      return exact(`refs/heads/${query.value}`);
    case 'tag':
      return exact(`refs/tags/${query.value}`);
    case 'name':
      return exact(query.value);
    case 'semver': {
      const tags = refs.filter((r) => r.name.startsWith('refs/tags/')).map((r) => r.name.slice(10));
      const best = maxSatisfying(tags, query.range);
      if (best === undefined) {
        const seen = highestVersions(tags);
        throw new RefError(`no tag matches ${describeRef(query)} (${seen})`, true);
      }
      return exact(`refs/tags/${best}`);
    }
  }
}

/** `tags seen: v1.2.0, v1.4.3` (the highest few), for an error message. */
function highestVersions(tags: string[], max = 10): string {
  const versions = tags
    .map((name) => ({ name, version: parseVersion(name) }))
    .filter((t): t is { name: string; version: Version } => t.version !== undefined)
    .sort((a, b) => compareVersions(a.version, b.version));
  if (versions.length === 0) return `none of the ${tags.length} tags is a version`;
  const shown = versions.slice(-max).map((t) => t.name);
  const more = versions.length > max ? `${versions.length - max} lower, ` : '';
  return `version tags: ${more}${shown.join(', ')}`;
}
