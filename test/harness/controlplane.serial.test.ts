// Tests that start private control planes or stop components: run one file at a time.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlPlane, defaultControlPlaneOptions, isNodeReady } from './controlplane.ts';
import { privateCluster, uniqueName, waitUntil } from './index.ts';
import { run } from './processes.ts';
import { REPO_ROOT } from './tools.ts';

const CLI = join(REPO_ROOT, 'test', 'harness', 'cluster-cli.ts');

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 600_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Pids of processes whose command line mentions `needle` (an instance folder). */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('a private instance: the API server stops, serves again after start, and keeps its data', async (t) => {
  const plane = await privateCluster(t);
  const client = await plane.client();
  t.after(() => client.close());
  const marker = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'survivor', namespace: 'default' },
    data: { kept: 'yes' },
  };
  await client.apply(marker);

  await plane.stop('apiserver');
  assert.equal((await plane.status()).components.apiserver, 'stopped');
  await assert.rejects(
    client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'survivor' }),
    /ECONNREFUSED|failed/,
  );

  await plane.start('apiserver');
  const back = await waitUntil(
    'the API server to serve again',
    () => client.getOptional({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'survivor' }),
    { timeoutMs: 60_000 },
  );
  assert.deepEqual(back.data, { kept: 'yes' });
});

test('cluster up via the CLI gives 3 Ready nodes to kubectl, and down leaves no process behind', async () => {
  const name = uniqueName('cli');
  const dir = ControlPlane.dirOf({ ...defaultControlPlaneOptions(), name });
  const up = await cli(['up', '--name', name]);
  try {
    assert.equal(up.code, 0, up.stderr);
    const kubeconfig = /^export KUBECONFIG=(.+)$/m.exec(up.stdout)?.[1];
    assert.ok(kubeconfig, `up printed no KUBECONFIG line: ${up.stdout}`);
    const stdout = await run('kubectl', ['get', 'nodes', '-o', 'json'], { env: { KUBECONFIG: kubeconfig } });
    const nodes = (
      JSON.parse(stdout) as {
        items: { metadata: { name: string }; status?: unknown; apiVersion: string; kind: string }[];
      }
    ).items;
    assert.ok(nodes.filter((n) => isNodeReady(n as never)).length >= 3);
    const status = await cli(['status', '--name', name, '-o', 'json']);
    assert.equal(status.code, 0);
    assert.equal((JSON.parse(status.stdout) as { readyNodes: number }).readyNodes, 3);
    assert.ok(processesMentioning(dir).length >= 5, 'the five components run from the instance folder');
  } finally {
    const down = await cli(['down', '--name', name]);
    assert.equal(down.code, 0, down.stderr);
  }
  assert.deepEqual(processesMentioning(dir), [], 'no process of the instance is left');
  const again = await cli(['status', '--name', name]);
  assert.notEqual(again.code, 0);
});

test('cluster up on a port already in use says which port and why, and starts nothing', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const name = uniqueName('taken');
  const result = await cli(['up', '--name', name, '--port', String(port)]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, new RegExp(`port ${port} \\(for kube-apiserver\\) is already in use`));
  assert.deepEqual(processesMentioning(ControlPlane.dirOf({ ...defaultControlPlaneOptions(), name })), []);
});

test('cluster up when a build fails names the tool and shows why, and exits non-zero', async (t) => {
  const tools = await mkdtemp(join(tmpdir(), 'cairn-broken-tools-'));
  t.after(() => rm(tools, { recursive: true, force: true }));
  await cp(join(REPO_ROOT, 'tools'), tools, { recursive: true });
  const gomod = join(tools, 'k8s', 'go.mod');
  await writeFile(gomod, `${await readFile(gomod, 'utf8')}\nthis is not a go.mod directive\n`);
  const cache = join(tools, 'cache');
  const result = await cli(['up', '--name', uniqueName('broken')], {
    CAIRN_TOOLS_SRC: tools,
    CAIRN_TOOLS_CACHE: cache,
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /building k8s(, [a-z]+)* failed/);
  assert.match(result.stderr, /go\.mod/);
});

test('cluster CLI refuses unknown commands and bad numbers with usage errors', async () => {
  const unknown = await cli(['launch']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "launch"/);
  const bad = await cli(['up', '--nodes', 'three']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--nodes must be a positive whole number, got "three"/);
});
