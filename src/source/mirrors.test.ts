import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitSubject, SUBJECT_LIMIT } from './mirrors.ts';

test('a commit subject is one line, without control characters, cut at the limit in characters', () => {
  assert.equal(commitSubject('fix the cart\n'), 'fix the cart');
  assert.equal(commitSubject('tab\there\u001b[31m red'), 'tab here [31m red');
  assert.equal(commitSubject('<script>alert(1)</script>'), '<script>alert(1)</script>');
  const long = commitSubject('é'.repeat(SUBJECT_LIMIT + 50));
  assert.equal(Array.from(long).length, SUBJECT_LIMIT);
  assert.ok(long.endsWith('…'));
  // A character outside the BMP is never split in half.
  const emoji = commitSubject('🚀'.repeat(SUBJECT_LIMIT + 1));
  assert.equal(Array.from(emoji).length, SUBJECT_LIMIT);
  assert.doesNotMatch(emoji, /[\ud800-\udbff](?![\udc00-\udfff])/);
});
