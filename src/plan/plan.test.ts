import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../cluster/objects.ts';
import {
  Action,
  DORA,
  PlanError,
  desiredDigest,
  keyOf,
  ownedFieldsDigest,
  planSync,
  syncRoleOf,
  type Inventory,
  type PlanOptions,
} from './index.ts';

const NAMESPACED = new Set(['ConfigMap', 'Deployment', 'Service', 'Job', 'Secret', 'ServiceAccount', 'Pod']);
const CLUSTER = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']);

function options(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return {
    application: 'shop',
    namespace: 'shop',
    prune: true,
    ignoreDifferences: [],
    fieldManager: 'cairn',
    deployment: { id: 'd-2', commit: 'c2', timestamp: '2026-11-25T00:00:00Z' },
    scopeOf: (_apiVersion, kind) =>
      NAMESPACED.has(kind) ? 'namespaced' : CLUSTER.has(kind) ? 'cluster' : undefined,
    ...overrides,
  };
}

const cm = (
  name: string,
  data: Record<string, string> = { a: '1' },
  annotations?: Record<string, string>,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  data,
});

/** What the cluster would hold after Cairn applied `sent`: the same object, Cairn owning `fields`. */
function liveAfterApply(sent: KubeObject, fields: unknown = { 'f:data': { 'f:a': {} } }): KubeObject {
  return {
    ...sent,
    metadata: {
      ...sent.metadata,
      uid: 'u1',
      managedFields: [{ manager: 'cairn', operation: 'Apply', fieldsV1: fields }],
    },
  };
}

/** Plans once from scratch and returns the inventory and live state an apply of that plan would leave. */
function applied(
  objects: KubeObject[],
  opts = options(),
): { inventory: Inventory; live: Map<string, KubeObject> } {
  const plan = planSync(
    objects.map((object) => ({ object })),
    new Map(),
    { entries: [] },
    opts,
  );
  const live = new Map<string, KubeObject>();
  const entries = plan.stages
    .flatMap((s) => s.objects)
    .map((p) => {
      const obj = liveAfterApply(p.object!);
      live.set(p.key, obj);
      return {
        key: p.key,
        apiVersion: p.ref.apiVersion,
        digest: p.digest!,
        fields: ownedFieldsDigest(obj, 'cairn', p.ignored)!,
      };
    });
  return { inventory: { entries }, live };
}

const actions = (plan: ReturnType<typeof planSync>) =>
  Object.fromEntries(plan.stages.flatMap((s) => s.objects).map((o) => [o.ref.name, o.action]));

test('objects not in the cluster are created, with tracking and deployment metadata', () => {
  const plan = planSync([{ object: cm('a') }], new Map(), { entries: [] }, options());
  const [obj] = plan.stages[0]!.objects;
  assert.equal(obj!.action, Action.Create);
  assert.equal(obj!.ref.namespace, 'shop', 'namespaced objects default to the application namespace');
  assert.equal(obj!.object!.metadata.labels!['app.cairn.dev/application'], 'shop');
  assert.equal(obj!.object!.metadata.annotations!['app.cairn.dev/tracking-id'], 'shop:/ConfigMap:shop/a');
  assert.equal(obj!.object!.metadata.annotations![DORA.commitSha], 'c2');
  assert.ok(plan.changed);
});

test('a second plan of the same input finds everything unchanged and keeps the deployment annotations', () => {
  const objects = [cm('a'), cm('b')];
  const { inventory, live } = applied(objects);
  const plan = planSync(
    objects.map((object) => ({ object })),
    live,
    inventory,
    options({ deployment: { id: 'd-3', commit: 'c3', timestamp: 't3' } }),
  );
  assert.deepEqual(actions(plan), { a: Action.Unchanged, b: Action.Unchanged });
  assert.equal(plan.changed, false);
  const a = plan.stages[0]!.objects[0]!;
  assert.equal(
    a.object!.metadata.annotations![DORA.commitSha],
    'c2',
    'an unchanged object still names the commit that changed it',
  );
});

test('a change in Git configures only that object, with the new deployment', () => {
  const { inventory, live } = applied([cm('a'), cm('b')]);
  const plan = planSync(
    [{ object: cm('a', { a: '2' }) }, { object: cm('b') }],
    live,
    inventory,
    options({ deployment: { id: 'd-3', commit: 'c3', timestamp: 't3' } }),
  );
  assert.deepEqual(actions(plan), { a: Action.Configure, b: Action.Unchanged });
  const a = plan.stages[0]!.objects.find((o) => o.ref.name === 'a')!;
  assert.equal(a.reason, 'changed in Git');
  assert.equal(a.object!.metadata.annotations![DORA.commitSha], 'c3');
});

test('drift (another manager took a field) is configured again, re-sending the old deployment annotations', () => {
  const { inventory, live } = applied([cm('a')]);
  const key = keyOf({ ...cm('a'), metadata: { name: 'a', namespace: 'shop' } });
  const drifted = live.get(key)!;
  live.set(key, {
    ...drifted,
    metadata: {
      ...drifted.metadata,
      managedFields: [
        { manager: 'cairn', operation: 'Apply', fieldsV1: {} },
        { manager: 'kubectl-edit', operation: 'Update', fieldsV1: { 'f:data': { 'f:a': {} } } },
      ],
    },
  });
  const plan = planSync(
    [{ object: cm('a') }],
    live,
    inventory,
    options({ deployment: { id: 'd-3', commit: 'c3', timestamp: 't3' } }),
  );
  const a = plan.stages[0]!.objects[0]!;
  assert.equal(a.action, Action.Configure);
  assert.match(a.reason, /drifted/);
  assert.equal(a.object!.metadata.annotations![DORA.deploymentId], 'd-2', 'a revert is not a new deployment');
});

test('an object that exists but was not applied by this application is configured (adopted)', () => {
  const live = new Map([[keyOf({ ...cm('a'), metadata: { name: 'a', namespace: 'shop' } }), cm('a')]]);
  const plan = planSync([{ object: cm('a') }], live, { entries: [] }, options());
  assert.equal(plan.stages[0]!.objects[0]!.action, Action.Configure);
});

test('what left Git is pruned only when pruning is on, in reverse order, and never with Prune=false', () => {
  const objects = [
    cm('keep'),
    cm('gone'),
    cm('sticky', { a: '1' }, { 'argocd.argoproj.io/sync-options': 'Prune=false' }),
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: {} },
  ];
  const { inventory, live } = applied(objects);
  const next = [{ object: cm('keep') }];
  const pruning = planSync(next, live, inventory, options());
  assert.deepEqual(
    pruning.prune.map((p) => `${p.ref.kind}/${p.ref.name}`),
    ['Deployment/web', 'ConfigMap/gone'],
    'dependents first',
  );
  assert.deepEqual(
    pruning.skipped.map((s) => [s.ref.name, s.reason]),
    [['sticky', 'left Git; kept because of Prune=false']],
  );
  const keeping = planSync(next, live, inventory, options({ prune: false }));
  assert.deepEqual(keeping.prune, []);
  assert.equal(keeping.skipped.length, 3);
  assert.equal(keeping.changed, false);
});

test('order: prerequisites first, then waves, then kinds; hooks apart and outside the inventory', () => {
  const objects: KubeObject[] = [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
    { ...cm('late'), metadata: { name: 'late', annotations: { 'argocd.argoproj.io/sync-wave': '2' } } },
    { ...cm('early'), metadata: { name: 'early', annotations: { 'cairn.dev/sync-wave': '-1' } } },
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'shop', annotations: { 'argocd.argoproj.io/sync-wave': '5' } },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { generateName: 'migrate-', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
    },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'smoke',
        annotations: {
          'helm.sh/hook': 'post-install,post-upgrade',
          'helm.sh/hook-delete-policy': 'hook-succeeded',
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'helm-test', annotations: { 'helm.sh/hook': 'test' } },
    },
  ];
  const plan = planSync(
    objects.map((object) => ({ object })),
    new Map(),
    { entries: [] },
    options(),
  );
  assert.deepEqual(
    plan.stages.map((s) => [s.name, s.objects.map((o) => `${o.ref.kind}/${o.ref.name}`)]),
    [
      ['prerequisites', ['Namespace/shop']],
      ['wave -1', ['ConfigMap/early']],
      ['wave 0', ['Service/web', 'Deployment/web']],
      ['wave 2', ['ConfigMap/late']],
    ],
  );
  assert.deepEqual(
    plan.hooks.PreSync.map((h) => h.ref.name),
    ['migrate-'],
  );
  assert.deepEqual(
    plan.hooks.PostSync.map((h) => [h.ref.name, h.deletePolicies]),
    [['smoke', ['HookSucceeded']]],
  );
  assert.deepEqual(
    plan.hooks.PreSync[0]!.deletePolicies,
    ['BeforeHookCreation'],
    'the default delete policy',
  );
  assert.deepEqual(
    plan.skipped.map((s) => s.ref.name),
    ['helm-test'],
    'Helm hooks Cairn has no phase for are skipped',
  );
});

test('kinds the cluster does not serve fail the plan, naming each; a CRD in the same sync makes its kind known', () => {
  const rollout: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'r' },
  };
  const app: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'a' },
  };
  assert.throws(
    () =>
      planSync(
        [{ object: rollout, source: { file: 'templates/rollout.yaml' } }, { object: app }],
        new Map(),
        { entries: [] },
        options(),
      ),
    (e: unknown) => {
      assert.ok(e instanceof PlanError);
      assert.match(
        e.message,
        /templates\/rollout\.yaml: Rollout\/r: kind Rollout \(argoproj\.io\/v1alpha1\) is not served/,
      );
      assert.match(e.message, /Application\/a: kind Application/);
      return true;
    },
  );
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget' },
      scope: 'Namespaced',
      versions: [{ name: 'v1' }],
    },
  };
  const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } };
  const plan = planSync([{ object: widget }, { object: crd }], new Map(), { entries: [] }, options());
  assert.deepEqual(
    plan.stages.map((s) => s.name),
    ['prerequisites', 'wave 0'],
  );
  assert.equal(plan.stages[1]!.objects[0]!.ref.namespace, 'shop');
});

test('cluster-scoped objects lose a namespace they were given', () => {
  const plan = planSync(
    [
      {
        object: {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRole',
          metadata: { name: 'r', namespace: 'oops' },
        },
      },
    ],
    new Map(),
    { entries: [] },
    options(),
  );
  assert.equal(plan.stages[0]!.objects[0]!.ref.namespace, undefined);
});

test('unreadable annotations fail the plan naming the annotation', () => {
  assert.throws(
    () =>
      syncRoleOf({
        ...cm('a'),
        metadata: { name: 'a', annotations: { 'argocd.argoproj.io/sync-wave': 'soon' } },
      }),
    /argocd\.argoproj\.io\/sync-wave: "soon" is not a whole number/,
  );
  assert.throws(
    () =>
      planSync(
        [
          {
            object: { ...cm('a'), metadata: { name: 'a', annotations: { 'cairn.dev/hook': 'Later' } } },
            source: { file: 'a.yaml' },
          },
        ],
        new Map(),
        { entries: [] },
        options(),
      ),
    /a\.yaml: ConfigMap\/shop\/a: annotation cairn\.dev\/hook: unknown hook "Later"/,
  );
});

test('ignoreDifferences: an ignored field changed by another manager is neither drift nor reverted', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 2, template: {} },
  };
  const rules = [{ group: 'apps', kind: 'Deployment', jsonPointers: ['/spec/replicas'] }];
  const opts = options({ ignoreDifferences: rules });
  const first = planSync([{ object: deployment }], new Map(), { entries: [] }, opts);
  const sent = first.stages[0]!.objects[0]!;
  const fields = { 'f:spec': { 'f:replicas': {}, 'f:template': {} } };
  const live = liveAfterApply(sent.object!, fields);
  const inventory: Inventory = {
    entries: [
      {
        key: sent.key,
        apiVersion: 'apps/v1',
        digest: sent.digest!,
        fields: ownedFieldsDigest(live, 'cairn', sent.ignored)!,
      },
    ],
  };
  // The autoscaler scales to 5 and takes spec.replicas.
  const scaled: KubeObject = {
    ...live,
    spec: { replicas: 5, template: {} },
    metadata: {
      ...live.metadata,
      managedFields: [{ manager: 'cairn', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } }],
    },
  };
  const plan = planSync([{ object: deployment }], new Map([[sent.key, scaled]]), inventory, opts);
  const web = plan.stages[0]!.objects[0]!;
  assert.equal(web.action, Action.Unchanged);
  assert.equal((web.object!.spec as { replicas: number }).replicas, 5, 'applying would keep the live value');
  assert.equal(desiredDigest(deployment) === web.digest, false, 'the digest leaves the ignored field out');
});
