// npm run demo [-- --exit-when-healthy]: a private local control plane, a Git server holding
// examples/, Cairn's CRDs, the controller as a local process, and one Application per example.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { API_VERSION, type Application } from '../src/api/types.ts';
import type { KubeObject } from '../src/cluster/objects.ts';
import { ADMIN_PASSWORD_KEY, hashPassword } from '../src/server/api/identity.ts';
import { installCrds } from '../test/harness/cairn.ts';
import { ControlPlane } from '../test/harness/controlplane.ts';
import { GitHttpServer, commitFolder, createBareRepo } from '../test/harness/git-server.ts';
import { freePort, waitUntil } from '../test/harness/processes.ts';
import { REPO_ROOT } from '../test/harness/tools.ts';
import { ensureUiBuilt } from '../test/ui/helpers.ts';

const { values } = parseArgs({
  options: {
    'exit-when-healthy': { type: 'boolean' },
    name: { type: 'string' },
    timeout: { type: 'string' },
  },
});
const name = values.name ?? 'demo';
const say = (line: string) => console.log(line);

const APPS: { name: string; path: string; helm?: Record<string, unknown> }[] = [
  { name: 'guestbook', path: 'guestbook' },
  { name: 'podinfo', path: 'podinfo/overlays/production' },
  { name: 'shop', path: 'shop', helm: { valueFiles: ['values-production.yaml'] } },
];

say(`Starting the local control plane "${name}" (the first run builds it from source: several minutes)...`);
const plane = await ControlPlane.up({ name, nodes: 3 }, (line) => say(`  ${line}`));
const dir = join(plane.dir, 'demo');
await rm(dir, { recursive: true, force: true });
await mkdir(dir, { recursive: true });
const client = await plane.client();

say('Serving examples/ from a local Git server...');
const git = await GitHttpServer.start({ root: join(dir, 'git') });
const repoPath = await createBareRepo(git.root, 'examples');
const commit = await commitFolder(repoPath, join(REPO_ROOT, 'examples'), 'Cairn examples');
say(`  ${git.url('examples')} at ${commit.slice(0, 12)}`);

say("Installing Cairn's CRDs...");
await installCrds(client);
await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'cairn-system' } });

const port = await freePort();
const log = join(dir, 'controller.log');
say(`Starting the controller (log: ${log})...`);
const controller = spawn(
  process.execPath,
  [
    join(REPO_ROOT, 'bin', 'cairn.js'),
    'controller',
    '--listen',
    `127.0.0.1:${port}`,
    '--leader-election-namespace',
    'cairn-system',
    '--cache-dir',
    join(dir, 'cache'),
    '--allow-http-git',
  ],
  {
    env: { ...process.env, KUBECONFIG: plane.kubeconfig, PATH: `${plane.binPath}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
controller.stderr.pipe(createWriteStream(log));

// The web UI: the local admin (a password hash in a Secret) acts as a cluster-admin user.
const password = randomBytes(9).toString('base64url');
await client.apply({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'cairn-admin', namespace: 'cairn-system' },
  stringData: { [ADMIN_PASSWORD_KEY]: await hashPassword(password) },
});
await client.apply({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name: 'cairn-demo-admin' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  subjects: [{ kind: 'User', name: 'cairn:demo-admin', apiGroup: 'rbac.authorization.k8s.io' }],
});
await ensureUiBuilt();
const uiPort = await freePort();
const uiLog = join(dir, 'server.log');
const server = spawn(
  process.execPath,
  [
    join(REPO_ROOT, 'bin', 'cairn.js'),
    'server',
    '--listen',
    `127.0.0.1:${uiPort}`,
    '-n',
    'cairn-system',
    '--admin-user',
    'cairn:demo-admin',
    '--badges',
    '--cache-dir',
    join(dir, 'server-cache'),
    '--allow-http-git',
  ],
  {
    env: { ...process.env, KUBECONFIG: plane.kubeconfig, PATH: `${plane.binPath}:${process.env.PATH}` },
    stdio: ['ignore', 'ignore', 'pipe'],
  },
);
server.stderr.pipe(createWriteStream(uiLog));

await client.apply({
  apiVersion: API_VERSION,
  kind: 'GitRepository',
  metadata: { name: 'examples', namespace: 'cairn-system' },
  spec: { url: git.url('examples'), ref: { branch: 'main' }, interval: '1m' },
});
for (const app of APPS) {
  await client.apply({
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: app.name, namespace: 'cairn-system' },
    spec: {
      source: {
        repositoryRef: { name: 'examples' },
        path: app.path,
        ...(app.helm ? { helm: app.helm } : {}),
      },
      destination: { namespace: app.name },
      interval: '10m',
      syncPolicy: { automated: { prune: true, selfHeal: true }, createNamespace: true },
    },
  });
}

say('Waiting for every Application to be Synced and Healthy:');
const shown = new Map<string, string>();
const timeoutMs = Number(values.timeout ?? 300) * 1000;
let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  say('Stopping the controller, the Git server and the control plane...');
  controller.kill('SIGTERM');
  await new Promise((r) => controller.once('exit', r));
  if (server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
  }
  await git.stop();
  client.close();
  await plane.down();
  process.exit(code);
};
process.once('SIGINT', () => void shutdown(0));
process.once('SIGTERM', () => void shutdown(0));
try {
  await waitUntil(
    'every example to be Healthy',
    async () => {
      const list = await client.list<Application & KubeObject>(API_VERSION, 'Application', {
        namespace: 'cairn-system',
      });
      for (const a of list.items) {
        const line = `${a.status?.sync?.status ?? 'Unknown'} / ${a.status?.health?.status ?? 'Unknown'}`;
        if (shown.get(a.metadata.name!) !== line) {
          shown.set(a.metadata.name!, line);
          say(`  ${a.metadata.name!.padEnd(10)} ${line}`);
        }
      }
      return (
        list.items.length === APPS.length &&
        list.items.every((a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy')
      );
    },
    {
      timeoutMs,
      intervalMs: 500,
      failIf: () => (controller.exitCode !== null ? `the controller exited; see ${log}` : undefined),
    },
  );
} catch (e) {
  say(`demo: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
say('\nEvery example is Synced and Healthy.');

say(`
What to try next:
  Web UI: http://127.0.0.1:${uiPort}/ (log in as admin, password ${password}; log: ${uiLog})
  ${plane.env().split('\n').join('\n  ')}
  kubectl get applications -n cairn-system
  npx cairn app tree guestbook -n cairn-system --kubeconfig ${plane.kubeconfig}   # what it manages, as a tree
  kubectl scale deployment guestbook -n guestbook --replicas=5   # reverted within a second (selfHeal)
  git clone ${git.url('examples')} /tmp/cairn-examples            # change a file, commit, git push:
                                                                  # applied within a minute
  npx cairn status --app guestbook -n guestbook --kubeconfig ${plane.kubeconfig}
  curl -s http://127.0.0.1:${port}/metrics | grep cairn_application_info`);
if (values['exit-when-healthy']) await shutdown(0);
say('\nPress Ctrl-C to stop everything.');
