// Two controller processes on one Lease: exactly one reconciles; when it is killed the other
// takes over and the Lease records one more transition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import {
  gitRepository,
  installCrds,
  webApplication,
  startController,
  releaseFinalizers,
} from '../harness/cairn.ts';
import {
  gitRepoFrom,
  newNamespace,
  waitForObject,
  waitUntil,
  withCluster,
  scaleDeployment,
} from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';
import { join } from 'node:path';

type Lease = KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } };

test('one of two controllers leads; after SIGKILL the other takes over and reconciles', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'failover');
  t.after(() => releaseFinalizers(client, ns));
  const repo = await gitRepoFrom(join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web'));
  await client.create(gitRepository(ns, repo.httpUrl));
  await client.create(webApplication(ns, { selfHeal: true }));
  const first = await startController(t, kubeconfig, ns, ['--log-level', 'debug']);
  await waitUntil(
    'the first controller to lead',
    () => Promise.resolve(first.logs.some((l) => l.msg === 'started leading')),
    { timeoutMs: 60_000 },
  );
  const second = await startController(t, kubeconfig, ns, ['--log-level', 'debug']);
  await waitForObject<Application & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'web' },
    'to be synced',
    (a) => a.status?.sync?.status === 'Synced',
    60_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(
    second.logs.filter((l) => l.msg === 'started leading').length,
    0,
    'the second controller waits',
  );
  assert.equal(second.logs.filter((l) => l.msg === 'reconciled').length, 0, 'and reconciles nothing');
  const leaseRef = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: ns,
    name: 'cairn-controller',
  };
  const before = await client.get<Lease>(leaseRef);
  const transitions = before.spec.leaseTransitions ?? 0;

  await first.kill();
  await waitUntil(
    'the second controller to take over',
    () => Promise.resolve(second.logs.some((l) => l.msg === 'started leading')),
    { timeoutMs: 90_000 },
  );
  const after = await client.get<Lease>(leaseRef);
  assert.notEqual(after.spec.holderIdentity, before.spec.holderIdentity);
  assert.equal(after.spec.leaseTransitions, transitions + 1);

  // The new leader reconciles: a scale is reverted.
  await scaleDeployment(client, ns, 'web', 5);
  await waitForObject<KubeObject & { spec: { replicas: number } }>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to be reverted by the new leader',
    (d) => d.spec.replicas === 2,
    60_000,
  );
});
