// `cairn app | source | events | trace` as a person runs them: the real CLI process, the real
// controller process, the test cluster and the git test server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { API_VERSION, type Application, type GitRepository } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import {
  gitRepository,
  installCrds,
  webApplication,
  releaseFinalizers,
  startController,
} from '../harness/cairn.ts';
import {
  git,
  gitRepoFrom,
  newNamespace,
  scaleDeployment,
  waitForObject,
  waitUntil,
  withCluster,
  type TestRepo,
} from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

const WEB = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web');
const LONG = 120_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cairn(args: string[], kubeconfig: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'cairn.js'), ...args],
      { env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' }, timeout: 180_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs cairn with -o json and parses stdout; the exit code must be `code`. */
async function cairnJson<T>(args: string[], kubeconfig: string, code = 0): Promise<T> {
  const run = await cairn([...args, '-o', 'json'], kubeconfig);
  assert.equal(run.code, code, `cairn ${args.join(' ')}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

type Deployment = KubeObject & { spec: { replicas: number } };

async function replicas(client: KubeClient, ns: string): Promise<number> {
  const web = await client.get<Deployment>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  return web.spec.replicas;
}

/** The Application `web`: automated (prune, no self-heal) or report-only. */
function applicationManifest(ns: string, automated: boolean) {
  return webApplication(ns, automated ? { prune: true, selfHeal: false } : undefined);
}

async function setup(t: TestContext, automated: boolean) {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'cliapp');
  t.after(() => releaseFinalizers(client, ns));
  const repo = await gitRepoFrom(WEB);
  // Polled every second: pushes are seen without a webhook.
  await client.create(gitRepository(ns, repo.httpUrl, '1s'));
  await client.create(applicationManifest(ns, automated));
  await startController(t, kubeconfig, ns);
  return { client, kubeconfig, ns, repo };
}

async function pushReplicas(t: TestContext, repo: TestRepo, n: number): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'cairn-cli-push-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  const file = join(work, 'deployment.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/replicas: \d+/, `replicas: ${n}`));
  await git(
    ['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-am', `${n} replicas`],
    {
      cwd: work,
    },
  );
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
}

function waitForApp(client: KubeClient, ns: string, what: string, predicate: (a: Application) => boolean) {
  return waitForObject<Application & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'web' },
    what,
    predicate,
    LONG,
  );
}

const syncedAt = (commit: string) => (a: Application) =>
  a.status?.sync?.status === 'Synced' &&
  a.status.sync.revision === commit &&
  a.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

test('history and rollback: three commits, rollback to the first pins it through a parent re-apply and a push; resume follows the branch', async (t) => {
  const { client, kubeconfig, ns, repo } = await setup(t, true);
  const first = repo.commit;
  const waited = await cairn(['app', 'wait', 'web', '-n', ns, '--timeout', '2m'], kubeconfig);
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, new RegExp(`^web: Synced, Healthy at ${first.slice(0, 12)}$`, 'm'));

  const second = await pushReplicas(t, repo, 3);
  await waitForApp(client, ns, 'to sync the second commit', syncedAt(second));
  const third = await pushReplicas(t, repo, 4);
  await waitForApp(client, ns, 'to sync the third commit', syncedAt(third));
  assert.equal(await replicas(client, ns), 4);

  const history = await cairnJson<{
    history: { id: number; revision: string; initiator: string; subject?: string }[];
  }>(['app', 'history', 'web', '-n', ns], kubeconfig);
  assert.deepEqual(
    history.history.map((h) => [h.id, h.revision, h.initiator]),
    [
      [1, first, 'automated'],
      [2, second, 'automated'],
      [3, third, 'automated'],
    ],
  );
  // Each sync records its commit's subject line.
  assert.deepEqual(
    history.history.slice(1).map((h) => h.subject),
    ['3 replicas', '4 replicas'],
  );

  const toSecond = await cairnJson<{ state: string; application: Application }>(
    ['app', 'rollback', 'web', '2', '-n', ns, '--timeout', '2m'],
    kubeconfig,
  );
  assert.equal(toSecond.state, 'done');
  assert.equal(toSecond.application.spec.source.pinnedRevision, second);
  assert.equal(toSecond.application.status?.sync?.revision, second);
  // The repository is at the third commit: the subject comes from the second's earlier entry.
  assert.equal(toSecond.application.status?.history?.at(-1)?.subject, '3 replicas');
  assert.equal(await replicas(client, ns), 3);

  const rollback = await cairn(['app', 'rollback', 'web', '1', '-n', ns, '--timeout', '2m'], kubeconfig);
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.match(
    rollback.stdout,
    new RegExp(`web rolled back to #1, pinned: Synced, Healthy at ${first.slice(0, 12)} \\(pinned\\)`),
  );
  assert.match(rollback.stderr, /pinned: automated sync holds this commit until "cairn app resume web"/);
  assert.equal(await replicas(client, ns), 2, 'the live state is the first commit again');

  const got = await cairn(['app', 'get', 'web', '-n', ns], kubeconfig);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, new RegExp(`^Pinned:\\s+${first} `, 'm'));
  const app = await cairnJson<Application>(['app', 'get', 'web', '-n', ns], kubeconfig);
  assert.equal(app.spec.source.pinnedRevision, first);
  assert.equal(app.status?.pinnedRevision, first);
  assert.equal(app.status?.sync?.revision, first);
  assert.equal(app.status?.history?.at(-1)?.initiator, 'manual');
  assert.equal(app.status?.history?.at(-1)?.revision, first);

  // A parent Application (or a bootstrap) applies this one from Git with Cairn's field manager: the pin stays.
  await client.apply(applicationManifest(ns, true), { fieldManager: 'cairn', force: true });
  const reapplied = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: ns,
    name: 'web',
  });
  assert.equal(reapplied.spec.source.pinnedRevision, first, 'the pin survives a re-apply from Git');

  // A new commit on the branch is fetched, and the pinned Application stays where it is.
  const fourth = await pushReplicas(t, repo, 5);
  await waitForObject<GitRepository & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'GitRepository', namespace: ns, name: 'repo' },
    'to fetch the fourth commit',
    (r) => r.status?.artifact?.commit === fourth,
    LONG,
  );
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await replicas(client, ns), 2);
  const held = await cairnJson<Application>(['app', 'get', 'web', '-n', ns], kubeconfig);
  assert.equal(held.status?.sync?.revision, first);

  const resumed = await cairn(['app', 'resume', 'web', '-n', ns], kubeconfig);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`unpinned from ${first.slice(0, 12)}: following the branch again`));
  await waitForApp(client, ns, 'to follow the branch head again', syncedAt(fourth));
  assert.equal(await replicas(client, ns), 5);
  const after = await cairnJson<Application>(['app', 'get', 'web', '-n', ns], kubeconfig);
  assert.equal(after.spec.source.pinnedRevision, undefined);
  assert.equal(after.status?.pinnedRevision, undefined);

  // --revision takes a branch: resolved to its commit now, and pinned.
  await git(['--git-dir', repo.path, 'branch', 'release', second]);
  const byBranch = await cairn(
    ['app', 'sync', 'web', '-n', ns, '--revision', 'release', '--allow-http', '--timeout', '2m'],
    kubeconfig,
  );
  assert.equal(byBranch.code, 0, byBranch.stderr);
  assert.match(byBranch.stderr, new RegExp(`web: pinned to ${second.slice(0, 12)}`));
  assert.equal(await replicas(client, ns), 3);
  const missing = await cairn(
    ['app', 'sync', 'web', '-n', ns, '--revision', 'no-such-branch', '--allow-http'],
    kubeconfig,
  );
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--revision no-such-branch: no branch or tag of that name in http:/);
  const still = await cairnJson<Application>(['app', 'get', 'web', '-n', ns], kubeconfig);
  assert.equal(still.spec.source.pinnedRevision, second, 'a ref that is not there changes nothing');
});

test('every command with -o json on a manual Application: diff, sync, list, get, tree, source, events, trace, suspend, resume, wait, create, delete', async (t) => {
  const { client, kubeconfig, ns, repo } = await setup(t, false);
  const app = ['-n', ns];
  // Manual sync: the controller reports what differs and applies nothing.
  await waitForApp(client, ns, 'to report OutOfSync', (a) => a.status?.sync?.status === 'OutOfSync');
  const before = await cairnJson<{
    changed: boolean;
    revision: string;
    objects: { name: string; change: string }[];
  }>(['app', 'diff', 'web', ...app, '--allow-http'], kubeconfig, 1);
  assert.equal(before.revision, repo.commit);
  assert.deepEqual(before.objects.map((o) => o.change).sort(), ['create', 'create', 'create', 'create']);

  const synced = await cairnJson<{ state: string; application: Application }>(
    ['app', 'sync', 'web', ...app, '--timeout', '2m'],
    kubeconfig,
  );
  assert.equal(synced.state, 'done');
  assert.equal(synced.application.status?.history?.at(-1)?.initiator, 'manual');
  assert.equal(synced.application.status?.sync?.revision, repo.commit);
  assert.equal(await replicas(client, ns), 2);

  const list = await cairnJson<{ items: Application[] }>(['app', 'list', ...app], kubeconfig);
  assert.deepEqual(
    list.items.map((a) => a.metadata.name),
    ['web'],
  );
  const table = await cairn(['app', 'list', ...app], kubeconfig);
  assert.match(
    table.stdout,
    new RegExp(
      `^NAME\\s+SYNC\\s+HEALTH\\s+REVISION\\s+READY\\s+AGE\\nweb\\s+Synced\\s+Healthy\\s+${repo.commit.slice(0, 12)}\\s+True\\s+\\d+[sm]$`,
      'm',
    ),
  );
  const names = await cairn(['app', 'list', ...app, '-o', 'name'], kubeconfig);
  assert.equal(names.stdout, 'web\n', names.stderr);
  const qualified = await cairn(['source', 'list', '-A', '-o', 'name'], kubeconfig);
  assert.ok(qualified.stdout.split('\n').includes(`${ns}/repo`), qualified.stdout);
  const got = await cairnJson<Application>(['app', 'get', 'web', ...app], kubeconfig);
  assert.equal(got.status?.resources?.length, 4);

  const tree = await cairnJson<{
    resources: { kind: string; health: string; children: { kind: string; children: { kind: string }[] }[] }[];
  }>(['app', 'tree', 'web', ...app], kubeconfig);
  const deployment = tree.resources.find((r) => r.kind === 'Deployment');
  assert.equal(deployment?.health, 'Healthy');
  assert.deepEqual(
    deployment?.children.map((c) => c.kind),
    ['ReplicaSet'],
  );
  assert.deepEqual(
    deployment?.children[0]?.children.map((c) => c.kind),
    ['Pod', 'Pod'],
  );

  // No differences now; after kubectl scale, exactly the Deployment differs; --local and --revision.
  const clean = await cairn(['app', 'diff', 'web', ...app, '--allow-http'], kubeconfig);
  assert.equal(clean.code, 0, clean.stderr);
  assert.match(clean.stderr, /web: no differences/);
  await scaleDeployment(client, ns, 'web', 7);
  const drifted = await cairnJson<{ objects: { name: string; change: string }[] }>(
    ['app', 'diff', 'web', ...app, '--allow-http', '--revision', repo.commit.slice(0, 10)],
    kubeconfig,
    1,
  );
  assert.deepEqual(
    drifted.objects.filter((o) => o.change !== 'none').map((o) => o.name),
    [`Deployment/${ns}/web`],
  );
  const local = await mkdtemp(join(tmpdir(), 'cairn-cli-local-'));
  t.after(() => rm(local, { recursive: true, force: true }));
  await cp(WEB, local, { recursive: true });
  const file = join(local, 'deployment.yaml');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/replicas: \d+/, 'replicas: 5'));
  const localDiff = await cairn(['app', 'diff', 'web', ...app, '--local', local], kubeconfig);
  assert.equal(localDiff.code, 1, localDiff.stderr);
  assert.deepEqual(
    localDiff.stdout.split('\n').filter((l) => /^[-+](?![-+])/.test(l)),
    ['-  replicas: 7', '+  replicas: 5'],
  );

  const sources = await cairnJson<{ items: GitRepository[] }>(['source', 'list', ...app], kubeconfig);
  assert.equal(sources.items[0]?.status?.artifact?.commit, repo.commit);
  const source = await cairnJson<{ spec: { url: string }; applications: { name: string }[] }>(
    ['source', 'get', 'repo', ...app],
    kubeconfig,
  );
  assert.equal(source.spec.url, repo.httpUrl);
  assert.deepEqual(
    source.applications.map((a) => a.name),
    ['web'],
  );

  const events = await waitUntil(
    'a Synced event about the Application',
    async () => {
      const list = await cairnJson<{ items: { reason: string; involvedObject: { name: string } }[] }>(
        ['events', '--app', 'web', ...app],
        kubeconfig,
      );
      return list.items.some((e) => e.reason === 'Synced') ? list : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  assert.ok(events.items.every((e) => e.involvedObject.name === 'web'));

  const traced = await cairnJson<{
    application: { name: string; namespace: string };
    source: { name: string };
    revision: string;
    lastChangedBy: { commit: string };
  }>(['trace', `Deployment/${ns}/web`], kubeconfig);
  assert.deepEqual(traced.application, { name: 'web', namespace: ns, found: true });
  assert.equal(traced.source.name, 'repo');
  assert.equal(traced.revision, repo.commit);
  assert.equal(traced.lastChangedBy.commit, repo.commit);
  const unmanaged = await cairn(['trace', `serviceaccount/${ns}/default`], kubeconfig);
  assert.equal(unmanaged.code, 1);
  assert.match(
    unmanaged.stderr,
    /^cairn trace: ServiceAccount\/.*\/default is not managed by Cairn: it has no app\.cairn\.dev\/application label\n$/,
  );

  const suspended = await cairnJson<Application>(['app', 'suspend', 'web', ...app], kubeconfig);
  assert.equal(suspended.spec.suspend, true);
  const refused = await cairn(['app', 'sync', 'web', ...app], kubeconfig);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^cairn app sync: web is suspended: run "cairn app resume web" first\n$/);
  const resumed = await cairnJson<Application>(['app', 'resume', 'web', ...app], kubeconfig);
  assert.equal(resumed.spec.suspend, undefined);

  // Drift is reported, not reverted (no self-heal): sync reverts it, then wait sees it healthy.
  const resynced = await cairn(['app', 'sync', 'web', ...app, '--timeout', '2m'], kubeconfig);
  assert.equal(resynced.code, 0, resynced.stderr);
  assert.equal(await replicas(client, ns), 2);
  const waited = await cairnJson<{ state: string }>(
    ['app', 'wait', 'web', ...app, '--timeout', '1m'],
    kubeconfig,
  );
  assert.equal(waited.state, 'done');
  const history = await cairnJson<{
    history: { id: number; initiator: string }[];
    pinnedRevision: string | null;
  }>(['app', 'history', 'web', ...app], kubeconfig);
  assert.deepEqual(
    history.history.map((h) => [h.id, h.initiator]),
    [
      [1, 'manual'],
      [2, 'manual'],
    ],
  );
  assert.equal(history.pinnedRevision, null);

  const created = await cairnJson<{ items: KubeObject[] }>(
    ['app', 'create', 'other', ...app, '--source', 'repo', '--path', '.', '--dest-namespace', ns],
    kubeconfig,
  );
  assert.deepEqual(
    created.items.map((o) => `${o.kind}/${o.metadata.name}`),
    ['Application/other'],
  );
  const deleted = await cairnJson<{ deleted: boolean; deletionPolicy: string }>(
    ['app', 'delete', 'other', ...app, '--wait', '--timeout', '1m'],
    kubeconfig,
  );
  assert.deepEqual(deleted, { namespace: ns, name: 'other', deletionPolicy: 'Delete', deleted: true });
});

test('a wrong flag, an unknown Application, an unknown history id and an unreachable cluster: one line, non-zero exit', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'clierr');
  const oneLine = (run: Run) => {
    assert.equal(run.stdout, '');
    assert.equal(run.stderr.split('\n').filter(Boolean).length, 1, run.stderr);
  };

  const flag = await cairn(['app', 'get', 'web', '--bogus', '-n', ns], kubeconfig);
  assert.equal(flag.code, 2);
  oneLine(flag);
  assert.match(
    flag.stderr,
    /^cairn app get: Unknown option '--bogus' \(run "cairn app get --help" for usage\)$/m,
  );
  const output = await cairn(['app', 'list', '-o', 'xml', '-n', ns], kubeconfig);
  assert.equal(output.code, 2);
  oneLine(output);
  const sub = await cairn(['app', 'frobnicate'], kubeconfig);
  assert.equal(sub.code, 2);
  assert.match(
    sub.stderr,
    /^cairn app: unknown command "frobnicate" \(run "cairn app --help" for the list\)\n$/,
  );

  const unknown = await cairn(['app', 'get', 'nope', '-n', ns], kubeconfig);
  assert.equal(unknown.code, 1);
  oneLine(unknown);
  assert.match(
    unknown.stderr,
    new RegExp(
      `^cairn app get: Application "nope" not found in namespace "${ns}" \\(run "cairn app list -A" to see every Application, or pass -n NAMESPACE\\)\\n$`,
    ),
  );
  for (const command of [
    ['app', 'sync', 'nope'],
    ['app', 'rollback', 'nope', '1'],
    ['app', 'tree', 'nope'],
    ['source', 'get', 'nope'],
  ]) {
    const run = await cairn([...command, '-n', ns], kubeconfig);
    assert.equal(run.code, 1, command.join(' '));
    oneLine(run);
    assert.match(run.stderr, /not found in namespace/);
  }

  await client.create(applicationManifest(ns, false));
  const id = await cairn(['app', 'rollback', 'web', '99', '-n', ns], kubeconfig);
  assert.equal(id.code, 1);
  oneLine(id);
  assert.match(
    id.stderr,
    /^cairn app rollback: web has no history entry 99 \(run "cairn app history web" for the ids\)\n$/,
  );

  const dir = await mkdtemp(join(tmpdir(), 'cairn-cli-kubeconfig-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const unreachable = join(dir, 'kubeconfig');
  await writeFile(
    unreachable,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: gone, context: {cluster: gone, user: u}}]',
      'current-context: gone',
      '',
    ].join('\n'),
  );
  for (const command of [['app', 'list'], ['source', 'list'], ['events'], ['app', 'get', 'web']]) {
    const run = await cairn([...command, '--kubeconfig', unreachable], kubeconfig);
    assert.equal(run.code, 1, command.join(' '));
    oneLine(run);
    assert.match(
      run.stderr,
      /: cannot reach the Kubernetes API server \(connect ECONNREFUSED 127\.0\.0\.1:1\): check that the cluster is running, or pick another with --kubeconfig or --context$/m,
    );
  }
  const context = await cairn(['app', 'list', '--kubeconfig', unreachable, '--context', 'nope'], kubeconfig);
  assert.equal(context.code, 1);
  oneLine(context);
  assert.match(context.stderr, /context "nope" not found \(check --kubeconfig, \$KUBECONFIG and --context\)/);
});
