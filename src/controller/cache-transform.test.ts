// What the controller's watch caches keep of an object: less memory, the same decisions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../cluster/objects.ts';
import { compactFieldsV1, ownedFieldsDigest } from '../plan/digest.ts';
import { StringPool, keepWhatReconcilesNeed } from './controller.ts';

const fields = {
  'f:data': { '.': {}, 'f:mode': {}, 'f:index': {} },
  'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:annotations': { 'f:note': {} } },
};

function configMap(name: string, commit: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: `team-${'a'.repeat(3)}`,
      labels: { app: ['we', 'b'].join('') },
      annotations: {
        'dora.metrics/commit-sha': commit.slice(0),
        note: 'n',
        'kubectl.kubernetes.io/last-applied-configuration': '{"big":"copy"}',
      },
      managedFields: [
        { manager: 'cairn', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: fields },
        { manager: 'kubectl', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} },
      ],
    },
    data: { mode: 'x', index: '1' },
  };
}

test('the cache keeps Cairn’s field set as one string, with the same owned-fields digest', () => {
  const live = configMap('one', 'c'.repeat(40));
  const kept = keepWhatReconcilesNeed(live, 'cairn');
  const managed = kept.metadata.managedFields as { manager: string; fieldsV1: unknown }[];
  assert.deepEqual(
    managed.map((m) => m.manager),
    ['cairn'],
  );
  assert.equal(typeof managed[0]!.fieldsV1, 'string');
  assert.equal(ownedFieldsDigest(kept, 'cairn'), ownedFieldsDigest(live, 'cairn'));
  for (const pointers of [['/data/mode'], ['/metadata/annotations/note', '/data/index']])
    assert.equal(ownedFieldsDigest(kept, 'cairn', pointers), ownedFieldsDigest(live, 'cairn', pointers));
  assert.notEqual(ownedFieldsDigest(kept, 'cairn', ['/data/mode']), ownedFieldsDigest(kept, 'cairn'));
  assert.equal(kept.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'], undefined);
  assert.deepEqual(kept.data, live.data);
  assert.equal(compactFieldsV1(managed[0]!), managed[0], 'compacting twice changes nothing');
});

test('repeated values share one string; an Application keeps the entry of what applied it, not its status writes', () => {
  const pool = new StringPool();
  const a = keepWhatReconcilesNeed(configMap('a', 'd'.repeat(40)), 'cairn', pool);
  const b = keepWhatReconcilesNeed(configMap('b', 'd'.repeat(40)), 'cairn', pool);
  assert.equal(pool.size, 3, 'namespace, label value, commit');
  assert.equal(a.metadata.namespace, b.metadata.namespace);
  const app = keepWhatReconcilesNeed(
    { ...configMap('c', 'e'.repeat(40)), apiVersion: 'cairn.dev/v1alpha1', kind: 'Application' },
    'cairn',
    pool,
  );
  assert.deepEqual(
    (app.metadata.managedFields as { manager: string }[]).map((m) => m.manager),
    ['cairn'],
    'an Application applied by a parent Application keeps what the unchanged decision reads',
  );
  const statusOnly = keepWhatReconcilesNeed(
    {
      ...configMap('d', 'e'.repeat(40)),
      metadata: {
        name: 'd',
        managedFields: [
          { manager: 'cairn-controller', operation: 'Apply', subresource: 'status', fieldsV1: {} },
        ],
      },
    },
    'cairn',
    pool,
  );
  assert.equal(statusOnly.metadata.managedFields, undefined);
  const bounded = new StringPool(2);
  for (const v of ['x', 'y', 'z']) bounded.intern(v);
  assert.ok(bounded.size <= 2);
});
