import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../cluster/objects.ts';
import { RenderError, RenderErrorReason } from './errors.ts';
import {
  checkManifests,
  compareSources,
  manifestsFromDocuments,
  nameProblem,
  objectIdentity,
  objectProblem,
} from './objects.ts';
import { defaultRenderLimits } from './types.ts';
import type { Manifest } from './types.ts';
import type { YamlDocument } from './yaml.ts';

const limits = defaultRenderLimits();

function docs(...values: unknown[]): YamlDocument[] {
  return values.map((value, i) => ({ index: i + 1, offset: 0, value }));
}

function cm(name: string, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra };
}

test('Lists expand in order, nested Lists depth first; empty documents vanish; every object keeps its source', () => {
  const { manifests, warnings } = manifestsFromDocuments(
    'app/all.yaml',
    docs(cm('first'), null, {
      apiVersion: 'v1',
      kind: 'List',
      items: [cm('a'), { apiVersion: 'v1', kind: 'ConfigMapList', items: [cm('b'), cm('c')] }, cm('d')],
    }),
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    manifests.map((m) => [m.object.metadata.name, m.source]),
    [
      ['first', { file: 'app/all.yaml', document: 1 }],
      ['a', { file: 'app/all.yaml', document: 3, item: 1 }],
      ['b', { file: 'app/all.yaml', document: 3, item: 2 }],
      ['c', { file: 'app/all.yaml', document: 3, item: 3 }],
      ['d', { file: 'app/all.yaml', document: 3, item: 4 }],
    ],
  );
});

test('a mapping with no apiVersion, kind or metadata is skipped with a warning; other shapes are errors', () => {
  const { manifests, warnings } = manifestsFromDocuments('app/values.yaml', docs({ replicas: 2 }));
  assert.equal(manifests.length, 0);
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]?.message ?? '',
    /^app\/values\.yaml: document 1: not a Kubernetes object .* ignored$/,
  );
  assert.throws(
    () => manifestsFromDocuments('app/list.yaml', docs(null, ['a', 'b'])),
    (e: unknown) =>
      e instanceof RenderError &&
      /^app\/list\.yaml: document 2: a sequence, not a Kubernetes object/.test(e.message),
  );
  assert.throws(
    () => manifestsFromDocuments('app/l.yaml', docs({ apiVersion: 'v1', kind: 'List', items: ['x'] })),
    (e: unknown) =>
      e instanceof RenderError && /document 1, item 1: a List item that is not an object/.test(e.message),
  );
});

test('objectProblem: what every object needs, and what the API server would refuse for any kind', () => {
  const cases: Array<[Record<string, unknown>, RegExp | undefined]> = [
    [cm('ok'), undefined],
    [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'migrate-' } }, undefined],
    [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'system:Aggregate' },
      },
      undefined,
    ],
    [{ kind: 'ConfigMap', metadata: { name: 'x' } }, /^apiVersion is missing$/],
    [{ apiVersion: 'v1', metadata: { name: 'x' } }, /^kind is missing$/],
    [{ apiVersion: 'v1', kind: 'ConfigMap' }, /^metadata is missing$/],
    [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, /^metadata\.name is missing$/],
    [
      { apiVersion: 'apps/v1/extra', kind: 'X', metadata: { name: 'x' } },
      /apiVersion "apps\/v1\/extra" is not a group\/version/,
    ],
    [
      { apiVersion: 'v1', kind: 'Config Map', metadata: { name: 'x' } },
      /kind "Config Map" is not a Kind name/,
    ],
    [{ apiVersion: 'v1', kind: 7, metadata: { name: 'x' } }, /kind \(a number\)/],
    [cm(''), /metadata\.name is empty/],
    [cm('a/b'), /may not contain "\/"/],
    [cm('..'), /may not be "\." or "\.\."/],
    [cm('a\nb'), /control characters or line breaks/],
    [cm('x'.repeat(254)), /longer than 253/],
    [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'Shop' } },
      /namespace "Shop" is not a DNS label/,
    ],
    [cm('x', { data: { enabled: true } }), /data\["enabled"\] is a boolean, not a string: quote the value/],
    [cm('x', { data: { port: 8080 } }), /data\["port"\] is a number/],
    [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, stringData: { token: false } },
      /stringData\["token"\] is a boolean/,
    ],
    [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { on: true } } },
      /metadata\.labels\["on"\] is a boolean/,
    ],
    [
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations: ['a'] } },
      /metadata\.annotations must be a mapping of strings, not a list/,
    ],
    [
      { apiVersion: 'argoproj.io/v1alpha1', kind: 'ConfigManagementPlugin', metadata: { name: 'p' } },
      /Cairn does not run plugins/,
    ],
  ];
  for (const [value, expected] of cases) {
    const problem = objectProblem(value);
    if (expected === undefined) assert.equal(problem, undefined, JSON.stringify(value));
    else assert.match(problem ?? '(none)', expected, JSON.stringify(value));
  }
  // Custom resources may use data fields of any type: only the core kinds are checked.
  assert.equal(
    objectProblem({ apiVersion: 'x.io/v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { on: true } }),
    undefined,
  );
});

test('a value is never quoted in a problem: a Secret value typed wrong is named by key only', () => {
  const problem = objectProblem({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { password: 123456 },
  });
  assert.ok(problem && !problem.includes('123456'), problem);
});

test('nameProblem accepts what some kinds allow (uppercase, colons) and refuses what none allow', () => {
  assert.equal(nameProblem('System:Nodes', 'metadata.name'), undefined);
  assert.match(nameProblem('a%2F', 'metadata.name') ?? '', /"%"/);
  assert.match(nameProblem(12, 'metadata.name') ?? '', /must be a string/);
});

test('objectIdentity: group, kind, namespace and name; the version does not matter; generateName has none', () => {
  const a = objectIdentity({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
  });
  const b = objectIdentity({
    apiVersion: 'apps/v1beta2',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
  });
  assert.equal(a, 'apps/Deployment/shop/web');
  assert.equal(a, b);
  assert.equal(
    objectIdentity({ apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'x-' } }),
    undefined,
  );
});

function manifest(object: KubeObject, file: string, document = 1): Manifest {
  return { object, source: { file, document } };
}

test('checkManifests: a duplicate identity is an error naming both files', () => {
  assert.throws(
    () =>
      checkManifests(
        [
          manifest(cm('settings'), 'app/a.yaml'),
          manifest({ apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'x-' } }, 'app/b.yaml'),
          manifest(
            { apiVersion: 'batch/v1', kind: 'Job', metadata: { generateName: 'x-' } },
            'app/b.yaml',
            2,
          ),
          manifest(cm('settings'), 'app/z.yaml', 3),
        ],
        limits,
      ),
    (e: unknown) =>
      e instanceof RenderError &&
      e.reason === RenderErrorReason.DuplicateObject &&
      e.file === 'app/z.yaml' &&
      e.message === 'app/z.yaml: document 3: ConfigMap/settings is also defined in app/a.yaml (document 1)',
  );
  // Same name, other namespace or other kind: different objects.
  checkManifests(
    [
      manifest(cm('settings'), 'a'),
      manifest({ ...cm('settings'), metadata: { name: 'settings', namespace: 'other' } }, 'b'),
      manifest({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'settings' } }, 'c'),
    ],
    limits,
  );
});

test('checkManifests: invalid objects name the file and document; the object count is bounded', () => {
  assert.throws(
    () =>
      checkManifests(
        [manifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, 'app/x.yaml', 4)],
        limits,
      ),
    (e: unknown) =>
      e instanceof RenderError &&
      e.reason === RenderErrorReason.InvalidObject &&
      e.message === 'app/x.yaml: document 4: ConfigMap: metadata.name is missing',
  );
  const many = [1, 2, 3].map((i) => manifest(cm(`c${i}`), 'app/many.yaml', i));
  assert.throws(
    () => checkManifests(many, { ...limits, maxObjects: 2 }),
    (e: unknown) =>
      e instanceof RenderError &&
      e.reason === RenderErrorReason.LimitExceeded &&
      /document 3: more than 2 objects/.test(e.message),
  );
});

test('compareSources orders by file in code-unit order (not the locale), then document, then item', () => {
  const sources = [
    { file: 'b.yaml', document: 1 },
    { file: 'a/z.yaml', document: 1 },
    { file: 'a.yaml', document: 2 },
    { file: 'a.yaml', document: 1, item: 2 },
    { file: 'a.yaml', document: 1, item: 1 },
    { file: 'B.yaml', document: 1 },
  ];
  assert.deepEqual([...sources].sort(compareSources), [
    { file: 'B.yaml', document: 1 },
    { file: 'a.yaml', document: 1, item: 1 },
    { file: 'a.yaml', document: 1, item: 2 },
    { file: 'a.yaml', document: 2 },
    { file: 'a/z.yaml', document: 1 },
    { file: 'b.yaml', document: 1 },
  ]);
});
