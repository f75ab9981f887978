// The apply stage against the real API server: server-side apply, "unchanged" without writes,
// drift, prune, plan failures, waves and hooks in order, and health.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import {
  ConfigMapInventoryStore,
  MemoryInventoryStore,
  ObjectOutcome,
  defaultSyncOptions,
  syncObjects,
  type SyncOptions,
} from '../../src/apply/index.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { healthOf } from '../../src/health/index.ts';
import { newNamespace, waitForObject, withCluster, scaleDeployment } from '../harness/index.ts';
import { recordEvents } from '../harness/watch.ts';

const desired = (objects: KubeObject[]) =>
  objects.map((object) => ({ object, source: { file: `${object.kind}.yaml` } }));

function deployment(
  name: string,
  extra: {
    annotations?: Record<string, string>;
    replicas?: number;
    podAnnotations?: Record<string, string>;
    progressDeadlineSeconds?: number;
  } = {},
): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
    spec: {
      replicas: extra.replicas ?? 1,
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          ...(extra.podAnnotations ? { annotations: extra.podAnnotations } : {}),
        },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
      },
    },
  };
}

const configMap = (
  name: string,
  data: Record<string, string> = { key: 'value' },
  annotations?: Record<string, string>,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(annotations ? { annotations } : {}) },
  data,
});

function job(name: string, annotations: Record<string, string>, fail = false): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, annotations },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { annotations: fail ? { 'test.cairn.dev/fail': 'true' } : {} },
        spec: { restartPolicy: 'Never', containers: [{ name: 'run', image: 'busybox' }] },
      },
    },
  };
}

function opts(ns: string, overrides: Partial<SyncOptions> = {}): SyncOptions {
  return {
    ...defaultSyncOptions('shop', ns),
    deployment: { id: 'run-1', commit: 'abc123', timestamp: '2026-11-25T00:00:00Z' },
    ...overrides,
    health: { timeoutMs: 90_000, intervalMs: 200 },
  };
}

test('a second sync of unchanged input makes no write, no dry-run and no hook, and reports every object unchanged', async (t) => {
  const { client, plane } = await withCluster();
  const ns = await newNamespace(t);
  const store = new ConfigMapInventoryStore(client, 'shop', ns);
  const objects = desired([
    configMap('settings'),
    deployment('web'),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    },
    job('once', { 'argocd.argoproj.io/hook': 'PostSync' }),
  ]);
  const first = await syncObjects(client, objects, store, opts(ns, { wait: true }));
  assert.ok(first.ok, first.error);
  assert.deepEqual(
    first.objects.map((o) => o.outcome),
    ['applied', 'applied', 'applied'],
  );
  assert.equal(first.hooks.length, 1, 'the PostSync hook ran once');

  const before = await client.list('v1', 'ConfigMap', { namespace: ns });
  const writesBefore = writeCount(client.requestsByMethod());
  const auditBefore = await auditWrites(plane.auditLog, ns);
  const second = await syncObjects(
    client,
    objects,
    store,
    opts(ns, { deployment: { id: 'run-2', commit: 'def456', timestamp: 't' } }),
  );
  assert.ok(second.ok, second.error);
  assert.deepEqual(
    second.objects.map((o) => o.outcome),
    ['unchanged', 'unchanged', 'unchanged'],
  );
  assert.equal(second.changed, false);
  assert.equal(second.hooks.length, 0, 'no hook runs when nothing changes');
  const after = await client.list('v1', 'ConfigMap', { namespace: ns });
  const rv = (items: KubeObject[], name: string) =>
    items.find((i) => i.metadata.name === name)?.metadata.resourceVersion;
  assert.equal(rv(after.items, 'settings'), rv(before.items, 'settings'));
  const writes = writeCount(client.requestsByMethod()) - writesBefore;
  assert.equal(writes, 0, 'no write was sent');
  assert.deepEqual(await auditWrites(plane.auditLog, ns, auditBefore.length), [], 'the audit log agrees');
  const settings = await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'settings' });
  assert.equal(
    settings.metadata.annotations?.['dora.metrics/commit-sha'],
    'abc123',
    'objects still name the commit that changed them',
  );
});

test('drift: after kubectl-style scaling the next sync restores exactly the replicas', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const store = new MemoryInventoryStore();
  const objects = desired([deployment('web', { replicas: 2 })]);
  assert.ok((await syncObjects(client, objects, store, opts(ns))).ok);
  await scaleDeployment(client, ns, 'web', 5);
  const again = await syncObjects(
    client,
    objects,
    store,
    opts(ns, { deployment: { id: 'run-2', commit: 'new', timestamp: 't' } }),
  );
  assert.ok(again.ok, again.error);
  assert.equal(again.objects[0]!.action, 'configure');
  assert.match(again.objects[0]!.reason, /drifted/);
  const web = await client.get<KubeObject & { spec: { replicas: number } }>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  assert.equal(web.spec.replicas, 2);
  assert.equal(
    web.metadata.annotations?.['dora.metrics/commit-sha'],
    'abc123',
    'reverting drift is not a deployment',
  );
});

test('prune deletes exactly what left Git; without prune, and after a failed plan, nothing is deleted', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const store = new MemoryInventoryStore();
  assert.ok(
    (await syncObjects(client, desired([configMap('a'), configMap('b'), configMap('c')]), store, opts(ns)))
      .ok,
  );
  const names = async () =>
    (
      await client.list('v1', 'ConfigMap', { namespace: ns, labelSelector: 'app.cairn.dev/application=shop' })
    ).items
      .map((i) => i.metadata.name)
      .sort();

  const kept = await syncObjects(client, desired([configMap('a'), configMap('c')]), store, opts(ns));
  assert.ok(kept.ok);
  assert.deepEqual(await names(), ['a', 'b', 'c'], 'pruning is off by default');

  const unknownKind: KubeObject = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'r' },
  };
  const broken = await syncObjects(
    client,
    desired([configMap('a'), unknownKind]),
    store,
    opts(ns, { prune: true }),
  );
  assert.equal(broken.ok, false);
  assert.equal(broken.failedAt, 'plan');
  assert.match(
    broken.error!,
    /Rollout\.yaml: Rollout\/r: kind Rollout \(argoproj\.io\/v1alpha1\) is not served/,
  );
  assert.deepEqual(await names(), ['a', 'b', 'c'], 'a failed plan prunes nothing');

  const pruned = await syncObjects(
    client,
    desired([configMap('a'), configMap('c')]),
    store,
    opts(ns, { prune: true }),
  );
  assert.ok(pruned.ok, pruned.error);
  assert.deepEqual(
    pruned.objects.filter((o) => o.outcome === ObjectOutcome.Pruned).map((o) => o.ref.name),
    ['b'],
  );
  await waitForObject(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'a' },
    'to stay',
    () => true,
  );
  assert.deepEqual(await names(), ['a', 'c']);
});

test('order: the PreSync Job completes before any wave-0 object exists, wave 1 starts after wave 0 is healthy', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const recorder = await recordEvents(client, [
    { path: `/apis/batch/v1/namespaces/${ns}/jobs`, kind: 'Job' },
    { path: `/apis/apps/v1/namespaces/${ns}/deployments`, kind: 'Deployment' },
    { path: `/api/v1/namespaces/${ns}/configmaps`, kind: 'ConfigMap' },
  ]);
  t.after(() => recorder.stop());
  const result = await syncObjects(
    client,
    desired([
      configMap('wave-one', { a: '1' }, { 'argocd.argoproj.io/sync-wave': '1' }),
      deployment('wave-zero', { replicas: 2 }),
      job('migrate', { 'argocd.argoproj.io/hook': 'PreSync' }),
    ]),
    new MemoryInventoryStore(),
    opts(ns),
  );
  assert.ok(result.ok, result.error);
  await waitForObject(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'wave-one' },
    'to exist',
    () => true,
  );
  await new Promise((r) => setTimeout(r, 500)); // let the watch streams deliver
  const events = recorder.ordered();
  const at = (pred: (e: (typeof events)[number]) => boolean, what: string) => {
    const e = events.find(pred);
    assert.ok(e, `no event for ${what}`);
    return e.revision;
  };
  const jobComplete = at(
    (e) => e.kind === 'Job' && healthOf(e.object).status === 'Healthy',
    'the PreSync job completing',
  );
  const deploymentCreated = at(
    (e) => e.kind === 'Deployment' && e.type === 'ADDED',
    'the wave-0 Deployment being created',
  );
  const deploymentHealthy = at(
    (e) => e.kind === 'Deployment' && healthOf(e.object).status === 'Healthy',
    'the wave-0 Deployment becoming healthy',
  );
  const configMapCreated = at(
    (e) => e.kind === 'ConfigMap' && e.name === 'wave-one' && e.type === 'ADDED',
    'the wave-1 ConfigMap being created',
  );
  assert.ok(jobComplete < deploymentCreated, 'the PreSync hook completed before wave 0 was applied');
  assert.ok(deploymentHealthy < configMapCreated, 'wave 0 was healthy before wave 1 was applied');
});

test('a failing hook runs the SyncFail hooks and marks the sync failed', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const result = await syncObjects(
    client,
    desired([
      configMap('app'),
      job('check', { 'argocd.argoproj.io/hook': 'PostSync' }, true),
      job('cleanup', { 'argocd.argoproj.io/hook': 'SyncFail' }),
    ]),
    new MemoryInventoryStore(),
    opts(ns),
  );
  assert.equal(result.ok, false);
  assert.equal(result.failedAt, 'PostSync');
  assert.match(result.error!, /PostSync hook Job\/.*check/);
  const byName = Object.fromEntries(result.hooks.map((h) => [h.name, h.ok]));
  assert.deepEqual(byName, { check: false, cleanup: true });
});

test('health: a deployment past its progress deadline is Degraded with the reason; a failed Job is Degraded', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const stuck = deployment('stuck', {
    podAnnotations: { 'test.cairn.dev/not-ready': 'true' },
    progressDeadlineSeconds: 10,
  });
  const result = await syncObjects(
    client,
    desired([stuck]),
    new MemoryInventoryStore(),
    opts(ns, { wait: true }),
  );
  assert.equal(result.ok, false);
  assert.match(result.error!, /Deployment\/.*\/stuck: Degraded \(ProgressDeadlineExceeded\)/);
  const failing = await syncObjects(
    client,
    desired([job('batch', {}, true)]),
    new MemoryInventoryStore(),
    opts(ns, { wait: true }),
  );
  assert.equal(failing.ok, false);
  assert.match(failing.error!, /Job\/.*\/batch: Degraded/);
});

test('health: a rollout whose new pods are held not-ready is Progressing', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const store = new MemoryInventoryStore();
  assert.ok(
    (
      await syncObjects(
        client,
        desired([deployment('web', { replicas: 2 })]),
        store,
        opts(ns, { wait: true }),
      )
    ).ok,
  );
  const rollout = await syncObjects(
    client,
    desired([deployment('web', { replicas: 2, podAnnotations: { 'test.cairn.dev/not-ready': 'true' } })]),
    store,
    opts(ns),
  );
  assert.ok(rollout.ok, rollout.error);
  const web = await waitForObject(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to start rolling out',
    (d) => healthOf(d).reason === 'RollingOut',
  );
  assert.equal(healthOf(web).status, 'Progressing');
});

function writeCount(byMethod: Record<string, number>): number {
  return ['PATCH', 'POST', 'PUT', 'DELETE'].reduce((n, m) => n + (byMethod[m] ?? 0), 0);
}

/** Writes recorded by the API server's audit log in a namespace: `verb resource/name`. */
async function auditWrites(file: string, namespace: string, skip = 0): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 300));
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return lines
    .map(
      (l) =>
        JSON.parse(l) as {
          verb: string;
          objectRef?: { namespace?: string; resource?: string; name?: string };
          userAgent?: string;
        },
    )
    .filter(
      (e) =>
        e.objectRef?.namespace === namespace &&
        ['create', 'update', 'patch', 'delete'].includes(e.verb) &&
        e.userAgent === 'cairn',
    )
    .map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`)
    .slice(skip);
}
