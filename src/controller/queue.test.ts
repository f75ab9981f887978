// The work queue under a fake clock: dedup, one worker per key, re-runs, delays, backoff,
// concurrency, fairness, metrics and shutdown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WorkOutcome,
  WorkQueue,
  backoffDelay,
  defaultWorkQueueOptions,
  type Clock,
  type WorkHandler,
  type WorkQueueOptions,
} from './queue.ts';

/** Time moves only when a test says so; due timers fire in order of their due time. */
class FakeClock implements Clock {
  #now = 0;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.#now;
  }
  date(): Date {
    return new Date(Date.UTC(2026, 0, 1) + this.#now);
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward by `ms`, firing each due timer at its own time and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.#timers) if (!next || entry[1].at < next[1].at) next = entry;
      if (!next || next[1].at > target) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].callback();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets every pending promise reaction run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A promise the test resolves. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function newQueue(overrides: Partial<WorkQueueOptions<string>> = {}) {
  const clock = new FakeClock();
  const errors: { key: string; error: unknown }[] = [];
  const queue = new WorkQueue<string>({
    ...defaultWorkQueueOptions<string>(),
    clock,
    random: () => 0,
    onError: (key, error) => errors.push({ key, error }),
    ...overrides,
  });
  return { queue, clock, errors };
}

/** A handler that records every run, its start and end time, and overlaps per key and overall. */
function recorder(clock: FakeClock, work: (key: string) => Promise<void> | void = () => {}) {
  const runs: { key: string; start: number; end?: number }[] = [];
  const active = new Map<string, number>();
  let running = 0;
  const stats = { maxPerKey: 0, maxRunning: 0 };
  const handler: WorkHandler<string> = async (key) => {
    const run: { key: string; start: number; end?: number } = { key, start: clock.now() };
    runs.push(run);
    active.set(key, (active.get(key) ?? 0) + 1);
    running++;
    stats.maxPerKey = Math.max(stats.maxPerKey, active.get(key) ?? 0);
    stats.maxRunning = Math.max(stats.maxRunning, running);
    try {
      await work(key);
    } finally {
      active.set(key, (active.get(key) ?? 1) - 1);
      running--;
      run.end = clock.now();
    }
  };
  return { handler, runs, stats, keys: () => runs.map((r) => r.key) };
}

const sleep = (clock: FakeClock, ms: number) =>
  new Promise<void>((resolve) => void clock.setTimeout(resolve, ms));

test('a key added again while it waits is handled once', async () => {
  const adds: string[] = [];
  const { queue, clock } = newQueue({ metrics: { added: (key) => adds.push(key) } });
  for (const key of ['a', 'a', 'b', 'a', 'b']) queue.add(key);
  assert.equal(queue.depth, 2);
  assert.deepEqual(adds, ['a', 'b'], 'only adds that were not already waiting count');

  const { handler, keys } = recorder(clock);
  const running = queue.run(1, handler);
  await clock.advance(0);
  assert.deepEqual(keys(), ['a', 'b']);
  assert.equal(queue.depth, 0);
  await queue.shutdown();
  await running;
});

test('the same key is never handled by two workers at once, and the concurrency bound holds', async () => {
  const { queue, clock } = newQueue();
  const { handler, runs, stats } = recorder(clock, (key) => sleep(clock, 10 + (key.charCodeAt(0) % 3) * 7));
  const running = queue.run(4, handler);
  // Six keys added over and over, faster than they are handled.
  for (let round = 0; round < 50; round++) {
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f'])
      if ((round + key.charCodeAt(0)) % 2 === 0) queue.add(key);
    await clock.advance(3);
  }
  await clock.advance(1000);
  assert.equal(stats.maxPerKey, 1, 'a key ran in two workers at once');
  assert.equal(stats.maxRunning, 4, 'up to four workers and no more');
  // Per key, each run starts after the previous one ended.
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f']) {
    const mine = runs.filter((r) => r.key === key);
    assert.ok(mine.length > 3, `${key} ran ${mine.length} times`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start >= mine[i - 1]!.end!, `${key} overlapped`);
  }
  await queue.shutdown();
  await running;
});

test('a key added while it is handled runs exactly once more, after the current run', async () => {
  const { queue, clock } = newQueue();
  let first = true;
  const { handler, runs, stats } = recorder(clock, async (key) => {
    if (key === 'a' && first) {
      first = false;
      queue.add('a');
      await sleep(clock, 5);
      queue.add('a');
      queue.add('a');
      assert.equal(queue.depth, 0, 'a key being handled does not wait in the queue');
    }
  });
  queue.add('a');
  const running = queue.run(2, handler);
  await clock.advance(100);
  assert.deepEqual(
    runs.map((r) => [r.key, r.start, r.end]),
    [
      ['a', 0, 5],
      ['a', 5, 5],
    ],
  );
  assert.equal(stats.maxPerKey, 1);
  await queue.shutdown();
  await running;
});

test('addAfter: the earliest pending time wins and the key runs once', async () => {
  const { queue, clock } = newQueue();
  const { handler, runs } = recorder(clock);
  const running = queue.run(1, handler);
  queue.addAfter('a', 5000);
  queue.addAfter('a', 1000);
  queue.addAfter('a', 3000);
  assert.equal(queue.delayed, 1);
  assert.equal(clock.pending, 1, 'a superseded delay leaves no timer');
  await clock.advance(999);
  assert.equal(runs.length, 0, 'not before its time');
  await clock.advance(1);
  assert.deepEqual(
    runs.map((r) => r.start),
    [1000],
  );
  await clock.advance(10_000);
  assert.equal(runs.length, 1, 'the later delays were replaced, not kept');
  assert.equal(queue.delayed, 0);
  await queue.shutdown();
  await running;
});

test('backoff doubles per failure up to the cap, jitter only shortens it, and success resets it', async () => {
  const backoff = { baseMs: 1000, maxMs: 300_000, jitter: 0.2 };
  const exact = Array.from({ length: 12 }, (_, n) => backoffDelay(n, backoff, () => 0));
  assert.deepEqual(
    exact,
    [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000],
  );
  for (let n = 0; n < 12; n++) {
    const shortest = backoffDelay(n, backoff, () => 0.9999);
    assert.ok(shortest <= exact[n]! && shortest > exact[n]! * 0.8 - 1e-9, `delay ${n}: ${shortest}`);
  }
  assert.equal(
    backoffDelay(5000, backoff, () => 0),
    300_000,
    'no overflow after many failures',
  );

  // Through the queue: a handler that fails three times, then succeeds.
  const { queue, clock, errors } = newQueue();
  let calls = 0;
  const { handler, runs } = recorder(clock, () => {
    if (++calls <= 3) throw new Error(`failure ${calls}`);
  });
  const running = queue.run(1, handler);
  queue.add('a');
  await clock.advance(60_000);
  assert.deepEqual(
    runs.map((r) => r.start),
    [0, 1000, 3000, 7000],
  );
  assert.deepEqual(
    errors.map((e) => [e.key, (e.error as Error).message]),
    [
      ['a', 'failure 1'],
      ['a', 'failure 2'],
      ['a', 'failure 3'],
    ],
  );
  assert.equal(queue.failures('a'), 0, 'the success reset the backoff');

  // forget() resets it by hand, too.
  queue.addRateLimited('b');
  queue.addRateLimited('b');
  queue.addRateLimited('b');
  assert.equal(queue.failures('b'), 3);
  queue.forget('b');
  assert.equal(queue.failures('b'), 0);
  await clock.advance(2000);
  queue.addRateLimited('c');
  queue.addRateLimited('c');
  queue.forget('c');
  queue.addRateLimited('c');
  assert.equal(queue.failures('c'), 1);
  await clock.advance(999);
  assert.ok(!runs.some((r) => r.key === 'c'));
  await clock.advance(1);
  assert.deepEqual(
    runs.filter((r) => r.key === 'c').map((r) => r.start),
    [62_000 + 999 + 1],
    'after forget the next retry waits the base delay again',
  );
  await queue.shutdown();
  await running;
});

test('a handler may ask to run again later, and that resets its backoff', async () => {
  const { queue, clock } = newQueue();
  let calls = 0;
  const { handler, runs } = recorder(clock, () => {
    calls++;
    if (calls === 1) throw new Error('once');
  });
  const running = queue.run(1, async (key, signal) => {
    await handler(key, signal);
    return calls < 4 ? { requeueAfterMs: 30_000 } : undefined;
  });
  queue.add('a');
  await clock.advance(200_000);
  assert.deepEqual(
    runs.map((r) => r.start),
    [0, 1000, 31_000, 61_000],
  );
  assert.equal(queue.failures('a'), 0);
  assert.equal(queue.delayed, 0);
  await queue.shutdown();
  await running;
});

test('keys are served first in, first out: a hot key does not starve the others', async () => {
  const { queue, clock } = newQueue();
  const { handler, runs, keys } = recorder(clock, async (key) => {
    if (key === 'hot') queue.add('hot'); // e.g. an object that changes on every reconcile
    await sleep(clock, 10);
  });
  for (const key of ['hot', 'a', 'b', 'c']) queue.add(key);
  const running = queue.run(1, handler);
  await clock.advance(5);
  queue.add('d');
  await clock.advance(100); // t=105: hot has the only worker
  queue.add('e');
  await clock.advance(95);
  const stopped = queue.shutdown();
  await clock.advance(10); // the run in flight ends
  assert.deepEqual(await stopped, { drained: true, abandoned: [] });
  await running;
  // hot was added again during its first run and went to the back when that run ended (t=10),
  // behind d, which was added at t=5.
  assert.deepEqual(keys().slice(0, 6), ['hot', 'a', 'b', 'c', 'd', 'hot']);
  assert.deepEqual(
    runs.filter((r) => r.key === 'e').map((r) => r.start),
    [110],
    'e runs as soon as the run of hot in flight ends',
  );
  assert.equal(keys().filter((k) => k !== 'hot').length, 5, 'every other key ran once');
});

test('keys added with first go ahead of the others, a waiting key moves up, a running one comes back first', async () => {
  const { queue, clock } = newQueue();
  const { handler, keys } = recorder(clock, () => sleep(clock, 10));
  for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
  const running = queue.run(1, handler);
  await clock.advance(5); // a runs
  queue.add('x', { first: true });
  queue.add('c', { first: true }); // waiting: moves up, behind x
  queue.add('a', { first: true }); // running: handled again, ahead of b and d
  assert.equal(queue.depth, 4, 'x, c, b, d wait; a waits for its run to end');
  queue.add('b'); // already waiting: stays where it is
  await clock.advance(100);
  const stopped = queue.shutdown();
  await clock.advance(10);
  await stopped;
  await running;
  assert.deepEqual(keys(), ['a', 'x', 'c', 'a', 'b', 'd']);
});

test('metrics: depth, adds, retries and how long keys waited and ran', async () => {
  const depths: number[] = [];
  const retries: [string, number][] = [];
  const processed: [string, number, number, WorkOutcome][] = [];
  const { queue, clock } = newQueue({
    metrics: {
      depth: (d) => depths.push(d),
      retried: (key, delay) => retries.push([key, delay]),
      processed: (key, t, outcome) => processed.push([key, t.waitMs, t.durationMs, outcome]),
    },
  });
  queue.add('a');
  queue.add('b');
  await clock.advance(40);
  const running = queue.run(1, async (key) => {
    await sleep(clock, key === 'a' ? 25 : 10);
    if (key === 'b') throw new Error('b failed');
  });
  await clock.advance(100);
  assert.deepEqual(depths, [1, 2, 1, 0]);
  assert.deepEqual(retries, [['b', 1000]]);
  assert.deepEqual(processed, [
    ['a', 40, 25, WorkOutcome.Done],
    ['b', 65, 10, WorkOutcome.Failed],
  ]);
  await queue.shutdown();
  await running;
});

test('shutdown waits for the handlers in flight, drops waiting work and leaves no timer', async () => {
  const { queue, clock } = newQueue();
  const release = gate();
  const { handler, keys } = recorder(clock, (key) => (key === 'a' ? release.promise : undefined));
  queue.add('a');
  queue.add('b');
  queue.addAfter('c', 5000);
  queue.addRateLimited('d');
  const running = queue.run(1, handler);
  await clock.advance(0);
  assert.equal(clock.pending, 2, 'two delayed keys');

  let done: { drained: boolean; abandoned: string[] } | undefined;
  void queue.shutdown().then((r) => (done = r));
  await clock.advance(0);
  assert.equal(clock.pending, 0, 'delayed keys are dropped with their timers');
  queue.add('e');
  queue.addAfter('f', 10);
  queue.addRateLimited('g');
  assert.equal(clock.pending, 0, 'adds after shutdown set no timer');
  assert.equal(queue.depth, 0);
  await clock.advance(10_000);
  assert.equal(done, undefined, 'still waiting for the handler of a');

  release.open();
  await clock.advance(0);
  assert.deepEqual(done, { drained: true, abandoned: [] });
  await running;
  assert.deepEqual(keys(), ['a'], 'no new work was taken after shutdown');
  assert.equal(clock.pending, 0);
  assert.equal(queue.inFlight, 0);
});

test('shutdown with a timeout gives up on a stuck handler and aborts its signal', async () => {
  const { queue, clock } = newQueue();
  let seen: AbortSignal | undefined;
  const running = queue.run(2, (_key, signal) => {
    seen = signal;
    return new Promise<void>(() => {}); // never finishes
  });
  queue.add('stuck');
  await clock.advance(0);
  let done: { drained: boolean; abandoned: string[] } | undefined;
  void queue.shutdown({ timeoutMs: 1000 }).then((r) => (done = r));
  await clock.advance(999);
  assert.equal(done, undefined);
  assert.equal(seen?.aborted, false);
  await clock.advance(1);
  assert.deepEqual(done, { drained: false, abandoned: ['stuck'] });
  assert.equal(seen?.aborted, true);
  await running;
  assert.equal(clock.pending, 0, 'the timeout timer fired; nothing else is left');
});

test('a drained shutdown clears its timeout timer', async () => {
  const { queue, clock } = newQueue();
  const release = gate();
  const running = queue.run(1, () => release.promise);
  queue.add('a');
  await clock.advance(0);
  const done = queue.shutdown({ timeoutMs: 60_000 });
  await clock.advance(0);
  assert.equal(clock.pending, 1);
  release.open();
  assert.deepEqual(await done, { drained: true, abandoned: [] });
  await running;
  assert.equal(clock.pending, 0);
});

test('run refuses a bad concurrency and a second call', () => {
  const { queue } = newQueue();
  assert.throws(() => queue.run(0, () => {}), /concurrency must be a positive integer/);
  assert.throws(() => queue.run(1.5, () => {}), /concurrency must be a positive integer/);
  void queue.run(1, () => {});
  assert.throws(() => queue.run(1, () => {}), /already called/);
  void queue.shutdown();
});
