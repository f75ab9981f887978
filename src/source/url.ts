// Which repository URLs Cairn hands to git, and how they read in messages. Pure.
//
// Git treats parts of a URL as options or commands in places (`--upload-pack=...`, `ext::sh -c`,
// `ssh://-oProxyCommand=...`), so only a small allow-list of forms passes, each parsed strictly.
import { createHash } from 'node:crypto';

export const Transport = { Https: 'https', Http: 'http', Ssh: 'ssh', File: 'file' } as const;
export type Transport = (typeof Transport)[keyof typeof Transport];

/** Which transports beyond https and ssh are allowed. */
export interface UrlPolicy {
  /** Plain `http://` (credentials would travel in clear text). */
  allowHttp: boolean;
  /** `file:///abs/path` on this machine. */
  allowFile: boolean;
}

export interface GitUrl {
  transport: Transport;
  /** What git is given: for http(s) without user info, which travels out of band. */
  fetchUrl: string;
  /** What messages, logs and artifacts show: never a credential. */
  display: string;
  /** The repository's identity (lower-case host, no credentials, no trailing slash). */
  key: string;
  /** User info found in an http(s) URL, to be passed to git as basic-auth credentials. */
  embedded?: { username: string; password: string };
}

export class UrlError extends Error {
  override name = 'UrlError';
}

// A host name or IPv4 address (no leading "-", "." or "%"), or a bracketed IPv6 address.
const HOST = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]*|\[[0-9A-Fa-f:.]+\])$/;
const SSH_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const PORT = /^[0-9]{1,5}$/;
const isControl = (c: string): boolean => c.charCodeAt(0) < 0x20 || c === '\x7f';

/**
 * Replaces the user info of URLs in any text with `***`: always for http(s) (a token often sits
 * in the user name), for other schemes when it holds a password.
 */
export function redactUrls(text: string): string {
  return text.replace(/\b([A-Za-z][A-Za-z0-9+.-]*):\/\/([^\s@]*)@/g, (match, scheme: string, info: string) =>
    /^https?$/i.test(scheme) || info.includes(':') ? `${scheme}://***@` : match,
  );
}

/** A URL for an error message about the URL itself: redacted, control characters escaped, short. */
export function displayRawUrl(raw: string): string {
  const safe = [...redactUrls(raw)].map((c) => (isControl(c) ? JSON.stringify(c).slice(1, -1) : c)).join('');
  return safe.length > 200 ? `${safe.slice(0, 200)}...` : safe;
}

/** The mirror folder name of a repository: a digest of its key, safe on any file system. */
export function mirrorName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

const stripSlashes = (path: string): string => path.replace(/\/+$/, '');

function checkHost(host: string): void {
  if (host.startsWith('-')) throw new UrlError(`host ${JSON.stringify(host)} starts with "-"`);
  if (!HOST.test(host)) throw new UrlError(`host ${JSON.stringify(host)} is not a host name or address`);
}

function checkSshUser(user: string): void {
  if (user.startsWith('-')) throw new UrlError(`user ${JSON.stringify(user)} starts with "-"`);
  if (!SSH_USER.test(user)) throw new UrlError(`user ${JSON.stringify(user)} has unexpected characters`);
}

function parseHttp(raw: string, scheme: 'http' | 'https'): GitUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlError('is not a valid URL');
  }
  checkHost(url.hostname);
  if (url.search !== '' || url.hash !== '') throw new UrlError('has a query or fragment');
  if (stripSlashes(url.pathname) === '') throw new UrlError('names no repository path');
  let embedded: GitUrl['embedded'];
  if (url.username !== '' || url.password !== '') {
    try {
      embedded = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    } catch {
      throw new UrlError('has badly encoded user info');
    }
    url.username = '';
    url.password = '';
  }
  const fetchUrl = url.href;
  return {
    transport: scheme,
    fetchUrl,
    display: fetchUrl,
    key: `${scheme}://${url.host.toLowerCase()}${stripSlashes(url.pathname)}`,
    ...(embedded ? { embedded } : {}),
  };
}

// ssh://[user@]host[:port]/path, split by hand: git's own parser and WHATWG's disagree on odd input.
function parseSshUrl(raw: string): GitUrl {
  const rest = raw.slice('ssh://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new UrlError('names no host and path');
  const authority = rest.slice(0, slash);
  const path = rest.slice(slash);
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : undefined;
  const hostPort = authority.slice(at + 1);
  if (user !== undefined) {
    if (user.includes(':')) throw new UrlError('has a password: SSH authenticates with a key');
    checkSshUser(user);
  }
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPort)!;
  const host = m[1]!;
  const port = m[2];
  checkHost(host);
  if (port !== undefined && !PORT.test(port))
    throw new UrlError(`port ${JSON.stringify(port)} is not a number`);
  if (stripSlashes(path) === '') throw new UrlError('names no repository path');
  const portPart = port !== undefined && port !== '22' ? `:${port}` : '';
  return {
    transport: 'ssh',
    fetchUrl: raw,
    display: raw,
    key: `ssh://${user ?? ''}@${host.toLowerCase()}${portPart}${stripSlashes(path)}`,
  };
}

// [user@]host:path, git's scp-like form (a ":" before any "/").
function parseScpLike(raw: string): GitUrl {
  const colon = raw.indexOf(':');
  const authority = raw.slice(0, colon);
  const path = raw.slice(colon + 1);
  const at = authority.lastIndexOf('@');
  const user = at >= 0 ? authority.slice(0, at) : undefined;
  const host = authority.slice(at + 1);
  if (user !== undefined) checkSshUser(user);
  checkHost(host);
  if (host.startsWith('[')) throw new UrlError('use ssh://[address]/path for an IPv6 address');
  if (path.startsWith('-')) throw new UrlError('path starts with "-"');
  if (stripSlashes(path) === '') throw new UrlError('names no repository path');
  // A relative scp path is relative to the home folder, as `ssh://host/~/path` is.
  const absolute = path.startsWith('/') || path.startsWith('~') ? path : `~/${path}`;
  return {
    transport: 'ssh',
    fetchUrl: raw,
    display: raw,
    key: `ssh://${user ?? ''}@${host.toLowerCase()}/${stripSlashes(absolute).replace(/^\//, '')}`,
  };
}

function parseFile(raw: string): GitUrl {
  const path = raw.slice('file://'.length);
  if (!path.startsWith('/')) throw new UrlError('must be file:///absolute/path');
  if (path.split('/').includes('..')) throw new UrlError('path contains ".."');
  if (stripSlashes(path) === '') throw new UrlError('names no repository path');
  return { transport: 'file', fetchUrl: raw, display: raw, key: `file://${stripSlashes(path)}` };
}

/** Accepts a repository URL git may be given under `policy`, or throws a UrlError saying why not. */
export function parseGitUrl(raw: string, policy: UrlPolicy): GitUrl {
  if (raw === '') throw new UrlError('is empty');
  if (raw.length > 2048) throw new UrlError('is longer than 2048 characters');
  if (raw.startsWith('-')) throw new UrlError('starts with "-"');
  const helper = /^([A-Za-z0-9+.-]+)::/.exec(raw);
  if (helper) throw new UrlError(`remote helper "${helper[1]}::" is not allowed`);
  if ([...raw].some((c) => c === ' ' || isControl(c)))
    throw new UrlError('contains a space or control character');
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    // Lower-case the scheme so the checks below and git see the same thing.
    const url = `${scheme}${raw.slice(scheme.length)}`;
    switch (scheme) {
      case 'https':
        return parseHttp(url, scheme);
      case 'http':
        if (!policy.allowHttp) throw new UrlError('http:// is not enabled (allowHttp); use https://');
        return parseHttp(url, scheme);
      case 'ssh':
        return parseSshUrl(url);
      case 'file':
        if (!policy.allowFile) throw new UrlError('file:// is not enabled (allowFile)');
        return parseFile(url);
      default:
        throw new UrlError(`scheme "${scheme}" is not allowed (https, ssh, user@host:path)`);
    }
  }
  const colon = raw.indexOf(':');
  const slash = raw.indexOf('/');
  if (colon > 0 && (slash < 0 || colon < slash)) return parseScpLike(raw);
  throw new UrlError('is not a URL (https://, ssh:// or user@host:path)');
}
