import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../cluster/objects.ts';
import { HealthStatus, aggregateHealth, healthOf, type Health } from './index.ts';

interface Case {
  name: string;
  expect: Partial<Health>;
  object: KubeObject;
}

const cases = parse(
  readFileSync(new URL('../../test/fixtures/health/cases.yaml', import.meta.url), 'utf8'),
) as Case[];

for (const c of cases) {
  test(`health: ${c.name}`, () => {
    const got = healthOf(c.object);
    assert.equal(got.status, c.expect.status);
    if (c.expect.reason) assert.equal(got.reason, c.expect.reason);
    if (c.expect.message) assert.equal(got.message, c.expect.message);
    if (got.status !== HealthStatus.Healthy) assert.ok(got.message, 'an unhealthy object says why');
  });
}

test('a missing object is Missing', () => {
  assert.equal(healthOf(undefined).status, HealthStatus.Missing);
});

test('the aggregate is the worst health, naming the object that made it so', () => {
  const h = (status: HealthStatus, message?: string): Health => ({ status, ...(message ? { message } : {}) });
  assert.equal(aggregateHealth([]).status, HealthStatus.Healthy);
  assert.equal(
    aggregateHealth([
      { name: 'a', health: h('Healthy') },
      { name: 'b', health: h('Healthy') },
    ]).status,
    'Healthy',
  );
  const mixed = aggregateHealth([
    { name: 'Deployment/web', health: h('Progressing', 'rolling') },
    {
      name: 'Job/migrate',
      health: { status: 'Degraded', reason: 'BackoffLimitExceeded', message: 'failed' },
    },
    { name: 'Service/web', health: h('Suspended') },
  ]);
  assert.deepEqual(mixed, {
    status: 'Degraded',
    reason: 'BackoffLimitExceeded',
    message: 'Job/migrate: failed',
  });
  assert.equal(
    aggregateHealth([
      { name: 'x', health: h('Unknown') },
      { name: 'y', health: h('Degraded') },
    ]).status,
    'Unknown',
  );
  assert.equal(
    aggregateHealth([
      { name: 'x', health: h('Missing') },
      { name: 'y', health: h('Progressing') },
    ]).status,
    'Missing',
  );
});
