// On a private control plane: the API server stops for 10 s in the middle of a reconcile; the
// same controller process recovers, its watches resume, and the state converges.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { gitRepository, installCrds, webApplication, startController } from '../harness/cairn.ts';
import { git, gitRepoFrom, privateCluster, waitForObject, scaleDeployment } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

type Deployment = KubeObject & { spec: { replicas: number } };

test('the controller rides out a 10 s API server outage in the middle of a reconcile', async (t) => {
  const plane = await privateCluster(t);
  const client = await plane.client();
  t.after(() => client.close());
  await installCrds(client);
  const ns = 'outage';
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const repo = await gitRepoFrom(join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web'));
  await client.create(gitRepository(ns, repo.httpUrl, '2s'));
  await client.create(webApplication(ns, { selfHeal: true }));
  const controller = await startController(t, plane.kubeconfig, ns);
  const appRef = { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'web' };
  await waitForObject<Application & KubeObject>(
    client,
    appRef,
    'to be synced',
    (a) => a.status?.sync?.status === 'Synced',
    90_000,
  );

  // A new commit starts a reconcile; the API server goes away while it runs.
  const work = await mkdtemp(join(tmpdir(), 'cairn-outage-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  await writeFile(
    join(work, 'deployment.yaml'),
    (await readFile(join(work, 'deployment.yaml'), 'utf8')).replace(/replicas: \d+/, 'replicas: 3'),
  );
  await git(['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-am', 'three'], {
    cwd: work,
  });
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  await plane.stop('apiserver');
  await new Promise((r) => setTimeout(r, 10_000));
  await plane.start('apiserver');

  const web = await waitForObject<Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to have the new replicas',
    (d) => d.spec.replicas === 3,
    120_000,
  );
  assert.equal(web.spec.replicas, 3);
  assert.equal(controller.process.exitCode, null, 'the same controller process is still running');
  // Watches resumed: a change made now is seen and reverted without any interval.
  await scaleDeployment(client, ns, 'web', 9);
  await waitForObject<Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to be reverted',
    (d) => d.spec.replicas === 3,
    120_000,
  );
  await waitForObject<Application & KubeObject>(
    client,
    appRef,
    'to be synced at the new commit',
    (a) => a.status?.sync?.status === 'Synced' && a.status?.sync?.revision !== repo.commit,
    120_000,
  );
});
