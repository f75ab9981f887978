// The generated CRDs against the real API server: structural, defaulted, validated, printable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../../src/api/index.ts';
import { isInvalid } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { newNamespace, withCluster } from '../harness/index.ts';
import { run } from '../harness/processes.ts';
import { installCrds } from '../harness/cairn.ts';

test('the CRDs install, and the API server fills the defaults the schemas declare', async (t) => {
  await installCrds((await withCluster()).client);
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'crd');
  const repo = await client.create<KubeObject & { spec: { interval: string } }>({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'repo', namespace: ns },
    spec: { url: 'https://git.example.com/r.git', ref: { branch: 'main' } },
  });
  assert.equal(repo.spec.interval, '5m');
  const app = await client.create<KubeObject & { spec: { interval: string; source: { path: string } } }>({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'app', namespace: ns },
    spec: { source: { repositoryRef: { name: 'repo' } }, destination: { namespace: ns } },
  });
  assert.equal(app.spec.interval, '10m');
  assert.equal(app.spec.source.path, '.');
});

test('invalid objects are refused by the API server with the field named', async (t) => {
  await installCrds((await withCluster()).client);
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'crd');
  const refused = async (obj: KubeObject, pattern: RegExp) => {
    await assert.rejects(client.create(obj), (e: unknown) => {
      assert.ok(isInvalid(e), String(e));
      assert.match((e as Error).message, pattern);
      return true;
    });
  };
  const repo = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { generateName: 'r-', namespace: ns },
    spec: { url: 'https://x/r.git', ...spec },
  });
  await refused(
    repo({ ref: { branch: 'main', tag: 'v1' } }),
    /spec\.ref: Invalid value: .*set exactly one of branch, tag, semver, commit, name/,
  );
  await refused(repo({ interval: '1.5.6s' }), /spec\.interval/);
  await refused(repo({ interval: '-5m' }), /spec\.interval/);
  await refused(repo({ ref: { commit: 'abc' } }), /spec\.ref\.commit/);
  await refused(
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { generateName: 'a-', namespace: ns },
      spec: { source: { repositoryRef: { name: 'r' } } },
    },
    /spec\.destination: Required value/,
  );
  await refused(
    {
      apiVersion: API_VERSION,
      kind: 'Receiver',
      metadata: { generateName: 'h-', namespace: ns },
      spec: { type: 'bitbucket', secretRef: { name: 's' }, resources: [] },
    },
    /spec\.type: Unsupported value: "bitbucket"/,
  );
});

test('kubectl get applications shows the printer columns', async (t) => {
  await installCrds((await withCluster()).client);
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'crd');
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'shop', namespace: ns },
    spec: { source: { repositoryRef: { name: 'repo' } }, destination: { namespace: ns } },
  });
  const out = await run('kubectl', ['get', 'applications', '-n', ns], { env: { KUBECONFIG: kubeconfig } });
  assert.match(out.split('\n')[0]!, /^NAME\s+SYNC\s+HEALTH\s+REVISION\s+READY\s+AGE$/);
  assert.match(out, /^shop\s/m);
});
