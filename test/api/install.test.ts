// The install manifests: generated from code, current in deploy/, and accepted by the API server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { generatedManifests } from '../../src/api/generated.ts';
import { installManifests } from '../../src/api/install.ts';
import { describeRef, refOf } from '../../src/cluster/objects.ts';
import { newNamespace, withCluster } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

test('deploy/ holds exactly what the code generates (run npm run generate after changing src/api)', async () => {
  for (const [file, text] of Object.entries(generatedManifests())) {
    assert.equal(await readFile(join(REPO_ROOT, 'deploy', file), 'utf8'), text, `deploy/${file} is stale`);
  }
});

test('every install manifest, the server part included, passes a server-side dry run', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'install');
  for (const obj of installManifests({ namespace: ns, server: true })) {
    const answered = await client.apply(obj, { fieldManager: 'cairn-install', dryRun: true });
    assert.equal(answered.metadata.name, obj.metadata.name, describeRef(refOf(obj)));
  }
});

test('the controller is confined: its own ClusterRole names only Cairn kinds, secrets (get) and events', () => {
  const role = installManifests().find(
    (o) => o.kind === 'ClusterRole' && o.metadata.name === 'cairn-controller',
  )!;
  const rules = role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  for (const r of rules)
    assert.ok(
      !r.apiGroups.includes('*') && !r.resources.includes('*') && !r.verbs.includes('*'),
      JSON.stringify(r),
    );
  assert.deepEqual(rules.find((r) => r.resources.includes('secrets'))!.verbs, ['get']);
});

test('cairn install --dry-run --with-ui sends every manifest to the API server and changes nothing', async (t) => {
  const { kubeconfig, client } = await withCluster();
  const ns = await newNamespace(t, 'install-cli');
  const { run } = await import('../harness/processes.ts');
  const out = await run(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'cairn.js'),
      'install',
      '--dry-run',
      '--with-ui',
      '--namespace',
      ns,
      '--image',
      'registry.example.com/cairn:test',
    ],
    { env: { KUBECONFIG: kubeconfig } },
  );
  assert.match(out, new RegExp(`Deployment/${ns}/cairn-controller accepted \\(dry run\\)`));
  assert.match(out, /CustomResourceDefinition\/applications\.cairn\.dev accepted \(dry run\)/);
  assert.match(out, new RegExp(`Deployment/${ns}/cairn-server accepted \\(dry run\\)`));
  assert.match(out, /ClusterRole\/cairn-server accepted \(dry run\)/);
  assert.equal(
    await client.getOptional({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'cairn-controller',
    }),
    undefined,
  );
});
