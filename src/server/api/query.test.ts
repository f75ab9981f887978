import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Application } from '../../api/types.ts';
import { statusBadge } from './badge.ts';
import { parseApplicationQuery, queryApplications } from './query.ts';

function app(namespace: string, name: string, sync: string, health: string): Application {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'Application',
    metadata: { namespace, name },
    spec: { source: { repositoryRef: { name: 'fleet' }, path: `apps/${name}` }, destination: { namespace } },
    status: { sync: { status: sync as 'Synced' }, health: { status: health } },
  } as Application;
}

const apps = [
  app('b', 'web', 'Synced', 'Healthy'),
  app('a', 'shop', 'OutOfSync', 'Healthy'),
  app('a', 'cart', 'Synced', 'Degraded'),
  app('c', 'api', 'Synced', 'Healthy'),
];
const names = (items: Application[]) => items.map((a) => `${a.metadata.namespace}/${a.metadata.name}`);

test('filters by namespace, sync, health and search; sorted; counts before paging', () => {
  const q = (text: string) => queryApplications(apps, parseApplicationQuery(new URLSearchParams(text)));
  assert.deepEqual(names(q('').items), ['a/cart', 'a/shop', 'b/web', 'c/api']);
  assert.deepEqual(names(q('namespace=a').items), ['a/cart', 'a/shop']);
  assert.deepEqual(names(q('sync=Synced&health=Healthy').items), ['b/web', 'c/api']);
  assert.deepEqual(names(q('search=SHO').items), ['a/shop']);
  assert.deepEqual(names(q('search=apps/we').items), ['b/web']);
  assert.deepEqual(q('').counts, { sync: { Synced: 3, OutOfSync: 1 }, health: { Healthy: 3, Degraded: 1 } });
  assert.deepEqual(q('namespace=a').namespaces, ['a', 'b', 'c']);
});

test('filters by label as kubectl -l does: equality, inequality, existence and absence', () => {
  const labelled = apps.map((a, i): Application => {
    const labels: Record<string, string> = i % 2 === 0 ? { team: 'a', tier: 'web' } : { team: 'b' };
    return { ...a, metadata: { ...a.metadata, labels } };
  });
  const q = (label: string) =>
    names(queryApplications(labelled, parseApplicationQuery(new URLSearchParams({ label }))).items);
  assert.deepEqual(q('team=a'), ['a/cart', 'b/web']);
  assert.deepEqual(q('team==b'), ['a/shop', 'c/api']);
  assert.deepEqual(q('team!=a'), ['a/shop', 'c/api']);
  assert.deepEqual(q('tier'), ['a/cart', 'b/web']);
  assert.deepEqual(q('!tier'), ['a/shop', 'c/api']);
  assert.deepEqual(q('team=a,tier=db'), []);
});

test('pages are cut on the server; bad numbers fall back; the page size is capped', () => {
  const page = queryApplications(apps, parseApplicationQuery(new URLSearchParams('page=1&pageSize=3')));
  assert.deepEqual(names(page.items), ['c/api']);
  assert.equal(page.total, 4);
  assert.deepEqual(parseApplicationQuery(new URLSearchParams('page=-1&pageSize=x')), {
    page: 0,
    pageSize: 50,
  });
  assert.equal(parseApplicationQuery(new URLSearchParams('pageSize=100000')).pageSize, 500);
});

test('the status badge escapes what it shows', () => {
  const svg = statusBadge('<script>', 'a&b"');
  assert.doesNotMatch(svg, /<script>/);
  assert.match(svg, /&lt;script&gt;/);
  assert.match(svg, /a&amp;b&quot;/);
});
