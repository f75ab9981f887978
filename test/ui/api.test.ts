// `cairn server`'s JSON API against the test cluster: who may see and do what is what RBAC says
// (TokenReview, SubjectAccessReview, impersonation), sessions with CSRF, the same shapes as the
// CLI's -o json, and live events.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { API_VERSION, REQUESTED_AT_ANNOTATION, type Application } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { installCrds } from '../harness/cairn.ts';
import { newNamespace, waitUntil, withCluster } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';
import { api, application, auditSince, localAdmin, namespaceMember, startServer } from './helpers.ts';

interface AppList {
  items: Application[];
  metadata: { total: number };
}

async function createApp(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.create(application(namespace, name));
}

test('a person bound to one namespace sees only its Applications and gets 403 on the others', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const teamA = await newNamespace(t, 'team-a');
  const teamB = await newNamespace(t, 'team-b');
  await createApp(client, teamA, 'shop');
  await createApp(client, teamA, 'cart');
  await createApp(client, teamB, 'billing');
  const member = await namespaceMember(client, teamA);
  const server = await startServer(t, kubeconfig);

  assert.equal((await api(server.url, '/api/applications')).status, 401);
  assert.equal((await api(server.url, '/api/applications', { token: 'not-a-token' })).status, 401);

  const list = await waitUntil(
    'the two team-a Applications',
    async () => {
      const r = await api<AppList>(server.url, '/api/applications?pageSize=500', { token: member.token });
      return r.body.items?.length === 2 ? r : undefined;
    },
    { timeoutMs: 20_000 },
  );
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.body.items.map((a) => `${a.metadata.namespace}/${a.metadata.name}`),
    [`${teamA}/cart`, `${teamA}/shop`],
  );
  // Filtering by the other namespace shows nothing rather than its Applications.
  const other = await api<AppList>(server.url, `/api/applications?namespace=${teamB}`, {
    token: member.token,
  });
  assert.equal(other.body.metadata.total, 0);

  const denied = await api<{ error: string }>(server.url, `/api/applications/${teamB}/billing/sync`, {
    method: 'POST',
    token: member.token,
  });
  assert.equal(denied.status, 403);
  assert.match(denied.body.error, /may not patch/);
  assert.equal(
    (await api(server.url, `/api/applications/${teamB}/billing`, { token: member.token })).status,
    403,
  );
  const billing = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: teamB,
    name: 'billing',
  });
  assert.equal(billing.metadata.annotations?.[REQUESTED_AT_ANNOTATION], undefined);

  const { plane } = await withCluster();
  const auditFrom = (await stat(plane.auditLog)).size;
  const synced = await api(server.url, `/api/applications/${teamA}/shop/sync`, {
    method: 'POST',
    token: member.token,
  });
  assert.equal(synced.status, 200);
  const shop = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: teamA,
    name: 'shop',
  });
  assert.ok(shop.metadata.annotations?.[REQUESTED_AT_ANNOTATION], 'the sync request is on the Application');
  // The write went out as the person: the API server's audit log names them as impersonated.
  const patch = await waitUntil(
    'the audit event of the sync request',
    async () =>
      (await auditSince(plane.auditLog, auditFrom)).find(
        (e) => e.verb === 'patch' && e.objectRef?.namespace === teamA && e.objectRef.name === 'shop',
      ),
    { timeoutMs: 20_000 },
  );
  assert.equal(patch.impersonatedUser?.username, member.user);
  assert.equal(patch.responseStatus?.code, 200);
});

test('the local admin logs in with a password; writes need the CSRF token; login is rate-limited', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'admin');
  await createApp(client, ns, 'web');
  const user = await localAdmin(t, client, ns, 'correct horse');
  const server = await startServer(t, kubeconfig, ['-n', ns, '--admin-user', user]);

  const wrong = await api(server.url, '/api/login', {
    method: 'POST',
    body: { username: 'admin', password: 'wrong' },
  });
  assert.equal(wrong.status, 401);
  const login = await api<{ user: string; csrf: string }>(server.url, '/api/login', {
    method: 'POST',
    body: { username: 'admin', password: 'correct horse' },
  });
  assert.equal(login.status, 200);
  assert.equal(login.body.user, user);
  const setCookie = login.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  const cookie = setCookie.split(';')[0]!;

  const session = await api<{ user: string }>(server.url, '/api/session', { cookie });
  assert.equal(session.body.user, user);
  const forged = await api(server.url, '/api/session', { cookie: `${cookie.slice(0, -3)}xyz` });
  assert.equal(forged.status, 401);

  await waitUntil(
    'the Application in the cache',
    async () =>
      (await api(server.url, `/api/applications/${ns}/web`, { cookie })).status === 200 || undefined,
    { timeoutMs: 20_000 },
  );
  const noCsrf = await api(server.url, `/api/applications/${ns}/web/suspend`, { method: 'POST', cookie });
  assert.equal(noCsrf.status, 403);
  const suspended = await api<Application>(server.url, `/api/applications/${ns}/web/suspend`, {
    method: 'POST',
    cookie,
    csrf: login.body.csrf,
  });
  assert.equal(suspended.status, 200);
  assert.equal(suspended.body.spec.suspend, true);
  // The change is in the cluster, not only in the answer.
  const web = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: ns,
    name: 'web',
  });
  assert.equal(web.spec.suspend, true);
  const resumed = await api<Application>(server.url, `/api/applications/${ns}/web/resume`, {
    method: 'POST',
    cookie,
    csrf: login.body.csrf,
  });
  assert.equal(resumed.status, 200);
  assert.equal(resumed.body.spec.suspend, undefined);
  const loggedOut = await api(server.url, '/api/logout', { method: 'POST', cookie });
  assert.match(loggedOut.headers.get('set-cookie') ?? '', /Max-Age=0/);

  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    statuses.push(
      (
        await api(server.url, '/api/login', {
          method: 'POST',
          body: { username: 'admin', password: 'guess' },
        })
      ).status,
    );
  }
  assert.ok(statuses.includes(429), `login attempts answered ${statuses.join(',')}`);
});

function cairnJson<T>(args: string[], kubeconfig: string): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'cairn.js'), ...args, '-o', 'json'],
      { env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' }, timeout: 60_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}: ${stderr}`)) : resolve(JSON.parse(stdout) as T),
    );
  });
}

test('the API answers with the same shapes as `cairn app ... -o json`', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'shapes');
  await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns } });
  await createApp(client, ns, 'shop');
  const revision = 'a'.repeat(40);
  await client.apply(
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name: 'shop', namespace: ns },
      status: {
        sync: { status: 'Synced', revision },
        health: { status: 'Healthy' },
        resources: [
          {
            group: '',
            version: 'v1',
            kind: 'ConfigMap',
            namespace: ns,
            name: 'settings',
            status: 'Synced',
            health: { status: 'Healthy' },
          },
        ],
        history: [
          {
            id: 1,
            revision,
            startedAt: '2026-01-01T00:00:00Z',
            finishedAt: '2026-01-01T00:00:05Z',
            result: 'Succeeded',
            initiator: 'automated',
          },
        ],
      },
    },
    { fieldManager: 'test', subresource: 'status' },
  );
  const member = await namespaceMember(client, ns);
  const server = await startServer(t, kubeconfig);
  const get = (path: string) => api<unknown>(server.url, path, { token: member.token });

  const apiApp = await waitUntil(
    'the Application with its status',
    async () => {
      const r = await get(`/api/applications/${ns}/shop`);
      return r.status === 200 && (r.body as Application).status?.history ? r.body : undefined;
    },
    { timeoutMs: 20_000 },
  );
  assert.deepEqual(apiApp, await cairnJson(['app', 'get', 'shop', '-n', ns], kubeconfig));
  const cliList = await cairnJson<{ items: unknown[] }>(['app', 'list', '-n', ns], kubeconfig);
  const apiList = (await get(`/api/applications?namespace=${ns}`)).body as { kind: string; items: unknown[] };
  assert.equal(apiList.kind, 'List');
  assert.deepEqual(apiList.items, cliList.items);
  assert.deepEqual(
    (await get(`/api/applications/${ns}/shop/history`)).body,
    await cairnJson(['app', 'history', 'shop', '-n', ns], kubeconfig),
  );
  const tree = (await get(`/api/applications/${ns}/shop/tree`)).body;
  assert.deepEqual(tree, await cairnJson(['app', 'tree', 'shop', '-n', ns], kubeconfig));
  assert.equal((tree as { resources: { name: string }[] }).resources[0]?.name, 'settings');

  const csp = (await api(server.url, '/api/openapi.json')).headers.get('content-security-policy') ?? '';
  assert.match(csp, /script-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const openapi = await api<{ paths: Record<string, unknown> }>(server.url, '/api/openapi.json');
  assert.equal(openapi.status, 200);
  for (const path of ['/api/applications', '/api/applications/{namespace}/{name}/tree', '/api/events'])
    assert.ok(openapi.body.paths[path], `${path} is described`);
});

test('live events reach only those who may list the namespace', async (t) => {
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const mine = await newNamespace(t, 'events-a');
  const theirs = await newNamespace(t, 'events-b');
  await createApp(client, mine, 'shop');
  await createApp(client, theirs, 'billing');
  const member = await namespaceMember(client, mine);
  const server = await startServer(t, kubeconfig);

  const abort = new AbortController();
  t.after(() => abort.abort());
  const res = await fetch(`${server.url}/api/events`, {
    headers: { Authorization: `Bearer ${member.token}` },
    signal: abort.signal,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const label = async (namespace: string, name: string) => {
    const path = await client.pathFor({ apiVersion: API_VERSION, kind: 'Application', namespace, name });
    await client.request('PATCH', path, {
      body: { metadata: { labels: { touched: 'yes' } } },
      contentType: 'application/merge-patch+json',
    });
  };
  await label(theirs, 'billing');
  await label(mine, 'shop');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const deadline = Date.now() + 20_000;
  while (!text.includes('"touched"') && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const events = text
    .split('\n\n')
    .filter((block) => block.startsWith('event: application'))
    .map(
      (block) =>
        JSON.parse(
          block
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        ) as {
          type: string;
          object: Application;
        },
    );
  const touched = events.find((e) => e.object.metadata.labels?.touched === 'yes');
  assert.ok(touched, `an event for the labelled Application arrived: ${text.slice(0, 300)}`);
  assert.equal(touched.object.metadata.namespace, mine);
  assert.ok(events.every((e) => e.object.metadata.namespace === mine));
});

test('cairn server --set-admin-password stores only a scrypt hash, and that password logs in', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'adminpw');
  const password = 'battery staple horse';
  const run = (input: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        [join(REPO_ROOT, 'bin', 'cairn.js'), 'server', '--set-admin-password', '-n', ns],
        { env: { ...process.env, KUBECONFIG: kubeconfig } },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input);
    });
  const short = await run('too short\n');
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 12 characters/);
  const set = await run(`${password}\n`);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`Secret ${ns}/cairn-admin`));
  assert.ok(!`${set.stdout}${set.stderr}`.includes(password), 'the password is never printed');
  const secret = await client.get<KubeObject & { data: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: ns,
    name: 'cairn-admin',
  });
  const stored = Buffer.from(secret.data.passwordHash ?? '', 'base64').toString('utf8');
  assert.ok(stored.length > 0 && !stored.includes(password), 'a hash, not the password');

  const server = await startServer(t, kubeconfig, ['-n', ns, '--admin-user', 'someone']);
  const login = await api<{ user: string }>(server.url, '/api/login', {
    method: 'POST',
    body: { username: 'admin', password },
  });
  assert.equal(login.status, 200);
  assert.equal(login.body.user, 'someone');
});
