import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { defaultOidcOptions, OidcClient } from './oidc.ts';

// A stand-in provider whose token endpoint answers with whatever ID token a case builds: the
// checks under test are the client's own (signature, issuer, audience, expiry, nonce).
test('an ID token with a bad signature, issuer, audience, expiry or nonce is refused', async (t) => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let idToken = '';
  const server = createServer((req, res) => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const json = (body: unknown) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration')
      return json({
        issuer: base,
        authorization_endpoint: `${base}/auth`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
      });
    if (req.url === '/jwks') return json({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1' }] });
    if (req.url === '/token') return json({ id_token: idToken });
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const now = 1_800_000_000_000;
  const client = new OidcClient(
    {
      ...defaultOidcOptions(),
      issuer,
      clientId: 'cairn',
      clientSecret: 's',
      redirectUri: 'http://ui/cb',
      groupsClaim: 'groups',
    },
    () => now,
  );
  const jwt = (claims: Record<string, unknown>, key = privateKey) => {
    const head = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1' })).toString('base64url');
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), key).toString('base64url')}`;
  };
  const login = async (claims: (nonce: string) => Record<string, unknown>, key = privateKey) => {
    const url = new URL(await client.start('state-1'));
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    idToken = jwt(claims(url.searchParams.get('nonce') ?? ''), key);
    return client.finish(new URLSearchParams({ code: 'c', state: 'state-1' }), 'state-1');
  };
  const good = (nonce: string) => ({
    iss: issuer,
    aud: 'cairn',
    exp: now / 1000 + 60,
    nonce,
    sub: 'ann',
    groups: ['dev'],
  });

  assert.deepEqual(await login(good), { user: `${issuer}#ann`, groups: ['dev'] });
  await assert.rejects(login(good, other.privateKey), /signature does not verify/);
  await assert.rejects(
    login((n) => ({ ...good(n), iss: 'https://elsewhere' })),
    /another issuer/,
  );
  await assert.rejects(
    login((n) => ({ ...good(n), aud: 'someone-else' })),
    /another client/,
  );
  await assert.rejects(
    login((n) => ({ ...good(n), exp: now / 1000 - 1 })),
    /expired/,
  );
  await assert.rejects(
    login((n) => ({ ...good(n), nonce: `${n}x` })),
    /nonce/,
  );
  await assert.rejects(
    client.finish(new URLSearchParams({ code: 'c' }), 'never-started'),
    /no login under way/,
  );
});
