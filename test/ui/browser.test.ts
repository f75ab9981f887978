// The web UI in Debian's Chromium (headless, driven by playwright-core) against `cairn server`,
// the real controller and the test cluster: log in, the list goes live, the tree, a drift's
// diff, Sync without a reload, rollback from history; one namespace's person; inert markup.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { API_VERSION, type Application, type GitRepository } from '../../src/api/types.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { installCrds, releaseFinalizers, startController } from '../harness/cairn.ts';
import {
  git,
  gitRepoFrom,
  newNamespace,
  scaleDeployment,
  waitForObject,
  withCluster,
  type TestRepo,
} from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';
import {
  application,
  ensureUiBuilt,
  launchBrowser,
  localAdmin,
  namespaceMember,
  RESULTS_DIR,
  startServer,
} from './helpers.ts';

const LONG = 120_000;

/** Fails the test on any CSP violation or page error: the UI must run under its own policy. */
function watchPage(page: Page, problems: string[]): void {
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
}

async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

async function loginWithPassword(page: Page, url: string, password: string): Promise<void> {
  await page.goto(url);
  await page.locator('input[name=password]').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('[data-testid=user]').waitFor();
}

async function pushChange(
  t: TestContext,
  repo: TestRepo,
  file: string,
  edit: (text: string) => string,
  message = 'more replicas',
) {
  const work = await mkdtemp(join(tmpdir(), 'cairn-ui-push-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  await writeFile(join(work, file), edit(await readFile(join(work, file), 'utf8')));
  await git(['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-am', message], {
    cwd: work,
  });
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  return (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();
}

test('log in, see the examples go healthy, open a tree, see a drift, sync, roll back', async (t) => {
  await ensureUiBuilt();
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'ui');
  t.after(() => releaseFinalizers(client, ns));
  const repo = await gitRepoFrom(join(REPO_ROOT, 'examples'));
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'examples', namespace: ns },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1s' },
  });
  for (const [name, path] of [
    ['guestbook', 'guestbook'],
    ['podinfo', 'podinfo/overlays/production'],
  ] as const) {
    await client.create({
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name, namespace: ns },
      spec: {
        source: { repositoryRef: { name: 'examples' }, path },
        destination: { namespace: ns },
        interval: '1h',
        syncPolicy: { automated: { prune: true, selfHeal: false } },
      },
    });
  }
  await startController(t, kubeconfig, ns);
  const user = await localAdmin(t, client, ns, 'correct horse');
  const server = await startServer(t, kubeconfig, ['-n', ns, '--admin-user', user]);

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  watchPage(page, problems);

  // Log in; the list shows both examples and turns Healthy live (no reload).
  await loginWithPassword(page, `${server.url}/?namespace=${ns}`, 'correct horse');
  const row = (name: string) => page.locator(`tr[data-app="${ns}/${name}"]`);
  for (const name of ['guestbook', 'podinfo']) {
    await row(name).locator('[data-testid=health]', { hasText: 'Healthy' }).waitFor({ timeout: LONG });
    await row(name).locator('[data-testid=sync]', { hasText: 'Synced' }).waitFor({ timeout: LONG });
  }
  // A glance: the health and sync bars count both, and a state in the legend filters by it.
  const healthy = page.locator('[data-testid=health-bar] a[data-status=Healthy]');
  await healthy.filter({ hasText: 'Healthy 2' }).waitFor({ timeout: LONG });
  assert.equal(await page.locator('[data-testid=health-bar] rect').count(), 1);
  assert.equal(await page.locator('[data-testid=sync-bar] svg').getAttribute('aria-label'), 'Sync: 2 Synced');
  await screenshot(page, 'ui-applications');
  await healthy.click();
  await page.waitForURL(/health=Healthy/);
  assert.equal(await page.locator('select[name=health]').inputValue(), 'Healthy');
  await page.locator('select[name=health]').selectOption('');
  await page.waitForURL((url) => !url.search.includes('health='));
  await page.getByRole('button', { name: 'Tiles' }).click();
  assert.equal(await page.locator('[data-testid=app-tiles] a').count(), 2);
  await page.getByRole('button', { name: 'Table' }).click();
  // Search and filters are answered by the server and kept in the address.
  await page.locator('input[name=search]').fill('podinfo');
  await page.locator('input[name=search]').press('Enter');
  await page.waitForURL(/search=podinfo/);
  await page.locator('[data-testid=total]', { hasText: '1 shown' }).waitFor();
  assert.equal(await page.locator('tr[data-app]').count(), 1);
  await page.locator('input[name=search]').fill('');
  await page.locator('input[name=search]').press('Enter');
  await page.locator('select[name=health]').selectOption('Degraded');
  await page.getByText('No Applications match.').waitFor();
  await page.locator('select[name=health]').selectOption('');
  await page.locator('[data-testid=total]', { hasText: '2 shown' }).waitFor();

  // The tree: Application -> Deployment -> ReplicaSet -> Pods, with health.
  await row('guestbook').getByRole('link', { name: 'guestbook' }).click();
  await page.locator('[data-testid=tree] g[data-kind=Pod]').first().waitFor({ timeout: LONG });
  assert.equal(await page.locator('[data-testid=tree] g[data-kind=Application]').count(), 1);
  assert.equal(
    await page.locator('[data-testid=tree] g[data-kind=Deployment][data-health=Healthy]').count(),
    1,
  );
  assert.ok((await page.locator('[data-testid=tree] g[data-kind=ReplicaSet]').count()) >= 1);
  assert.equal(await page.locator('[data-testid=tree] g[data-kind=Pod]').count(), 2);
  await screenshot(page, 'ui-tree');

  // A drift with selfHeal off: OutOfSync arrives live, and the diff shows the replicas.
  await page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
  await scaleDeployment(client, ns, 'guestbook', 5);
  await page.locator('[data-testid=app-sync]', { hasText: 'OutOfSync' }).waitFor({ timeout: LONG });
  await page.getByRole('link', { name: 'Diff' }).click();
  const diff = page.locator('[data-testid=diff]');
  await diff.locator('.line.del', { hasText: 'replicas: 5' }).waitFor({ timeout: LONG });
  await diff.locator('.line.add', { hasText: 'replicas: 2' }).waitFor();
  await screenshot(page, 'ui-diff');

  // Sync, and watch it become Synced without a reload.
  await page.getByRole('button', { name: 'Sync', exact: true }).click();
  await page.locator('[data-testid=app-sync]', { hasText: /^Synced$/ }).waitFor({ timeout: LONG });
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
    42,
    'no reload',
  );
  await waitForObject<KubeObject & { spec: { replicas: number } }>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'guestbook' },
    'back to 2 replicas',
    (d) => d.spec.replicas === 2,
    LONG,
  );

  // A second commit, then roll back to the first from the history.
  const first = repo.commit;
  const second = await pushChange(t, repo, 'guestbook/deployment.yaml', (s) =>
    s.replace(/replicas: 2/, 'replicas: 3'),
  );
  await page.getByRole('button', { name: 'Refresh' }).click();
  await page.getByRole('link', { name: 'History' }).click();
  const history = page.locator('[data-testid=history]');
  await history.locator('td.mono', { hasText: `${second.slice(0, 12)}current` }).waitFor({ timeout: LONG });
  const firstRow = history
    .locator('tr', { has: page.locator('td.mono', { hasText: first.slice(0, 12) }) })
    .first();
  await firstRow.getByRole('button', { name: 'Rollback' }).click();
  await firstRow.getByRole('button', { name: /^Roll back to #/ }).click();
  await page.locator('[data-testid=pinned]', { hasText: first.slice(0, 8) }).waitFor({ timeout: LONG });
  await history
    .locator('td.mono', { hasText: `${first.slice(0, 12)}current` })
    .first()
    .waitFor({ timeout: LONG });
  await screenshot(page, 'ui-history');
  const app = await client.get<Application & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'Application',
    namespace: ns,
    name: 'guestbook',
  });
  assert.equal(app.spec.source.pinnedRevision, first);
  assert.equal(app.status?.sync?.revision, first);

  // Dark theme, kept for the README.
  await page.getByRole('button', { name: 'Dark theme' }).click();
  assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
  await page.goto(`${server.url}/?namespace=${ns}`);
  await row('podinfo').waitFor();
  await screenshot(page, 'ui-applications-dark');
  assert.deepEqual(problems, []);
});

test('a person of one namespace sees only its Applications in the UI and is refused elsewhere', async (t) => {
  await ensureUiBuilt();
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const teamA = await newNamespace(t, 'team-a');
  const teamB = await newNamespace(t, 'team-b');
  await client.create(application(teamA, 'shop'));
  await client.create(application(teamB, 'billing'));
  const member = await namespaceMember(client, teamA);
  const server = await startServer(t, kubeconfig);

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  watchPage(page, problems);
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Kubernetes token' }).click();
  await page.locator('textarea[name=token]').fill(member.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator(`tr[data-app="${teamA}/shop"]`).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid=user]').textContent(), member.user);
  const rows = await Promise.all(
    (await page.locator('tr[data-app]').all()).map((tr) => tr.getAttribute('data-app')),
  );
  assert.deepEqual(rows, [`${teamA}/shop`]);

  // A deep link into the other namespace says why, and a sync from this session is refused.
  await page.goto(`${server.url}/apps/${teamB}/billing`);
  await page.getByRole('alert').filter({ hasText: 'may not get' }).waitFor();
  const status = await page.evaluate(
    async ([ns]) => {
      const session = (await (await fetch('/api/session')).json()) as { csrf: string };
      const res = await fetch(`/api/applications/${ns}/billing/sync`, {
        method: 'POST',
        headers: { 'X-CSRF-Token': session.csrf },
      });
      return res.status;
    },
    [teamB],
  );
  assert.equal(status, 403);
  assert.deepEqual(problems, []);
});

test('annotations, conditions and history messages holding markup render as text', async (t) => {
  await ensureUiBuilt();
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'inert');
  const evil = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`;
  await client.create({
    ...application(ns, 'web', { 'example.com/note': evil }),
    metadata: {
      name: 'web',
      namespace: ns,
      annotations: { 'example.com/note': evil },
      labels: { team: 'a-b_c.d' },
    },
  });
  await client.apply(
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name: 'web', namespace: ns },
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'False',
            reason: 'SyncFailed',
            message: evil,
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
        sync: { status: 'Synced', revision: 'b'.repeat(40) },
        history: [
          {
            id: 1,
            revision: 'a'.repeat(40),
            startedAt: '2026-01-01T00:00:00Z',
            finishedAt: '2026-01-01T00:00:05Z',
            result: 'Failed',
            initiator: 'manual',
            message: evil,
          },
        ],
      },
    },
    { fieldManager: 'test', subresource: 'status' },
  );
  const user = await localAdmin(t, client, ns, 'pw');
  const server = await startServer(t, kubeconfig, ['-n', ns, '--admin-user', user, '--badges']);

  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  watchPage(page, problems);
  await loginWithPassword(page, `${server.url}/apps/${ns}/web?tab=details`, 'pw');
  const details = page.locator('[data-testid=details]');
  await details.getByRole('cell', { name: evil, exact: true }).waitFor({ timeout: 20_000 });
  await details.getByRole('cell', { name: `False SyncFailed: ${evil}` }).waitFor();
  assert.ok((await page.locator('.summary').textContent())?.includes(evil));
  await page.getByRole('link', { name: 'History' }).click();
  await page.locator('[data-testid=history] td.message', { hasText: evil }).waitFor();
  assert.equal(await page.locator('main img, main script').count(), 0);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);

  const badge = await fetch(`${server.url}/api/badge/${ns}/web.svg`);
  assert.equal(badge.status, 200);
  const svg = await badge.text();
  assert.match(svg, /^<svg /);
  assert.doesNotMatch(svg, /<script|onerror/);
  assert.deepEqual(problems, []);
});

test('a commit message holding markup is recorded and shown as text on the page and in the history', async (t) => {
  await ensureUiBuilt();
  const { client, kubeconfig } = await withCluster();
  await installCrds(client);
  const ns = await newNamespace(t, 'commit');
  t.after(() => releaseFinalizers(client, ns));
  const folder = await mkdtemp(join(tmpdir(), 'cairn-ui-commit-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  await writeFile(
    join(folder, 'config.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {color: blue}\n',
  );
  const repo = await gitRepoFrom(folder);
  const subject = `paint it <img src=x onerror="window.__xss=1"><script>window.__xss=2</script> red`;
  const commit = await pushChange(
    t,
    repo,
    'config.yaml',
    (s) => s.replace('blue', 'red'),
    `${subject}\n\nThe body <b>stays</b> in Git.`,
  );
  await client.create({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'web', namespace: ns },
    spec: { url: repo.httpUrl, ref: { branch: 'main' }, interval: '1h' },
  });
  await client.create({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'web', namespace: ns },
    spec: {
      source: { repositoryRef: { name: 'web' }, path: '.' },
      destination: { namespace: ns },
      interval: '1h',
      syncPolicy: { automated: { prune: true } },
    },
  });
  await startController(t, kubeconfig, ns);
  const app = await waitForObject<Application & KubeObject>(
    client,
    { apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: 'web' },
    'a history entry at the pushed commit',
    (a) => a.status?.history?.some((h) => h.revision === commit) ?? false,
    LONG,
  );
  assert.equal(app.status?.history?.at(-1)?.subject, subject);
  const source = await client.get<GitRepository & KubeObject>({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    namespace: ns,
    name: 'web',
  });
  assert.equal(source.status?.artifact?.commit, commit);
  assert.equal(source.status?.artifact?.subject, subject);

  const user = await localAdmin(t, client, ns, 'pw');
  const server = await startServer(t, kubeconfig, ['-n', ns, '--admin-user', user]);
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  watchPage(page, problems);
  await loginWithPassword(page, `${server.url}/apps/${ns}/web`, 'pw');
  await page.locator('[data-testid=app-sync]', { hasText: /^Synced$/ }).waitFor({ timeout: LONG });
  assert.equal(await page.locator('[data-testid=app-subject]').textContent(), subject);
  await page.getByRole('link', { name: 'History' }).click();
  const cell = page.locator(
    `[data-testid=history] tr[data-history-id="${app.status?.history?.at(-1)?.id}"] td.subject`,
  );
  assert.equal(await cell.textContent(), subject);
  await screenshot(page, 'ui-commit-subject');
  assert.equal(await page.locator('main img, main script, main b').count(), 0);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss), undefined);
  assert.deepEqual(problems, []);
});
