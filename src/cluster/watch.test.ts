// The list-watch protocol against a scripted API: pagination, resume points (events and
// bookmarks), 410 Gone as an event and as a status, backoff, deadlines and stop. What the real
// API server does is checked in test/cluster/.
import assert from 'node:assert/strict';
import { PassThrough, type Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { KubeApiError, type RequestOptions } from './client.ts';
import type { KubeObject } from './objects.ts';
import {
  Backoff,
  ListWatch,
  NdjsonDecoder,
  NdjsonError,
  type ListWatchOptions,
  type WatchApi,
  type WatchEvent,
} from './watch.ts';
import type { Logger } from '../log.ts';

type Query = Record<string, string | number | boolean | undefined>;

const cm = (name: string, resourceVersion: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion, uid: `uid-${name}` },
});

const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const bookmark = (rv: string) => line('BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: rv } });
const expired = line('ERROR', { kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });

/** A watch response the test writes to; it dies like a socket when its request is aborted. */
function openStream(signal: AbortSignal | undefined): PassThrough {
  const stream = new PassThrough();
  signal?.addEventListener('abort', () => stream.destroy(new Error('aborted')), { once: true });
  return stream;
}

/** A scripted API server: each list and each watch is answered by the next function queued. */
class ScriptedApi implements WatchApi {
  readonly listQueries: Query[] = [];
  readonly watchQueries: Query[] = [];
  readonly streams: PassThrough[] = [];
  lists: ((query: Query) => unknown)[] = [];
  watches: ((query: Query, signal: AbortSignal | undefined) => Readable)[] = [];
  /** Answers once the queues run dry: nothing, until aborted. */
  #idle = (signal: AbortSignal | undefined) => openStream(signal);

  async request<T>(method: string, _path: string, options: RequestOptions = {}): Promise<T> {
    await Promise.resolve();
    assert.equal(method, 'GET');
    const query = { ...options.query };
    this.listQueries.push(query);
    const next = this.lists.shift();
    if (!next) throw new Error('no list scripted');
    return next(query) as T;
  }

  async stream(_path: string, options: RequestOptions = {}): Promise<Readable> {
    await Promise.resolve();
    const query = { ...options.query };
    this.watchQueries.push(query);
    const next = this.watches.shift();
    const stream = next ? next(query, options.signal) : this.#idle(options.signal);
    if (stream instanceof PassThrough) this.streams.push(stream);
    return stream;
  }
}

/** A watch that sends `text` and then ends cleanly (or stays open). */
function sends(text: string, end = true) {
  return (_query: Query, signal: AbortSignal | undefined): Readable => {
    const stream = openStream(signal);
    stream.write(text);
    if (end) stream.end();
    return stream;
  };
}

const page = (items: KubeObject[], resourceVersion: string, token?: string) => () => ({
  items,
  metadata: { resourceVersion, ...(token ? { continue: token } : {}) },
});

const refused = () => {
  throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
};

interface Harness {
  api: ScriptedApi;
  watch: ListWatch;
  lists: { names: string[]; resourceVersion: string; relist: boolean }[];
  events: { type: string; name: string; rv: string }[];
  delays: number[];
  logs: { level: string; message: string }[];
  /** What `now()` answers; tests move it to show time passing. */
  clock: { now: number };
}

function harness(api: ScriptedApi, options: Partial<ListWatchOptions> = {}): Harness {
  const lists: Harness['lists'] = [];
  const events: Harness['events'] = [];
  const delays: number[] = [];
  const logs: Harness['logs'] = [];
  const clock = { now: 0 };
  const record =
    (level: string) =>
    (message: string): void => {
      logs.push({ level, message });
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const watch = new ListWatch(
    api,
    { path: '/api/v1/namespaces/ns/configmaps', labelSelector: 'app=a', subject: 'ConfigMap in ns' },
    {
      onList: (items, resourceVersion, relist) =>
        lists.push({ names: items.map((i) => i.metadata.name ?? ''), resourceVersion, relist }),
      onEvent: (e: WatchEvent) =>
        events.push({
          type: e.type,
          name: e.object.metadata.name ?? '',
          rv: e.object.metadata.resourceVersion ?? '',
        }),
    },
    {
      logger,
      now: () => clock.now,
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
        await nextTurn();
      },
      ...options,
    },
  );
  return { api, watch, lists, events, delays, logs, clock };
}

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('NDJSON: the same values whatever two places the bytes are cut at, UTF-8 included', () => {
  const payload = Buffer.from(
    `${line('ADDED', { metadata: { name: 'café', annotations: { note: 'naïve 🙂 ✓' } } })}\r\n\n` +
      `${line('MODIFIED', { metadata: { name: 'b' }, data: { k: 'v\\n' } })}` +
      `  ${bookmark('42')}`,
    'utf8',
  );
  const whole = [...new NdjsonDecoder().write(payload)];
  assert.equal(whole.length, 3);
  assert.equal((whole[0] as { object: { metadata: { name: string } } }).object.metadata.name, 'café');
  for (let i = 0; i <= payload.length; i++) {
    for (let j = i; j <= payload.length; j++) {
      const decoder = new NdjsonDecoder();
      const values = [
        ...decoder.write(payload.subarray(0, i)),
        ...decoder.write(payload.subarray(i, j)),
        ...decoder.write(payload.subarray(j)),
        ...decoder.end(),
      ];
      assert.deepEqual(values, whole, `cut at ${i} and ${j}`);
    }
  }
});

test('NDJSON: a malformed line, an oversized line and a line cut short are errors', () => {
  // Values before a malformed line are still taken, then the line throws.
  const taken: unknown[] = [];
  assert.throws(() => {
    for (const value of new NdjsonDecoder().write('{"type":"ADDED"}\n{"type":\n{"c":3}\n')) taken.push(value);
  }, NdjsonError);
  assert.deepEqual(taken, [{ type: 'ADDED' }]);
  const small = new NdjsonDecoder(16);
  assert.deepEqual([...small.write('{"a":1}\n')], [{ a: 1 }]);
  assert.deepEqual([...small.write('{"a":"0123')], []);
  assert.throws(() => [...small.write('456789"}')], /longer than 16 bytes/);
  const last = new NdjsonDecoder();
  assert.deepEqual([...last.write('{"a":1}\n{"b":2}')], [{ a: 1 }]);
  assert.deepEqual(last.end(), [{ b: 2 }], 'a last line without a newline still counts');
  const pieces = new NdjsonDecoder();
  assert.deepEqual([...pieces.write('{"c":'), ...pieces.write('"x'), ...pieces.write('y"}')], []);
  assert.deepEqual(pieces.end(), [{ c: 'xy' }]);
  const cut = new NdjsonDecoder();
  assert.deepEqual([...cut.write('{"type":"ADDED","obj')], []);
  assert.throws(() => cut.end(), NdjsonError);
});

test('backoff doubles from 250 ms to 30 s with jitter, and starts over after a quiet minute', () => {
  const options = { initialMs: 250, maxMs: 30_000, factor: 2, resetAfterMs: 60_000 };
  const top = new Backoff(options, () => 1);
  const delays = Array.from({ length: 10 }, (_, i) => top.next(i * 1000));
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  const bottom = new Backoff(options, () => 0);
  assert.deepEqual([bottom.next(0), bottom.next(1), bottom.next(2)], [125, 250, 500]);
  // Failures under a minute apart keep growing; a failure after a quiet minute starts over.
  const reset = new Backoff(options, () => 1);
  assert.deepEqual([reset.next(0), reset.next(59_000), reset.next(118_000)], [250, 500, 1000]);
  assert.equal(reset.next(178_000), 250);
});

test('lists in pages with limit and continue, then watches from the list with bookmarks and a random timeout', async () => {
  const api = new ScriptedApi();
  api.lists = [
    page([cm('a', '5'), cm('b', '6')], '100', 'token-1'),
    page([cm('c', '7'), cm('d', '8')], '100', 'token-2'),
    page([cm('e', '9')], '100'),
  ];
  const h = harness(api, { pageSize: 2, random: () => 0.5 });
  h.watch.start();
  await until('the first watch', () => api.watchQueries.length === 1);
  await h.watch.stop();
  assert.deepEqual(
    api.listQueries.map((q) => [q.limit, q.continue, q.labelSelector]),
    [
      [2, undefined, 'app=a'],
      [2, 'token-1', 'app=a'],
      [2, 'token-2', 'app=a'],
    ],
  );
  assert.deepEqual(h.lists, [{ names: ['a', 'b', 'c', 'd', 'e'], resourceVersion: '100', relist: false }]);
  const [w] = api.watchQueries;
  assert.equal(w?.resourceVersion, '100');
  assert.equal(w?.allowWatchBookmarks, true);
  assert.equal(w?.labelSelector, 'app=a');
  assert.equal(w?.timeoutSeconds, 450, 'min 300 + 0.5 * 301 s');
  const stats = h.watch.stats;
  assert.equal(stats.listRequests, 3);
  assert.equal(stats.lists, 1);
  assert.equal(stats.watches, 1);
});

test('a bookmark moves the resume point and is not delivered as an event', async () => {
  const api = new ScriptedApi();
  api.lists = [page([cm('a', '5')], '100')];
  api.watches = [sends(line('MODIFIED', cm('a', '120')) + bookmark('150')), sends(bookmark('170'))];
  const h = harness(api);
  h.watch.start();
  await until('the third watch', () => api.watchQueries.length === 3);
  await h.watch.stop();
  assert.deepEqual(
    api.watchQueries.map((q) => q.resourceVersion),
    ['100', '150', '170'],
  );
  assert.deepEqual(h.events, [{ type: 'MODIFIED', name: 'a', rv: '120' }]);
  assert.equal(h.watch.resourceVersion, '170');
  assert.equal(h.watch.stats.bookmarks, 2);
  assert.equal(h.watch.stats.lists, 1, 'a clean end resumes without a list');
  assert.deepEqual(h.delays, [], 'a watch that carried something is resumed at once');
});

test('a 410 ERROR event relists and resumes from the new list', async () => {
  const api = new ScriptedApi();
  api.lists = [page([cm('a', '5'), cm('b', '6')], '100'), page([cm('b', '130'), cm('c', '140')], '150')];
  api.watches = [sends(line('ADDED', cm('x', '110')) + expired + line('ADDED', cm('never', '999')), false)];
  const h = harness(api);
  h.watch.start();
  await until('the watch after the relist', () => api.watchQueries.length === 2);
  await h.watch.stop();
  assert.deepEqual(h.lists, [
    { names: ['a', 'b'], resourceVersion: '100', relist: false },
    { names: ['b', 'c'], resourceVersion: '150', relist: true },
  ]);
  assert.deepEqual(
    h.events.map((e) => e.name),
    ['x'],
    'nothing after the ERROR event is delivered',
  );
  assert.equal(api.watchQueries[1]?.resourceVersion, '150');
  assert.equal(api.streams[0]?.destroyed, true, 'the expired watch is closed');
  const stats = h.watch.stats;
  assert.deepEqual([stats.lists, stats.relists, stats.expired, stats.failures], [2, 1, 1, 0]);
  assert.deepEqual(h.delays, [], 'an expired resume point is relisted at once');
});

test('410 as the HTTP status of the watch relists too; a fresh list that expires at once backs off', async () => {
  const api = new ScriptedApi();
  api.lists = [page([], '100'), page([], '200'), page([], '300')];
  const gone = () => {
    throw new KubeApiError('ConfigMap in ns: watch', 410, 'Gone', 'too old resource version');
  };
  api.watches = [sends(line('ADDED', cm('a', '150'))), gone, gone];
  const h = harness(api);
  h.watch.start();
  await until('the fourth watch', () => api.watchQueries.length === 4);
  await h.watch.stop();
  assert.deepEqual(
    api.watchQueries.map((q) => q.resourceVersion),
    ['100', '150', '200', '300'],
  );
  assert.equal(h.watch.stats.relists, 2);
  // The resumed watch (from 150) expiring is normal; the watch from the fresh list at 200
  // expiring at once means trouble, so the loop waits before listing again.
  assert.deepEqual(h.delays, [250]);
});

test('connection errors back off exponentially, start over after a healthy minute, and resume without a list', async () => {
  const api = new ScriptedApi();
  api.lists = [refused, refused, page([cm('a', '5')], '100')];
  api.watches = [
    sends(line('MODIFIED', cm('a', '110')), false),
    refused,
    refused,
    refused,
    sends(line('MODIFIED', cm('a', '120')), false),
  ];
  const h = harness(api);
  h.watch.start();
  await until('the first event', () => h.events.length === 1);
  // A minute of health later the connection drops: the backoff starts over from 250 ms.
  h.clock.now += 61_000;
  api.streams[0]?.destroy(new Error('read ECONNRESET'));
  await until('the event after the outage', () => h.events.length === 2);
  await h.watch.stop();
  assert.deepEqual(h.delays, [250, 500, 250, 500, 1000, 2000]);
  assert.deepEqual(
    api.watchQueries.map((q) => q.resourceVersion),
    ['100', '110', '110', '110', '110'],
  );
  assert.equal(h.watch.stats.lists, 1);
  assert.equal(h.watch.stats.failures, 6);
  assert.ok(h.logs.some((l) => l.level === 'warn' && l.message.includes('retrying')));
});

test('an ERROR event other than 410, a malformed line and an empty watch back off and resume', async () => {
  const api = new ScriptedApi();
  api.lists = [page([], '100')];
  api.watches = [
    sends(line('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd' }), false),
    sends(line('ADDED', cm('a', '110')) + '{"type":"MODIFIED","object":{\n', false),
    sends(''),
    sends(line('ADDED', cm('b', '120')), false),
  ];
  const h = harness(api);
  h.watch.start();
  await until('b', () => h.events.some((e) => e.name === 'b'));
  await h.watch.stop();
  assert.deepEqual(
    api.watchQueries.map((q) => q.resourceVersion),
    ['100', '100', '110', '110'],
  );
  assert.equal(h.watch.stats.failures, 3);
  assert.equal(h.watch.stats.lists, 1);
});

test('an expired continue token restarts the list once', async () => {
  const api = new ScriptedApi();
  const goneToken = () => {
    throw new KubeApiError('ConfigMap in ns: list', 410, 'Expired', 'continue token too old');
  };
  api.lists = [
    page([cm('a', '5')], '100', 't1'),
    goneToken,
    page([cm('a', '5')], '300', 't2'),
    page([cm('b', '6')], '300'),
  ];
  const h = harness(api, { pageSize: 1 });
  h.watch.start();
  await until('the watch', () => api.watchQueries.length === 1);
  await h.watch.stop();
  assert.deepEqual(
    api.listQueries.map((q) => q.continue),
    [undefined, 't1', undefined, 't2'],
  );
  assert.deepEqual(h.lists, [{ names: ['a', 'b'], resourceVersion: '300', relist: false }]);
  assert.deepEqual(h.delays, [], 'listed again at once, not after a backoff');
  assert.equal(h.watch.stats.failures, 0);
});

test('a subscriber that throws is logged and the stream goes on', async () => {
  const api = new ScriptedApi();
  api.lists = [page([], '100')];
  api.watches = [sends(line('ADDED', cm('bad', '110')) + line('ADDED', cm('good', '120')), false)];
  const seen: string[] = [];
  const errors: string[] = [];
  const watch = new ListWatch(
    api,
    { path: '/p', subject: 'ConfigMap' },
    {
      onList: () => {},
      onEvent: (e) => {
        if (e.object.metadata.name === 'bad') throw new Error('boom');
        seen.push(e.object.metadata.name ?? '');
      },
    },
    {
      logger: { debug() {}, info() {}, warn() {}, error: (m, f) => errors.push(`${m}: ${String(f?.error)}`) },
    },
  );
  watch.start();
  await until('good', () => seen.length === 1);
  await watch.stop();
  assert.deepEqual(seen, ['good']);
  assert.deepEqual(errors, ['watch handler failed: boom']);
  assert.equal(watch.resourceVersion, '120');
});

test('a watch that outlives timeoutSeconds plus the grace period is closed and reopened', async () => {
  const api = new ScriptedApi();
  api.lists = [page([], '100')];
  api.watches = [sends(line('ADDED', cm('a', '110')), false)];
  const h = harness(api, { minWatchSeconds: 0, maxWatchSeconds: 0, watchGraceMs: 30, random: () => 0 });
  h.watch.start();
  await until('a second watch', () => api.watchQueries.length >= 2);
  await h.watch.stop();
  assert.equal(api.streams[0]?.destroyed, true);
  assert.equal(api.watchQueries[1]?.resourceVersion, '110');
  assert.ok(h.logs.some((l) => l.message.includes('retrying')));
});

test('stop() during a watch and during a long backoff returns at once and leaves no timer or stream', async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();

  const watching = new ScriptedApi();
  watching.lists = [page([], '100')];
  const a = new ListWatch(watching, { path: '/p', subject: 'ConfigMap' }, { onList() {}, onEvent() {} });
  a.start();
  await until('the watch', () => watching.streams.length === 1);
  assert.ok(timers() > before, 'an open watch holds its deadline timer');
  const t0 = Date.now();
  await a.stop();
  assert.ok(Date.now() - t0 < 500);
  assert.equal(watching.streams[0]?.destroyed, true);
  assert.equal(a.running, false);

  // The real sleep: a 30 s backoff must not hold the loop (or the process) after stop().
  const failing = new ScriptedApi();
  failing.lists = [refused];
  const b = new ListWatch(
    failing,
    { path: '/p', subject: 'ConfigMap' },
    { onList() {}, onEvent() {} },
    { backoff: { initialMs: 30_000, maxMs: 30_000, factor: 2, resetAfterMs: 60_000 } },
  );
  b.start();
  await until('the first failure', () => b.stats.failures === 1);
  const t1 = Date.now();
  await b.stop();
  assert.ok(Date.now() - t1 < 500, 'stop does not wait out the backoff');
  assert.equal(failing.listQueries.length, 1, 'nothing is requested after stop');
  assert.equal(timers(), before);
});

test('no event is delivered after stop(), even from the rest of a chunk already read', async () => {
  const api = new ScriptedApi();
  api.lists = [page([], '100')];
  api.watches = [sends(line('ADDED', cm('a', '110')) + line('ADDED', cm('b', '120')), false)];
  const seen: string[] = [];
  const watch: ListWatch = new ListWatch(
    api,
    { path: '/p', subject: 'ConfigMap' },
    {
      onList() {},
      onEvent: (e) => {
        seen.push(e.object.metadata.name ?? '');
        void watch.stop();
      },
    },
  );
  watch.start();
  await until('a', () => seen.length > 0);
  await watch.stop();
  assert.deepEqual(seen, ['a']);
  assert.equal(watch.resourceVersion, '110');
});
