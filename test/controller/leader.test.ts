// Leader election against the real API server: one leader among many, takeover after a leader is
// SIGKILLed or cut off from the API server, fast handover on release, a leader that lost its Lease
// stops, and racing writers never make two leaders. Timings are short (4 s lease, 3 s renew
// deadline, 0.5 s retry) so the suite stays quick; the logic is the same at 15/10/2.
//
// This file is also the program of the leader that gets SIGKILLed: run with CHILD_ENV set, it
// campaigns for the Lease named there and prints what happens as JSON lines.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test, type TestContext } from 'node:test';
import { KubeClient, isConflict, type RequestOptions } from '../../src/cluster/client.ts';
import {
  LeaderElector,
  defaultLeaderElectionOptions,
  type Lease,
  type LeaseClient,
  type LeaderElectionOptions,
} from '../../src/controller/leader.ts';
import { newNamespace, uniqueName, waitUntil, withCluster } from '../harness/index.ts';

const CHILD_ENV = 'CAIRN_TEST_LEADER_CHILD';
const TIMINGS = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };
/** A candidate waits up to 2.2 retry periods between attempts. */
const MAX_POLL_MS = 2.2 * TIMINGS.retryPeriodMs;

interface ChildSpec {
  namespace: string;
  name: string;
  identity: string;
}

if (process.env[CHILD_ENV]) await electorProcess(JSON.parse(process.env[CHILD_ENV]) as ChildSpec);
else defineTests();

/** The child: leads until killed, reporting on stdout. */
async function electorProcess(spec: ChildSpec): Promise<void> {
  const { client } = await withCluster();
  const say = (event: string) => process.stdout.write(`${JSON.stringify({ event })}\n`);
  const elector = new LeaderElector(client, {
    ...defaultLeaderElectionOptions(),
    ...TIMINGS,
    ...spec,
    onStartedLeading: () => void say('started'),
    onStoppedLeading: () => void say('stopped'),
  });
  await elector.run();
  client.close();
}

/** Who started and stopped leading, and when, across all electors of a test. */
class Timeline {
  readonly events: { at: number; who: string; what: 'started' | 'stopped' | 'drained' }[] = [];

  record(who: string, what: 'started' | 'stopped' | 'drained'): void {
    this.events.push({ at: performance.now(), who, what });
  }

  /** An elector whose callbacks land here; it is released when the test ends. */
  start(
    t: TestContext,
    client: LeaseClient,
    lease: { namespace: string; name: string },
    identity: string,
    extra: Partial<LeaderElectionOptions> = {},
  ): { elector: LeaderElector; running: Promise<void> } {
    const elector = new LeaderElector(client, {
      ...defaultLeaderElectionOptions(),
      ...TIMINGS,
      ...lease,
      identity,
      onStartedLeading: () => this.record(identity, 'started'),
      onStoppedLeading: () => this.record(identity, 'stopped'),
      ...extra,
    });
    const running = elector.run();
    t.after(async () => {
      await elector.release();
      await running;
    });
    return { elector, running };
  }

  at(who: string, what: 'started' | 'stopped' | 'drained'): number {
    const event = this.events.find((e) => e.who === who && e.what === what);
    assert.ok(event, `${who} never ${what}`);
    return event.at;
  }

  started(): string[] {
    return this.events.filter((e) => e.what === 'started').map((e) => e.who);
  }

  /** Replays the events: at no moment do two electors lead, and none leads twice. */
  assertOneLeaderAtATime(): void {
    const leading = new Set<string>();
    const seen = new Set<string>();
    for (const { who, what } of this.events) {
      if (what === 'started') {
        assert.equal(leading.size, 0, `${who} started leading while ${[...leading].join(', ')} led`);
        assert.ok(!seen.has(who), `${who} started leading twice`);
        leading.add(who);
        seen.add(who);
      } else if (what === 'stopped') {
        assert.ok(leading.delete(who), `${who} stopped without having started`);
      }
    }
  }
}

async function readLease(client: KubeClient, namespace: string, name: string): Promise<Lease> {
  return client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name });
}

/** Waits until exactly one of the electors leads and returns it. */
async function oneLeader(electors: Map<string, LeaderElector>, timeoutMs = 15_000): Promise<string> {
  return waitUntil(
    'one elector to lead',
    () => {
      const leaders = [...electors].filter(([, e]) => e.isLeader).map(([id]) => id);
      assert.ok(leaders.length <= 1, `two leaders: ${leaders.join(', ')}`);
      return Promise.resolve(leaders[0]);
    },
    { timeoutMs, intervalMs: 20 },
  );
}

/**
 * Holds the writes (POST, PUT) of the given identities until each of them has one pending, then
 * lets them all go at once: they carry the same resourceVersion, so the API server must choose.
 * Requests still go to the real API server; only their timing is arranged.
 */
class WriteRace {
  conflicts = 0;
  #waiting: Set<string> | undefined;
  readonly #held: { who: string; go: () => void }[] = [];

  arm(identities: string[]): void {
    this.#waiting = new Set(identities);
    this.conflicts = 0;
  }

  client(client: KubeClient, identity: string): LeaseClient {
    return {
      pathFor: (ref, subresource) => client.pathFor(ref, subresource),
      request: async <T>(method: string, path: string, options?: RequestOptions): Promise<T> => {
        if ((method === 'POST' || method === 'PUT') && this.#waiting?.has(identity)) {
          await new Promise<void>((go) => {
            this.#held.push({ who: identity, go });
            if (this.#waiting?.size === new Set(this.#held.map((h) => h.who)).size) {
              this.#waiting = undefined;
              for (const h of this.#held.splice(0)) h.go();
            }
          });
        }
        try {
          return await client.request<T>(method, path, options);
        } catch (e) {
          if (isConflict(e)) this.conflicts++;
          throw e;
        }
      },
    };
  }

  /** Waits for the refusals of the losers, which may arrive after the winner's answer. */
  answered(conflicts: number): Promise<boolean> {
    return waitUntil(`${conflicts} conflicts`, () => Promise.resolve(this.conflicts >= conflicts), {
      timeoutMs: 10_000,
      intervalMs: 10,
    });
  }

  get armed(): boolean {
    return this.#waiting !== undefined;
  }
}

/** A TCP proxy to the API server that can be made to swallow everything, as a network partition. */
async function partitionableProxy(t: TestContext, target: URL) {
  const sockets = new Set<Socket>();
  const pairs: [Socket, Socket][] = [];
  let cut = false;
  const server = createServer((down) => {
    sockets.add(down);
    down.on('error', () => {});
    if (cut) return; // accepted, never answered
    const up = connect(Number(target.port), target.hostname);
    sockets.add(up);
    up.on('error', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    down.pipe(up);
    up.pipe(down);
    pairs.push([down, up]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    url: `https://127.0.0.1:${address.port}`,
    /** From now on nothing passes either way; open connections hang, new ones are never answered. */
    cut() {
      cut = true;
      for (const [down, up] of pairs) {
        down.unpipe(up);
        up.unpipe(down);
        down.pause();
        up.pause();
      }
    },
  };
}

function spawnElector(t: TestContext, spec: ChildSpec): { child: ChildProcess; events: string[] } {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const events: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push((JSON.parse(line) as { event: string }).event);
    } catch {
      // not ours
    }
  });
  return { child, events };
}

function defineTests(): void {
  test(
    'two electors on one Lease: exactly one leads and keeps the Lease by renewing it',
    { timeout: 60_000 },
    async (t) => {
      const { client } = await withCluster();
      const lease = { namespace: await newNamespace(t, 'leader'), name: 'cairn' };
      const timeline = new Timeline();
      const electors = new Map(
        ['a', 'b'].map((id) => [id, timeline.start(t, client, lease, id).elector] as const),
      );
      const leader = await oneLeader(electors);
      const first = await readLease(client, lease.namespace, lease.name);
      assert.equal(first.spec?.holderIdentity, leader);
      assert.equal(first.spec?.leaseTransitions, 0);
      assert.equal(first.spec?.leaseDurationSeconds, 4);

      // Longer than a lease duration: the follower would take over if the leader did not renew.
      await new Promise((r) => setTimeout(r, TIMINGS.leaseDurationMs + 1500));
      const later = await readLease(client, lease.namespace, lease.name);
      assert.equal(later.spec?.holderIdentity, leader);
      assert.equal(later.spec?.leaseTransitions, 0);
      assert.ok(
        later.spec?.renewTime && first.spec?.renewTime && later.spec.renewTime > first.spec.renewTime,
      );
      assert.deepEqual(
        [...electors].filter(([, e]) => e.isLeader).map(([id]) => id),
        [leader],
      );
      const follower = leader === 'a' ? 'b' : 'a';
      assert.equal(electors.get(follower)?.leader, leader, 'the follower knows who leads');
      assert.deepEqual(timeline.started(), [leader]);
      timeline.assertOneLeaderAtATime();
    },
  );

  test(
    'a SIGKILLed leader is replaced after the Lease expires, with one more transition',
    { timeout: 60_000 },
    async (t) => {
      const { client } = await withCluster();
      const lease = { namespace: await newNamespace(t, 'leader'), name: 'cairn' };
      const killed = spawnElector(t, { ...lease, identity: 'doomed' });
      await waitUntil('the child to lead', () => Promise.resolve(killed.events.includes('started')), {
        timeoutMs: 30_000,
        intervalMs: 50,
      });

      const timeline = new Timeline();
      const { elector } = timeline.start(t, client, lease, 'heir');
      await waitUntil('the heir to see the leader', () => Promise.resolve(elector.leader === 'doomed'), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      await new Promise((r) => setTimeout(r, 1000)); // a few renewals
      const before = await readLease(client, lease.namespace, lease.name);
      assert.equal(before.spec?.holderIdentity, 'doomed');
      assert.ok(before.spec?.renewTime !== before.spec?.acquireTime, 'the child renewed');
      assert.equal(elector.isLeader, false);

      const killedAt = performance.now();
      killed.child.kill('SIGKILL');
      await waitUntil('the heir to lead', () => Promise.resolve(elector.isLeader), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      const tookMs = timeline.at('heir', 'started') - killedAt;
      // The child renewed at most one retry period before the kill; the heir counts the lease
      // duration from when it saw that renewal, and notices expiry within one poll after.
      assert.ok(
        tookMs >= TIMINGS.leaseDurationMs - TIMINGS.retryPeriodMs - 300,
        `took over after ${Math.round(tookMs)} ms: before the Lease expired`,
      );
      assert.ok(
        tookMs <= TIMINGS.leaseDurationMs + 2 * MAX_POLL_MS + 1500,
        `took over after ${Math.round(tookMs)} ms`,
      );
      const after = await readLease(client, lease.namespace, lease.name);
      assert.equal(after.spec?.holderIdentity, 'heir');
      assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
      assert.equal(killed.child.signalCode, 'SIGKILL', 'the child died of SIGKILL');
      assert.deepEqual(killed.events, ['started'], 'the child never got to stop');
    },
  );

  test('release hands over at once, after the leader drained its work', { timeout: 60_000 }, async (t) => {
    const { client } = await withCluster();
    const lease = { namespace: await newNamespace(t, 'leader'), name: 'cairn' };
    const slow = { leaseDurationMs: 20_000, renewDeadlineMs: 15_000, retryPeriodMs: 500 };
    const timeline = new Timeline();
    const a = timeline.start(t, client, lease, 'a', {
      ...slow,
      // The work winds down for a second after the signal; no successor may start meanwhile.
      onStartedLeading: async (signal) => {
        timeline.record('a', 'started');
        await once(signal, 'abort');
        await new Promise((r) => setTimeout(r, 1000));
        timeline.record('a', 'drained');
      },
    });
    await waitUntil('a to lead', () => Promise.resolve(a.elector.isLeader), {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    const b = timeline.start(t, client, lease, 'b', slow);
    await waitUntil('b to see a lead', () => Promise.resolve(b.elector.leader === 'a'), {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    const before = await readLease(client, lease.namespace, lease.name);

    const releasedAt = performance.now();
    await a.elector.release();
    await a.running;
    await waitUntil('b to lead', () => Promise.resolve(b.elector.isLeader), {
      timeoutMs: 15_000,
      intervalMs: 20,
    });
    const handover = timeline.at('b', 'started') - releasedAt;
    assert.ok(handover < 1000 + MAX_POLL_MS + 1500, `handover took ${Math.round(handover)} ms`);
    assert.ok(handover < slow.leaseDurationMs / 4, 'far sooner than the Lease would have expired');
    assert.ok(timeline.at('a', 'drained') <= timeline.at('a', 'stopped'), 'stopped after draining');
    assert.ok(timeline.at('a', 'stopped') < timeline.at('b', 'started'));
    timeline.assertOneLeaderAtATime();
    const after = await readLease(client, lease.namespace, lease.name);
    assert.equal(after.spec?.holderIdentity, 'b');
    assert.equal(after.spec?.leaseTransitions, (before.spec?.leaseTransitions ?? 0) + 1);
  });

  test('racing writers with one resourceVersion never make two leaders', { timeout: 60_000 }, async (t) => {
    const { client } = await withCluster();
    const lease = { namespace: await newNamespace(t, 'leader'), name: uniqueName('race') };
    const timeline = new Timeline();
    const race = new WriteRace();
    const ids = ['e1', 'e2', 'e3', 'e4', 'e5'];
    race.arm(ids);
    const electors = new Map(
      ids.map((id) => [id, timeline.start(t, race.client(client, id), lease, id).elector] as const),
    );

    // Round 1: five creates of a missing Lease at once.
    let leader = await oneLeader(electors);
    assert.equal(race.armed, false, 'all five writes were held and let go together');
    await race.answered(4);
    assert.equal(race.conflicts, 4, 'four creates refused');

    // Rounds 2 and 3: the leader releases; the others' PUTs of the free Lease go out together.
    for (const round of [2, 3]) {
      const candidates = [...electors.keys()].filter((id) => id !== leader);
      race.arm(candidates);
      const previous = electors.get(leader)!;
      electors.delete(leader);
      await previous.release();
      leader = await oneLeader(electors);
      assert.equal(race.armed, false, `round ${round}: every candidate wrote`);
      await race.answered(candidates.length - 1);
      assert.equal(race.conflicts, candidates.length - 1, `round ${round}: all but one update refused`);
      const held = await readLease(client, lease.namespace, lease.name);
      assert.equal(held.spec?.holderIdentity, leader);
      assert.equal(held.spec?.leaseTransitions, round - 1);
    }
    timeline.assertOneLeaderAtATime();
    assert.equal(timeline.started().length, 3);
  });

  test(
    'a leader cut off from the API server stops within its renew deadline, before a successor starts',
    { timeout: 60_000 },
    async (t) => {
      const { client } = await withCluster();
      const lease = { namespace: await newNamespace(t, 'leader'), name: 'cairn' };
      const proxy = await partitionableProxy(t, new URL(client.connection.server));
      const cutOff = new KubeClient({ ...client.connection, server: proxy.url });
      t.after(() => cutOff.close());
      const timeline = new Timeline();
      const a = timeline.start(t, cutOff, lease, 'a');
      await waitUntil('a to lead', () => Promise.resolve(a.elector.isLeader), {
        timeoutMs: 15_000,
        intervalMs: 20,
      });
      const b = timeline.start(t, client, lease, 'b');
      await waitUntil('b to see a lead', () => Promise.resolve(b.elector.leader === 'a'), {
        timeoutMs: 10_000,
        intervalMs: 20,
      });
      await new Promise((r) => setTimeout(r, 1000));

      const cutAt = performance.now();
      proxy.cut();
      await a.running; // a gives up by itself: no release, no 30 s request timeout
      const stoppedAfter = timeline.at('a', 'stopped') - cutAt;
      assert.ok(
        stoppedAfter <= TIMINGS.renewDeadlineMs + 300,
        `a stopped ${Math.round(stoppedAfter)} ms after the cut`,
      );
      assert.ok(
        stoppedAfter >= TIMINGS.renewDeadlineMs - TIMINGS.retryPeriodMs - 300,
        `a stopped ${Math.round(stoppedAfter)} ms after the cut, before its deadline`,
      );
      await waitUntil('b to lead', () => Promise.resolve(b.elector.isLeader), {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      assert.ok(timeline.at('a', 'stopped') < timeline.at('b', 'started'));
      timeline.assertOneLeaderAtATime();
      const after = await readLease(client, lease.namespace, lease.name);
      assert.equal(after.spec?.holderIdentity, 'b');
      assert.equal(after.spec?.leaseTransitions, 1);
    },
  );

  test('a leader whose Lease someone else took stops at its next renewal', { timeout: 60_000 }, async (t) => {
    const { client } = await withCluster();
    const lease = { namespace: await newNamespace(t, 'leader'), name: 'cairn' };
    const timeline = new Timeline();
    const a = timeline.start(t, client, lease, 'a');
    await waitUntil('a to lead', () => Promise.resolve(a.elector.isLeader), {
      timeoutMs: 15_000,
      intervalMs: 20,
    });

    const current = await readLease(client, lease.namespace, lease.name);
    const path = await client.pathFor({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
    const now = new Date().toISOString().replace('Z', '000Z');
    await client.request('PUT', path, {
      body: {
        ...current,
        spec: { ...current.spec, holderIdentity: 'intruder', renewTime: now, acquireTime: now },
      },
    });
    const takenAt = performance.now();
    await a.running;
    const stoppedAfter = timeline.at('a', 'stopped') - takenAt;
    assert.ok(stoppedAfter < TIMINGS.retryPeriodMs + 700, `stopped ${Math.round(stoppedAfter)} ms later`);
    assert.equal(a.elector.leader, 'intruder');
    const after = await readLease(client, lease.namespace, lease.name);
    await new Promise((r) => setTimeout(r, 3 * TIMINGS.retryPeriodMs));
    const later = await readLease(client, lease.namespace, lease.name);
    assert.equal(later.spec?.holderIdentity, 'intruder');
    assert.equal(
      later.metadata.resourceVersion,
      after.metadata.resourceVersion,
      'the old leader wrote nothing more',
    );
  });
}
