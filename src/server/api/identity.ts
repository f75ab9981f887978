// Who is asking: a Kubernetes user and groups, from a bearer token (TokenReview), the local admin
// account (a scrypt hash in a Secret) or an OpenID Connect login. Sessions are signed cookies that
// carry the identity and a CSRF token; the signing and checking here are pure functions of a key.
import { createHmac, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { isConflict, type KubeClient } from '../../cluster/client.ts';
import type { KubeObject } from '../../cluster/objects.ts';

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** A person as Kubernetes sees them: what SubjectAccessReview and impersonation are about. */
export interface Person {
  user: string;
  groups: string[];
}

export const SESSION_COOKIE = 'cairn_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Session extends Person {
  /** Expiry, milliseconds since the epoch. */
  expires: number;
  /** Sent back by the UI in the X-CSRF-Token header on every write. */
  csrf: string;
}

/** The cookie value of a session: its JSON and an HMAC-SHA256 over it, both base64url. */
export function signSession(session: Session, key: Buffer): string {
  const body = Buffer.from(JSON.stringify(session)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

/** The session a cookie value holds, if its signature is ours and it has not expired. */
export function verifySession(value: string, key: Buffer, now: number): Session | undefined {
  const [body, mac] = value.split('.');
  if (!body || !mac) return undefined;
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const session = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Session;
    if (typeof session.user !== 'string' || !Array.isArray(session.groups)) return undefined;
    return session.expires > now ? session : undefined;
  } catch {
    return undefined;
  }
}

export function newSession(person: Person, now: number, ttlMs: number): Session {
  return { ...person, expires: now + ttlMs, csrf: randomBytes(18).toString('base64url') };
}

/** Constant-time equality of two strings (the CSRF header against the session's token). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** A password hash for the local admin Secret: `scrypt$N$r$p$salt$hash`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { ...SCRYPT, maxmem: 64 * 1024 * 1024 });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 64 * 1024 * 1024,
  });
  return timingSafeEqual(actual, expected);
}

/** The Secret key holding the local admin's password hash. */
export const ADMIN_PASSWORD_KEY = 'passwordHash';

/** The local admin account: its Secret, and the Kubernetes identity it acts as. */
export interface AdminAccount {
  namespace: string;
  secretName: string;
  person: Person;
}

/** The admin identity when the password matches the hash in the Secret; undefined otherwise. */
export async function checkAdminPassword(
  client: KubeClient,
  account: AdminAccount,
  username: string,
  password: string,
): Promise<Person | undefined> {
  if (username !== 'admin') return undefined;
  const secret = await client.getOptional<KubeObject & { data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: account.namespace,
    name: account.secretName,
  });
  const encoded = secret?.data?.[ADMIN_PASSWORD_KEY];
  if (!encoded) return undefined;
  return (await verifyPassword(password, Buffer.from(encoded, 'base64').toString('utf8')))
    ? account.person
    : undefined;
}

/** The key of the session key in its Secret; at least `SESSION_KEY_BYTES` bytes. */
export const SESSION_KEY_FIELD = 'key';
const SESSION_KEY_BYTES = 32;

/**
 * The key sessions are signed with, kept in a Secret of the server's namespace and made (32 random
 * bytes) by the first server that finds none: sessions outlive a restart and hold across replicas.
 * Two servers starting at once both try to make it; the second reads what the first made.
 */
export async function sessionKeyFromSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Buffer> {
  const ref = { apiVersion: 'v1', kind: 'Secret', namespace, name };
  const read = async (): Promise<Buffer | undefined> => {
    const secret = await client.getOptional<KubeObject & { data?: Record<string, string> }>(ref);
    if (!secret) return undefined;
    const key = Buffer.from(secret.data?.[SESSION_KEY_FIELD] ?? '', 'base64');
    if (key.length < SESSION_KEY_BYTES)
      throw new Error(
        `Secret ${namespace}/${name}: data.${SESSION_KEY_FIELD} must hold at least ${SESSION_KEY_BYTES} bytes`,
      );
    return key;
  };
  const existing = await read();
  if (existing) return existing;
  try {
    await client.create({
      ...ref,
      metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'cairn' } },
      type: 'Opaque',
      data: { [SESSION_KEY_FIELD]: randomBytes(SESSION_KEY_BYTES).toString('base64') },
    });
  } catch (e) {
    if (!isConflict(e)) throw e; // AlreadyExists: another server made it first
  }
  const made = await read();
  if (!made) throw new Error(`Secret ${namespace}/${name} was made but cannot be read`);
  return made;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; groups?: string[] };
  error?: string;
}

/** Asks the API server who a bearer token belongs to (TokenReview); undefined when nobody. */
export async function reviewToken(client: KubeClient, token: string): Promise<Person | undefined> {
  const review = await client.request<{ status?: TokenReviewStatus }>(
    'POST',
    '/apis/authentication.k8s.io/v1/tokenreviews',
    {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      subject: 'TokenReview',
    },
  );
  const status = review.status;
  if (!status?.authenticated || !status.user?.username) return undefined;
  return { user: status.user.username, groups: status.user.groups ?? [] };
}

/** A sliding window of attempts per key (a client address): login is limited with it. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #attempts = new Map<string, number[]>();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Records an attempt; false when the key has used up its attempts in the window. */
  allow(key: string, now: number): boolean {
    const recent = (this.#attempts.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (recent.length >= this.#limit) {
      this.#attempts.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#attempts.set(key, recent);
    if (this.#attempts.size > 10_000) this.#attempts.delete(this.#attempts.keys().next().value!);
    return true;
  }
}
