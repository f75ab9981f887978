// The test bed against a real third-party GitOps repository (argocd-example-apps from the corpus):
// it travels through the git servers intact, and its plain, Kustomize and Helm apps are accepted
// by the API server of the test cluster.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/cluster/objects.ts';
import {
  git,
  gitRepoFrom,
  gitSshServer,
  newNamespace,
  waitForObject,
  withCluster,
} from '../harness/index.ts';
import { run } from '../harness/processes.ts';

const corpus = process.env.CAIRN_TEST_CORPUS;
if (!corpus || !existsSync(corpus)) {
  throw new Error(`CAIRN_TEST_CORPUS must name the corpus folder (got ${corpus ?? 'nothing'})`);
}
const APPS = join(corpus, 'argocd-example-apps');

/** Path -> sha256 of every file below `dir`, outside .git. */
async function treeDigest(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = relative(dir, path);
    if (rel.split('/').includes('.git')) continue;
    out.set(rel, createHash('sha256').update(readFileSync(path)).digest('hex'));
  }
  return out;
}

function manifests(yamlText: string, namespace: string): KubeObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o && typeof o === 'object' && 'kind' in o)
    .map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

test('the repository survives a push and a clone over HTTP and over SSH byte for byte', async (t) => {
  const repo = await gitRepoFrom(APPS);
  const work = await mkdtemp(join(tmpdir(), 'cairn-corpus-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const expected = await treeDigest(APPS);
  assert.ok(expected.size > 50, `expected a real repository, found ${expected.size} files`);

  await git(['clone', '--quiet', repo.httpUrl, join(work, 'http')]);
  assert.deepEqual(await treeDigest(join(work, 'http')), expected);

  const ssh = await gitSshServer();
  await git(['clone', '--quiet', ssh.url(repo.path), join(work, 'ssh')], { env: ssh.gitEnv() });
  assert.deepEqual(await treeDigest(join(work, 'ssh')), expected);
  assert.equal((await git(['rev-parse', 'HEAD'], { cwd: join(work, 'ssh') })).trim(), repo.commit);
});

test('guestbook (plain YAML) applies server-side and its Deployment becomes available', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'guestbook');
  for (const file of ['guestbook-ui-deployment.yaml', 'guestbook-ui-svc.yaml']) {
    for (const obj of manifests(readFileSync(join(APPS, 'guestbook', file), 'utf8'), ns))
      await client.apply(obj);
  }
  const deployment = await waitForObject<KubeObject & { status?: { availableReplicas?: number } }>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'guestbook-ui' },
    'to be available',
    (d) => d.status?.availableReplicas === 1,
  );
  assert.equal(deployment.status?.availableReplicas, 1);
});

test('kustomize-guestbook and helm-guestbook render with the built CLIs and pass a server-side dry-run', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t, 'rendered');
  const kustomized = manifests(await run('kustomize', ['build', join(APPS, 'kustomize-guestbook')]), ns);
  const templated = manifests(
    await run('helm', [
      'template',
      'guestbook',
      join(APPS, 'helm-guestbook'),
      '--namespace',
      ns,
      '-f',
      join(APPS, 'helm-guestbook', 'values-production.yaml'),
    ]),
    ns,
  );
  assert.deepEqual(kustomized.map((o) => o.kind).sort(), ['Deployment', 'Service']);
  assert.deepEqual(templated.map((o) => o.kind).sort(), ['Deployment', 'Service']);
  for (const obj of [...kustomized, ...templated]) {
    const answered = await client.apply(obj, { dryRun: true });
    assert.equal(answered.metadata.namespace, ns);
    assert.ok(answered.metadata.uid, `${obj.kind}/${obj.metadata.name} was accepted by the API server`);
  }
});
