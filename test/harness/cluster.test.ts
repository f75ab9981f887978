// The shared test cluster behaves as a real one where Cairn depends on it: workloads roll out,
// pods fail or stay unready on request, addresses get published, RBAC is enforced, and every
// request lands in the audit log.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { KubeClient, isForbidden } from '../../src/cluster/client.ts';
import { loadKubeconfig } from '../../src/cluster/kubeconfig.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { isNodeReady } from './controlplane.ts';
import { newNamespace, waitForObject, withCluster } from './index.ts';
import { run } from './processes.ts';

interface Conditioned {
  status?: { conditions?: { type: string; status: string }[]; [k: string]: unknown };
}
const condition = (obj: Conditioned, type: string) =>
  obj.status?.conditions?.find((c) => c.type === type)?.status;

test('a 3-replica Deployment becomes available', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  await client.apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    },
  });
  const deployment = await waitForObject<KubeObject & { status?: { availableReplicas?: number } }>(
    client,
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'web' },
    'to have 3 available replicas',
    (d) => d.status?.availableReplicas === 3,
  );
  assert.equal(deployment.status?.availableReplicas, 3);
  const pods = await client.list('v1', 'Pod', { namespace: ns, labelSelector: 'app=web' });
  assert.equal(pods.items.length, 3);
  for (const pod of pods.items) assert.equal(condition(pod as Conditioned, 'Ready'), 'True');
});

test('a Job runs to Complete', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  await client.apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'migrate', namespace: ns },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'busybox' }] } },
    },
  });
  const job = await waitForObject<KubeObject & Conditioned>(
    client,
    { apiVersion: 'batch/v1', kind: 'Job', namespace: ns, name: 'migrate' },
    'to complete',
    (j) => condition(j, 'Complete') === 'True',
  );
  assert.equal(condition(job, 'Failed'), undefined);
});

test('a pod annotated to fail fails, one annotated not-ready runs without becoming Ready', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  const pod = (name: string, annotations: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, annotations },
    spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'busybox' }] },
  });
  await client.apply(pod('doomed', { 'test.cairn.dev/fail': 'true' }));
  await client.apply(pod('stuck', { 'test.cairn.dev/not-ready': 'true' }));
  await client.apply(pod('fine', {}));

  type Pod = KubeObject & { status?: { phase?: string } } & Conditioned;
  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', namespace: ns, name });
  const failed = await waitForObject<Pod>(
    client,
    ref('doomed'),
    'to fail',
    (p) => p.status?.phase === 'Failed',
  );
  assert.equal(condition(failed, 'Ready'), 'False');

  const stuck = await waitForObject<Pod>(
    client,
    ref('stuck'),
    'to run',
    (p) => p.status?.phase === 'Running',
  );
  assert.equal(condition(stuck, 'Ready'), 'False');

  // The healthy pod is handled by the same KWOK controller: once it is Ready, the unready one
  // has had the same chance and is still not Ready.
  await waitForObject<Pod>(client, ref('fine'), 'to be Ready', (p) => condition(p, 'Ready') === 'True');
  const still = await client.get<Pod>(ref('stuck'));
  assert.equal(still.status?.phase, 'Running');
  assert.equal(condition(still, 'Ready'), 'False');
});

test('an Ingress and a LoadBalancer Service get an address', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  await client.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'front', namespace: ns },
    spec: { type: 'LoadBalancer', selector: { app: 'front' }, ports: [{ port: 80 }] },
  });
  await client.apply({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'front', namespace: ns },
    spec: {
      rules: [
        {
          host: 'front.example.test',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'front', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
  type Published = KubeObject & { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } };
  const address = (o: Published) => o.status?.loadBalancer?.ingress?.[0]?.ip;
  const service = await waitForObject<Published>(
    client,
    { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'front' },
    'to get an address',
    (s) => !!address(s),
  );
  const ingress = await waitForObject<Published>(
    client,
    { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: ns, name: 'front' },
    'to get an address',
    (i) => !!address(i),
  );
  assert.equal(address(service), '127.0.0.1');
  assert.equal(address(ingress), '127.0.0.1');
});

test('a ClusterIP Service gets no load-balancer address', async (t) => {
  const { client } = await withCluster();
  const ns = await newNamespace(t);
  await client.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'inner', namespace: ns },
    spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
  });
  // A LoadBalancer Service applied after it is handled by the same controller; once it has an
  // address, the ClusterIP one has had its chance.
  await client.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'outer', namespace: ns },
    spec: { type: 'LoadBalancer', selector: { app: 'x' }, ports: [{ port: 80 }] },
  });
  await waitForObject<KubeObject & { status?: { loadBalancer?: { ingress?: unknown[] } } }>(
    client,
    { apiVersion: 'v1', kind: 'Service', namespace: ns, name: 'outer' },
    'to get an address',
    (s) => !!s.status?.loadBalancer?.ingress?.length,
  );
  const inner = await client.get<KubeObject & { status?: { loadBalancer?: { ingress?: unknown[] } } }>({
    apiVersion: 'v1',
    kind: 'Service',
    namespace: ns,
    name: 'inner',
  });
  assert.equal(inner.status?.loadBalancer?.ingress, undefined);
});

test('the restricted user may not create a ClusterRole, the admin may', async (t) => {
  const { client, restrictedKubeconfig } = await withCluster();
  const restricted = new KubeClient((await loadKubeconfig(restrictedKubeconfig)).connection);
  t.after(() => restricted.close());
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: `test-denied-${Date.now()}` },
    rules: [],
  };
  await assert.rejects(restricted.create(role), (e: unknown) => {
    assert.ok(isForbidden(e), `expected 403 Forbidden, got ${String(e)}`);
    assert.match((e as Error).message, /developer/);
    return true;
  });
  // The same request as cluster-admin succeeds, so the refusal was authorization, not the request.
  await client.create(role, { dryRun: true });
});

test('the nodes are Ready and carry the usual labels', async () => {
  const { client, plane } = await withCluster();
  const nodes = await client.list('v1', 'Node');
  const ready = nodes.items.filter(isNodeReady);
  assert.ok(
    ready.length >= plane.options.nodes,
    `expected ${plane.options.nodes} Ready nodes, found ${ready.length}`,
  );
  for (const node of ready) {
    const labels = node.metadata.labels ?? {};
    assert.equal(labels['kubernetes.io/os'], 'linux');
    assert.equal(labels['kubernetes.io/arch'], 'amd64');
    assert.equal(labels['kubernetes.io/hostname'], node.metadata.name);
    const pods = (node.status as { allocatable?: { pods?: string } }).allocatable?.pods ?? '';
    assert.equal(decimalQuantity(pods), plane.options.podsPerNode, `allocatable pods ${pods}`);
  }
});

test('kubectl with the printed KUBECONFIG lists the Ready nodes', async () => {
  const { plane } = await withCluster();
  const envLines = await run(process.execPath, ['test/harness/cluster-cli.ts', 'env', '--name', plane.name]);
  const kubeconfig = /^export KUBECONFIG=(.+)$/m.exec(envLines)?.[1];
  assert.ok(kubeconfig, `no KUBECONFIG line in: ${envLines}`);
  const stdout = await run('kubectl', ['get', 'nodes', '-o', 'json'], { env: { KUBECONFIG: kubeconfig } });
  const nodes = (JSON.parse(stdout) as { items: KubeObject[] }).items;
  assert.ok(nodes.filter(isNodeReady).length >= 3);
});

test('the audit log records each request with its user and verb', async (t) => {
  const { client, plane } = await withCluster();
  const ns = await newNamespace(t, 'audited');
  await client.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'marker', namespace: ns },
    data: { a: '1' },
  });
  const events = await waitForAudit(
    plane.auditLog,
    (e) => e.objectRef?.namespace === ns && e.objectRef?.name === 'marker',
  );
  const patch = events.find((e) => e.verb === 'patch');
  assert.ok(patch, 'the server-side apply is recorded as a patch');
  assert.equal(patch.user?.username, 'cairn-admin');
  assert.equal(patch.responseStatus?.code, 201);
});

/** A whole-number quantity as the API server writes it back ("1k" for 1000). */
function decimalQuantity(q: string): number {
  const m = /^(\d+)(k|M|G)?$/.exec(q);
  if (!m) throw new Error(`not a decimal quantity: ${q}`);
  return Number(m[1]) * { '': 1, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? '']!;
}

interface AuditEvent {
  verb?: string;
  user?: { username?: string };
  objectRef?: { namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

async function waitForAudit(file: string, match: (e: AuditEvent) => boolean): Promise<AuditEvent[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const events = lines.map((l) => JSON.parse(l) as AuditEvent).filter(match);
    if (events.length > 0 || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 200));
  }
}
