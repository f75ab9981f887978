// `cairn render | diff | apply | status` as a person runs them: the real CLI process against the
// test cluster and the git test server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { git, gitRepoFrom, newNamespace, withCluster, scaleDeployment } from '../harness/index.ts';
import { REPO_ROOT } from '../harness/tools.ts';

const WEB = join(REPO_ROOT, 'test', 'fixtures', 'apps', 'web');
const SECRET = 'sup3r-s3cret-value';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Every line any cairn run printed in this file, to check no Secret value ever appears. */
const printed: string[] = [];

async function cairn(args: string[], kubeconfig: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin', 'cairn.js'), ...args],
      { env: { ...process.env, KUBECONFIG: kubeconfig, NO_COLOR: '1' }, timeout: 180_000 },
      (error, stdout, stderr) => {
        printed.push(stdout, stderr);
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function scratchCopy(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await cp(WEB, join(dir, 'web'), { recursive: true });
  return join(dir, 'web');
}

test('after kubectl scale, cairn diff shows exactly spec.replicas and exits 1; cairn apply restores it', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'cli');
  const applied = await cairn(['apply', WEB, '-n', ns, '--app', 'web', '--wait'], kubeconfig);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /web at [0-9a-f]{12}: 4 applied, 0 unchanged, 0 pruned; health Healthy/);

  const clean = await cairn(['diff', WEB, '-n', ns, '--app', 'web', '--exit-code'], kubeconfig);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(clean.stdout, '');

  await scaleDeployment(client, ns, 'web', 7);

  const drifted = await cairn(['diff', WEB, '-n', ns, '--app', 'web', '--exit-code'], kubeconfig);
  assert.equal(drifted.code, 1, drifted.stderr);
  const changes = drifted.stdout.split('\n').filter((l) => /^[-+](?![-+])/.test(l));
  assert.deepEqual(changes, ['-  replicas: 7', '+  replicas: 2']);
  assert.match(drifted.stdout, /^--- live\/Deployment\/.*\/web$/m);

  const restored = await cairn(['apply', WEB, '-n', ns, '--app', 'web'], kubeconfig);
  assert.equal(restored.code, 0, restored.stderr);
  assert.match(restored.stdout, /Deployment\s+\S+\s+web\s+configure\s+applied\s+drifted/);
  const web = await client.get<KubeObject & { spec: { replicas: number } }>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespace: ns,
    name: 'web',
  });
  assert.equal(web.spec.replicas, 2);

  const status = await cairn(['status', '--app', 'web', '-n', ns], kubeconfig);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /web at [0-9a-f]{12}: Healthy/);
});

test('from a Git repository: removing a file and applying with --prune deletes exactly that object', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'prune');
  const folder = await scratchCopy(t);
  const repo = await gitRepoFrom(folder);
  const args = [
    '--repo',
    repo.httpUrl,
    '--revision',
    'main',
    '--path',
    '.',
    '--allow-http',
    '-n',
    ns,
    '--app',
    'web',
  ];
  const first = await cairn(['apply', ...args, '--prune'], kubeconfig);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`web at ${repo.commit.slice(0, 12)}: 4 applied`));

  const work = await mkdtemp(join(tmpdir(), 'cairn-cli-work-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  await git(['rm', '--quiet', 'service.yaml'], { cwd: work });
  await git(
    ['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-m', 'drop the service'],
    { cwd: work },
  );
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });

  const pruned = await cairn(['apply', ...args, '--prune'], kubeconfig);
  assert.equal(pruned.code, 0, pruned.stderr);
  const rows = pruned.stdout.split('\n').filter((l) => /\b(pruned|applied)\s/.test(l) && !l.includes(' at '));
  assert.deepEqual(
    rows.map((r) => r.split(/\s+/).slice(0, 3).join(' ')),
    [`Service ${ns} web`],
  );
  assert.equal(
    await client
      .getOptional({ apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'web' })
      .then((s) => s?.metadata.deletionTimestamp ?? s),
    undefined,
  );
  assert.ok(
    await client.getOptional({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' }),
  );
});

test('a render error prunes nothing and names the file', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'broken');
  const folder = await scratchCopy(t);
  assert.equal((await cairn(['apply', folder, '-n', ns, '--app', 'web'], kubeconfig)).code, 0);
  await writeFile(
    join(folder, 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n spec: [\n',
  );
  const broken = await cairn(['apply', folder, '-n', ns, '--app', 'web', '--prune'], kubeconfig);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /service\.yaml/);
  for (const [kind, apiVersion, name] of [
    ['Service', 'v1', 'web'],
    ['Deployment', 'apps/v1', 'web'],
    ['ConfigMap', 'v1', 'web-settings'],
  ] as const) {
    assert.ok(
      await client.getOptional({ apiVersion, kind, namespace: ns, name }),
      `${kind}/${name} is still there`,
    );
  }
});

test('no Secret value appears in any diff, table, JSON or error output', async (t) => {
  const { kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'secret');
  const folder = await scratchCopy(t);
  assert.equal((await cairn(['apply', folder, '-n', ns, '--app', 'web', '-o', 'json'], kubeconfig)).code, 0);
  await writeFile(
    join(folder, 'config.yaml'),
    (await import('node:fs'))
      .readFileSync(join(WEB, 'config.yaml'), 'utf8')
      .replace(SECRET, `${SECRET}-rotated`),
  );
  const diff = await cairn(['diff', folder, '-n', ns, '--app', 'web'], kubeconfig);
  assert.match(diff.stdout, /PASSWORD: <redacted \(before\)>/);
  await cairn(['diff', folder, '-n', ns, '--app', 'web', '-o', 'json'], kubeconfig);
  await cairn(['apply', folder, '-n', ns, '--app', 'web', '--dry-run', '-o', 'yaml'], kubeconfig);
  await cairn(['apply', folder, '-n', ns, '--app', 'web'], kubeconfig);
  await cairn(['status', '--app', 'web', '-n', ns, '-o', 'json'], kubeconfig);
  // An apply the API server rejects: the error message must not echo the Secret either.
  await writeFile(
    join(folder, 'config.yaml'),
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: web-credentials\ntype: Opaque\nstringData:\n  PASSWORD: ${SECRET}\ndata:\n  BROKEN: "not base64 ${SECRET}"\n`,
  );
  const rejected = await cairn(['apply', folder, '-n', ns, '--app', 'web'], kubeconfig);
  assert.equal(rejected.code, 1);
  const all = printed.join('\n');
  for (const value of [
    SECRET,
    Buffer.from(SECRET).toString('base64'),
    `${SECRET}-rotated`,
    Buffer.from(`${SECRET}-rotated`).toString('base64'),
  ]) {
    assert.ok(!all.includes(value), `the output contains the Secret value ${value}`);
  }
});

test('a commit that changes only another application folder makes no write for this one', async (t) => {
  const { plane, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'mono');
  const tree = await mkdtemp(join(tmpdir(), 'cairn-cli-mono-'));
  t.after(() => rm(tree, { recursive: true, force: true }));
  await cp(WEB, join(tree, 'apps', 'web'), { recursive: true });
  await cp(WEB, join(tree, 'apps', 'other'), { recursive: true });
  const repo = await gitRepoFrom(tree);
  const args = [
    '--repo',
    repo.httpUrl,
    '--revision',
    'main',
    '--path',
    'apps/web',
    '--allow-http',
    '-n',
    ns,
    '--app',
    'web',
  ];
  assert.equal((await cairn(['apply', ...args], kubeconfig)).code, 0);

  const work = await mkdtemp(join(tmpdir(), 'cairn-cli-work-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await git(['clone', '--quiet', repo.httpUrl, work]);
  await writeFile(
    join(work, 'apps', 'other', 'service.yaml'),
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: other\nspec:\n  ports:\n    - port: 8080\n',
  );
  await git(
    ['-c', 'user.name=t', '-c', 'user.email=t@cairn.dev', 'commit', '--quiet', '-am', 'change the other app'],
    { cwd: work },
  );
  await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: work });
  const head = (await git(['rev-parse', 'HEAD'], { cwd: work })).trim();

  const before = await auditCount(plane.auditLog, ns);
  const again = await cairn(['apply', ...args], kubeconfig);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`web at ${head.slice(0, 12)}: 0 applied, 4 unchanged, 0 pruned`));
  assert.equal(await auditCount(plane.auditLog, ns), before, 'no write reached the API server');
});

test('a failed fetch prunes nothing', async (t) => {
  const { client, kubeconfig } = await withCluster();
  const ns = await newNamespace(t, 'nofetch');
  assert.equal((await cairn(['apply', WEB, '-n', ns, '--app', 'web'], kubeconfig)).code, 0);
  const failed = await cairn(
    [
      'apply',
      '--repo',
      'http://127.0.0.1:9/nothing.git',
      '--revision',
      'main',
      '--allow-http',
      '-n',
      ns,
      '--app',
      'web',
      '--prune',
    ],
    kubeconfig,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /http:\/\/127\.0\.0\.1:9\/nothing\.git/);
  const left = await client.list('v1', 'ConfigMap', {
    namespace: ns,
    labelSelector: 'app.cairn.dev/application=web',
  });
  assert.deepEqual(
    left.items.map((i) => i.metadata.name),
    ['web-settings'],
  );
  assert.ok(
    await client.getOptional({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' }),
  );
});

/** Writes (create, update, patch, delete) the audit log recorded from Cairn in a namespace. */
async function auditCount(file: string, namespace: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  const { readFile } = await import('node:fs/promises');
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { verb: string; objectRef?: { namespace?: string }; userAgent?: string })
    .filter(
      (e) =>
        e.objectRef?.namespace === namespace &&
        e.userAgent === 'cairn' &&
        ['create', 'update', 'patch', 'delete'].includes(e.verb),
    ).length;
}
