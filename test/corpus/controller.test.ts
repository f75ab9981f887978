// The controller syncing corpus kustomize-guestbook from the Git test server, interval one hour.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { installCrds, startController, releaseFinalizers } from '../harness/cairn.ts';
import { gitRepoFrom, newNamespace, waitForObject, withCluster } from '../harness/index.ts';
import { run } from '../harness/processes.ts';

const corpus = process.env.CAIRN_TEST_CORPUS;
if (!corpus || !existsSync(corpus))
  throw new Error(`CAIRN_TEST_CORPUS must name the corpus folder (got ${corpus ?? 'nothing'})`);

test('kustomize-guestbook through a GitRepository and an Application: Ready, Synced, Healthy', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'guestbook');
  t.after(() => releaseFinalizers(client, ns));
  const repo = await gitRepoFrom(join(corpus, 'argocd-example-apps'));
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'examples', namespace: ns },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1h' },
  });
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'guestbook', namespace: ns },
    spec: {
      source: { repositoryRef: { name: 'examples' }, path: 'kustomize-guestbook' },
      destination: { namespace: ns },
      interval: '1h',
      syncPolicy: { automated: { prune: true } },
    },
  });
  await startController(t, kubeconfig, ns);
  const app = await waitForObject<Application & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'guestbook' },
    'to be Ready, Synced and Healthy',
    (a) =>
      a.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' &&
      a.status?.sync?.status === 'Synced' &&
      a.status?.health?.status === 'Healthy',
    120_000,
  );
  assert.equal(app.status?.sync?.revision, repo.commit);
  assert.deepEqual(app.status?.resources?.map((r) => r.kind).sort(), ['Deployment', 'Service']);
  const table = await run('kubectl', ['get', 'applications', '-n', ns], { env: { KUBECONFIG: kubeconfig } });
  assert.match(table.split('\n')[0]!, /^NAME\s+SYNC\s+HEALTH\s+REVISION\s+READY\s+AGE$/);
  assert.match(table, new RegExp(`^guestbook\\s+Synced\\s+Healthy\\s+${repo.commit}\\s+True\\s+`, 'm'));
});
