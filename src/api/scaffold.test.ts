// cairn init's files: the layout, replicas per environment, Application paths, and bad input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { defaultScaffoldOptions, scaffoldFiles, scaffoldProblems } from './scaffold.ts';

const options = (extra = {}) => ({
  ...defaultScaffoldOptions(),
  environments: ['dev', 'staging', 'production'],
  name: 'shop',
  ...extra,
});

test('scaffoldFiles: base, an overlay with patches per environment, an Application per environment', () => {
  const files = scaffoldFiles(
    options({ repoPath: 'deploy/shop', repoUrl: 'https://git.example.com/shop.git' }),
  );
  const byPath = new Map(files.map((f) => [f.path, parse(f.content) as Record<string, unknown>]));
  assert.ok(byPath.has('base/kustomization.yaml') && byPath.has('apps/repository.yaml'));
  const replicas = ['dev', 'staging', 'production'].map(
    (e) =>
      (byPath.get(`environments/${e}/patches/deployment.yaml`) as { spec: { replicas: number } }).spec
        .replicas,
  );
  assert.deepEqual(replicas, [1, 2, 3]);
  const prod = byPath.get('apps/production.yaml') as {
    metadata: { name: string };
    spec: { source: { path: string }; destination: { namespace: string } };
  };
  assert.equal(prod.metadata.name, 'shop-production');
  assert.equal(prod.spec.source.path, 'deploy/shop/environments/production');
  assert.equal(prod.spec.destination.namespace, 'shop-production');
  assert.ok(
    !scaffoldFiles(options()).some((f) => f.path === 'apps/repository.yaml'),
    'no GitRepository without a URL',
  );
});

test('scaffoldProblems: names that cannot be namespaces, repeats, and nothing at all', () => {
  assert.deepEqual(scaffoldProblems(options()), []);
  assert.equal(scaffoldProblems(options({ environments: [] })).length, 1);
  assert.match(scaffoldProblems(options({ environments: ['dev', 'dev'] }))[0]!, /named twice/);
  assert.match(scaffoldProblems(options({ environments: ['Prod'] }))[0]!, /"Prod"/);
  assert.match(scaffoldProblems(options({ name: 'my_app' }))[0]!, /"my_app"/);
});
