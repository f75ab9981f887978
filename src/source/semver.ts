// Semantic versions and npm-style ranges, just enough to pick a tag: `>=1.2.0 <2`, `~1.4`, `^1.2`,
// `1.x`, `1.2 - 1.4`, `a || b`. Prereleases match only a comparator that names a prerelease of the
// same major.minor.patch (npm's rule), so `>=1.0.0` never picks `2.0.0-rc.1`. Pure.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated identifiers after `-`; empty for a release. */
  prerelease: (string | number)[];
}

const VERSION =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses `1.2.3`, `v1.2.3-rc.1+build.5`; undefined for anything else (`1.2`, `release-1`). */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text);
  if (!m) return undefined;
  const nums = [m[1], m[2], m[3]].map(Number);
  if (nums.some((n) => !Number.isSafeInteger(n))) return undefined;
  return {
    major: nums[0]!,
    minor: nums[1]!,
    patch: nums[2]!,
    prerelease: m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [],
  };
}

function compareIdentifiers(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Semver precedence: negative, zero or positive. Build metadata is ignored. */
export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length;
  }
  for (let i = 0; i < Math.max(a.prerelease.length, b.prerelease.length); i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareIdentifiers(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

export const Operator = { Lt: '<', Le: '<=', Gt: '>', Ge: '>=', Eq: '=' } as const;
export type Operator = (typeof Operator)[keyof typeof Operator];

export interface Comparator {
  op: Operator;
  version: Version;
}

/** Alternatives (`||`), each a set of comparators that must all hold. */
export type Range = Comparator[][];

export class RangeSyntaxError extends Error {
  override name = 'RangeSyntaxError';
}

// A partial version: `1`, `1.2`, `1.x`, `*`, `1.2.3-rc.1`. Missing or wildcard parts are undefined.
interface Partial {
  major?: number;
  minor?: number;
  patch?: number;
  prerelease: (string | number)[];
}

const PARTIAL =
  /^v?(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*])(?:\.(0|[1-9]\d*|[xX*])(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?(?:\+[0-9A-Za-z.-]+)?$/;

function parsePartial(text: string, range: string): Partial {
  const m = PARTIAL.exec(text);
  if (!m) throw new RangeSyntaxError(`"${range}": "${text}" is not a version`);
  const part = (s: string | undefined) => (s === undefined || /^[xX*]$/.test(s) ? undefined : Number(s));
  const major = part(m[1]);
  const minor = major === undefined ? undefined : part(m[2]);
  const patch = minor === undefined ? undefined : part(m[3]);
  const prerelease =
    patch !== undefined && m[4] ? m[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)) : [];
  return {
    ...(major !== undefined ? { major } : {}),
    ...(minor !== undefined ? { minor } : {}),
    ...(patch !== undefined ? { patch } : {}),
    prerelease,
  };
}

const v = (major: number, minor: number, patch: number, prerelease: (string | number)[] = []): Version => ({
  major,
  minor,
  patch,
  prerelease,
});
// `<X.Y.Z-0` excludes X.Y.Z and all of its prereleases.
const below = (major: number, minor: number, patch: number): Comparator => ({
  op: '<',
  version: v(major, minor, patch, [0]),
});
const atLeast = (version: Version): Comparator => ({ op: '>=', version });
const NOTHING: Comparator[] = [below(0, 0, 0)];

/** The comparators a partial version stands for on its own (`1.2` is `>=1.2.0 <1.3.0-0`). */
function xRange(p: Partial): Comparator[] {
  if (p.major === undefined) return [];
  if (p.minor === undefined) return [atLeast(v(p.major, 0, 0)), below(p.major + 1, 0, 0)];
  if (p.patch === undefined) return [atLeast(v(p.major, p.minor, 0)), below(p.major, p.minor + 1, 0)];
  return [{ op: '=', version: v(p.major, p.minor, p.patch, p.prerelease) }];
}

function tilde(p: Partial): Comparator[] {
  if (p.major === undefined || p.minor === undefined) return xRange(p);
  return [atLeast(v(p.major, p.minor, p.patch ?? 0, p.prerelease)), below(p.major, p.minor + 1, 0)];
}

function caret(p: Partial): Comparator[] {
  if (p.major === undefined) return [];
  const from = atLeast(v(p.major, p.minor ?? 0, p.patch ?? 0, p.prerelease));
  if (p.major > 0 || p.minor === undefined) return [from, below(p.major + 1, 0, 0)];
  if (p.minor > 0 || p.patch === undefined) return [from, below(0, p.minor + 1, 0)];
  return [from, below(0, 0, p.patch + 1)];
}

function primitive(op: Operator, p: Partial): Comparator[] {
  if (p.major === undefined) return op === '<' || op === '>' ? NOTHING : [];
  if (p.minor !== undefined && p.patch !== undefined) {
    return [{ op, version: v(p.major, p.minor, p.patch, p.prerelease) }];
  }
  // A partial bound covers its whole span: `>1.2` is `>=1.3.0`, `<=1.2` is `<1.3.0-0`.
  const next = p.minor === undefined ? v(p.major + 1, 0, 0) : v(p.major, p.minor + 1, 0);
  const first = v(p.major, p.minor ?? 0, 0);
  switch (op) {
    case '>':
      return [atLeast(next)];
    case '>=':
      return [atLeast(first)];
    case '<':
      return [below(first.major, first.minor, 0)];
    case '<=':
      return [below(next.major, next.minor, 0)];
    case '=':
      return xRange(p);
  }
}

function hyphen(fromText: string, toText: string, range: string): Comparator[] {
  const from = parsePartial(fromText, range);
  const to = parsePartial(toText, range);
  const lower =
    from.major === undefined
      ? []
      : [atLeast(v(from.major, from.minor ?? 0, from.patch ?? 0, from.prerelease))];
  return [...lower, ...primitive('<=', to)];
}

function comparatorSet(text: string, range: string): Comparator[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const h = /^(\S+)\s+-\s+(\S+)$/.exec(trimmed);
  if (h) return hyphen(h[1]!, h[2]!, range);
  // Flux users write `>= 1.2, < 2`: an operator may be followed by spaces, a comma also means "and".
  const tokens = trimmed
    .replace(/(<=|>=|<|>|=|~>|~|\^)\s+/g, '$1')
    .split(/[\s,]+/)
    .filter((t) => t !== '');
  return tokens.flatMap((token) => {
    const m = /^(<=|>=|<|>|=|~>|~|\^)?(.*)$/.exec(token)!;
    const op = m[1];
    const partial = parsePartial(m[2]!, range);
    if (op === undefined) return xRange(partial);
    if (op === '~' || op === '~>') return tilde(partial);
    if (op === '^') return caret(partial);
    return primitive(op as Operator, partial);
  });
}

/** Parses an npm-style range; throws RangeSyntaxError naming the range and the bad part. */
export function parseRange(text: string): Range {
  if (text.length > 256) throw new RangeSyntaxError('range is longer than 256 characters');
  if (/[^\x20-\x7e]/.test(text)) throw new RangeSyntaxError(`"${text}": unexpected character`);
  return text.split('||').map((alt) => comparatorSet(alt, text));
}

function holds(c: Comparator, version: Version): boolean {
  const cmp = compareVersions(version, c.version);
  switch (c.op) {
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '=':
      return cmp === 0;
  }
}

function sameCore(a: Version, b: Version): boolean {
  return a.major === b.major && a.minor === b.minor && a.patch === b.patch;
}

export function satisfies(version: Version, range: Range): boolean {
  return range.some(
    (set) =>
      set.every((c) => holds(c, version)) &&
      (version.prerelease.length === 0 ||
        set.some((c) => c.version.prerelease.length > 0 && sameCore(c.version, version))),
  );
}

/**
 * The highest version among `candidates` (e.g. tag names) that satisfies the range; ties (`v1.0.0`
 * and `1.0.0`) go to the greater name so the choice does not depend on input order.
 */
export function maxSatisfying(candidates: Iterable<string>, range: Range): string | undefined {
  let best: { name: string; version: Version } | undefined;
  for (const name of candidates) {
    const version = parseVersion(name);
    if (!version || !satisfies(version, range)) continue;
    const c = best ? compareVersions(version, best.version) : 1;
    if (c > 0 || (c === 0 && best && name > best.name)) best = { name, version };
  }
  return best?.name;
}
