import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classifyGitFailure,
  isStalled,
  isTransient,
  redactSecrets,
  SourceError,
  SourceErrorReason,
} from './errors.ts';

test('a SourceError starts with the URL, with user info redacted in the URL and the message', () => {
  const e = new SourceError(
    'https://deploy:hunter22@git.example.com/r.git',
    SourceErrorReason.RefNotFound,
    'ref "v9" not found while fetching https://deploy:hunter22@git.example.com/r.git',
  );
  assert.equal(
    e.message,
    'https://***@git.example.com/r.git: ref "v9" not found while fetching https://***@git.example.com/r.git',
  );
  assert.equal(e.url, 'https://***@git.example.com/r.git');
  assert.equal(e.reason, 'RefNotFound');
  assert.ok(!e.message.includes('hunter22'));
});

test('secrets are redacted wherever they appear, also URL-encoded; very short ones are left', () => {
  assert.equal(redactSecrets('password p@ss/w0rd and p%40ss%2Fw0rd', ['p@ss/w0rd']), 'password *** and ***');
  assert.equal(redactSecrets('key -----BEGIN KEY-----', ['-----BEGIN KEY-----']), 'key ***');
  assert.equal(redactSecrets('a b c', ['b']), 'a b c');
});

test('git messages are classified into reasons that decide retry or stall', () => {
  const cases: [string, boolean, SourceErrorReason][] = [
    ['', true, 'Timeout'],
    ["fatal: Authentication failed for 'https://h/r.git/'", false, 'AuthFailed'],
    ["fatal: could not read Username for 'https://h': terminal prompts disabled", false, 'AuthFailed'],
    ['git@h: Permission denied (publickey).', false, 'AuthFailed'],
    ['Host key verification failed.', false, 'AuthFailed'],
    [
      "remote: Repository not found.\nfatal: repository 'https://h/x.git/' not found",
      false,
      'RepositoryNotFound',
    ],
    ["fatal: '/etc' does not appear to be a git repository", false, 'RepositoryNotFound'],
    [
      "fatal: unable to access 'http://127.0.0.1:1/r.git/': Failed to connect to 127.0.0.1 port 1",
      false,
      'Unreachable',
    ],
    ['ssh: Could not resolve hostname nowhere: Name or service not known', false, 'Unreachable'],
    ['ssh: connect to host 127.0.0.1 port 1: Connection refused', false, 'Unreachable'],
    ['fatal: bad object', false, 'Failed'],
  ];
  for (const [stderr, timedOut, reason] of cases)
    assert.equal(classifyGitFailure(stderr, timedOut), reason, stderr);
});

test('transient reasons are retried, the others stall until something changes', () => {
  const of = (reason: SourceErrorReason) => new SourceError('https://h/r.git', reason, 'x');
  for (const reason of ['Unreachable', 'Timeout', 'Failed'] as const) {
    assert.ok(isTransient(of(reason)) && !isStalled(of(reason)), reason);
  }
  for (const reason of [
    'InvalidUrl',
    'InvalidRef',
    'AuthFailed',
    'RepositoryNotFound',
    'RefNotFound',
    'TooLarge',
  ] as const) {
    assert.ok(isStalled(of(reason)) && !isTransient(of(reason)), reason);
  }
  assert.ok(!isTransient(new Error('x')) && !isStalled(new Error('x')));
});
