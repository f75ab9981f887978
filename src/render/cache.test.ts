import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LruCache } from './cache.ts';
import { canonicalJson, renderDigest } from './digest.ts';
import type { ReadFile } from './guard.ts';

test('LruCache evicts the least recently used entry; a get counts as a use', () => {
  const cache = new LruCache<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  assert.equal(cache.get('a'), 1); // a is now the most recent
  cache.set('c', 3); // evicts b
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 1);
  assert.equal(cache.get('c'), 3);
  assert.equal(cache.size, 2);
  cache.set('a', 10); // replacing does not grow it
  assert.equal(cache.size, 2);
  assert.equal(cache.get('a'), 10);
});

test('LruCache of size 0 keeps nothing', () => {
  const cache = new LruCache<string, number>(0);
  cache.set('a', 1);
  assert.equal(cache.get('a'), undefined);
  assert.equal(cache.size, 0);
});

test('canonicalJson does not depend on key order', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }),
    '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
  );
  assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
});

const file = (path: string, sha256: string, real = path): ReadFile => ({
  path,
  real,
  sha256,
  bytes: Buffer.alloc(0),
});

test('renderDigest: the files read (path, real location, content), the options and the tool; not file order', () => {
  const base = {
    renderer: 'plain',
    options: { path: 'app' },
    tool: '',
    files: [file('app/a.yaml', 'aa'), file('app/b.yaml', 'bb')],
  };
  const digest = renderDigest(base);
  assert.match(digest, /^[0-9a-f]{64}$/);
  assert.equal(renderDigest({ ...base, files: [...base.files].reverse() }), digest);
  const changed = [
    { ...base, files: [file('app/a.yaml', 'aa'), file('app/b.yaml', 'cc')] },
    { ...base, files: [file('app/a.yaml', 'aa'), file('app/c.yaml', 'bb')] },
    { ...base, files: [file('app/a.yaml', 'aa'), file('app/b.yaml', 'bb', 'elsewhere/b.yaml')] },
    { ...base, files: [file('app/a.yaml', 'aa')] },
    { ...base, options: { path: 'app', helm: { releaseName: 'x' } } },
    { ...base, tool: 'kustomize v5.8.1' },
    { ...base, renderer: 'kustomize' },
  ];
  for (const inputs of changed) assert.notEqual(renderDigest(inputs), digest, JSON.stringify(inputs));
});
