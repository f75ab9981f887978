// The pure parts of leader election: what an elector writes to a Lease, and which timings it
// refuses. The elector itself is tested against the API server in test/controller/leader.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  LeaderElector,
  checkElectionTimings,
  claimLease,
  defaultLeaderElectionOptions,
  microTime,
  releasedLease,
  type LeaseClient,
} from './leader.ts';

const now = new Date('2026-11-25T10:00:00.123Z');
const claim = (identity: string, expired = false) => ({ identity, now, leaseDurationSeconds: 15, expired });

test('MicroTime has the six fractional digits the API server requires', () => {
  assert.equal(microTime(now), '2026-11-25T10:00:00.123000Z');
  assert.equal(microTime(new Date('2026-01-01T00:00:00Z')), '2026-01-01T00:00:00.000000Z');
});

test('a valid Lease held by another identity is not claimed; an expired one is, counting a transition', () => {
  const held = {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-25T09:00:00.000000Z',
    renewTime: '2026-11-25T09:59:59.000000Z',
    leaseTransitions: 4,
  };
  assert.equal(claimLease(held, claim('b')), undefined);
  assert.deepEqual(claimLease(held, claim('b', true)), {
    holderIdentity: 'b',
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-25T10:00:00.123000Z',
    renewTime: '2026-11-25T10:00:00.123000Z',
    leaseTransitions: 5,
  });
});

test('the holder renews without a transition, keeping its acquire time and fields it does not manage', () => {
  const mine = {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-25T09:00:00.000000Z',
    renewTime: '2026-11-25T09:59:59.000000Z',
    leaseTransitions: 4,
    preferredHolder: 'b',
  };
  assert.deepEqual(claimLease(mine, claim('a')), {
    preferredHolder: 'b',
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: '2026-11-25T09:00:00.000000Z',
    renewTime: '2026-11-25T10:00:00.123000Z',
    leaseTransitions: 4,
  });
});

test('a released Lease (no holder) is free at once, and taking it counts a transition', () => {
  const released = releasedLease(
    {
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      leaseTransitions: 2,
      acquireTime: 'x',
      renewTime: 'y',
      strategy: 'OldestEmulationVersion',
    },
    now,
  );
  assert.deepEqual(released, {
    strategy: 'OldestEmulationVersion',
    leaseDurationSeconds: 1,
    renewTime: '2026-11-25T10:00:00.123000Z',
    leaseTransitions: 2,
  });
  assert.equal(claimLease(released, claim('b'))?.leaseTransitions, 3, 'not expired, but free');
  assert.equal(claimLease(undefined, claim('b'))?.holderIdentity, 'b', 'an empty spec is free');
});

test('timings under which two processes could lead at once are refused', () => {
  const ok = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
  assert.equal(checkElectionTimings(ok), undefined);
  assert.equal(checkElectionTimings(defaultLeaderElectionOptions()), undefined);
  assert.match(checkElectionTimings({ ...ok, leaseDurationMs: 15_500 }) ?? '', /whole number of seconds/);
  assert.match(checkElectionTimings({ ...ok, renewDeadlineMs: 15_000 }) ?? '', /less than leaseDurationMs/);
  assert.match(checkElectionTimings({ ...ok, retryPeriodMs: 10_000 }) ?? '', /less than renewDeadlineMs/);
  assert.match(checkElectionTimings({ ...ok, retryPeriodMs: 0 }) ?? '', /positive/);

  const client: LeaseClient = {
    request: () => Promise.reject(new Error('not called')),
    pathFor: () => Promise.reject(new Error('not called')),
  };
  const options = {
    ...defaultLeaderElectionOptions(),
    namespace: 'ns',
    name: 'lease',
    identity: 'a',
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
  };
  assert.throws(
    () => new LeaderElector(client, { ...options, renewDeadlineMs: 20_000 }),
    /^RangeError: Lease\/ns\/lease: renewDeadlineMs/,
  );
  assert.throws(() => new LeaderElector(client, { ...options, identity: '' }), /identity must not be empty/);
});
