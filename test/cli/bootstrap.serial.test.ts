// `cairn bootstrap git` end to end (a serial test: it installs cluster-wide objects other tests
// install too, and counts writes to them): a Git server that wants a password, the real CLI, and the
// controller as a local process that runs with the token of the ServiceAccount the install
// manifests create, so their RBAC is what is tested. Then `cairn check` and `cairn uninstall`.
//
// About honesty: the controller Deployment the manifests create does run on the test cluster's
// simulated nodes, where KWOK marks its pods Running and Ready without running anything (see
// test/harness/kwok/stages.yaml). The Deployment's Available condition is therefore real, but the
// reconciling seen here is done by the local process, which the audit log proves below.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { API_VERSION, type Application } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { releaseFinalizers, serviceAccountKubeconfig, startController } from '../harness/cairn.ts';
import { GitHttpServer, createBareRepo } from '../harness/git-server.ts';
import {
  git,
  gitServers,
  gitSshServer,
  newNamespace,
  uniqueName,
  waitForObject,
  withCluster,
} from '../harness/index.ts';
import { assertGolden, runCairn, unreachableKubeconfig } from './helpers.ts';

const USER = 'fleet';
const PASSWORD = 'fleet-pass-3141';

interface AuditEvent {
  verb: string;
  user?: { username?: string };
  userAgent?: string;
  requestURI?: string;
  objectRef?: { namespace?: string; name?: string; resource?: string; subresource?: string };
}

async function auditEvents(file: string): Promise<AuditEvent[]> {
  await new Promise((r) => setTimeout(r, 500));
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

const WRITES = ['create', 'update', 'patch', 'delete'];

/** Writes the CLI (as the admin user) made to what bootstrap manages in `ns`, after `from` events. */
function cliWrites(events: AuditEvent[], from: number, ns: string): AuditEvent[] {
  const clusterScoped = new Set([
    'cairn-controller',
    'cairn-apply',
    ns,
    'gitrepositories.cairn.dev',
    'applications.cairn.dev',
    'receivers.cairn.dev',
  ]);
  return events
    .slice(from)
    .filter(
      (e) =>
        WRITES.includes(e.verb) &&
        e.user?.username === 'cairn-admin' &&
        e.userAgent === 'cairn' &&
        !e.requestURI?.includes('dryRun=') &&
        !e.requestURI?.includes('fieldManager=cairn-install') &&
        (e.objectRef?.namespace === ns ||
          (e.objectRef?.namespace === undefined && clusterScoped.has(e.objectRef?.name ?? ''))),
    );
}

/** Once bootstrap has created the ServiceAccount, runs the controller as a local process with its token. */
async function startControllerAsServiceAccount(
  t: TestContext,
  client: KubeClient,
  ns: string,
): Promise<void> {
  await waitForObject(
    client,
    { apiVersion: 'v1', kind: 'ServiceAccount', namespace: ns, name: 'cairn-controller' },
    'to exist',
    () => true,
    120_000,
  );
  await startController(t, await serviceAccountKubeconfig(t, client, ns, 'cairn-controller'), ns);
}

async function resourceVersions(
  client: KubeClient,
  refs: { object: string }[],
  ns: string,
): Promise<string[]> {
  const out: string[] = [];
  for (const { object } of refs) {
    const parts = object.split('/');
    const kind = parts[0]!;
    const name = parts[parts.length - 1]!;
    const apiVersion =
      {
        CustomResourceDefinition: 'apiextensions.k8s.io/v1',
        Namespace: 'v1',
        ServiceAccount: 'v1',
        Secret: 'v1',
        Service: 'v1',
        ClusterRole: 'rbac.authorization.k8s.io/v1',
        ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
        Role: 'rbac.authorization.k8s.io/v1',
        RoleBinding: 'rbac.authorization.k8s.io/v1',
        Deployment: 'apps/v1',
        GitRepository: API_VERSION,
        Application: API_VERSION,
      }[kind] ?? 'v1';
    const live = await client.get({
      apiVersion,
      kind,
      name,
      ...(parts.length === 3 ? { namespace: ns } : {}),
    });
    out.push(`${object}@${live.metadata.resourceVersion}`);
  }
  return out;
}

interface BootstrapJson {
  url: string;
  branch: string;
  path: string;
  commit: string;
  committed: boolean;
  files: { path: string; changed: boolean }[];
  objects: { object: string; result: string }[];
  application: { namespace: string; name: string; revision: string; ready: boolean };
}

test('bootstrap git: commits, applies, is Ready at the pushed commit under the ServiceAccount; a re-run writes nothing; Git changes Cairn itself; check and uninstall', async (t) => {
  const { client, kubeconfig, plane } = await withCluster();
  const ns = uniqueName('cairn');
  const root = await mkdtemp(join(tmpdir(), 'cairn-fleet-'));
  const server = await GitHttpServer.start({ root, users: { [USER]: PASSWORD } });
  t.after(async () => {
    await server.stop();
    await rm(root, { recursive: true, force: true });
  });
  const bare = await createBareRepo(root, 'fleet');
  t.after(async () => {
    // The controller is stopped by now (its after hook ran first): release and remove what is left.
    await releaseFinalizers(client, ns);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }).catch(() => {});
  });
  const path = `clusters/${ns}`;
  const args = [
    'bootstrap',
    'git',
    '--url',
    server.url('fleet'),
    '--branch',
    'main',
    '--path',
    path,
    '--namespace',
    ns,
    '--username',
    USER,
    '--allow-http',
    '--interval',
    '2s',
    '--timeout',
    '3m',
  ];
  const env = { CAIRN_GIT_PASSWORD: PASSWORD };

  const start = (await auditEvents(plane.auditLog)).length;
  const first = runCairn([...args, '-o', 'json'], { kubeconfig, env });
  await startControllerAsServiceAccount(t, client, ns);

  const done = await first;
  assert.equal(done.code, 0, done.stderr);
  assert.doesNotMatch(done.stdout + done.stderr, new RegExp(PASSWORD), 'the password is never printed');
  const result = JSON.parse(done.stdout) as BootstrapJson;
  const head = (await git(['rev-parse', 'main'], { cwd: bare })).trim();
  assert.equal(result.commit, head);
  assert.equal(result.committed, true);
  assert.deepEqual(
    result.files,
    [`${path}/${ns}/install.yaml`, `${path}/${ns}/sync.yaml`].map((p) => ({ path: p, changed: true })),
  );
  assert.equal(result.url, server.url('fleet'));
  assert.deepEqual(
    { ...result.application, message: undefined },
    { namespace: ns, name: 'cairn', revision: head, ready: true, message: undefined },
  );
  assert.ok(
    result.objects.some((o) => o.object === `Deployment/${ns}/cairn-controller` && o.result === 'created'),
  );
  assert.ok(result.objects.some((o) => o.object === `Secret/${ns}/cairn-git-credentials`));
  const committed = await git(['show', `main:${path}/${ns}/sync.yaml`], { cwd: bare });
  assert.match(committed, /kind: Application/);
  assert.doesNotMatch(committed, new RegExp(PASSWORD), 'credentials stay out of Git');
  const tree = (await git(['ls-tree', '-r', '--name-only', 'main'], { cwd: bare })).trim().split('\n');
  assert.deepEqual(tree, [`${path}/${ns}/install.yaml`, `${path}/${ns}/sync.yaml`]);

  const app = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: ns,
    name: 'cairn',
  });
  assert.equal(app.status?.sync?.revision, head);
  assert.equal(app.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  // The Application applied Cairn itself: its Deployment is in the inventory.
  assert.ok(
    app.status?.inventory?.entries.some(
      (e) => e.key.includes('Deployment') && e.key.includes('cairn-controller'),
    ),
    JSON.stringify(app.status?.inventory),
  );
  const events = await auditEvents(plane.auditLog);
  const account = `system:serviceaccount:${ns}:cairn-controller`;
  assert.ok(
    events.some(
      (e) =>
        e.user?.username === account &&
        e.objectRef?.resource === 'applications' &&
        e.objectRef.subresource === 'status' &&
        WRITES.includes(e.verb),
    ),
    'the status was written by the local controller acting as the ServiceAccount',
  );

  // The count below sees the CLI's writes: the first run made some.
  assert.ok(cliWrites(await auditEvents(plane.auditLog), start, ns).length >= 16);

  // Again: no commit, no write.
  const rvBefore = await resourceVersions(client, result.objects, ns);
  const mark = (await auditEvents(plane.auditLog)).length;
  const again = await runCairn([...args, '-o', 'json'], { kubeconfig, env });
  assert.equal(again.code, 0, again.stderr);
  const second = JSON.parse(again.stdout) as BootstrapJson;
  assert.equal(second.committed, false);
  assert.equal(second.commit, head);
  assert.equal(
    (await git(['rev-parse', 'main'], { cwd: bare })).trim(),
    head,
    'no commit reached the Git server',
  );
  assert.deepEqual(
    second.objects.filter((o) => o.result !== 'unchanged'),
    [],
  );
  assert.deepEqual(
    cliWrites(await auditEvents(plane.auditLog), mark, ns),
    [],
    'no write reached the API server',
  );
  assert.deepEqual(await resourceVersions(client, result.objects, ns), rvBefore);

  // And as a person reads it.
  const text = await runCairn(args, { kubeconfig, env });
  assert.equal(text.code, 0, text.stderr);
  await assertGolden(
    'bootstrap-rerun',
    text.stdout.replaceAll(ns, 'NS').replaceAll(head.slice(0, 12), 'COMMIT'),
  );

  // A commit that changes Cairn's own Deployment reaches the live object.
  const work = await mkdtemp(join(tmpdir(), 'cairn-fleet-work-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', bare, work]);
  const file = join(work, path, ns, 'install.yaml');
  const docs = parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS() as KubeObject);
  const deployment = docs.find((d) => d.kind === 'Deployment')! as KubeObject & {
    spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  };
  deployment.spec.template.spec.containers[0]!.env.push({ name: 'CAIRN_FROM_GIT', value: 'changed' });
  await writeFile(file, docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join(''));
  await git(
    [
      '-c',
      'user.name=Test',
      '-c',
      'user.email=test@cairn.dev',
      'commit',
      '--quiet',
      '-am',
      'Cairn: an env var',
    ],
    { cwd: work },
  );
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  await waitForObject<
    KubeObject & {
      spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
    }
  >(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'cairn-controller' },
    'to carry the env var committed to Git',
    (d) =>
      d.spec.template.spec.containers[0]!.env?.some(
        (e) => e.name === 'CAIRN_FROM_GIT' && e.value === 'changed',
      ) ?? false,
    120_000,
  );

  // cairn check: CRDs, controller, and the ServiceAccount's rights, as JSON.
  const checked = await runCairn(['check', '-n', ns, '-o', 'json'], { kubeconfig });
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  const report = JSON.parse(checked.stdout) as {
    ok: boolean;
    checks: { name: string; status: string; message: string }[];
  };
  assert.equal(report.ok, true);
  assert.deepEqual(
    report.checks.filter((c) => c.status !== 'pass'),
    [],
  );
  assert.ok(report.checks.some((c) => c.name === 'controller' && c.message.includes('Healthy')));
  assert.ok(
    report.checks.some(
      (c) => c.name.startsWith('controller may') && c.message.includes('applications.cairn.dev'),
    ),
  );

  // cairn uninstall --keep-crds: Cairn goes, the CRDs (used by other tests here) stay.
  const removed = await runCairn(['uninstall', '-n', ns, '--keep-crds'], { kubeconfig });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, new RegExp(`^Application/${ns}/cairn deleted$`, 'm'));
  assert.match(removed.stdout, new RegExp(`^Deployment/${ns}/cairn-controller deleted$`, 'm'));
  assert.match(removed.stdout, /^ClusterRole\/cairn-apply deleted$/m);
  assert.doesNotMatch(removed.stdout, /CustomResourceDefinition/);
  assert.equal(
    await client.getOptional({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      name: 'cairn-apply',
    }),
    undefined,
  );
  assert.ok(
    await client.getOptional({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: 'applications.cairn.dev',
    }),
  );
  const gone = await client.getOptional({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  assert.ok(!gone || gone.metadata.deletionTimestamp, 'the namespace is gone or going');
});

test('bootstrap git over SSH with a private key: the controller reads the same key from the Secret', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = uniqueName('cairn-ssh');
  t.after(async () => {
    await releaseFinalizers(client, ns);
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns }).catch(() => {});
    for (const name of ['cairn-controller', 'cairn-apply']) {
      for (const kind of ['ClusterRoleBinding', 'ClusterRole'])
        await client.delete({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, name }).catch(() => {});
    }
  });
  const ssh = await gitSshServer();
  const { http } = await gitServers();
  const bare = await createBareRepo(http.root, uniqueName('fleet-ssh'));
  const run = runCairn(
    [
      'bootstrap',
      'git',
      '--url',
      ssh.url(bare),
      '--branch',
      'main',
      '--path',
      'clusters/ssh',
      '--namespace',
      ns,
      '--private-key-file',
      ssh.clientKey,
      '--known-hosts-file',
      ssh.knownHosts,
      '--timeout',
      '3m',
      '-o',
      'json',
    ],
    { kubeconfig },
  );
  await startControllerAsServiceAccount(t, client, ns);
  const done = await run;
  assert.equal(done.code, 0, done.stderr);
  const result = JSON.parse(done.stdout) as BootstrapJson;
  assert.equal(result.commit, (await git(['rev-parse', 'main'], { cwd: bare })).trim());
  assert.equal(result.application.ready, true);
  const secret = await client.get<KubeObject & { data: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: ns,
    name: 'cairn-git-credentials',
  });
  assert.deepEqual(Object.keys(secret.data).sort(), ['identity', 'known_hosts']);
  const committed = await git(['show', `main:clusters/ssh/${ns}/sync.yaml`], { cwd: bare });
  assert.match(committed, /secretRef:\n\s+name: cairn-git-credentials/);
  assert.doesNotMatch(committed, /PRIVATE KEY/);
});

test('uninstall refuses while Applications exist, names them, and says what to do', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'uninst');
  t.after(() => releaseFinalizers(client, ns));
  const { installCrds } = await import('../harness/cairn.ts');
  await installCrds(client);
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'keepme', namespace: ns },
    spec: { source: { repositoryRef: { name: 'none' }, path: '.' }, destination: { namespace: ns } },
  });
  // --dry-run as well: whatever happens, this shared cluster keeps its CRDs.
  const refused = await runCairn(['uninstall', '--dry-run', '-n', uniqueName('nowhere')], { kubeconfig });
  assert.equal(refused.code, 1, refused.stdout);
  assert.equal(refused.stdout, '');
  const lines = refused.stderr.trim().split('\n');
  assert.equal(lines.length, 1, refused.stderr);
  assert.match(
    lines[0]!,
    /^cairn uninstall: \d+ Application\(s\) would be deleted with Cairn: .*; delete them first, or run again with --keep-crds \(keep them\) or --force/,
  );
  assert.ok(
    await client.getOptional({ apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'keepme' }),
  );

  // With --keep-crds, Applications elsewhere do not block: the dry run lists what would go.
  const kept = await runCairn(['uninstall', '--dry-run', '--keep-crds', '-n', 'cairn-nowhere'], {
    kubeconfig,
  });
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stdout, /^Deployment\/cairn-nowhere\/cairn-controller would delete$/m);
  assert.doesNotMatch(kept.stdout, /CustomResourceDefinition|keepme/);
});

test('check --pre as a user without rights: a failed checklist and exit code 1', async () => {
  const { restrictedKubeconfig } = await withCluster();
  const run = await runCairn(['check', '--pre', '-n', 'cairn-system'], { kubeconfig: restrictedKubeconfig });
  assert.equal(run.code, 1, run.stderr);
  await assertGolden(
    'check-pre-denied',
    run.stdout.replace(/https:\/\/127\.0\.0\.1:\d+/, 'https://SERVER').replace(/v\d+\.\d+\.\d+\S*/, 'vX.Y.Z'),
  );
  const json = await runCairn(['check', '--pre', '-o', 'json'], { kubeconfig: restrictedKubeconfig });
  const report = JSON.parse(json.stdout) as { ok: boolean; checks: { name: string; status: string }[] };
  assert.equal(report.ok, false);
  assert.deepEqual(
    report.checks.slice(0, 2).map((c) => c.status),
    ['pass', 'pass'],
  );
  assert.ok(report.checks.slice(2).every((c) => c.status === 'fail'));
  assert.ok(report.checks.some((c) => c.name === 'may bind, escalate'));
});

test('bootstrap, check and uninstall: a wrong flag and an unreachable cluster each give one line and a non-zero exit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-gone-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const gone = join(dir, 'kubeconfig');
  await writeFile(gone, unreachableKubeconfig());

  const wrong = await runCairn(['bootstrap', 'git', '--url', 'https://example.com/x.git', '--brnch', 'main']);
  assert.equal(wrong.code, 2);
  assert.match(
    wrong.stderr,
    /^cairn bootstrap git: Unknown option '--brnch'.*\(run "cairn bootstrap git --help" for usage\)\n$/,
  );
  const missing = await runCairn(['bootstrap', 'git', '--url', 'https://example.com/x.git']);
  assert.equal(missing.code, 2);
  assert.equal(
    missing.stderr,
    'cairn bootstrap git: --branch, --path required (run "cairn bootstrap git --help" for usage)\n',
  );
  const checkWrong = await runCairn(['check', '--pree']);
  assert.equal(checkWrong.code, 2);
  assert.equal(checkWrong.stderr.trim().split('\n').length, 1);

  for (const args of [
    ['bootstrap', 'git', '--url', 'https://example.com/x.git', '--branch', 'main', '--path', 'clusters/a'],
    ['uninstall'],
  ]) {
    const run = await runCairn(args, { kubeconfig: gone });
    assert.equal(run.code, 1, args.join(' '));
    assert.equal(run.stdout, '');
    assert.match(
      run.stderr,
      /^cairn [a-z ]+: cannot reach the .*127\.0\.0\.1:9.*: check that the cluster is running, or (pick|choose) another with --kubeconfig or --context\n$/,
    );
  }
  const check = await runCairn(['check', '-o', 'json'], { kubeconfig: gone });
  assert.equal(check.code, 1);
  const report = JSON.parse(check.stdout) as {
    ok: boolean;
    checks: { name: string; status: string; message: string }[];
  };
  assert.equal(report.ok, false);
  assert.equal(report.checks.length, 1);
  assert.equal(report.checks[0]!.status, 'fail');
  assert.match(report.checks[0]!.message, /check that the cluster is running/);
});
