// An informer rides out its API server going away (serial: it stops a private instance's
// kube-apiserver).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import { Informer, type InformerEvent } from '../../src/cluster/informer.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import type { Logger } from '../../src/log.ts';
import { privateCluster, waitUntil } from '../harness/index.ts';
import { sleep } from '../harness/processes.ts';

const SELECTOR = 'test.cairn.dev/informer=watched';

const configMap = (name: string, v: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels: { 'test.cairn.dev/informer': 'watched' } },
  data: { v },
});
const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name });

async function serverState(client: KubeClient): Promise<Map<string, string>> {
  const list = await client.list('v1', 'ConfigMap', { namespace: 'default', labelSelector: SELECTOR });
  return new Map(list.items.map((o) => [o.metadata.name ?? '', o.metadata.resourceVersion ?? '']));
}

const cacheState = (informer: Informer) =>
  new Map(informer.list().map((o) => [o.metadata.name ?? '', o.metadata.resourceVersion ?? '']));

const sameState = (a: Map<string, string>, b: Map<string, string>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

test('a stopped API server: the informer retries, resumes without being recreated and converges', async (t) => {
  const plane = await privateCluster(t);
  const client = await plane.client();
  t.after(() => client.close());
  for (const name of ['keep', 'change', 'remove']) await client.create(configMap(name, '1'));

  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (m) => warnings.push(m),
    error: (m) => warnings.push(m),
  };
  const informer = new Informer(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', labelSelector: SELECTOR },
    { logger },
  );
  t.after(() => informer.stop());
  const replica = new Map<string, string>();
  const seen: string[] = [];
  informer.onEvent((e: InformerEvent) => {
    seen.push(`${e.type} ${e.object.metadata.name ?? ''}`);
    if (e.type === 'DELETED') replica.delete(e.object.metadata.name ?? '');
    else replica.set(e.object.metadata.name ?? '', e.object.metadata.resourceVersion ?? '');
  });
  await informer.start();

  // Changes before the outage arrive through the watch.
  await client.apply(configMap('change', '2'));
  await client.create(configMap('early', '1'));
  await waitUntil(
    'the early changes',
    async () => sameState(cacheState(informer), await serverState(client)),
    {
      timeoutMs: 10_000,
      intervalMs: 50,
    },
  );
  const beforeOutage = informer.stats;
  assert.equal(beforeOutage.lists, 1);

  await plane.stop('apiserver');
  await sleep(10_000);
  const duringOutage = informer.stats;
  assert.ok(
    duringOutage.failures >= 3,
    `retried while the server was down (${duringOutage.failures} failures)`,
  );
  assert.ok(warnings.some((w) => w.includes('retrying')));
  await plane.start('apiserver');

  // Changes after the outage: the same informer object must see them.
  await client.apply(configMap('change', '3'));
  await client.delete(ref('remove'));
  await client.create(configMap('late', '1'));
  const server = await waitUntil(
    'the cache to converge to the server',
    async () => {
      const state = await serverState(client);
      return sameState(cacheState(informer), state) ? state : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
  assert.ok(sameState(replica, server), 'the events delivered add up to the server state');
  assert.ok(seen.includes('DELETED remove'));
  assert.ok(seen.includes('ADDED late'));
  assert.deepEqual(informer.get('/ConfigMap/default/change')?.data, { v: '3' });

  const after = informer.stats;
  assert.ok(
    after.watches > beforeOutage.watches,
    `watches reopened (${beforeOutage.watches} -> ${after.watches})`,
  );
  assert.ok(after.lists <= 3, `at most a relist or two, not a list per retry (${after.lists} lists)`);
  assert.ok(after.listRequests <= 3);
  t.diagnostic(
    `failures ${after.failures}, watches ${after.watches}, lists ${after.lists}, expired ${after.expired}`,
  );
});
