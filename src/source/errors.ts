// Typed failures of the source stage. The message starts with the repository URL (never with a
// credential in it) and says what failed; the reason is a closed vocabulary that reaches status.
import { redactUrls } from './url.ts';

export const SourceErrorReason = {
  /** The URL is malformed or uses a transport that is not allowed. */
  InvalidUrl: 'InvalidUrl',
  /** The ref is malformed (not a valid name, not a SHA, not a semver range). */
  InvalidRef: 'InvalidRef',
  /** Credentials are missing, wrong, or do not fit the URL; or the host key is not trusted. */
  AuthFailed: 'AuthFailed',
  /** The server answered that there is no such repository. */
  RepositoryNotFound: 'RepositoryNotFound',
  /** The repository has no such branch, tag, matching version or commit. */
  RefNotFound: 'RefNotFound',
  /** The server could not be reached, or the connection broke. */
  Unreachable: 'Unreachable',
  /** A git command ran past its time limit. */
  Timeout: 'Timeout',
  /** The mirror or the tree of a commit is over its size limit. */
  TooLarge: 'TooLarge',
  /** Anything else git or the file system reported. */
  Failed: 'Failed',
} as const;
export type SourceErrorReason = (typeof SourceErrorReason)[keyof typeof SourceErrorReason];

export class SourceError extends Error {
  override name = 'SourceError';
  /** The repository URL as shown to people: credentials removed. */
  readonly url: string;
  readonly reason: SourceErrorReason;

  constructor(url: string, reason: SourceErrorReason, message: string, options?: { cause?: unknown }) {
    const shown = redactUrls(url);
    super(`${shown}: ${redactUrls(message)}`, options);
    this.url = shown;
    this.reason = reason;
  }
}

export const isSourceError = (e: unknown): e is SourceError => e instanceof SourceError;

/** Worth retrying as is: the network or the server may behave differently next time. */
export const isTransient = (e: unknown): boolean =>
  e instanceof SourceError &&
  (e.reason === SourceErrorReason.Unreachable ||
    e.reason === SourceErrorReason.Timeout ||
    e.reason === SourceErrorReason.Failed);

/** Retrying cannot help until the object or its secret changes. */
export const isStalled = (e: unknown): boolean => e instanceof SourceError && !isTransient(e);

/**
 * Replaces every occurrence of the given secrets (and their URL-encoded forms) with `***`, and
 * the user info of URLs. Secrets shorter than 4 characters are left, or every message would be
 * mangled; they are still never put into a message on purpose.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redactUrls(text);
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      if (form.length >= 4) out = out.split(form).join('***');
    }
  }
  return out;
}

/** What kind of failure git's own message describes (git runs with LC_ALL=C). */
export function classifyGitFailure(stderr: string, timedOut: boolean): SourceErrorReason {
  if (timedOut) return SourceErrorReason.Timeout;
  if (
    /Authentication failed|could not read (Username|Password)|Permission denied \(|Host key verification failed|No RSA host key|HTTP (401|403)|returned error: 40[13]|invalid credentials/i.test(
      stderr,
    )
  ) {
    return SourceErrorReason.AuthFailed;
  }
  if (
    /repository '.*' not found|does not appear to be a git repository|HTTP 404|returned error: 404/i.test(
      stderr,
    )
  ) {
    return SourceErrorReason.RepositoryNotFound;
  }
  if (
    /Could not resolve (host|hostname)|Connection refused|Couldn't connect|Failed to connect|Connection timed out|Network is unreachable|No route to host|Connection reset|Connection closed|early EOF|remote end hung up|Operation timed out/i.test(
      stderr,
    )
  ) {
    return SourceErrorReason.Unreachable;
  }
  return SourceErrorReason.Failed;
}
