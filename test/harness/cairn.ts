// Helpers for tests of Cairn's own processes: install the CRDs, make a GitRepository and an
// Application, run `cairn controller`, act as a ServiceAccount of the install manifests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { customResourceDefinitions } from '../../src/api/crds.ts';
import { API_VERSION } from '../../src/api/types.ts';
import type { KubeClient } from '../../src/cluster/client.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { waitForObject } from './index.ts';
import { freePort } from './processes.ts';
import { REPO_ROOT } from './tools.ts';

const installed = new WeakMap<KubeClient, Promise<void>>();

/** Applies Cairn's CRDs (idempotent, once per client) and waits until they are served. */
export function installCrds(client: KubeClient): Promise<void> {
  let pending = installed.get(client);
  if (!pending) {
    pending = (async () => {
      for (const crd of customResourceDefinitions()) {
        await client.apply(crd, { fieldManager: 'cairn-install' });
        await waitForObject<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(
          client,
          {
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            name: crd.metadata.name!,
          },
          'to be established',
          (c) => !!c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'),
        );
      }
      client.discovery.invalidate();
    })();
    installed.set(client, pending);
  }
  return pending;
}

/** The GitRepository `repo` of a namespace, following `url`'s main branch every `interval`. */
export function gitRepository(namespace: string, url: string, interval = '1h'): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'repo', namespace },
    spec: { url, ref: { branch: 'main' }, interval },
  };
}

/**
 * The Application `web` of a namespace: the root of the GitRepository `repo`, applied into the
 * same namespace, looked at hourly; `automated` gives its sync policy (none: report only).
 */
export function webApplication(
  namespace: string,
  automated?: { prune?: boolean; selfHeal?: boolean },
  interval = '1h',
): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: 'web', namespace },
    spec: {
      source: { repositoryRef: { name: 'repo' }, path: '.' },
      destination: { namespace },
      interval,
      ...(automated ? { syncPolicy: { automated } } : {}),
    },
  };
}

export interface RunningController {
  process: ChildProcess;
  port: number;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  url(path: string): string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts `cairn controller` for one namespace as its own process; stopped when the test ends. */
export async function startController(
  t: TestContext,
  kubeconfig: string,
  namespace: string,
  extraArgs: string[] = [],
): Promise<RunningController> {
  const port = await freePort();
  const cache = await mkdtemp(join(tmpdir(), 'cairn-controller-cache-'));
  const child = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'cairn.js'),
      'controller',
      '--watch-namespace',
      namespace,
      '--listen',
      `127.0.0.1:${port}`,
      '--cache-dir',
      cache,
      '--allow-http-git',
      '--leader-election-namespace',
      namespace,
      ...extraArgs,
    ],
    { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ level: 'raw', msg: line });
      }
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running: RunningController = {
    process: child,
    port,
    logs,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  t.after(async () => {
    await running.kill();
    // Keep the controller's log where a failing run can be read afterwards.
    if (process.env.CAIRN_TEST_LOG_DIR) {
      const { writeFile: write } = await import('node:fs/promises');
      await write(
        join(process.env.CAIRN_TEST_LOG_DIR, `controller-${namespace}-${child.pid}.log`),
        logs.map((l) => JSON.stringify(l)).join('\n'),
      );
    }
    await rm(cache, { recursive: true, force: true });
  });
  return running;
}

/** Lets a namespace whose controller has stopped be deleted: drops Cairn's finalizers there. */
export async function releaseFinalizers(client: KubeClient, namespace: string): Promise<void> {
  const apps = await client
    .list('cairn.dev/v1alpha1', 'Application', { namespace })
    .catch(() => ({ items: [] as KubeObject[] }));
  for (const a of apps.items) {
    const path = await client.pathFor({
      apiVersion: 'cairn.dev/v1alpha1',
      kind: 'Application',
      namespace,
      name: a.metadata.name!,
    });
    await client
      .request('PATCH', path, {
        body: { metadata: { finalizers: null } },
        contentType: 'application/merge-patch+json',
      })
      .catch(() => {});
  }
}

/** A kubeconfig that acts as a ServiceAccount, with a token from the TokenRequest API; removed when the test ends. */
export async function serviceAccountKubeconfig(
  t: TestContext,
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<string> {
  const answer = await client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      },
    },
  );
  const dir = await mkdtemp(join(tmpdir(), 'cairn-sa-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'kubeconfig');
  await writeFile(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'test',
          cluster: {
            server: client.connection.server,
            'certificate-authority-data': Buffer.from(client.connection.ca ?? '').toString('base64'),
          },
        },
      ],
      users: [{ name, user: { token: answer.status.token } }],
      contexts: [{ name: 'test', context: { cluster: 'test', user: name } }],
      'current-context': 'test',
    }),
    { mode: 0o600 },
  );
  return file;
}
