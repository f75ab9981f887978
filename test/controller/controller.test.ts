// The controller as its own process against the test control plane. Intervals are an hour unless a
// test is about intervals, so only a watch or a webhook can explain a reaction.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import {
  gitRepository,
  installCrds,
  webApplication,
  startController,
  type RunningController,
  releaseFinalizers,
} from '../harness/cairn.ts';
import {
  git,
  gitRepoFrom,
  newNamespace,
  waitForObject,
  waitUntil,
  withCluster,
  type TestRepo,
  scaleDeployment,
} from '../harness/index.ts';
import { run } from '../harness/processes.ts';
import { REPO_ROOT } from '../harness/tools.ts';

const WEB = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web');
const LONG = 120_000;

type Deployment = KubeObject & { spec: { replicas: number } };
const ready = (a: Application) => a.status?.conditions?.find((c) => c.type === 'Ready');

interface Setup {
  client: KubeClient;
  kubeconfig: string;
  ns: string;
  repo: TestRepo;
  controller: RunningController;
}

async function setup(
  t: TestContext,
  app: {
    interval?: string;
    selfHeal?: boolean;
    automated?: boolean;
    repoInterval?: string;
    controllerArgs?: string[];
  } = {},
): Promise<Setup> {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'ctl');
  t.after(() => releaseFinalizers(client, ns));
  const repo = await gitRepoFrom(WEB);
  await client.create(gitRepository(ns, repo.httpUrl, app.repoInterval));
  await client.create(
    webApplication(
      ns,
      app.automated === false ? undefined : { prune: true, selfHeal: app.selfHeal ?? false },
      app.interval,
    ),
  );
  const controller = await startController(t, kubeconfig, ns, app.controllerArgs ?? []);
  return { client, kubeconfig, ns, repo, controller };
}

function appRef(ns: string, name = 'web') {
  return { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name };
}

async function waitForApp(
  client: KubeClient,
  ns: string,
  what: string,
  predicate: (a: Application) => boolean,
  name = 'web',
): Promise<Application> {
  return waitForObject<Application & KubeObject>(client, appRef(ns, name), what, predicate, LONG);
}

const synced = (a: Application) =>
  ready(a)?.status === 'True' &&
  a.status?.sync?.status === 'Synced' &&
  a.status?.health?.status === 'Healthy';

/** Commits a change to the test repository through a clone, as a person would push. */
async function pushChange(
  t: TestContext,
  repo: TestRepo,
  change: (dir: string) => Promise<void>,
  message: string,
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-push-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  await change(work);
  await git(['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-am', message], {
    cwd: work,
  });
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
}

const setReplicas = (n: number) => async (dir: string) => {
  const file = join(dir, 'deployment.yaml');
  const { readFile } = await import('node:fs/promises');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/replicas: \d+/, `replicas: ${n}`));
};

test('an Application becomes Ready, Synced and Healthy, with the printer columns', async (t) => {
  const { client, kubeconfig, ns, repo } = await setup(t);
  const app = await waitForApp(client, ns, 'to be Ready, Synced and Healthy', synced);
  assert.equal(app.status?.sync?.revision, repo.commit);
  assert.equal(app.status?.history?.length, 1);
  assert.equal(app.status?.history?.[0]?.initiator, 'automated');
  assert.equal(app.status?.resources?.length, 4);
  const web = await client.get<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  assert.equal(web.spec.replicas, 2);
  const table = await run('kubectl', ['get', 'applications', '-n', ns], { env: { KUBECONFIG: kubeconfig } });
  assert.match(table, /^web\s+Synced\s+Healthy\s+[0-9a-f]{40}\s+True\s+/m);
});

test('a push is applied after the Receiver webhook fires (interval one hour)', async (t) => {
  const { client, ns, repo, controller } = await setup(t);
  await waitForApp(client, ns, 'to be synced', synced);
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hook-token', namespace: ns },
    stringData: { token: 'shared-hook-secret' },
  });
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Receiver',
    metadata: { name: 'push', namespace: ns },
    spec: {
      type: 'generic-hmac',
      secretRef: { name: 'hook-token' },
      resources: [{ kind: 'GitRepository', name: 'repo' }],
    },
  });
  const receiver = await waitForObject<KubeObject & { status?: { webhookPath?: string } }>(
    client,
    { apiVersion: API_VERSION, kind: 'Receiver', namespace: ns, name: 'push' },
    'to publish its path',
    (r) => !!r.status?.webhookPath,
    LONG,
  );
  const commit = await pushChange(t, repo, setReplicas(3), 'three replicas');

  const body = JSON.stringify({ ref: 'refs/heads/main', after: commit });
  const unsigned = await fetch(controller.url(receiver.status!.webhookPath!), {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(unsigned.status, 401, 'an unsigned request is refused');
  const signature = `sha256=${createHmac('sha256', 'shared-hook-secret').update(body).digest('hex')}`;
  const accepted = await fetch(controller.url(receiver.status!.webhookPath!), {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'x-signature': signature },
  });
  assert.equal(accepted.status, 202);
  await waitForObject<Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to have 3 replicas',
    (d) => d.spec.replicas === 3,
    LONG,
  );
  const app = await waitForApp(
    client,
    ns,
    'to name the new commit',
    (a) => a.status?.sync?.revision === commit && synced(a),
  );
  assert.equal(app.status?.history?.at(-1)?.revision, commit);
  const metrics = await (await fetch(controller.url('/metrics'))).text();
  assert.match(metrics, /^cairn_application_info\{[^}]*name="web"[^}]*sync_status="Synced"[^}]*\} 1$/m);
  assert.match(
    metrics,
    /^cairn_reconcile_duration_seconds_count\{kind="Application",result="success"\} [1-9]/m,
  );
  assert.match(metrics, /^cairn_syncs_total\{result="succeeded"\} [2-9]/m);
  assert.match(metrics, /^cairn_git_fetch_duration_seconds_count\{result="success"\} [1-9]/m);
});

test('without a webhook, a push is applied at the next interval', async (t) => {
  const { client, ns, repo } = await setup(t, { repoInterval: '3s' });
  await waitForApp(client, ns, 'to be synced', synced);
  const commit = await pushChange(t, repo, setReplicas(4), 'four replicas');
  await waitForObject<Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to have 4 replicas',
    (d) => d.spec.replicas === 4,
    LONG,
  );
  await waitForApp(client, ns, 'to name the new commit', (a) => a.status?.sync?.revision === commit);
});

test('selfHeal reverts a kubectl scale; the revert is a self-heal in the history', async (t) => {
  const { client, ns } = await setup(t, { selfHeal: true });
  await waitForApp(client, ns, 'to be synced', synced);
  await scaleDeployment(client, ns, 'web', 6);
  await waitForObject<Deployment>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to be reverted to 2 replicas',
    (d) => d.spec.replicas === 2,
    LONG,
  );
  const app = await waitForApp(
    client,
    ns,
    'to record the self-heal',
    (a) => a.status?.history?.at(-1)?.initiator === 'self-heal',
  );
  assert.equal(app.status?.history?.at(-1)?.result, 'Succeeded');
});

test('without selfHeal, a kubectl scale turns the Application OutOfSync with an Event', async (t) => {
  const { client, ns } = await setup(t, { selfHeal: false });
  await waitForApp(client, ns, 'to be synced', synced);
  await scaleDeployment(client, ns, 'web', 6);
  const app = await waitForApp(client, ns, 'to be OutOfSync', (a) => a.status?.sync?.status === 'OutOfSync');
  assert.equal(ready(app)?.reason, 'OutOfSync');
  const events = await waitUntil(
    'a Drifted event',
    async () => {
      const list = await client.list<
        KubeObject & { reason?: string; message?: string; involvedObject?: { name?: string } }
      >('v1', 'Event', { namespace: ns });
      return list.items.find((e) => e.reason === 'Drifted' && e.involvedObject?.name === 'web');
    },
    { timeoutMs: LONG },
  );
  assert.match(events.message ?? '', /Deployment\/.*\/web/);
  const web = await client.get<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  assert.equal(web.spec.replicas, 6, 'not reverted');
});

test('a commit with invalid YAML: Ready=False BuildFailed naming the file, nothing pruned; the fix recovers', async (t) => {
  const { client, ns, repo } = await setup(t, { repoInterval: '2s' });
  await waitForApp(client, ns, 'to be synced', synced);
  const broken = await pushChange(
    t,
    repo,
    (dir) =>
      writeFile(
        join(dir, 'service.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n spec: [\n',
      ),
    'break the service',
  );
  const failed = await waitForApp(client, ns, 'to fail the build', (a) => ready(a)?.reason === 'BuildFailed');
  assert.equal(ready(failed)?.status, 'False');
  assert.match(ready(failed)?.message ?? '', /service\.yaml/);
  assert.equal(failed.status?.lastAttemptedRevision, broken);
  for (const [apiVersion, kind, name] of [
    ['v1', 'Service', 'web'],
    ['apps/v1', 'Deployment', 'web'],
    ['v1', 'ConfigMap', 'web-settings'],
  ] as const) {
    assert.ok(
      await client.getOptional({ apiVersion, kind, namespace: ns, name }),
      `${kind}/${name} is intact`,
    );
  }
  const fixed = await pushChange(
    t,
    repo,
    async (dir) => {
      const { cp } = await import('node:fs/promises');
      await cp(join(WEB, 'service.yaml'), join(dir, 'service.yaml'));
    },
    'fix the service',
  );
  await waitForApp(client, ns, 'to recover', (a) => synced(a) && a.status?.sync?.revision === fixed);
});

test('a restart with nothing changed writes nothing: resourceVersions stay', async (t) => {
  const { client, kubeconfig, ns, controller } = await setup(t, { controllerArgs: ['--log-level', 'debug'] });
  await waitForApp(client, ns, 'to be synced', synced);
  // Let health settle so the status stops moving.
  await new Promise((r) => setTimeout(r, 2000));
  const versions = async () => {
    const app = await client.get(appRef(ns));
    const objects = await Promise.all(
      (['Deployment', 'Service', 'ConfigMap', 'Secret'] as const).map(async (kind) => {
        const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
        const list = await client.list(apiVersion, kind, {
          namespace: ns,
          labelSelector: 'app.cairn.dev/application=web',
        });
        return list.items.map((i) => `${kind}/${i.metadata.name}@${i.metadata.resourceVersion}`);
      }),
    );
    return [`Application/web@${app.metadata.resourceVersion}`, ...objects.flat()].sort();
  };
  const before = await versions();
  await controller.stop();
  const again = await startController(t, kubeconfig, ns, ['--log-level', 'debug']);
  await waitUntil(
    'the restarted controller to reconcile the Application',
    () =>
      Promise.resolve(again.logs.some((l) => l.msg === 'reconciled' && l.key === `Application/${ns}/web`)),
    { timeoutMs: LONG },
  );
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual(await versions(), before);
});

test('dependsOn: B is applied only once A is Ready', async (t) => {
  const { client, kubeconfig, ns, repo } = await setup(t, { automated: true });
  t.after(() => client.delete({ apiVersion: 'v1', kind: 'Namespace', name: `${ns}-after` }).catch(() => {}));
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'after', namespace: ns },
    spec: {
      source: { repositoryRef: { name: 'late' }, path: '.' },
      // Its own namespace: the same objects in ns belong to the Application "web" of the setup.
      destination: { namespace: `${ns}-after` },
      interval: '1h',
      syncPolicy: { automated: {}, createNamespace: true },
    },
  });
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'dependent', namespace: ns },
    spec: {
      source: { repositoryRef: { name: 'repo' }, path: '.' },
      destination: { namespace: `${ns}-none` },
      interval: '1h',
      dependsOn: [{ name: 'after' }],
      syncPolicy: { automated: {} },
    },
  });
  const waiting = await waitForApp(
    client,
    ns,
    'to wait for its dependency',
    (a) => ready(a)?.reason === 'DependencyNotReady',
    'dependent',
  );
  assert.match(ready(waiting)?.message ?? '', /after/);
  assert.equal(waiting.status?.history, undefined, 'nothing was applied');
  // The dependency's source appears: A becomes Ready, then B proceeds (it then fails on its missing namespace, which is after the dependency check).
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'late', namespace: ns },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1h' },
  });
  await waitForApp(client, ns, 'to be Ready', (a) => ready(a)?.status === 'True', 'after');
  const moved = await waitForApp(
    client,
    ns,
    'to go past the dependency',
    (a) => ready(a)?.reason !== 'DependencyNotReady',
    'dependent',
  );
  assert.ok(moved.status?.history?.length, 'B synced once A was Ready');
  void kubeconfig;
});

test('deleting an Application prunes its objects; with deletionPolicy Orphan they stay', async (t) => {
  const { client, ns } = await setup(t);
  await waitForApp(client, ns, 'to be synced', synced);
  await client.delete(appRef(ns));
  await waitUntil(
    'the Application to be gone',
    async () => (await client.getOptional(appRef(ns))) === undefined,
    { timeoutMs: LONG },
  );
  await waitUntil(
    'its Deployment to be gone',
    async () => {
      const d = await client.getOptional({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: ns,
        name: 'web',
      });
      return d === undefined || !!d.metadata.deletionTimestamp;
    },
    { timeoutMs: LONG },
  );

  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'kept', namespace: ns },
    spec: {
      source: { repositoryRef: { name: 'repo' }, path: '.' },
      destination: { namespace: ns },
      interval: '1h',
      deletionPolicy: 'Orphan',
      syncPolicy: { automated: {} },
    },
  });
  await waitForApp(client, ns, 'to be synced', synced, 'kept');
  await client.delete(appRef(ns, 'kept'));
  await waitUntil(
    'the Application to be gone',
    async () => (await client.getOptional(appRef(ns, 'kept'))) === undefined,
    { timeoutMs: LONG },
  );
  const orphan = await client.getOptional({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  assert.ok(orphan && !orphan.metadata.deletionTimestamp, 'the orphaned Deployment stays');
});
