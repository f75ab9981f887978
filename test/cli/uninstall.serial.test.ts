// `cairn uninstall` all the way, CRDs included: on a private control plane, since it takes the
// CRDs every other test uses.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { startController } from '../harness/cairn.ts';
import { gitRepoFrom, privateCluster, waitForObject, waitUntil } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';
import { assertGolden, runCairn } from './helpers.ts';

test('uninstall: refuses while an Application exists; --force removes Cairn and its CRDs and leaves what the Application applied', async (t) => {
  const plane = await privateCluster(t);
  const kubeconfig = plane.kubeconfig;
  const client = await plane.client();
  t.after(() => client.close());

  const installed = await runCairn(['install'], { kubeconfig });
  assert.equal(installed.code, 0, installed.stderr);
  const before = await runCairn(['check', '-o', 'json'], { kubeconfig });
  const crdsReady = JSON.parse(before.stdout) as { checks: { name: string; status: string }[] };
  assert.deepEqual(
    crdsReady.checks.filter((c) => c.name.startsWith('CRD ')).map((c) => c.status),
    ['pass', 'pass', 'pass'],
  );

  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  const repo = await gitRepoFrom(join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web'));
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'repo', namespace: 'team' },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1h' },
  });
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'web', namespace: 'team' },
    spec: {
      source: { repositoryRef: { name: 'repo' }, path: '.' },
      destination: { namespace: 'team' },
      syncPolicy: { automated: { prune: true } },
    },
  });
  await startController(t, kubeconfig, 'team');
  await waitForObject<Application & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'Application', namespace: 'team', name: 'web' },
    'to be Synced and Healthy',
    (a) => a.status?.sync?.status === 'Synced' && a.status.health?.status === 'Healthy',
    120_000,
  );

  const refused = await runCairn(['uninstall'], { kubeconfig });
  assert.equal(refused.code, 1);
  assert.equal(
    refused.stderr,
    'cairn uninstall: 1 Application(s) would be deleted with Cairn: team/web; delete them first, or run again with --keep-crds (keep them) or --force (remove them, leave what they applied)\n',
  );
  assert.ok(
    await client.getOptional({
      apiVersion: API_VERSION,
      kind: 'Application',
      namespace: 'team',
      name: 'web',
    }),
  );

  const forced = await runCairn(['uninstall', '--force'], { kubeconfig });
  assert.equal(forced.code, 0, forced.stderr);
  await assertGolden('uninstall-force', forced.stdout);
  await waitUntil(
    'the CRDs to be gone',
    async () =>
      (await client.getOptional({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name: 'applications.cairn.dev',
      })) === undefined,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  // What the Application applied stays, unmanaged.
  const web = await client.getOptional({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: 'team',
    name: 'web',
  });
  assert.ok(web && !web.metadata.deletionTimestamp, 'the Deployment web is still there');

  const after = await runCairn(['check'], { kubeconfig });
  assert.equal(after.code, 1);
  assert.match(after.stdout, /^✗ CRD applications\.cairn\.dev: not installed: run cairn install$/m);
  assert.match(
    after.stdout,
    /^✗ controller: Deployment\/cairn-system\/cairn-controller not found: run cairn install$/m,
  );
});
