// OpenID Connect login (authorization code with PKCE) against a configured issuer. The ID token's
// signature, issuer, audience, expiry and nonce are checked here; its claims become a Person the
// way kube-apiserver's --oidc-* flags map them, so RBAC bindings written for kubectl's OIDC users
// apply unchanged.
import {
  createHash,
  createPublicKey,
  randomBytes,
  verify as verifySignature,
  type JsonWebKey,
} from 'node:crypto';
import type { Person } from './identity.ts';
import type { OidcLogin } from './server.ts';

export interface OidcOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: this server's /api/oidc/callback. */
  redirectUri: string;
  scopes: string[];
  /** kube-apiserver's --oidc-username-claim (default sub). */
  usernameClaim: string;
  /** --oidc-username-prefix: undefined gives kube-apiserver's default, "-" none. */
  usernamePrefix: string | undefined;
  groupsClaim: string | undefined;
  groupsPrefix: string;
}

export function defaultOidcOptions(): Omit<
  OidcOptions,
  'issuer' | 'clientId' | 'clientSecret' | 'redirectUri'
> {
  return {
    scopes: ['openid', 'email', 'profile', 'groups'],
    usernameClaim: 'sub',
    usernamePrefix: undefined,
    groupsClaim: undefined,
    groupsPrefix: '',
  };
}

export class OidcError extends Error {
  override name = 'OidcError';
}

/**
 * The Person an ID token's claims stand for, as kube-apiserver maps them: the username claim with
 * its prefix (by default `issuer#` unless the claim is `email`; `-` for none), and the groups claim
 * (a string or a list) each with the groups prefix.
 */
export function personFromClaims(claims: Record<string, unknown>, options: OidcOptions): Person {
  const name = claims[options.usernameClaim];
  if (typeof name !== 'string' || !name)
    throw new OidcError(`the ID token has no "${options.usernameClaim}" claim to name the user`);
  if (options.usernameClaim === 'email' && claims.email_verified === false)
    throw new OidcError('the ID token says the email is not verified');
  const prefix =
    options.usernamePrefix === '-'
      ? ''
      : (options.usernamePrefix ?? (options.usernameClaim === 'email' ? '' : `${options.issuer}#`));
  const raw = options.groupsClaim ? claims[options.groupsClaim] : undefined;
  const groups = (typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : []).filter(
    (g): g is string => typeof g === 'string',
  );
  return { user: `${prefix}${name}`, groups: groups.map((g) => `${options.groupsPrefix}${g}`) };
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const ALGORITHMS: Record<string, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  ES256: 'sha256',
};

export class OidcClient implements OidcLogin {
  readonly #options: OidcOptions;
  readonly #now: () => number;
  readonly #pending = new Map<string, { verifier: string; nonce: string; at: number }>();
  #discovery: Promise<Discovery> | undefined;

  constructor(options: OidcOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  #discover(): Promise<Discovery> {
    this.#discovery ??= (async () => {
      const res = await fetch(`${this.#options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
      if (!res.ok) throw new OidcError(`${this.#options.issuer}: discovery answered HTTP ${res.status}`);
      const d = (await res.json()) as Discovery;
      if (d.issuer !== this.#options.issuer)
        throw new OidcError(`${this.#options.issuer}: discovery names another issuer, ${d.issuer}`);
      return d;
    })();
    this.#discovery.catch(() => (this.#discovery = undefined));
    return this.#discovery;
  }

  async start(state: string): Promise<string> {
    const d = await this.#discover();
    const verifier = randomBytes(32).toString('base64url');
    const nonce = randomBytes(16).toString('base64url');
    this.#pending.set(state, { verifier, nonce, at: this.#now() });
    for (const [s, p] of this.#pending) if (this.#now() - p.at > 600_000) this.#pending.delete(s);
    const url = new URL(d.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.#options.clientId,
      redirect_uri: this.#options.redirectUri,
      scope: this.#options.scopes.join(' '),
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString();
    return url.toString();
  }

  async finish(params: URLSearchParams, state: string): Promise<Person> {
    const pending = this.#pending.get(state);
    this.#pending.delete(state);
    if (!pending) throw new OidcError('no login under way for this state');
    if (params.get('error')) throw new OidcError(`the provider refused: ${params.get('error')}`);
    const code = params.get('code');
    if (!code) throw new OidcError('the provider sent no code');
    const d = await this.#discover();
    const res = await fetch(d.token_endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.#options.clientId)}:${encodeURIComponent(this.#options.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.#options.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
    if (!res.ok)
      throw new OidcError(
        `the token endpoint answered HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`,
      );
    const { id_token: idToken } = (await res.json()) as { id_token?: string };
    if (!idToken) throw new OidcError('the token endpoint sent no ID token');
    const claims = await this.#verify(idToken, d);
    if (claims.nonce !== pending.nonce) throw new OidcError('the ID token is for another login (nonce)');
    return personFromClaims(claims, this.#options);
  }

  async #verify(token: string, d: Discovery): Promise<Record<string, unknown>> {
    const [head, body, signature] = token.split('.');
    if (!head || !body || !signature) throw new OidcError('the ID token is not a JWT');
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as {
      alg?: string;
      kid?: string;
    };
    const hash = ALGORITHMS[header.alg ?? ''];
    if (!hash) throw new OidcError(`the ID token is signed with ${header.alg}, which is not accepted`);
    const jwks = (await (await fetch(d.jwks_uri)).json()) as { keys: (JsonWebKey & { kid?: string })[] };
    const jwk = jwks.keys.find((k) => header.kid === undefined || k.kid === header.kid);
    if (!jwk) throw new OidcError('no key of the provider matches the ID token');
    const ok = verifySignature(
      hash,
      Buffer.from(`${head}.${body}`),
      {
        key: createPublicKey({ key: jwk, format: 'jwk' }),
        ...(header.alg === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
      },
      Buffer.from(signature, 'base64url'),
    );
    if (!ok) throw new OidcError('the ID token signature does not verify');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== this.#options.issuer)
      throw new OidcError(`the ID token is from another issuer, ${String(claims.iss)}`);
    if (!audience.includes(this.#options.clientId)) throw new OidcError('the ID token is for another client');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < this.#now())
      throw new OidcError('the ID token has expired');
    return claims;
  }
}
