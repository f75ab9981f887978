// The cache and fan-out over a scripted API: keys, events with their previous state, transform,
// relist diffs, lifecycle and sharing. The real API server is in test/cluster/informer.test.ts.
import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { RequestOptions } from './client.ts';
import {
  Informer,
  InformerStoppedError,
  SharedInformers,
  diffRelist,
  dropLastApplied,
  targetKey,
  type InformerClient,
  type InformerEvent,
} from './informer.ts';
import type { KubeObject, ObjectMeta } from './objects.ts';

type Query = Record<string, string | number | boolean | undefined>;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A list item as the server sends it: no apiVersion or kind. */
interface ListItem {
  metadata: ObjectMeta;
  data: Record<string, string>;
}

function item(
  name: string,
  rv: string,
  extra: { uid?: string; data?: Record<string, string> } = {},
): ListItem {
  return {
    metadata: {
      name,
      namespace: 'ns',
      resourceVersion: rv,
      uid: extra.uid ?? `uid-${name}`,
      annotations: { [LAST_APPLIED]: '{"big":"copy"}', keep: 'me' },
    },
    data: extra.data ?? {},
  };
}

const event = (type: string, object: ListItem) =>
  `${JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'ConfigMap', ...object } })}\n`;
const expired = `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })}\n`;

/** Lists from a queue; each watch is a stream the test writes to. */
class ScriptedClient implements InformerClient {
  lists: { items: ListItem[]; rv: string }[] = [];
  readonly streams: PassThrough[] = [];
  readonly watchQueries: Query[] = [];
  readonly paths: string[] = [];

  pathFor(ref: { apiVersion: string; kind: string; namespace?: string }): Promise<string> {
    const path = `/api/${ref.apiVersion}/namespaces/${ref.namespace ?? '-'}/${ref.kind.toLowerCase()}s`;
    this.paths.push(path);
    return Promise.resolve(path);
  }

  request<T>(_method: string, _path: string, _options?: RequestOptions): Promise<T> {
    const next = this.lists.shift();
    if (!next) return Promise.reject(new Error('no list scripted'));
    // Fresh objects per answer, as JSON parsing would give.
    const items = structuredClone(next.items);
    return Promise.resolve({ items, metadata: { resourceVersion: next.rv } } as T);
  }

  stream(_path: string, options: RequestOptions = {}): Promise<Readable> {
    this.watchQueries.push({ ...options.query });
    const stream = new PassThrough();
    options.signal?.addEventListener('abort', () => stream.destroy(new Error('aborted')), { once: true });
    this.streams.push(stream);
    return Promise.resolve(stream);
  }

  get current(): PassThrough {
    const stream = this.streams.at(-1);
    assert.ok(stream, 'a watch is open');
    return stream;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const quiet = { sleep: () => nextTurn() };

const summary = (e: InformerEvent) =>
  `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}` +
  (e.previous ? ` (was @${e.previous.metadata.resourceVersion})` : '');

test('relist diff: deleted first, then added and modified in list order; same version is no event; new uid is delete + add', () => {
  const obj = (name: string, rv: string, uid = `u-${name}`): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, resourceVersion: rv, uid },
  });
  const cached = new Map([
    ['a', obj('a', '1')],
    ['b', obj('b', '2')],
    ['c', obj('c', '3')],
    ['d', obj('d', '4')],
  ]);
  const fresh = new Map([
    ['e', obj('e', '9')],
    ['b', obj('b', '2')],
    ['c', obj('c', '7')],
    ['d', obj('d', '8', 'u-d2')],
  ]);
  const events = diffRelist(cached, fresh);
  assert.deepEqual(events.map(summary), [
    'DELETED a@1 (was @1)',
    'ADDED e@9',
    'MODIFIED c@7 (was @3)',
    'DELETED d@4 (was @4)',
    'ADDED d@8',
  ]);
  assert.deepEqual(diffRelist(new Map(), new Map([['a', obj('a', '1')]])).map(summary), ['ADDED a@1']);
  assert.deepEqual(diffRelist(cached, cached), []);
});

test('dropLastApplied removes only that annotation and leaves its input alone', () => {
  const input = { apiVersion: 'v1', kind: 'ConfigMap', ...item('a', '1') };
  const out = dropLastApplied(input);
  assert.deepEqual(out.metadata.annotations, { keep: 'me' });
  assert.ok(LAST_APPLIED in (input.metadata.annotations ?? {}));
  const bare: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } };
  assert.equal(dropLastApplied(bare), bare);
});

test('an informer caches the list under objectKey and delivers changes with the previous state, transformed', async (t) => {
  const client = new ScriptedClient();
  client.lists = [{ items: [item('a', '10'), item('b', '11')], rv: '100' }];
  const informer = new Informer(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', labelSelector: 'app=x' },
    { ...quiet, transform: (o) => dropLastApplied(o) },
  );
  t.after(() => informer.stop());
  const seen: InformerEvent[] = [];
  informer.onEvent((e) => seen.push(e));
  assert.equal(informer.hasSynced, false);
  await informer.start();
  assert.equal(informer.hasSynced, true);
  assert.deepEqual(client.paths, ['/api/v1/namespaces/ns/configmaps']);
  assert.equal(client.watchQueries[0]?.labelSelector, 'app=x');
  assert.deepEqual(seen.map(summary), ['ADDED a@10', 'ADDED b@11']);

  const a = informer.get('/ConfigMap/ns/a');
  assert.ok(a, 'keyed as group/Kind/namespace/name');
  assert.equal(a.apiVersion, 'v1', 'list items get apiVersion and kind from the target');
  assert.equal(a.kind, 'ConfigMap');
  assert.deepEqual(a.metadata.annotations, { keep: 'me' }, 'the transform ran before caching');

  client.current.write(
    event('MODIFIED', item('a', '120', { data: { k: 'v' } })) +
      event('ADDED', item('c', '130')) +
      event('MODIFIED', item('c', '130')) + // same version again: nothing new
      event('DELETED', item('b', '140')) +
      event('DELETED', item('zz', '150')), // never cached: nobody saw it appear
  );
  await until('the deletion', () => seen.length === 5);
  await nextTurn();
  assert.deepEqual(seen.slice(2).map(summary), [
    'MODIFIED a@120 (was @10)',
    'ADDED c@130',
    'DELETED b@140 (was @11)',
  ]);
  assert.equal(seen.length, 5);
  assert.deepEqual(informer.get('/ConfigMap/ns/a')?.data, { k: 'v' });
  assert.deepEqual(
    seen[2]?.object.metadata.annotations,
    { keep: 'me' },
    'events carry the transformed object',
  );
  assert.equal(informer.get('/ConfigMap/ns/b'), undefined);
  assert.deepEqual(
    informer.list().map((o) => o.metadata.name),
    ['a', 'c'],
  );
  assert.equal(informer.resourceVersion, '150');
  assert.equal(informer.stats.delivered, 5);
});

test('after 410 the relist reaches subscribers as the events that lead to the same state', async (t) => {
  const client = new ScriptedClient();
  client.lists = [
    { items: [item('a', '10'), item('b', '11'), item('c', '12')], rv: '100' },
    { items: [item('b', '11'), item('c', '160'), item('d', '170')], rv: '200' },
  ];
  const informer = new Informer(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns' }, quiet);
  t.after(() => informer.stop());
  // A subscriber keeping its own copy from events alone must end where the cache ends.
  const replica = new Map<string, string>();
  const seen: string[] = [];
  informer.onEvent((e) => {
    seen.push(summary(e));
    const name = e.object.metadata.name ?? '';
    if (e.type === 'DELETED') replica.delete(name);
    else replica.set(name, e.object.metadata.resourceVersion ?? '');
  });
  await informer.start();
  client.current.write(expired);
  await until('the relist', () => informer.stats.relists === 1);
  assert.deepEqual(seen.slice(3), ['DELETED a@10 (was @10)', 'MODIFIED c@160 (was @12)', 'ADDED d@170']);
  assert.deepEqual(
    [...replica].sort(),
    informer
      .list()
      .map((o) => [o.metadata.name, o.metadata.resourceVersion])
      .sort(),
  );
  assert.equal(client.watchQueries.at(-1)?.resourceVersion, '200');
  assert.equal(informer.stats.lists, 2);
});

test('start() resolves once synced and is shared; stop() before sync rejects it; stopped stays stopped', async () => {
  const client = new ScriptedClient();
  const informer = new Informer(client, { apiVersion: 'v1', kind: 'ConfigMap' }, quiet);
  let settled = false;
  const first = informer.start();
  const second = informer.start();
  assert.equal(first, second);
  void first.then(
    () => (settled = true),
    () => (settled = true),
  );
  await until('failed lists', () => informer.stats.failures >= 3);
  assert.equal(settled, false, 'no list yet: not synced');
  await informer.stop();
  await assert.rejects(first, InformerStoppedError);
  await assert.rejects(informer.start(), InformerStoppedError);
});

test('unsubscribing stops delivery to that handler only; a throwing handler does not starve others', async (t) => {
  const client = new ScriptedClient();
  client.lists = [{ items: [], rv: '1' }];
  const informer = new Informer(
    client,
    { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns' },
    {
      ...quiet,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    },
  );
  t.after(() => informer.stop());
  const a: string[] = [];
  const b: string[] = [];
  informer.onEvent(() => {
    throw new Error('boom');
  });
  const offA = informer.onEvent((e) => a.push(e.object.metadata.name ?? ''));
  informer.onEvent((e) => b.push(e.object.metadata.name ?? ''));
  await informer.start();
  client.current.write(event('ADDED', item('x', '2')));
  await until('x', () => b.length === 1);
  offA();
  client.current.write(event('ADDED', item('y', '3')));
  await until('y', () => b.length === 2);
  assert.deepEqual(a, ['x']);
  assert.deepEqual(b, ['x', 'y']);
});

test('shared informers: one per distinct target, the factory transform, and stop() stops them all', async () => {
  const client = new ScriptedClient();
  client.lists = [{ items: [item('a', '1')], rv: '5' }];
  const shared = new SharedInformers(client, quiet);
  const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', labelSelector: 'app=x' };
  const one = shared.informerFor(target);
  assert.equal(shared.informerFor({ ...target }), one);
  assert.equal(shared.informerFor({ ...target, labelSelector: ' app=x ' }), one);
  assert.notEqual(shared.informerFor({ ...target, labelSelector: 'app=y' }), one);
  assert.notEqual(shared.informerFor({ ...target, namespace: 'other' }), one);
  assert.notEqual(shared.informerFor({ ...target, apiVersion: 'v2' }), one);
  assert.equal(shared.size, 4);
  assert.notEqual(targetKey(target), targetKey({ ...target, fieldSelector: 'metadata.name=a' }));

  await one.start();
  assert.deepEqual(
    one.get('/ConfigMap/ns/a')?.metadata.annotations,
    { keep: 'me' },
    'shared informers drop the last-applied copy by default',
  );
  await shared.stop();
  assert.equal(client.current.destroyed, true, 'the watch is closed');
  await assert.rejects(one.start(), InformerStoppedError);
  assert.throws(() => shared.informerFor(target), InformerStoppedError);
});
