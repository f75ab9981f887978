// Helpers that make tests read as what they check: withCluster(), newNamespace(t),
// gitRepoFrom(folder), privateCluster(t). The shared cluster is started by test/run.ts (or by
// `npm run cluster -- up`); git servers start in each test process on first use.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { ControlPlane, defaultControlPlaneOptions, type ControlPlaneOptions } from './controlplane.ts';
import { GitHttpServer, GitSshServer, commitFolder, createBareRepo, git } from './git-server.ts';
import { waitUntil } from './processes.ts';

export { waitUntil, git };

/** Short random suffix for names that must not collide between parallel tests. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestCluster {
  plane: ControlPlane;
  /** cluster-admin client. */
  client: KubeClient;
  kubeconfig: string;
  restrictedKubeconfig: string;
}

let shared: Promise<TestCluster> | undefined;

/** The shared test cluster (see test/run.ts); fails clearly when it is not up. */
export function withCluster(): Promise<TestCluster> {
  shared ??= (async () => {
    const name = process.env.CAIRN_TEST_CLUSTER ?? 'default';
    const plane = await ControlPlane.open({ ...defaultControlPlaneOptions(), name });
    if (!plane || !(await plane.status()).apiserverReady) {
      throw new Error(
        `the test cluster "${name}" is not up: run the tests with npm test, or start it with npm run cluster -- up`,
      );
    }
    const client = await plane.client();
    return { plane, client, kubeconfig: plane.kubeconfig, restrictedKubeconfig: plane.restrictedKubeconfig };
  })();
  return shared;
}

/** A fresh namespace for one test, deleted when the test ends. */
export async function newNamespace(t: TestContext, prefix = 'test'): Promise<string> {
  const { client } = await withCluster();
  const name = uniqueName(prefix);
  await client.create({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'test.cairn.dev/test': 'true' } },
  });
  t.after(async () => {
    await client.delete({ apiVersion: 'v1', kind: 'Namespace', name }).catch(() => {});
  });
  return name;
}

/**
 * A private control plane with its own ports and data folder, taken down when the test ends.
 * Tests that use one belong in a `*.serial.test.ts` file.
 */
export async function privateCluster(
  t: TestContext,
  options: Partial<ControlPlaneOptions> = {},
): Promise<ControlPlane> {
  const plane = await ControlPlane.up({ name: uniqueName('private'), nodes: 1, ...options });
  t.after(() => plane.down());
  return plane;
}

/** Waits for an object to satisfy a predicate; the error names the object and what was awaited. */
export async function waitForObject<T extends KubeObject>(
  client: KubeClient,
  ref: { apiVersion: string; kind: string; namespace?: string; name: string },
  what: string,
  predicate: (obj: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  return waitUntil(
    `${ref.kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name} ${what}`,
    async () => {
      const obj = await client.getOptional<T>(ref);
      return obj && predicate(obj) ? obj : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

interface GitServers {
  root: string;
  http: GitHttpServer;
  ssh?: GitSshServer;
}

let servers: Promise<GitServers> | undefined;

/** The git servers of this test process, started on first use and stopped when it exits. */
export function gitServers(): Promise<GitServers> {
  servers ??= (async () => {
    const root = await mkdtemp(join(tmpdir(), 'cairn-git-server-'));
    const http = await GitHttpServer.start({ root: join(root, 'repos') });
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
    return { root, http };
  })();
  return servers;
}

let sshServer: Promise<GitSshServer> | undefined;

/** The SSH git server of this test process, serving the same repositories as the HTTP one. */
export function gitSshServer(): Promise<GitSshServer> {
  sshServer ??= (async () => {
    const { root } = await gitServers();
    const ssh = await GitSshServer.start(join(root, 'ssh'));
    process.on('exit', () => ssh.killNow());
    return ssh;
  })();
  return sshServer;
}

export interface TestRepo {
  name: string;
  /** Absolute path of the bare repository. */
  path: string;
  /** Clone URL over smart HTTP. */
  httpUrl: string;
  /** Commit of the imported tree on `main`. */
  commit: string;
}

/** A fresh repository on the test git server holding a whole folder tree, committed on `main`. */
export async function gitRepoFrom(folder: string, name = uniqueName('repo')): Promise<TestRepo> {
  const { http } = await gitServers();
  const path = await createBareRepo(http.root, name);
  const commit = await commitFolder(path, folder);
  return { name, path, httpUrl: http.url(name), commit };
}

/** What `kubectl scale` does: a patch of the scale subresource by another field manager. */
export async function scaleDeployment(
  client: KubeClient,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  const path = await client.pathFor({ apiVersion: 'apps/v1', kind: 'Deployment', namespace, name }, 'scale');
  await client.request('PATCH', path, {
    body: { spec: { replicas } },
    contentType: 'application/merge-patch+json',
    query: { fieldManager: 'kubectl-scale' },
  });
}
