// `cairn init` scaffolds a multi-environment layout; committed and applied, the controller brings
// every environment to Synced and Healthy, each with its own replicas.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { installCrds, releaseFinalizers, startController } from '../harness/cairn.ts';
import { commitFolder, createBareRepo } from '../harness/git-server.ts';
import { git, gitServers, newNamespace, uniqueName, waitUntil, withCluster } from '../harness/index.ts';
import { assertGolden, runCairn } from './helpers.ts';

const ENVS = ['dev', 'staging', 'production'];

function expectedFiles(withRepository: boolean): string[] {
  return [
    'base/deployment.yaml',
    'base/service.yaml',
    'base/kustomization.yaml',
    ...ENVS.flatMap((e) => [
      `environments/${e}/kustomization.yaml`,
      `environments/${e}/patches/deployment.yaml`,
    ]),
    ...(withRepository ? ['apps/repository.yaml'] : []),
    ...ENVS.map((e) => `apps/${e}.yaml`),
  ];
}

async function scratch(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-init-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('init prints the files it wrote (golden), refuses to overwrite any, and rejects bad input in one line', async (t) => {
  const dir = await scratch(t);
  const first = await runCairn(['init', '--env', ENVS.join(','), '--path', 'shop'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  await assertGolden('init', first.stdout);
  const deployment = parse(
    await readFile(join(dir, 'shop', 'apps', 'production.yaml'), 'utf8'),
  ) as Application;
  assert.equal(deployment.spec.source.path, 'environments/production');
  assert.equal(deployment.spec.destination.namespace, 'shop-production');

  // Any file already there: nothing is written, exit 1, one line naming it.
  await rm(join(dir, 'shop', 'base', 'service.yaml'));
  await writeFile(join(dir, 'shop', 'apps', 'dev.yaml'), 'mine\n');
  const again = await runCairn(['init', '--env', ENVS.join(','), '--path', 'shop'], { cwd: dir });
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.equal(again.stderr.trim().split('\n').length, 1);
  assert.match(
    again.stderr,
    /^cairn init: .* already holds base\/deployment\.yaml, .*apps\/dev\.yaml.*: nothing written \(move them away or choose another --path\)\n$/,
  );
  assert.equal(await readFile(join(dir, 'shop', 'apps', 'dev.yaml'), 'utf8'), 'mine\n', 'not overwritten');
  assert.ok(!(await readdir(join(dir, 'shop', 'base'))).includes('service.yaml'), 'nothing written at all');

  const bad = await runCairn(['init', '--env', 'dev,Prod'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /^cairn init: environment "Prod": use lower-case letters.*\(run "cairn init --help" for usage\)\n$/,
  );
  const wrongFlag = await runCairn(['init', '--envs', 'dev'], { cwd: dir });
  assert.equal(wrongFlag.code, 2);
  assert.match(wrongFlag.stderr, /^cairn init: Unknown option '--envs'.*\n$/);
  const none = await runCairn(['init'], { cwd: dir });
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    'cairn init: --env is required, e.g. --env dev,staging,production (run "cairn init --help" for usage)\n',
  );
});

test('init, commit, apply apps/: every environment becomes Synced and Healthy with its own replicas', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'init');
  const name = uniqueName('shop');
  t.after(async () => {
    await releaseFinalizers(client, ns);
    for (const env of ENVS)
      await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: `${name}-${env}` }).catch(() => {});
  });
  const { http } = await gitServers();
  const bare = await createBareRepo(http.root, name);
  const dir = join(await scratch(t), name);

  const init = await runCairn(
    ['init', '--env', ENVS.join(','), '--path', dir, '--repo-url', http.url(name), '-o', 'json'],
    {},
  );
  assert.equal(init.code, 0, init.stderr);
  const written = JSON.parse(init.stdout) as {
    path: string;
    name: string;
    environments: string[];
    files: string[];
  };
  assert.deepEqual(written, { path: dir, name, environments: ENVS, files: expectedFiles(true) });
  await commitFolder(bare, dir, 'cairn init');

  for (const file of ['repository', ...ENVS]) {
    const obj = parse(await readFile(join(dir, 'apps', `${file}.yaml`), 'utf8')) as KubeObject;
    await client.apply({ ...obj, metadata: { ...obj.metadata, namespace: ns } }, { fieldManager: 'kubectl' });
  }
  await startController(t, kubeconfig, ns);

  const apps = await waitUntil(
    'every environment to be Synced and Healthy',
    async () => {
      const list = await client.list<Application & KubeObject>(API_VERSION, 'Application', { namespace: ns });
      const done = list.items.filter(
        (a) => a.status?.sync?.status === 'Synced' && a.status.health?.status === 'Healthy',
      );
      return done.length === ENVS.length ? done : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500 },
  );
  assert.deepEqual(apps.map((a) => a.metadata.name).sort(), ENVS.map((e) => `${name}-${e}`).sort());
  for (const [i, env] of ENVS.entries()) {
    const d = await client.get<
      KubeObject & {
        spec: {
          replicas: number;
          template: { spec: { containers: { env: { name: string; value: string }[] }[] } };
        };
      }
    >({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: `${name}-${env}`, name });
    assert.equal(d.spec.replicas, i + 1, env);
    assert.deepEqual(d.spec.template.spec.containers[0]!.env, [{ name: 'ENVIRONMENT', value: env }]);
    assert.equal(d.metadata.labels?.['app.kubernetes.io/instance'], `${name}-${env}`);
  }

  // The environments' differences, seen from a working copy: staging's folder against production.
  await git(['init', '--quiet'], { cwd: dir });
  const diff = (local: string) =>
    runCairn(['app', 'diff', `${name}-production`, '-n', ns, '--local', join(dir, local), '-o', 'json'], {
      kubeconfig,
    });
  const same = await diff('environments/production');
  assert.equal(same.code, 0, same.stderr);
  assert.equal((JSON.parse(same.stdout) as { changed: boolean }).changed, false);
  const other = await diff('environments/staging');
  assert.equal(other.code, 1, other.stderr);
  const view = JSON.parse(other.stdout) as {
    revision: string;
    objects: { name: string; change: string; patch: string }[];
  };
  assert.equal(view.revision, 'local');
  const changed = view.objects.filter((o) => o.change !== 'none');
  assert.deepEqual(
    changed.map((o) => o.name),
    [`Service/${name}-production/${name}`, `Deployment/${name}-production/${name}`],
    'the instance label of both, and the replicas and environment of the Deployment',
  );
  assert.match(changed[1]!.patch, /-\s+replicas: 3\n\+\s+replicas: 2/);
  assert.match(changed[1]!.patch, /-\s+value: production\n\+\s+value: staging/);
});
