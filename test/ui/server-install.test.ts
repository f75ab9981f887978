// `cairn server` as the install manifests run it: a local process with the token of the
// ServiceAccount `cairn-server` and the arguments of its Deployment, so the manifests' RBAC is
// exactly what it has. The local admin and a bearer-token person list Applications and sync one;
// each write is recorded in the audit log as the server acting as that person. A diff dry-runs
// as the controller's ServiceAccount.
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SESSION_KEY_SECRET, installManifests, serverManifests } from '../../src/api/install.ts';
import { API_VERSION, REQUESTED_AT_ANNOTATION, type Application } from '../../src/api/types.ts';
import { refOf, type KubeObject } from '../../src/cluster/objects.ts';
import { installCrds, serviceAccountKubeconfig } from '../harness/cairn.ts';
import { gitRepoFrom, newNamespace, waitUntil, withCluster } from '../harness/index.ts';
import { api, application, auditSince, localAdmin, namespaceMember, startServer } from './helpers.ts';

interface AppList {
  items: Application[];
}

test("cairn server works with exactly the install manifests' RBAC, for the admin and a token", async (t) => {
  const { client, plane } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'ui-install');
  await client.create(application(ns, 'shop'));
  await client.create(application(ns, 'cart'));
  const adminUser = await localAdmin(t, client, ns, 'correct horse');
  const member = await namespaceMember(client, ns);

  const manifests = serverManifests({ namespace: ns, adminUser });
  t.after(async () => {
    for (const obj of manifests.filter((o) => o.metadata.namespace === undefined))
      await client.delete(refOf(obj)).catch(() => {});
  });
  for (const obj of manifests) await client.apply(obj, { fieldManager: 'cairn-install' });
  const deployment = manifests.find((o) => o.kind === 'Deployment') as KubeObject & {
    spec: { template: { spec: { containers: { args: string[] }[] } } };
  };
  // The Deployment's own arguments, but for where it listens and keeps its Git cache.
  const args = deployment.spec.template.spec.containers[0]!.args.filter(
    (a) => a !== 'server' && !a.startsWith('--listen=') && !a.startsWith('--cache-dir='),
  );
  assert.ok(args.includes(`--admin-user=${adminUser}`), args.join(' '));
  const kubeconfig = await serviceAccountKubeconfig(t, client, ns, 'cairn-server');
  const server = await startServer(t, kubeconfig, args);
  const serverUser = `system:serviceaccount:${ns}:cairn-server`;

  // The local admin: a password login, a list, a sync.
  const login = await api<{ user: string; csrf: string }>(server.url, '/api/login', {
    method: 'POST',
    body: { username: 'admin', password: 'correct horse' },
  });
  assert.equal(login.status, 200, JSON.stringify(login.body));
  assert.equal(login.body.user, adminUser);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!;
  const names = async (auth: { cookie?: string; token?: string }) => {
    const r = await api<AppList>(server.url, `/api/applications?namespace=${ns}`, auth);
    return r.status === 200 ? r.body.items.map((a) => a.metadata.name).join(',') : `HTTP ${r.status}`;
  };
  await waitUntil(
    'both Applications, for the admin',
    async () => (await names({ cookie })) === 'cart,shop' || undefined,
    {
      timeoutMs: 20_000,
    },
  );

  const auditFrom = (await stat(plane.auditLog)).size;
  const byAdmin = await api(server.url, `/api/applications/${ns}/shop/sync`, {
    method: 'POST',
    cookie,
    csrf: login.body.csrf,
  });
  assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));

  // A person with a ServiceAccount token of their own (impersonating them needs the right to
  // impersonate ServiceAccounts, not only users).
  assert.equal(await names({ token: member.token }), 'cart,shop');
  const byMember = await api(server.url, `/api/applications/${ns}/cart/sync`, {
    method: 'POST',
    token: member.token,
  });
  assert.equal(byMember.status, 200, JSON.stringify(byMember.body));

  for (const name of ['shop', 'cart']) {
    const app = await client.get<Application & KubeObject>({
      apiVersion: API_VERSION,
      kind: 'Application',
      namespace: ns,
      name,
    });
    assert.ok(app.metadata.annotations?.[REQUESTED_AT_ANNOTATION], `${name}: the sync request is on it`);
  }
  for (const [name, person] of [
    ['shop', adminUser],
    ['cart', member.user],
  ] as const) {
    const patch = await waitUntil(
      `the audit event of ${name}'s sync`,
      async () =>
        (await auditSince(plane.auditLog, auditFrom)).find(
          (e) => e.verb === 'patch' && e.objectRef?.namespace === ns && e.objectRef.name === name,
        ),
      { timeoutMs: 20_000 },
    );
    assert.equal(patch.user?.username, serverUser, `${name}: sent by the server's ServiceAccount`);
    assert.equal(patch.impersonatedUser?.username, person, `${name}: as the person`);
    assert.equal(patch.responseStatus?.code, 200);
  }

  // A diff dry-runs as the controller's ServiceAccount (--diff-as), not as the server. Its rules
  // are bound in this namespace only: the ClusterRoleBindings of the install are shared.
  await client.create({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'cairn-controller', namespace: ns },
  });
  const controllerRules = installManifests({ namespace: ns })
    .filter((o) => o.kind === 'ClusterRole')
    .flatMap((o) => o.rules as { nonResourceURLs?: string[] }[])
    .filter((r) => !r.nonResourceURLs);
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'cairn-controller', namespace: ns },
    rules: controllerRules,
  });
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'cairn-controller', namespace: ns },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cairn-controller' },
    subjects: [{ kind: 'ServiceAccount', name: 'cairn-controller', namespace: ns }],
  });
  const folder = await mkdtemp(join(tmpdir(), 'cairn-server-diff-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  await writeFile(
    join(folder, 'config.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shop}\ndata: {a: b}\n',
  );
  const repo = await gitRepoFrom(folder);
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'repo', namespace: ns },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1h' },
  });
  await client.apply(
    {
      apiVersion: API_VERSION,
      kind: 'GitRepository',
      metadata: { name: 'repo', namespace: ns },
      status: {
        artifact: {
          ref: 'refs/heads/main',
          commit: repo.commit,
          revision: `main@sha1:${repo.commit}`,
          lastUpdateTime: new Date().toISOString(),
        },
      },
    },
    { fieldManager: 'test', subresource: 'status' },
  );
  const diffFrom = (await stat(plane.auditLog)).size;
  const diff = await api<{ changed: boolean; objects: { name: string; change: string }[] }>(
    server.url,
    `/api/applications/${ns}/shop/diff`,
    { token: member.token },
  );
  assert.equal(diff.status, 200, JSON.stringify(diff.body));
  assert.equal(diff.body.changed, true);
  assert.deepEqual(
    diff.body.objects.map((o) => [o.name, o.change]),
    [[`ConfigMap/${ns}/shop`, 'create']],
  );
  const dryRun = await waitUntil(
    'the audit event of the dry run',
    async () =>
      (await auditSince(plane.auditLog, diffFrom)).find(
        (e) =>
          e.verb === 'patch' &&
          e.objectRef?.namespace === ns &&
          e.objectRef.name === 'shop' &&
          e.objectRef.resource === 'configmaps',
      ),
    { timeoutMs: 20_000 },
  );
  assert.equal(dryRun.user?.username, serverUser);
  assert.equal(dryRun.impersonatedUser?.username, `system:serviceaccount:${ns}:cairn-controller`);
  assert.match(dryRun.requestURI ?? '', /dryRun=All/);

  // The session key is in a Secret the server made with its own rights: a restart keeps people
  // logged in (a key made at start would refuse the first server's cookie).
  const keyRef = { apiVersion: 'v1', kind: 'Secret', namespace: ns, name: SESSION_KEY_SECRET };
  const key = (await client.get<KubeObject & { data: Record<string, string> }>(keyRef)).data.key!;
  assert.equal(Buffer.from(key, 'base64').length, 32);
  await server.stop();
  const restarted = await startServer(t, kubeconfig, args);
  const again = await api<AppList>(restarted.url, `/api/applications?namespace=${ns}`, { cookie });
  assert.equal(again.status, 200, "the first server's session cookie is good for the second");
  assert.equal((await client.get<KubeObject & { data: Record<string, string> }>(keyRef)).data.key, key);
});
