// Inbound webhooks: is this request really from the sender a Receiver trusts, and does it ask for
// a refresh? Pure: headers and the raw body in, a verdict out. The body is authenticated, never
// parsed: a webhook only triggers the refresh the poll would have made, of the sources the
// Receiver names, so nothing in a payload can choose what is fetched (and a malformed payload
// cannot crash anything).
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const ReceiverType = { GitHub: 'github', GitLab: 'gitlab', GenericHmac: 'generic-hmac' } as const;
export type ReceiverType = (typeof ReceiverType)[keyof typeof ReceiverType];

export const VerifyReason = {
  /** Authentic, and an event that triggers a refresh. */
  Accepted: 'accepted',
  /** Authentic GitHub ping (sent when a webhook is created): nothing to do. */
  Ping: 'ping',
  /** Authentic, but an event this Receiver does not act on. */
  IgnoredEvent: 'ignored-event',
  MissingEvent: 'missing-event',
  MissingSignature: 'missing-signature',
  MalformedSignature: 'malformed-signature',
  UnsupportedAlgorithm: 'unsupported-algorithm',
  BadSignature: 'bad-signature',
  MissingToken: 'missing-token',
  BadToken: 'bad-token',
  /** The Receiver has no secret: nothing can be authenticated. */
  NoSecret: 'no-secret',
  UnsupportedType: 'unsupported-type',
} as const;
export type VerifyReason = (typeof VerifyReason)[keyof typeof VerifyReason];

/** Reasons that mean "the sender did not prove it knows the secret". */
export const AUTHENTICATION_FAILURES: ReadonlySet<VerifyReason> = new Set<VerifyReason>([
  VerifyReason.MissingSignature,
  VerifyReason.MalformedSignature,
  VerifyReason.UnsupportedAlgorithm,
  VerifyReason.BadSignature,
  VerifyReason.MissingToken,
  VerifyReason.BadToken,
]);

export interface Verification {
  /** The sender is authentic and the request is one this Receiver understands. */
  accepted: boolean;
  /** Accepted and asks for a refresh (a push); false for a ping. */
  refresh: boolean;
  reason: VerifyReason;
  /** The sender's event name when it sends one (`push`, `Tag Push Hook`). */
  event?: string;
}

export interface ReceiverSpec {
  type: ReceiverType;
  /** The token from the Receiver's Secret: HMAC key (github, generic-hmac) or shared token (gitlab). */
  secret: string;
  /** Events that trigger a refresh; defaults per type (`DEFAULT_EVENTS`). */
  events?: readonly string[];
}

export interface WebhookRequest {
  /** Header names in lower case, as `node:http` gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body exactly as received: signatures are over these bytes. */
  body: Uint8Array;
}

export const DEFAULT_EVENTS: Readonly<Record<ReceiverType, readonly string[]>> = {
  github: ['push'],
  gitlab: ['Push Hook', 'Tag Push Hook'],
  'generic-hmac': [],
};

const HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha512: 128 };

function verdict(reason: VerifyReason, event?: string): Verification {
  const accepted = reason === VerifyReason.Accepted || reason === VerifyReason.Ping;
  return {
    accepted,
    refresh: reason === VerifyReason.Accepted,
    reason,
    ...(event === undefined ? {} : { event }),
  };
}

/** A header that came as several values (only for names Node does not join with a comma). */
const REPEATED = Symbol('repeated');
type HeaderValue = string | undefined | typeof REPEATED;

/** One header's value; a repeated header is refused rather than guessed at. */
function header(request: WebhookRequest, name: string): HeaderValue {
  const value = request.headers[name];
  return Array.isArray(value) ? REPEATED : value;
}

/**
 * Checks `<algorithm>=<hex>` against the HMAC of the body, in constant time. Node joins a header
 * sent twice into one value with a comma, which then fails the format check.
 */
function checkHmac(
  value: HeaderValue,
  secret: string,
  body: Uint8Array,
  algorithms: readonly string[],
): VerifyReason | undefined {
  if (value === undefined || value === '') return VerifyReason.MissingSignature;
  if (value === REPEATED) return VerifyReason.MalformedSignature;
  const eq = value.indexOf('=');
  if (eq < 0) return VerifyReason.MalformedSignature;
  const algorithm = value.slice(0, eq);
  const hex = value.slice(eq + 1);
  if (!algorithms.includes(algorithm)) {
    return /^[a-z0-9-]+$/.test(algorithm)
      ? VerifyReason.UnsupportedAlgorithm
      : VerifyReason.MalformedSignature;
  }
  const length = HEX_LENGTH[algorithm];
  // Buffer.from(hex, 'hex') stops quietly at the first bad character: check the form first.
  if (length === undefined || hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) {
    return VerifyReason.MalformedSignature;
  }
  const expected = createHmac(algorithm, secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(hex, 'hex')) ? undefined : VerifyReason.BadSignature;
}

/** Equal tokens, in time that depends on neither their content nor their length. */
function tokensEqual(given: string, secret: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

function eventVerdict(event: HeaderValue, wanted: readonly string[]): Verification {
  if (event === undefined || event === '' || event === REPEATED) return verdict(VerifyReason.MissingEvent);
  return verdict(wanted.includes(event) ? VerifyReason.Accepted : VerifyReason.IgnoredEvent, event);
}

function verifyGitHub(spec: ReceiverSpec, request: WebhookRequest): Verification {
  const failure = checkHmac(header(request, 'x-hub-signature-256'), spec.secret, request.body, ['sha256']);
  if (failure) return verdict(failure);
  const event = header(request, 'x-github-event');
  if (event === 'ping') return verdict(VerifyReason.Ping, event);
  return eventVerdict(event, spec.events ?? DEFAULT_EVENTS.github);
}

function verifyGitLab(spec: ReceiverSpec, request: WebhookRequest): Verification {
  const token = header(request, 'x-gitlab-token');
  if (token === undefined || token === '') return verdict(VerifyReason.MissingToken);
  if (token === REPEATED || !tokensEqual(token, spec.secret)) return verdict(VerifyReason.BadToken);
  return eventVerdict(header(request, 'x-gitlab-event'), spec.events ?? DEFAULT_EVENTS.gitlab);
}

/** Flux's generic-hmac: `X-Signature: sha256=<hex>` (or sha512) over the body; any event. */
function verifyGenericHmac(spec: ReceiverSpec, request: WebhookRequest): Verification {
  const failure = checkHmac(header(request, 'x-signature'), spec.secret, request.body, ['sha256', 'sha512']);
  return verdict(failure ?? VerifyReason.Accepted);
}

/** Verifies one webhook delivery for a Receiver. Never throws on what the sender controls. */
export function verifyWebhook(spec: ReceiverSpec, request: WebhookRequest): Verification {
  if (spec.secret === '') return verdict(VerifyReason.NoSecret);
  switch (spec.type) {
    case ReceiverType.GitHub:
      return verifyGitHub(spec, request);
    case ReceiverType.GitLab:
      return verifyGitLab(spec, request);
    case ReceiverType.GenericHmac:
      return verifyGenericHmac(spec, request);
    default:
      return verdict(VerifyReason.UnsupportedType);
  }
}

/**
 * The unguessable path segment of a Receiver's webhook URL, derived from its token with HKDF.
 * Not an HMAC of the token over the name: the same token is the HMAC key of github and
 * generic-hmac signatures, and a path that were such an HMAC would be a valid signature for a
 * body of the sender's choosing, published in the Receiver's status.
 */
export function webhookToken(receiver: { namespace: string; name: string }, secret: string): string {
  if (secret === '') throw new Error(`Receiver/${receiver.namespace}/${receiver.name}: the token is empty`);
  // Namespaces and names cannot hold NUL, so the info string names exactly one Receiver.
  const info = `cairn.dev/v1alpha1 Receiver webhook path\0${receiver.namespace}\0${receiver.name}`;
  return Buffer.from(hkdfSync('sha256', secret, '', info, 32)).toString('hex');
}
