import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../cluster/objects.ts';
import { diffObjects, normalizeForDiff, redactSecretValues } from './diff.ts';

const live: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u',
    resourceVersion: '42',
    generation: 3,
    creationTimestamp: '2026-01-01T00:00:00Z',
    managedFields: [{ manager: 'cairn' }],
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration': '{"secret":"x"}',
      'dora.metrics/commit-sha': 'old',
      team: 'a',
    },
  },
  spec: { replicas: 5, template: { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } } },
  status: { replicas: 5 },
};

test('normalisation drops what the server owns and keeps what people wrote', () => {
  const n = normalizeForDiff(live);
  assert.deepEqual(Object.keys(n.metadata).sort(), ['annotations', 'name', 'namespace']);
  assert.deepEqual(n.metadata.annotations, { team: 'a' });
  assert.equal(n.status, undefined);
});

test('a scaled deployment differs in exactly spec.replicas', () => {
  const predicted = {
    ...live,
    metadata: {
      ...live.metadata,
      resourceVersion: '43',
      annotations: { ...live.metadata.annotations, 'dora.metrics/commit-sha': 'new' },
    },
    spec: { ...(live.spec as object), replicas: 2 },
  };
  const d = diffObjects('Deployment/shop/web', live, predicted);
  assert.equal(d.change, 'configure');
  assert.equal(d.added, 1);
  assert.equal(d.removed, 1);
  assert.match(d.patch, /^- {2}replicas: 5$/m);
  assert.match(d.patch, /^\+ {2}replicas: 2$/m);
});

test('equal states give no diff; creation and deletion show the whole object', () => {
  assert.equal(
    diffObjects('x', live, { ...live, metadata: { ...live.metadata, resourceVersion: '99' } }).change,
    'none',
  );
  const created = diffObjects('Deployment/shop/web', undefined, live);
  assert.equal(created.change, 'create');
  assert.equal(created.removed, 0);
  assert.ok(created.added > 5);
  assert.equal(diffObjects('x', live, undefined).change, 'delete');
});

test('Secret values never appear, but a changed value still shows as changed', () => {
  const secret = (data: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data,
  });
  const d = diffObjects(
    'Secret/s',
    secret({ password: 'aHVudGVyMg==', user: 'YWRtaW4=' }),
    secret({ password: 'c3dvcmRmaXNo', user: 'YWRtaW4=', token: 'dG9r' }),
  );
  assert.equal(d.change, 'configure');
  for (const value of ['aHVudGVyMg==', 'c3dvcmRmaXNo', 'YWRtaW4=', 'dG9r'])
    assert.ok(!d.patch.includes(value), `${value} leaked`);
  assert.match(d.patch, /^- {2}password: <redacted \(before\)>$/m);
  assert.match(d.patch, /^\+ {2}password: <redacted \(after\)>$/m);
  assert.match(d.patch, /^\+ {2}token: <redacted>$/m);
  assert.match(d.patch, /^ {3}user: <redacted>$/m);
  const created = diffObjects('Secret/s', undefined, {
    ...secret({}),
    stringData: { key: 'plain-text-secret' },
  });
  assert.ok(!created.patch.includes('plain-text-secret'));
});

test('messages about a Secret lose its values, plain and base64', () => {
  const secret: KubeObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    stringData: { a: 'hunter22' },
    data: { b: Buffer.from('swordfish').toString('base64') },
  };
  const msg = `Secret "s" is invalid: data[b]: Invalid value: "${Buffer.from('swordfish').toString('base64')}" (swordfish), stringData[a]: hunter22 / ${Buffer.from('hunter22').toString('base64')}`;
  const out = redactSecretValues(msg, secret);
  for (const v of [
    'hunter22',
    'swordfish',
    Buffer.from('hunter22').toString('base64'),
    Buffer.from('swordfish').toString('base64'),
  ])
    assert.ok(!out.includes(v), `${v} in ${out}`);
  assert.match(out, /Secret "s" is invalid/);
  assert.equal(
    redactSecretValues('plain message hunter22', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'hunter22' },
    }),
    'plain message hunter22',
  );
});
