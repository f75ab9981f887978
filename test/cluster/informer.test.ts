// Informers against the real API server: selectors, event order, transform, pagination, 410 Gone
// answered by the server itself, and nothing left running after stop().
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { KubeClient, RequestOptions } from '../../src/cluster/client.ts';
import { Informer, type InformerClient, type InformerEvent } from '../../src/cluster/informer.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { newNamespace, waitUntil, withCluster } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

const WATCHED = { 'test.cairn.dev/informer': 'watched' };
const SELECTOR = 'test.cairn.dev/informer=watched';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function configMap(
  namespace: string,
  name: string,
  data: Record<string, string>,
  labels: Record<string, string> = WATCHED,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels, annotations: { [LAST_APPLIED]: JSON.stringify({ data }) } },
    data,
  };
}

const ref = (namespace: string, name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
const summary = (e: InformerEvent) => `${e.type} ${e.object.metadata.name ?? ''}`;

/** name -> resourceVersion of what the server lists now. */
async function serverState(client: KubeClient, namespace: string): Promise<Map<string, string>> {
  const list = await client.list('v1', 'ConfigMap', { namespace, labelSelector: SELECTOR });
  return new Map(list.items.map((o) => [o.metadata.name ?? '', o.metadata.resourceVersion ?? '']));
}

function cacheState(informer: Informer): Map<string, string> {
  return new Map(informer.list().map((o) => [o.metadata.name ?? '', o.metadata.resourceVersion ?? '']));
}

/** Keeps name -> resourceVersion from events alone, as a subscriber with its own copy would. */
function replicaOf(informer: Informer): Map<string, string> {
  const replica = new Map<string, string>();
  informer.onEvent((e) => {
    const name = e.object.metadata.name ?? '';
    if (e.type === 'DELETED') replica.delete(name);
    else replica.set(name, e.object.metadata.resourceVersion ?? '');
  });
  return replica;
}

test('a label-selected informer: list cached, changes in order, nothing outside the selector, transform applied', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'informer');
  await client.create(configMap(ns, 'a', { v: '1' }));
  await client.create(configMap(ns, 'outside', { v: '1' }, { 'test.cairn.dev/informer': 'other' }));

  const informer = new Informer(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: SELECTOR },
    {
      // Keep only what this consumer needs: no managed fields, no last-applied copy.
      transform: (o) => {
        const { managedFields: _m, annotations: _a, ...metadata } = o.metadata;
        return { ...o, metadata };
      },
    },
  );
  t.after(() => informer.stop());
  const seen: InformerEvent[] = [];
  informer.onEvent((e) => seen.push(e));
  await informer.start();
  assert.equal(informer.hasSynced, true);
  assert.deepEqual(
    informer.list().map((o) => o.metadata.name),
    ['a'],
    'kube-root-ca.crt and "outside" are not selected',
  );
  const a = informer.get(`/ConfigMap/${ns}/a`);
  assert.ok(a);
  assert.equal(a.kind, 'ConfigMap');
  assert.equal(a.metadata.managedFields, undefined, 'the transform ran on listed objects');
  assert.equal(a.metadata.annotations, undefined);

  await client.create(configMap(ns, 'b', { v: '1' }));
  await client.apply(configMap(ns, 'a', { v: '2' }));
  await client.delete(ref(ns, 'b'));
  await client.apply(configMap(ns, 'outside', { v: '2' }, { 'test.cairn.dev/informer': 'other' }));
  await client.create(configMap(ns, 'c', { v: '1' }, { 'test.cairn.dev/informer': 'other' }));
  // Relabelled out of the selector: to this informer the object is gone.
  await client.apply(configMap(ns, 'a', { v: '2' }, { 'test.cairn.dev/informer': 'other' }));
  await client.create(configMap(ns, 'z', { v: '1' }));
  await waitUntil(
    'the last change to arrive',
    async () => Promise.resolve(informer.get(`/ConfigMap/${ns}/z`)),
    {
      timeoutMs: 10_000,
      intervalMs: 20,
    },
  );

  assert.deepEqual(seen.map(summary), [
    'ADDED a',
    'ADDED b',
    'MODIFIED a',
    'DELETED b',
    'DELETED a',
    'ADDED z',
  ]);
  const modified = seen[2];
  assert.deepEqual(modified?.previous?.data, { v: '1' });
  assert.deepEqual(modified?.object.data, { v: '2' });
  assert.equal(seen[3]?.previous?.metadata.name, 'b');
  for (const e of seen) {
    assert.equal(e.object.metadata.managedFields, undefined, `${summary(e)} was transformed`);
    assert.equal(e.object.apiVersion, 'v1');
  }
  assert.deepEqual(cacheState(informer), await serverState(client, ns));
  const stats = informer.stats;
  assert.deepEqual([stats.lists, stats.relists, stats.delivered], [1, 0, 6]);
  assert.ok(stats.watches >= 1);
});

test('1,200 objects are listed in pages of 500 with continue tokens', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'informer-pages');
  const names = Array.from({ length: 1200 }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
  for (let i = 0; i < names.length; i += 40) {
    await Promise.all(names.slice(i, i + 40).map((name) => client.create(configMap(ns, name, { i: name }))));
  }
  const pages: { continue: boolean; limit: unknown; items: number }[] = [];
  const counting: InformerClient = {
    pathFor: (r) => client.pathFor(r),
    stream: (path, options) => client.stream(path, options),
    async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
      const answer = await client.request<{ items: unknown[] }>(method, path, options);
      pages.push({
        continue: Boolean(options?.query?.continue),
        limit: options?.query?.limit,
        items: answer.items.length,
      });
      return answer as T;
    },
  };
  const informer = new Informer(counting, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: ns,
    labelSelector: SELECTOR,
  });
  t.after(() => informer.stop());
  await informer.start();
  assert.deepEqual(pages, [
    { continue: false, limit: 500, items: 500 },
    { continue: true, limit: 500, items: 500 },
    { continue: true, limit: 500, items: 200 },
  ]);
  assert.equal(informer.size, 1200);
  assert.deepEqual(
    informer
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    names,
  );
  assert.deepEqual([informer.stats.listRequests, informer.stats.lists], [3, 1]);
});

/**
 * Passes everything through to the real client, except that watches can be held back (the
 * informer is "disconnected") and the next watch can be sent with another resourceVersion.
 */
class Interposer implements InformerClient {
  readonly #client: KubeClient;
  #gate: PromiseWithResolvers<void> | undefined;
  nextResourceVersion: string | undefined;
  readonly watchVersions: unknown[] = [];
  held = 0;
  current: Readable | undefined;

  constructor(client: KubeClient) {
    this.#client = client;
  }

  pathFor(r: { apiVersion: string; kind: string; namespace?: string }): Promise<string> {
    return this.#client.pathFor(r);
  }

  request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return this.#client.request<T>(method, path, options);
  }

  async stream(path: string, options: RequestOptions = {}): Promise<Readable> {
    if (this.#gate) {
      this.held++;
      await this.#gate.promise;
    }
    const query = { ...options.query };
    if (this.nextResourceVersion) {
      query.resourceVersion = this.nextResourceVersion;
      this.nextResourceVersion = undefined;
      this.watchVersions.push(query.resourceVersion);
      // Answer as an API server does once a version has left its window (etcd compacted, watch
      // cache rolled over). A young test cluster may still hold version 1, so the answer is
      // given here rather than left to the age of the cluster.
      const expired = {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `too old resource version: ${String(query.resourceVersion)}`,
          reason: 'Expired',
          code: 410,
        },
      };
      this.current = Readable.from([`${JSON.stringify(expired)}\n`]);
      return this.current;
    }
    this.watchVersions.push(query.resourceVersion);
    this.current = await this.#client.stream(path, { ...options, query });
    return this.current;
  }

  /** Cuts the open watch and holds the next ones until `reconnect()`. */
  disconnect(): void {
    this.#gate = Promise.withResolvers<void>();
    this.current?.destroy(new Error('cut by the test'));
  }

  reconnect(): void {
    this.#gate?.resolve();
    this.#gate = undefined;
  }
}

test('410 Expired on resuming a watch: the informer relists and delivers the difference', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'informer-gone');
  for (const name of ['a', 'b', 'c']) await client.create(configMap(ns, name, { v: '1' }));
  const interposer = new Interposer(client);
  const informer = new Informer(interposer, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: ns,
    labelSelector: SELECTOR,
  });
  t.after(() => informer.stop());
  const seen: InformerEvent[] = [];
  informer.onEvent((e) => seen.push(e));
  const replica = replicaOf(informer);
  await informer.start();
  await waitUntil('the watch to open', async () => Promise.resolve(informer.stats.watches === 1), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });

  interposer.disconnect();
  await waitUntil('the informer to try again', async () => Promise.resolve(interposer.held > 0), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  // While it cannot see: one deleted, one changed, one new, one untouched.
  await client.delete(ref(ns, 'a'));
  await client.apply(configMap(ns, 'b', { v: '2' }));
  await client.create(configMap(ns, 'd', { v: '1' }));
  const before = seen.length;
  // Resume from resourceVersion 1, outside the server's window: the answer is 410 Expired.
  interposer.nextResourceVersion = '1';
  interposer.reconnect();
  await waitUntil('the relist', async () => Promise.resolve(informer.stats.relists === 1), {
    timeoutMs: 20_000,
    intervalMs: 20,
  });

  assert.deepEqual(seen.slice(before).map(summary), ['DELETED a', 'MODIFIED b', 'ADDED d']);
  assert.deepEqual(seen.slice(before)[1]?.previous?.data, { v: '1' });
  assert.equal(informer.stats.expired, 1);
  assert.equal(interposer.watchVersions.at(-2), '1', 'the watch that expired asked for version 1');
  const server = await serverState(client, ns);
  assert.deepEqual(cacheState(informer), server);
  assert.deepEqual(replica, server, 'events alone bring a subscriber to the server state');

  // And it keeps watching from the relist.
  await client.apply(configMap(ns, 'c', { v: '2' }));
  await waitUntil(
    'c after the relist',
    async () => Promise.resolve(seen.at(-1)?.object.metadata.name === 'c'),
    {
      timeoutMs: 10_000,
      intervalMs: 20,
    },
  );
  assert.equal(seen.at(-1)?.type, 'MODIFIED');
  assert.equal(informer.stats.lists, 2);
});

test('after stop() no socket or timer of the informer remains', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'informer-stop');
  const handles = () =>
    process.getActiveResourcesInfo().filter((r) => ['TCPSocketWrap', 'TLSWrap', 'Timeout'].includes(r));
  const before = handles();
  const informer = new Informer(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns });
  await informer.start();
  await waitUntil('the watch to open', async () => Promise.resolve(informer.stats.watches === 1), {
    timeoutMs: 10_000,
    intervalMs: 20,
  });
  assert.ok(handles().length > before.length, 'a running informer holds a socket and a timer');
  await informer.stop();
  // Every socket and timer left was there before start (the shared client's idle keep-alive
  // sockets may close meanwhile, so the set can only shrink).
  const left = handles();
  for (const kind of new Set(left)) {
    assert.ok(
      left.filter((h) => h === kind).length <= before.filter((h) => h === kind).length,
      `${kind} left behind: ${left.join(', ')} (before: ${before.join(', ')})`,
    );
  }
});

/** Runs an informer in a child process; resolves with how long the process lived after it said so. */
function childInformer(
  kubeconfig: string,
  namespace: string,
  stop: boolean,
): Promise<{ code: number | null; msAfterStop: number | undefined; output: string }> {
  const module = (file: string) =>
    JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src', 'cluster', file)).href);
  const code = `
    import { loadKubeconfig } from ${module('kubeconfig.ts')};
    import { KubeClient } from ${module('client.ts')};
    import { Informer } from ${module('informer.ts')};
    const client = new KubeClient((await loadKubeconfig(process.env.KUBECONFIG)).connection);
    const informer = new Informer(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace: process.env.NS });
    await informer.start();
    while (informer.stats.watches === 0) await new Promise((r) => setTimeout(r, 10));
    if (process.env.STOP === '1') await informer.stop();
    console.log(process.env.STOP === '1' ? 'stopped' : 'running');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, KUBECONFIG: kubeconfig, NS: namespace, STOP: stop ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stoppedAt: number | undefined;
    // Killed 3 s after it reports (or after 30 s if it never does).
    let guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (stoppedAt === undefined && /stopped|running/.test(output)) {
        stoppedAt = Date.now();
        clearTimeout(guard);
        guard = setTimeout(() => child.kill('SIGKILL'), 3_000);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(guard);
      resolve({
        code: exitCode,
        msAfterStop: stoppedAt === undefined ? undefined : Date.now() - stoppedAt,
        output,
      });
    });
  });
}

test('a process whose informer was stopped exits by itself at once; one left running does not', async (t) => {
  const { kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'informer-exit');
  const stopped = await childInformer(kubeconfig, ns, true);
  assert.equal(stopped.code, 0, stopped.output);
  assert.ok(
    stopped.msAfterStop !== undefined && stopped.msAfterStop < 1000,
    `exited ${stopped.msAfterStop} ms after stop`,
  );
  // The control: the same process without stop() is held open by the watch until killed.
  const running = await childInformer(kubeconfig, ns, false);
  assert.equal(running.code, null, 'killed by the guard, not exited');
  assert.match(running.output, /running/);
});
