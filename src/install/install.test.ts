// The pure decisions of check, uninstall and bootstrap: version floor, rights per kind, which
// Applications block an uninstall and the delete order, and what bootstrap commits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootstrapFiles, defaultBootstrapOptions, syncManifests } from '../api/bootstrap.ts';
import { installManifests } from '../api/install.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { asAppliedBy } from './bootstrap.ts';
import {
  CheckStatus,
  accessChecks,
  controllerNeeds,
  installNeeds,
  summarise,
  versionCheck,
} from './check.ts';
import { planUninstall, defaultUninstallOptions } from './uninstall.ts';

test('versionCheck: the floor passes, one minor below fails and says what to do, garbage warns', () => {
  const cases: [{ major?: string; minor?: string; gitVersion?: string }, CheckStatus][] = [
    [{ major: '1', minor: '29', gitVersion: 'v1.29.0' }, CheckStatus.Pass],
    [{ major: '1', minor: '36+', gitVersion: 'v1.36.3-eks' }, CheckStatus.Pass],
    [{ major: '2', minor: '0' }, CheckStatus.Pass],
    [{ major: '1', minor: '28', gitVersion: 'v1.28.9' }, CheckStatus.Fail],
    [{ major: '', minor: '' }, CheckStatus.Warn],
  ];
  for (const [info, status] of cases) assert.equal(versionCheck(info).status, status, JSON.stringify(info));
  assert.match(
    versionCheck({ major: '1', minor: '28', gitVersion: 'v1.28.9' }).message,
    /upgrade to 1\.29 or newer/,
  );
});

test('installNeeds: create and patch per kind and namespace, bind and escalate per ClusterRole', () => {
  const manifests = installManifests({ namespace: 'x' });
  const needs = installNeeds(manifests, (o) => ({
    group: o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '',
    resource: o.kind.toLowerCase(),
  }));
  assert.ok(needs.some((n) => n.verb === 'create' && n.resource === 'deployment' && n.namespace === 'x'));
  assert.ok(needs.some((n) => n.verb === 'escalate' && n.name === 'cairn-apply'));
  assert.equal(
    needs.filter((n) => n.resource === 'customresourcedefinition').length,
    2,
    'one pair for all CRDs',
  );
});

test('controllerNeeds: the rules of its own roles (not the wildcard apply role), the Role in its namespace', () => {
  const needs = controllerNeeds(installManifests({ namespace: 'x' }), 'x');
  assert.ok(needs.some((n) => n.resource === 'applications/status' && n.verb === 'patch' && !n.namespace));
  assert.ok(needs.some((n) => n.resource === 'leases' && n.verb === 'create' && n.namespace === 'x'));
  assert.ok(!needs.some((n) => n.resource === '*'));
});

test('accessChecks: one line per target; a denial fails and names the verbs when only some are denied', () => {
  const needs = [
    { group: 'apps', resource: 'deployments', verb: 'create', namespace: 'x' },
    { group: 'apps', resource: 'deployments', verb: 'patch', namespace: 'x' },
    { group: '', resource: 'namespaces', verb: 'create' },
    { group: '', resource: 'namespaces', verb: 'patch' },
  ];
  const lines = accessChecks('may', needs, [true, false, false, false], 'ask');
  assert.deepEqual(lines, [
    { name: 'may create, patch', status: 'fail', message: 'deployments.apps in x: patch denied (ask)' },
    { name: 'may create, patch', status: 'fail', message: 'namespaces: denied (ask)' },
  ]);
  assert.equal(summarise(lines).ok, false);
  assert.equal(summarise(accessChecks('may', needs, [true, true, true, true], 'ask')).ok, true);
  assert.equal(
    summarise([{ name: 'v', status: CheckStatus.Warn, message: '' }]).ok,
    true,
    'warnings do not fail',
  );
});

const app = (namespace: string, name: string, selfManaged = false): KubeObject => ({
  apiVersion: 'cairn.dev/v1alpha1',
  kind: 'Application',
  metadata: { namespace, name, ...(selfManaged ? { labels: { 'cairn.dev/self-managed': 'true' } } : {}) },
});

test('planUninstall: the self-managing Application never blocks; others block unless --keep-crds keeps them', () => {
  const apps = [app('cairn-system', 'cairn', true), app('cairn-system', 'guestbook'), app('team-a', 'shop')];
  const plain = planUninstall(apps, defaultUninstallOptions());
  assert.deepEqual(
    plain.blocking.map((r) => r.name),
    ['guestbook', 'shop'],
  );
  assert.deepEqual(
    plain.applications.map((r) => r.name),
    ['cairn', 'guestbook', 'shop'],
  );
  assert.equal(plain.deletes.at(-1)!.kind, 'CustomResourceDefinition', 'CRDs go last');
  assert.equal(plain.deletes[0]!.kind, 'Service', 'reverse install order');
  assert.deepEqual(
    plain.optional.map((r) => `${r.kind}/${r.name}`),
    [
      'Service/cairn-server',
      'Deployment/cairn-server',
      'RoleBinding/cairn-server',
      'Role/cairn-server',
      'ClusterRoleBinding/cairn-server',
      'ClusterRole/cairn-server',
      'ServiceAccount/cairn-server',
    ],
    'the server part, before the namespace it is in',
  );

  const kept = planUninstall(apps, { ...defaultUninstallOptions(), keepCrds: true });
  assert.deepEqual(
    kept.blocking.map((r) => r.name),
    ['guestbook'],
    'its namespace goes, so its Applications do',
  );
  assert.deepEqual(
    kept.applications.map((r) => r.name),
    ['cairn', 'guestbook'],
  );
  assert.ok(!kept.deletes.some((r) => r.kind === 'CustomResourceDefinition'));
  assert.equal(kept.deletes.at(-1)!.kind, 'Namespace');

  assert.deepEqual(
    planUninstall([app('cairn-system', 'cairn', true)], defaultUninstallOptions()).blocking,
    [],
  );
});

test('bootstrap files: install and sync manifests under PATH/<namespace>/, no credentials, deterministic', () => {
  const o = {
    ...defaultBootstrapOptions(),
    url: 'https://git.example.com/fleet.git',
    branch: 'main',
    path: './clusters/prod/',
    secretName: 'creds',
  };
  const files = bootstrapFiles(o);
  assert.deepEqual(
    files.map((f) => f.path),
    ['clusters/prod/cairn-system/install.yaml', 'clusters/prod/cairn-system/sync.yaml'],
  );
  assert.deepEqual(bootstrapFiles(o), files);
  const [repo, application] = syncManifests(o) as [
    KubeObject & { spec: Record<string, unknown> },
    KubeObject & { spec: { source: { path: string }; deletionPolicy: string } },
  ];
  assert.deepEqual(repo.spec.secretRef, { name: 'creds' });
  assert.equal(application.spec.source.path, 'clusters/prod');
  assert.equal(application.spec.deletionPolicy, 'Orphan', 'deleting it never uninstalls Cairn');
});

test('asAppliedBy: the tracking metadata the controller adds, and the deployment annotations the live object has', () => {
  const obj: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'n', labels: { a: 'b' } },
  };
  const live: KubeObject = {
    ...obj,
    metadata: { ...obj.metadata, annotations: { 'dora.metrics/commit-sha': 'abc', other: 'x' } },
  };
  const applied = asAppliedBy(obj, { namespace: 'cairn-system', name: 'cairn' }, live);
  assert.deepEqual(applied.metadata.labels, {
    a: 'b',
    'app.cairn.dev/application-namespace': 'cairn-system',
    'app.cairn.dev/application': 'cairn',
  });
  assert.deepEqual(applied.metadata.annotations, {
    'app.cairn.dev/tracking-id': 'cairn:apps/Deployment:n/d',
    'dora.metrics/commit-sha': 'abc',
  });
});
