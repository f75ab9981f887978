// OpenID Connect login against a real OpenID provider running locally (the oidc-provider
// package), in Chromium: the provider's user and groups claims become a Kubernetes user and
// groups as kube-apiserver maps them, and RBAC bound to that group decides what they see.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import Provider from 'oidc-provider';
import { personFromClaims, defaultOidcOptions } from '../../src/server/api/oidc.ts';
import { installCrds } from '../harness/cairn.ts';
import { newNamespace, uniqueName, withCluster } from '../harness/index.ts';
import { freePort } from '../harness/processes.ts';
import { application, ensureUiBuilt, launchBrowser, startServer } from './helpers.ts';

test('claims map to a user and groups as kube-apiserver maps them', () => {
  const base = {
    ...defaultOidcOptions(),
    issuer: 'https://id.example.com',
    clientId: 'c',
    clientSecret: 's',
    redirectUri: 'x',
  };
  const claims = { sub: 'u1', email: 'ann@example.com', groups: ['dev', 'ops'] };
  assert.deepEqual(personFromClaims(claims, base), { user: 'https://id.example.com#u1', groups: [] });
  assert.deepEqual(
    personFromClaims(claims, {
      ...base,
      usernameClaim: 'email',
      groupsClaim: 'groups',
      groupsPrefix: 'oidc:',
    }),
    {
      user: 'ann@example.com',
      groups: ['oidc:dev', 'oidc:ops'],
    },
  );
  assert.deepEqual(
    personFromClaims(
      { ...claims, groups: 'dev' },
      { ...base, usernamePrefix: 'sso:', groupsClaim: 'groups' },
    ),
    {
      user: 'sso:u1',
      groups: ['dev'],
    },
  );
  assert.equal(personFromClaims(claims, { ...base, usernamePrefix: '-' }).user, 'u1');
  assert.throws(
    () =>
      personFromClaims(
        { sub: 'u1', email: 'a@b', email_verified: false },
        { ...base, usernameClaim: 'email' },
      ),
    /not verified/,
  );
  assert.throws(() => personFromClaims({}, base), /no "sub" claim/);
});

test('single sign-on through a local OpenID provider; its group claim decides what the person sees', async (t) => {
  await ensureUiBuilt();
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const teamA = await newNamespace(t, 'sso-a');
  const teamB = await newNamespace(t, 'sso-b');
  await client.create(application(teamA, 'shop'));
  await client.create(application(teamB, 'billing'));
  const group = uniqueName('devs');
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'app-viewer', namespace: teamA },
    rules: [{ apiGroups: ['cairn.dev'], resources: ['applications'], verbs: ['get', 'list', 'watch'] }],
  });
  await client.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'app-viewer', namespace: teamA },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'app-viewer' },
    subjects: [{ kind: 'Group', name: `oidc:${group}`, apiGroup: 'rbac.authorization.k8s.io' }],
  });

  const serverPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const providerPort = await freePort();
  const issuer = `http://127.0.0.1:${providerPort}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'cairn',
        client_secret: 'cairn-secret',
        redirect_uris: [`${serverUrl}/api/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    conformIdTokenClaims: false,
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.com`, email_verified: true, groups: [group] }),
    }),
  });
  const providerServer = createServer(provider.callback());
  await new Promise<void>((resolve) => providerServer.listen(providerPort, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => providerServer.close(() => resolve())));

  const server = await startServer(
    t,
    kubeconfig,
    [
      '--listen',
      `127.0.0.1:${serverPort}`,
      '--oidc-issuer',
      issuer,
      '--oidc-client-id',
      'cairn',
      '--oidc-username-claim',
      'email',
      '--oidc-groups-claim',
      'groups',
      '--oidc-groups-prefix',
      'oidc:',
    ],
    { CAIRN_OIDC_CLIENT_SECRET: 'cairn-secret' },
  );

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Single sign-on' }).click();
  await page.locator('input[name=login]').fill('ann');
  await page.locator('input[name=password]').fill('anything');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.locator('[data-testid=user]', { hasText: 'ann@example.com' }).waitFor({ timeout: 20_000 });
  await page.locator(`tr[data-app="${teamA}/shop"]`).waitFor({ timeout: 20_000 });
  const rows = await Promise.all(
    (await page.locator('tr[data-app]').all()).map((tr) => tr.getAttribute('data-app')),
  );
  assert.deepEqual(rows, [`${teamA}/shop`]);
  const session = await page.evaluate(
    async () => (await fetch('/api/session')).json() as Promise<{ groups: string[] }>,
  );
  assert.deepEqual(session.groups, [`oidc:${group}`]);
  // Viewing is bound; syncing is not.
  await page.goto(`${server.url}/apps/${teamA}/shop`);
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'may not patch' }).waitFor();
});
