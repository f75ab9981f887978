// Every folder of argocd-example-apps, synced to the test cluster: the expected outcome of each,
// as a table. Objects are rendered from the corpus checkout and applied in a fresh namespace.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryInventoryStore, defaultSyncOptions, syncObjects } from '../../src/apply/index.ts';
import { Renderer, defaultRenderOptions } from '../../src/render/index.ts';
import { newNamespace, withCluster } from '../harness/index.ts';

const corpus = process.env.CAIRN_TEST_CORPUS;
if (!corpus || !existsSync(corpus))
  throw new Error(`CAIRN_TEST_CORPUS must name the corpus folder (got ${corpus ?? 'nothing'})`);
const ROOT = join(corpus, 'argocd-example-apps');

type Expected =
  | { outcome: 'healthy' }
  | { outcome: 'plan fails'; naming: RegExp }
  | { outcome: 'render fails'; naming: RegExp };

const TABLE: { folder: string; valueFiles?: string[]; expect: Expected }[] = [
  { folder: 'guestbook', expect: { outcome: 'healthy' } },
  { folder: 'kustomize-guestbook', expect: { outcome: 'healthy' } },
  { folder: 'helm-guestbook', expect: { outcome: 'healthy' } },
  {
    folder: 'helm-guestbook',
    valueFiles: ['helm-guestbook/values-production.yaml'],
    expect: { outcome: 'healthy' },
  },
  { folder: 'sock-shop', expect: { outcome: 'healthy' } },
  { folder: 'helm-hooks', expect: { outcome: 'healthy' } },
  { folder: 'sync-waves', expect: { outcome: 'healthy' } },
  { folder: 'pre-post-sync', expect: { outcome: 'healthy' } },
  {
    folder: 'blue-green',
    expect: { outcome: 'plan fails', naming: /kind Rollout \(argoproj\.io\/v1alpha1\) is not served/ },
  },
  {
    folder: 'apps',
    expect: { outcome: 'plan fails', naming: /kind Application \(argoproj\.io\/v1alpha1\) is not served/ },
  },
  { folder: 'helm-dependency', expect: { outcome: 'render fails', naming: /helm-dependency\/Chart\.yaml/ } },
  {
    folder: 'jsonnet-guestbook',
    expect: { outcome: 'render fails', naming: /jsonnet-guestbook\/.*\.jsonnet/ },
  },
  {
    folder: 'jsonnet-guestbook-tla',
    expect: { outcome: 'render fails', naming: /jsonnet-guestbook-tla\/.*\.jsonnet/ },
  },
];

const renderer = new Renderer({ cacheSize: 0 });

for (const row of TABLE) {
  const label = `${row.folder}${row.valueFiles ? ` with ${row.valueFiles.join(', ')}` : ''}`;
  test(`corpus ${label}: ${row.expect.outcome}`, async (t) => {
    const { client } = await withCluster();
    const ns = await newNamespace(t, 'corpus');
    const defaults = defaultRenderOptions();
    const application = row.folder.replaceAll('/', '-');
    let rendered;
    try {
      rendered = await renderer.render({
        ...defaults,
        root: ROOT,
        path: row.folder,
        helm: { ...defaults.helm, releaseName: application, namespace: ns, valueFiles: row.valueFiles ?? [] },
      });
    } catch (e) {
      assert.equal(row.expect.outcome, 'render fails', `render failed: ${String(e)}`);
      assert.match((e as Error).message, row.expect.naming);
      return;
    }
    assert.notEqual(row.expect.outcome, 'render fails', 'the render was expected to fail');
    const store = new MemoryInventoryStore();
    const result = await syncObjects(client, rendered.manifests, store, {
      ...defaultSyncOptions(application, ns),
      wait: true,
      health: { timeoutMs: 120_000, intervalMs: 300 },
    });
    if (row.expect.outcome === 'plan fails') {
      assert.equal(result.ok, false);
      assert.equal(result.failedAt, 'plan');
      assert.match(result.error ?? '', row.expect.naming);
      const left = await client.list('v1', 'ConfigMap', {
        namespace: ns,
        labelSelector: `app.cairn.dev/application=${application}`,
      });
      assert.equal(left.items.length, 0, 'nothing was applied');
      assert.deepEqual(store.inventory.entries, []);
      return;
    }
    assert.ok(result.ok, `${label}: ${result.failedAt}: ${result.error}`);
    assert.equal(result.health.status, 'Healthy', result.health.message);
    assert.ok(result.objects.length > 0);
  });
}
