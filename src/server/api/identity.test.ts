import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  cookieValue,
  hashPassword,
  newSession,
  RateLimiter,
  sessionCookie,
  signSession,
  verifyPassword,
  verifySession,
} from './identity.ts';

const key = randomBytes(32);
const person = { user: 'ann', groups: ['dev'] };

test('a signed session verifies until it expires; a changed body, signature or key does not', () => {
  const session = newSession(person, 1_000, 60_000);
  const value = signSession(session, key);
  assert.deepEqual(verifySession(value, key, 2_000), session);
  assert.equal(verifySession(value, key, 61_001), undefined, 'expired');
  assert.equal(verifySession(value, randomBytes(32), 2_000), undefined, 'another key');
  const [body, mac] = value.split('.') as [string, string];
  const forged = Buffer.from(JSON.stringify({ ...session, groups: ['system:masters'] })).toString(
    'base64url',
  );
  assert.equal(verifySession(`${forged}.${mac}`, key, 2_000), undefined, 'changed body');
  assert.equal(verifySession(`${body}.${mac.slice(0, -2)}AA`, key, 2_000), undefined, 'changed signature');
  assert.equal(verifySession('garbage', key, 2_000), undefined);
  assert.notEqual(newSession(person, 0, 1).csrf, newSession(person, 0, 1).csrf);
});

test('the session cookie is HttpOnly and SameSite=Strict, Secure when asked; cookies parse', () => {
  assert.equal(
    sessionCookie('v', 60, false),
    'cairn_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
  );
  assert.match(sessionCookie('v', 60, true), /; Secure$/);
  assert.equal(cookieValue('a=1; cairn_session=xyz.abc; b=2', 'cairn_session'), 'xyz.abc');
  assert.equal(cookieValue(undefined, 'cairn_session'), undefined);
});

test('passwords hash with scrypt and a salt; only the right one verifies', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\$16384\$8\$1\$/);
  assert.notEqual(hash, await hashPassword('correct horse'));
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('wrong', hash), false);
  assert.equal(await verifyPassword('x', 'md5$abc'), false);
});

test('the login rate limit allows N attempts per window and key', () => {
  const limiter = new RateLimiter(3, 60_000);
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => limiter.allow('1.2.3.4', i)),
    [true, true, true, false],
  );
  assert.equal(limiter.allow('5.6.7.8', 4), true, 'another address');
  assert.equal(limiter.allow('1.2.3.4', 60_001), true, 'a new window');
});
