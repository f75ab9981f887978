import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import {
  AUTHENTICATION_FAILURES,
  VerifyReason,
  verifyWebhook,
  webhookToken,
  type ReceiverSpec,
  type Verification,
  type WebhookRequest,
} from './receivers.ts';

const SECRET = 'It5-a-s3cret';
const BODY = Buffer.from('{"ref":"refs/heads/main","after":"0a1b2c"}');
const hmac = (algorithm: string, key: string, body: Uint8Array): string =>
  `${algorithm}=${createHmac(algorithm, key).update(body).digest('hex')}`;

interface Case {
  name: string;
  spec: ReceiverSpec;
  headers: Record<string, string | string[]>;
  body?: Uint8Array;
  expect: Verification;
}

const accepted = (event?: string): Verification => ({
  accepted: true,
  refresh: true,
  reason: VerifyReason.Accepted,
  ...(event === undefined ? {} : { event }),
});
const refused = (reason: VerifyReason, event?: string): Verification => ({
  accepted: false,
  refresh: false,
  reason,
  ...(event === undefined ? {} : { event }),
});

const gh: ReceiverSpec = { type: 'github', secret: SECRET };
const gl: ReceiverSpec = { type: 'gitlab', secret: SECRET };
const generic: ReceiverSpec = { type: 'generic-hmac', secret: SECRET };
const goodSha256 = hmac('sha256', SECRET, BODY);

const cases: Case[] = [
  // github
  {
    name: 'github: a signed push triggers a refresh',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256, 'x-github-event': 'push' },
    expect: accepted('push'),
  },
  {
    name: 'github: upper-case hex is the same signature',
    spec: gh,
    headers: {
      'x-hub-signature-256': `sha256=${goodSha256.slice(7).toUpperCase()}`,
      'x-github-event': 'push',
    },
    expect: accepted('push'),
  },
  {
    name: 'github: a signed ping is accepted without a refresh',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256, 'x-github-event': 'ping' },
    expect: { accepted: true, refresh: false, reason: VerifyReason.Ping, event: 'ping' },
  },
  {
    name: 'github: a ping with a wrong signature is refused like anything else',
    spec: gh,
    headers: { 'x-hub-signature-256': hmac('sha256', 'other', BODY), 'x-github-event': 'ping' },
    expect: refused(VerifyReason.BadSignature),
  },
  {
    name: 'github: signed with another secret',
    spec: gh,
    headers: { 'x-hub-signature-256': hmac('sha256', 'other', BODY), 'x-github-event': 'push' },
    expect: refused(VerifyReason.BadSignature),
  },
  {
    name: 'github: a good signature over a different body',
    spec: gh,
    headers: { 'x-hub-signature-256': hmac('sha256', SECRET, Buffer.from('{}')), 'x-github-event': 'push' },
    expect: refused(VerifyReason.BadSignature),
  },
  {
    name: 'github: no signature header',
    spec: gh,
    headers: { 'x-github-event': 'push' },
    expect: refused(VerifyReason.MissingSignature),
  },
  {
    name: 'github: only the legacy SHA-1 header is not enough',
    spec: gh,
    headers: { 'x-hub-signature': hmac('sha1', SECRET, BODY), 'x-github-event': 'push' },
    expect: refused(VerifyReason.MissingSignature),
  },
  {
    name: 'github: hex without the algorithm prefix',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256.slice(7), 'x-github-event': 'push' },
    expect: refused(VerifyReason.MalformedSignature),
  },
  {
    name: 'github: a truncated signature',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256.slice(0, -2), 'x-github-event': 'push' },
    expect: refused(VerifyReason.MalformedSignature),
  },
  {
    name: 'github: a signature with a non-hex character (Buffer.from would stop there)',
    spec: gh,
    headers: { 'x-hub-signature-256': `${goodSha256.slice(0, -1)}g`, 'x-github-event': 'push' },
    expect: refused(VerifyReason.MalformedSignature),
  },
  {
    name: 'github: a signature header sent twice',
    spec: gh,
    headers: { 'x-hub-signature-256': [goodSha256, goodSha256], 'x-github-event': 'push' },
    expect: refused(VerifyReason.MalformedSignature),
  },
  {
    name: 'github: a signed event that is not a push',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256, 'x-github-event': 'issues' },
    expect: refused(VerifyReason.IgnoredEvent, 'issues'),
  },
  {
    name: 'github: a signed delivery without an event',
    spec: gh,
    headers: { 'x-hub-signature-256': goodSha256 },
    expect: refused(VerifyReason.MissingEvent),
  },
  {
    name: 'github: events named by the Receiver replace the default',
    spec: { ...gh, events: ['create'] },
    headers: { 'x-hub-signature-256': goodSha256, 'x-github-event': 'create' },
    expect: accepted('create'),
  },
  {
    name: 'github: ... and push is then ignored',
    spec: { ...gh, events: ['create'] },
    headers: { 'x-hub-signature-256': goodSha256, 'x-github-event': 'push' },
    expect: refused(VerifyReason.IgnoredEvent, 'push'),
  },
  // gitlab
  {
    name: 'gitlab: a push with the right token',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook' },
    expect: accepted('Push Hook'),
  },
  {
    name: 'gitlab: a tag push with the right token',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Tag Push Hook' },
    expect: accepted('Tag Push Hook'),
  },
  {
    name: 'gitlab: a wrong token of the same length',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET.replace('s3', 's4'), 'x-gitlab-event': 'Push Hook' },
    expect: refused(VerifyReason.BadToken),
  },
  {
    name: 'gitlab: a prefix of the token',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET.slice(0, 4), 'x-gitlab-event': 'Push Hook' },
    expect: refused(VerifyReason.BadToken),
  },
  {
    name: 'gitlab: no token header',
    spec: gl,
    headers: { 'x-gitlab-event': 'Push Hook' },
    expect: refused(VerifyReason.MissingToken),
  },
  {
    name: 'gitlab: the right token for an event that is not a push',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Merge Request Hook' },
    expect: refused(VerifyReason.IgnoredEvent, 'Merge Request Hook'),
  },
  {
    name: 'gitlab: the right token without an event',
    spec: gl,
    headers: { 'x-gitlab-token': SECRET },
    expect: refused(VerifyReason.MissingEvent),
  },
  {
    name: 'gitlab: a GitHub-style signature is no token',
    spec: gl,
    headers: { 'x-hub-signature-256': goodSha256, 'x-gitlab-event': 'Push Hook' },
    expect: refused(VerifyReason.MissingToken),
  },
  // generic-hmac
  {
    name: 'generic-hmac: sha256 over the body',
    spec: generic,
    headers: { 'x-signature': goodSha256 },
    expect: accepted(),
  },
  {
    name: 'generic-hmac: sha512 over the body',
    spec: generic,
    headers: { 'x-signature': hmac('sha512', SECRET, BODY) },
    expect: accepted(),
  },
  {
    name: 'generic-hmac: has no events, so a ping header changes nothing',
    spec: generic,
    headers: { 'x-signature': goodSha256, 'x-github-event': 'ping' },
    expect: accepted(),
  },
  {
    name: 'generic-hmac: sha1 is refused',
    spec: generic,
    headers: { 'x-signature': hmac('sha1', SECRET, BODY) },
    expect: refused(VerifyReason.UnsupportedAlgorithm),
  },
  {
    name: 'generic-hmac: signed with another secret',
    spec: generic,
    headers: { 'x-signature': hmac('sha256', 'other', BODY) },
    expect: refused(VerifyReason.BadSignature),
  },
  {
    name: 'generic-hmac: the body changed after signing',
    spec: generic,
    headers: { 'x-signature': goodSha256 },
    body: Buffer.concat([BODY, Buffer.from(' ')]),
    expect: refused(VerifyReason.BadSignature),
  },
  {
    name: 'generic-hmac: no signature header',
    spec: generic,
    headers: {},
    expect: refused(VerifyReason.MissingSignature),
  },
  {
    name: 'generic-hmac: GitHub header name is not the generic one',
    spec: generic,
    headers: { 'x-hub-signature-256': goodSha256 },
    expect: refused(VerifyReason.MissingSignature),
  },
  {
    name: 'generic-hmac: sha512 length under a sha256 name',
    spec: generic,
    headers: { 'x-signature': `sha256=${hmac('sha512', SECRET, BODY).slice(7)}` },
    expect: refused(VerifyReason.MalformedSignature),
  },
  // every type
  {
    name: 'an empty secret authenticates nothing, even a signature made with the empty key',
    spec: { type: 'generic-hmac', secret: '' },
    headers: { 'x-signature': hmac('sha256', '', BODY) },
    expect: refused(VerifyReason.NoSecret),
  },
  {
    name: 'gitlab with an empty secret and an empty token',
    spec: { type: 'gitlab', secret: '' },
    headers: { 'x-gitlab-token': '', 'x-gitlab-event': 'Push Hook' },
    expect: refused(VerifyReason.NoSecret),
  },
  {
    name: 'an unknown type',
    spec: { type: 'bitbucket' as ReceiverSpec['type'], secret: SECRET },
    headers: { 'x-signature': goodSha256 },
    expect: refused(VerifyReason.UnsupportedType),
  },
];

for (const c of cases) {
  test(`receiver ${c.name}`, () => {
    const request: WebhookRequest = { headers: c.headers, body: c.body ?? BODY };
    assert.deepEqual(verifyWebhook(c.spec, request), c.expect);
  });
}

test('authentication failures are exactly the signature and token reasons', () => {
  assert.deepEqual([...AUTHENTICATION_FAILURES].sort(), [
    'bad-signature',
    'bad-token',
    'malformed-signature',
    'missing-signature',
    'missing-token',
    'unsupported-algorithm',
  ]);
});

test('the webhook token is stable, 256 bits, and names one Receiver and one secret', () => {
  const ns = { namespace: 'flux-system', name: 'github' };
  // Changing the derivation changes every Receiver's URL: this value is fixed on purpose.
  assert.equal(
    webhookToken(ns, 's3cr3t'),
    '81effbf0bc961ed204565ae738824e8923a3138e8acdfc62cb3d003de7d8099f',
  );
  const tokens = new Set([
    webhookToken(ns, 's3cr3t'),
    webhookToken(ns, 's3cr3t2'),
    webhookToken({ namespace: 'flux-system', name: 'gitlab' }, 's3cr3t'),
    webhookToken({ namespace: 'other', name: 'github' }, 's3cr3t'),
    webhookToken({ namespace: 'a', name: 'bc' }, 's3cr3t'),
    webhookToken({ namespace: 'ab', name: 'c' }, 's3cr3t'),
  ]);
  assert.equal(tokens.size, 6);
  for (const t of tokens) assert.match(t, /^[0-9a-f]{64}$/);
  assert.throws(() => webhookToken(ns, ''), /Receiver\/flux-system\/github: the token is empty/);
});

test('the published webhook token is not a signature the Receiver would accept', () => {
  const receiver = { namespace: 'shop', name: 'hook' };
  const token = webhookToken(receiver, SECRET);
  for (const body of ['shop/hook', 'shophook', 'hookshop', '']) {
    const v = verifyWebhook(generic, {
      headers: { 'x-signature': `sha256=${token}` },
      body: Buffer.from(body),
    });
    assert.equal(v.reason, VerifyReason.BadSignature, `body ${JSON.stringify(body)}`);
  }
});
