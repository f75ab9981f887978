// Cairn at scale on a private control plane: Applications of 20 objects, each in its own
// namespace, all served from one Git repository (a folder per Application).
//   S0 ceiling: the same objects by a tight parallel server-side-apply client and by kubectl
//   S1 initial sync until every Application is Synced and Healthy (100, 300, 1,000; --quick: 100)
//   S2 idle: controller CPU, RSS and API requests with nothing changing (10 min; --quick: 2)
//   S4 drift: an external scale until its revert (100 samples; --quick: 20)
//   S5 push to applied through the webhook (50 samples; --quick: 10)
//   S7 restart: time until ready again, and writes made
// CAIRN_BENCH_SIZES=1000 and CAIRN_BENCH_IDLE_MINUTES=2 choose the sizes and the idle time.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { API_VERSION, type Application } from '../src/api/types.ts';
import type { KubeClient } from '../src/cluster/client.ts';
import type { KubeObject } from '../src/cluster/objects.ts';
import { installCrds } from '../test/harness/cairn.ts';
import type { ControlPlane } from '../test/harness/controlplane.ts';
import { GitHttpServer, createBareRepo, git, initAndCommit } from '../test/harness/git-server.ts';
import { freePort, run, waitUntil } from '../test/harness/processes.ts';
import { REPO_ROOT } from '../test/harness/tools.ts';
import { mapLimit } from '../src/limit.ts';
import { compiledCairn, freshPlane, percentile, type Measurement, type Scenario } from './harness.ts';
import { OBJECTS_PER_APP, appObjects } from './workload.ts';

const CONCURRENCY = 8;
/** Requests the S0 client keeps in flight. */
const CEILING_PARALLEL = 32;

function appName(i: number): string {
  return `app-${String(i).padStart(4, '0')}`;
}

/** CPU seconds, RSS and peak RSS of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMiB: number; peakRssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return {
    cpuSeconds: ticks / 100,
    rssMiB: (rssPages * 4096) / 2 ** 20,
    peakRssMiB: Number(hwm?.[1] ?? 0) / 1024,
  };
}

/** CPU seconds each control-plane process (etcd, kube-apiserver, ...) has used so far, by name. */
function planeCpu(plane: ControlPlane): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pid of plane.runningPids()) {
    const name = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    out[name] = (out[name] ?? 0) + processUsage(pid).cpuSeconds;
  }
  return out;
}

/** What each control-plane process used between two readings, largest first, for a note. */
function planeCpuText(before: Record<string, number>, after: Record<string, number>): string {
  const used = Object.entries(after).map(([name, s]) => [name, s - (before[name] ?? 0)] as const);
  const total = used.reduce((sum, [, s]) => sum + s, 0);
  return `control plane ${total.toFixed(1)} CPU-s (${used
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(1)}`)
    .join(', ')})`;
}

/** Requests the controller's client has sent so far, from its /metrics. */
async function clientRequests(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^cairn_api_requests_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

/** Count and total seconds of the controller's GitRepository fetches so far, from its /metrics. */
async function fetchTotals(port: number): Promise<{ count: number; seconds: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const sum = (name: string) =>
    [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce((t, m) => t + Number(m[1]), 0);
  return {
    count: sum('cairn_git_fetch_duration_seconds_count'),
    seconds: sum('cairn_git_fetch_duration_seconds_sum'),
  };
}

interface AuditCount {
  writes: number;
  /** Writes by `verb resource`, for the notes. */
  byKind: Record<string, number>;
  leaseAndEventWrites: number;
  requests: number;
}

/** Requests made by Cairn (user agent `cairn`) recorded in the audit log after `fromLine`. */
async function auditSince(file: string, fromLine: number): Promise<{ count: AuditCount; lines: number }> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  const count: AuditCount = { writes: 0, byKind: {}, leaseAndEventWrites: 0, requests: 0 };
  for (const l of lines.slice(fromLine)) {
    const e = JSON.parse(l) as { verb: string; userAgent?: string; objectRef?: { resource?: string } };
    if (e.userAgent !== 'cairn') continue;
    count.requests++;
    if (!['create', 'update', 'patch', 'delete'].includes(e.verb)) continue;
    if (e.objectRef?.resource === 'leases' || e.objectRef?.resource === 'events') count.leaseAndEventWrites++;
    else {
      count.writes++;
      const kind = `${e.verb} ${e.objectRef?.resource ?? '?'}${(e.objectRef as { subresource?: string } | undefined)?.subresource ? `/${(e.objectRef as { subresource?: string }).subresource}` : ''}`;
      count.byKind[kind] = (count.byKind[kind] ?? 0) + 1;
    }
  }
  return { count, lines: lines.length };
}

async function auditLines(file: string): Promise<number> {
  return (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;
}

interface Fleet {
  plane: ControlPlane;
  client: KubeClient;
  git: GitHttpServer;
  work: string;
  controller?: ChildProcess;
  port: number;
  cache: string;
  /** The compiled `cairn` the controller runs from. */
  cairn: string;
}

/**
 * CAIRN_BENCH_PROFILE=DIR writes a CPU profile of each controller run into DIR (for the summary of
 * where the time goes); CAIRN_BENCH_CONTROLLER_LOG=FILE appends its debug-level log to FILE.
 */
function startController(fleet: Fleet): ChildProcess {
  const profile = process.env.CAIRN_BENCH_PROFILE;
  const logFile = process.env.CAIRN_BENCH_CONTROLLER_LOG;
  const child = spawn(
    process.execPath,
    [
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
      fleet.cairn,
      'controller',
      '--listen',
      `127.0.0.1:${fleet.port}`,
      '--leader-election-namespace',
      'cairn-system',
      '--cache-dir',
      fleet.cache,
      '--allow-http-git',
      '--concurrency',
      String(CONCURRENCY),
      '--log-level',
      logFile ? 'debug' : 'warn',
    ],
    {
      env: {
        ...process.env,
        KUBECONFIG: fleet.plane.kubeconfig,
        PATH: `${fleet.plane.binPath}:${process.env.PATH}`,
      },
      stdio: [
        'ignore',
        logFile ? openSync(logFile, 'a') : 'ignore',
        logFile ? openSync(logFile, 'a') : 'ignore',
      ],
    },
  );
  fleet.controller = child;
  // A benchmark stopped midway must not leave a controller behind (it would act on the next run).
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  return child;
}

async function stopController(fleet: Fleet): Promise<void> {
  const child = fleet.controller;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function applications(client: KubeClient): Promise<(Application & KubeObject)[]> {
  return (
    await client.list<Application & KubeObject>(API_VERSION, 'Application', { namespace: 'cairn-system' })
  ).items;
}

/** The control plane of every scale run: no request limits in the API server, room for the pods. */
const PLANE = {
  unlimited: true,
  nodes: 3,
  podsPerNode: 1000,
  controllerManagerQps: 300,
  schedulerQps: 300,
} as const;

export const SCALE_SETTINGS = {
  'API server': 'API priority and fairness off, max-requests-inflight 0 (no limit)',
  'controller-manager': `--kube-api-qps ${PLANE.controllerManagerQps}, burst ${PLANE.controllerManagerQps * 2}`,
  scheduler: `qps ${PLANE.schedulerQps}, burst ${PLANE.schedulerQps * 2}`,
  nodes: `${PLANE.nodes} KWOK nodes, ${PLANE.podsPerNode} pods each`,
  'Cairn client': 'no QPS limit, up to 32 connections',
  'Cairn controller': `compiled to JavaScript as in the image; --concurrency ${CONCURRENCY}, Application and GitRepository interval 1h, receiver webhook`,
  'S0 client': `${CEILING_PARALLEL} server-side applies in flight`,
};

async function setUp(count: number, cairn: string, log: (l: string) => void): Promise<Fleet> {
  const plane = await freshPlane({ name: `bench-scale-${count}`, ...PLANE }, log);
  const client = await plane.client();
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-scale-'));
  const tree = join(work, 'tree');
  for (let i = 0; i < count; i++) {
    await mkdir(join(tree, appName(i)), { recursive: true });
    await writeFile(
      join(tree, appName(i), 'objects.yaml'),
      appObjects(appName(i))
        .map((o) => stringify(o))
        .join('---\n'),
    );
  }
  await initAndCommit(tree, `${count} applications`);
  const gitServer = await GitHttpServer.start({ root: join(work, 'git') });
  const bare = await createBareRepo(gitServer.root, 'fleet');
  await git(['push', '--quiet', bare, 'HEAD:refs/heads/main'], { cwd: tree });
  await installCrds(client);
  const namespaces = ['cairn-system', ...Array.from({ length: count }, (_, i) => appName(i))];
  await mapLimit(namespaces, 16, (ns) =>
    client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
  );
  await client.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'hook', namespace: 'cairn-system' },
    stringData: { token: 'bench-hook-token' },
  });
  await client.apply({
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: 'fleet', namespace: 'cairn-system' },
    spec: { url: gitServer.url('fleet'), interval: '1h' },
  });
  await client.apply({
    apiVersion: API_VERSION,
    kind: 'Receiver',
    metadata: { name: 'push', namespace: 'cairn-system' },
    spec: {
      type: 'generic-hmac',
      secretRef: { name: 'hook' },
      resources: [{ kind: 'GitRepository', name: 'fleet' }],
    },
  });
  await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    (i) =>
      client.apply({
        apiVersion: API_VERSION,
        kind: 'Application',
        metadata: { name: appName(i), namespace: 'cairn-system' },
        spec: {
          source: { repositoryRef: { name: 'fleet' }, path: appName(i) },
          destination: { namespace: appName(i) },
          interval: '1h',
          syncPolicy: { automated: { prune: true, selfHeal: true } },
        },
      }),
  );
  return { plane, client, git: gitServer, work, port: await freePort(), cache: join(work, 'cache'), cairn };
}

async function tearDown(fleet: Fleet): Promise<void> {
  await stopController(fleet);
  await fleet.git.stop();
  fleet.client.close();
  await fleet.plane.down();
  await rm(fleet.work, { recursive: true, force: true });
}

interface Ceiling {
  /** Parallel server-side apply: seconds until every request returned, and until every Deployment was available. */
  applied: number;
  healthy: number;
  kubectlApplied: number;
  kubectlHealthy: number;
  requests: number;
  /** CPU used until available, by the control plane's processes and by the client. */
  cpu: string;
}

/** Seconds until every Deployment in namespaces starting with `prefix` has all its replicas available. */
async function untilAvailable(
  client: KubeClient,
  prefix: string,
  count: number,
  t0: number,
): Promise<number> {
  await waitUntil(
    `${count} Deployments available`,
    async () => {
      const list = await client.list<KubeObject & { status?: { availableReplicas?: number } }>(
        'apps/v1',
        'Deployment',
      );
      return (
        list.items.filter(
          (d) => d.metadata.namespace?.startsWith(prefix) && d.status?.availableReplicas === 2,
        ).length === count
      );
    },
    { timeoutMs: 30 * 60_000, intervalMs: 500 },
  );
  return (performance.now() - t0) / 1000;
}

/**
 * S0: the same objects applied by a tight client (server-side apply, many requests in flight)
 * and by `kubectl apply --server-side`, each into namespaces of its own, on a control plane
 * set up as the one Cairn is measured on. Nothing else runs meanwhile.
 */
async function ceiling(count: number, log: (l: string) => void): Promise<Ceiling> {
  // Room for both sets of pods; otherwise the same flags as the plane Cairn is measured on.
  const plane = await freshPlane(
    { name: `bench-ceiling-${count}`, ...PLANE, podsPerNode: 2 * PLANE.podsPerNode },
    log,
  );
  const client = await plane.client();
  const work = await mkdtemp(join(tmpdir(), 'cairn-bench-ceiling-'));
  try {
    const names = Array.from({ length: count }, (_, i) => appName(i));
    await mapLimit([...names.map((n) => `tight-${n}`), ...names.map((n) => `kubectl-${n}`)], 16, (ns) =>
      client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }),
    );
    const objects = names.flatMap((n) => appObjects(n, `tight-${n}`));
    const before = client.requestCount;
    const cpuBefore = planeCpu(plane);
    const clientBefore = process.cpuUsage();
    const t0 = performance.now();
    await mapLimit(objects, CEILING_PARALLEL, (o) => client.apply(o, { fieldManager: 'bench-ceiling' }));
    const applied = (performance.now() - t0) / 1000;
    const requests = client.requestCount - before;
    const healthy = await untilAvailable(client, 'tight-', count, t0);
    const clientCpu = process.cpuUsage(clientBefore);
    const cpu = `${planeCpuText(cpuBefore, planeCpu(plane))}; client ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} CPU-s`;
    log(`S0 parallel apply: ${applied.toFixed(1)} s applied, ${healthy.toFixed(1)} s available; ${cpu}`);

    const file = join(work, 'objects.yaml');
    await writeFile(
      file,
      names
        .flatMap((n) => appObjects(n, `kubectl-${n}`))
        .map((o) => stringify(o))
        .join('---\n'),
    );
    const t1 = performance.now();
    await run('kubectl', ['apply', '--server-side', '-f', file], {
      env: { ...process.env, KUBECONFIG: plane.kubeconfig, PATH: `${plane.binPath}:${process.env.PATH}` },
      timeoutMs: 30 * 60_000,
    });
    const kubectlApplied = (performance.now() - t1) / 1000;
    const kubectlHealthy = await untilAvailable(client, 'kubectl-', count, t1);
    log(`S0 kubectl: ${kubectlApplied.toFixed(1)} s applied, ${kubectlHealthy.toFixed(1)} s available`);
    return { applied, healthy, kubectlApplied, kubectlHealthy, requests, cpu };
  } finally {
    client.close();
    await plane.down();
    await rm(work, { recursive: true, force: true });
  }
}

const allSynced = (apps: Application[], count: number) =>
  apps.length === count &&
  apps.every((a) => a.status?.sync?.status === 'Synced' && a.status?.health?.status === 'Healthy');

export const scaleScenario: Scenario = {
  name: 'scale',
  summary:
    'S0 apply ceiling, S1 initial sync, S2 idle, S4 drift, S5 push to applied, S7 restart; Applications of 20 objects',
  settings: SCALE_SETTINGS,
  async run({ quick, log }) {
    const out: Measurement[] = [];
    const sizes = process.env.CAIRN_BENCH_SIZES
      ? process.env.CAIRN_BENCH_SIZES.split(',').map(Number)
      : quick
        ? [100]
        : [100, 300, 1000];
    const cairn = await compiledCairn(REPO_ROOT);
    try {
      for (const count of sizes) {
        const last = count === sizes.at(-1);
        const objects = count * OBJECTS_PER_APP;
        // CAIRN_BENCH_SKIP_CEILING=1 leaves S0 out (a diagnostic run of the controller alone).
        const s0 = process.env.CAIRN_BENCH_SKIP_CEILING
          ? { applied: NaN, healthy: NaN, kubectlApplied: NaN, kubectlHealthy: NaN, requests: NaN, cpu: '' }
          : await ceiling(count, log);
        out.push(
          {
            scenario: 'scale',
            name: `S0 parallel server-side apply, ${count} apps (${objects} objects)`,
            value: s0.healthy,
            unit: 's',
            note: `to available; applied in ${s0.applied.toFixed(1)} s (${(objects / s0.applied).toFixed(0)} objects/s), ${s0.requests} requests; ${s0.cpu}`,
          },
          {
            scenario: 'scale',
            name: `S0 kubectl apply --server-side, ${count} apps`,
            value: s0.kubectlHealthy,
            unit: 's',
            note: `to available; applied in ${s0.kubectlApplied.toFixed(1)} s (${(objects / s0.kubectlApplied).toFixed(0)} objects/s)`,
          },
        );
        const fleet = await setUp(count, cairn, log);
        try {
          // S1: from the controller's start until every Application is Synced and Healthy.
          const cpuBefore = planeCpu(fleet.plane);
          const started = performance.now();
          const child = startController(fleet);
          await waitUntil(
            `${count} Applications to be Synced and Healthy`,
            async () => allSynced(await applications(fleet.client), count),
            { timeoutMs: 30 * 60_000, intervalMs: 1000 },
          );
          const seconds = (performance.now() - started) / 1000;
          const usage = processUsage(child.pid!);
          const sent = await clientRequests(fleet.port);
          const audited = await auditSince(fleet.plane.auditLog, 0);
          const s1Cpu = planeCpuText(cpuBefore, planeCpu(fleet.plane));
          log(
            `S1 ${count} applications: ${seconds.toFixed(1)} s; ${s1Cpu}; controller ${usage.cpuSeconds.toFixed(1)} CPU-s`,
          );
          log(
            `S1 writes by kind: ${Object.entries(audited.count.byKind)
              .sort((a, b) => b[1] - a[1])
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')}`,
          );
          out.push(
            {
              scenario: 'scale',
              name: `S1 initial sync, ${count} apps (${objects} objects)`,
              value: seconds,
              unit: 's',
              note: `${(objects / seconds).toFixed(0)} objects/s to Synced and Healthy; controller ${usage.cpuSeconds.toFixed(1)} CPU-s, peak RSS ${usage.peakRssMiB.toFixed(0)} MiB; ${sent} API requests (audit log: ${audited.count.requests}); ${s1Cpu}`,
            },
            {
              scenario: 'scale',
              name: `S1 against S0, ${count} apps`,
              value: (s0.healthy / seconds) * 100,
              unit: '%',
              note: `objects/s to Healthy: Cairn ${(objects / seconds).toFixed(0)}, parallel apply ${(objects / s0.healthy).toFixed(0)}, kubectl ${(objects / s0.kubectlHealthy).toFixed(0)}`,
            },
          );
          if (!last) continue;

          // S2: nothing changes.
          const idleMs = Number(process.env.CAIRN_BENCH_IDLE_MINUTES ?? (quick ? 2 : 10)) * 60_000;
          await new Promise((r) => setTimeout(r, 20_000)); // let health settle first
          const before = processUsage(child.pid!);
          const auditStart = await auditLines(fleet.plane.auditLog);
          await new Promise((r) => setTimeout(r, idleMs));
          const after = processUsage(child.pid!);
          const idle = await auditSince(fleet.plane.auditLog, auditStart);
          const minutes = idleMs / 60_000;
          out.push(
            {
              scenario: 'scale',
              name: `S2 idle CPU, ${count} apps`,
              value: ((after.cpuSeconds - before.cpuSeconds) / (idleMs / 1000)) * 1000,
              unit: 'millicores',
              note: `over ${minutes} min`,
            },
            { scenario: 'scale', name: `S2 idle RSS, ${count} apps`, value: after.rssMiB, unit: 'MiB' },
            {
              scenario: 'scale',
              name: `S2 idle API requests, ${count} apps`,
              value: idle.count.requests / minutes,
              unit: 'requests/min',
              note: `writes to managed objects or Cairn's resources: ${idle.count.writes}; Lease and Event writes: ${idle.count.leaseAndEventWrites}`,
            },
          );
          log(
            `S2 idle: ${(((after.cpuSeconds - before.cpuSeconds) / (idleMs / 1000)) * 1000).toFixed(1)} mCPU, ${after.rssMiB.toFixed(0)} MiB, ${idle.count.writes} writes`,
          );

          // S4: drift, an external scale until its revert, seen through a watch.
          const drift: number[] = [];
          for (let i = 0; i < (quick ? 20 : 100); i++) {
            const ns = appName(i % count);
            const path = await fleet.client.pathFor(
              { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: ns },
              'scale',
            );
            const t0 = performance.now();
            await fleet.client.request('PATCH', path, {
              body: { spec: { replicas: 3 } },
              contentType: 'application/merge-patch+json',
              query: { fieldManager: 'kubectl-scale' },
            });
            await waitUntil(
              'the revert',
              async () =>
                (
                  await fleet.client.get<KubeObject & { spec: { replicas: number } }>({
                    apiVersion: 'apps/v1',
                    kind: 'Deployment',
                    namespace: ns,
                    name: ns,
                  })
                ).spec.replicas === 2,
              { timeoutMs: 60_000, intervalMs: 10 },
            );
            drift.push(performance.now() - t0);
          }
          out.push(
            {
              scenario: 'scale',
              name: 'S4 drift to revert, p50',
              value: percentile(drift, 50),
              unit: 'ms',
              note: `${drift.length} samples, polled every 10 ms`,
            },
            { scenario: 'scale', name: 'S4 drift to revert, p95', value: percentile(drift, 95), unit: 'ms' },
          );

          // S5: push to applied through the webhook.
          const receiver = await waitUntil(
            'the Receiver path',
            async () =>
              (
                await fleet.client.get<KubeObject & { status?: { webhookPath?: string } }>({
                  apiVersion: API_VERSION,
                  kind: 'Receiver',
                  namespace: 'cairn-system',
                  name: 'push',
                })
              ).status?.webhookPath,
            { timeoutMs: 60_000 },
          );
          const clone = join(fleet.work, 'clone');
          await git(['clone', '--quiet', fleet.git.url('fleet'), clone]);
          const push: number[] = [];
          const fetchesBefore = await fetchTotals(fleet.port);
          for (let i = 0; i < (quick ? 10 : 50); i++) {
            const app = appName(i % count);
            const file = join(clone, app, 'objects.yaml');
            await writeFile(
              file,
              (await readFile(file, 'utf8')).replace(/index: "0"|index: 0-\d+/, `index: 0-${i}`),
            );
            await git(
              [
                '-c',
                'user.name=b',
                '-c',
                'user.email=b@cairn.dev',
                'commit',
                '--quiet',
                '-am',
                `sample ${i}`,
              ],
              { cwd: clone },
            );
            await git(['push', '--quiet', 'origin', 'HEAD:main'], { cwd: clone });
            const t0 = performance.now();
            const body = JSON.stringify({ ref: 'refs/heads/main' });
            const res = await fetch(`http://127.0.0.1:${fleet.port}${receiver}`, {
              method: 'POST',
              body,
              headers: {
                'x-signature': `sha256=${createHmac('sha256', 'bench-hook-token').update(body).digest('hex')}`,
              },
            });
            if (res.status !== 202) throw new Error(`webhook answered ${res.status}`);
            await waitUntil(
              'the pushed value',
              async () =>
                (
                  await fleet.client.get<KubeObject & { data?: Record<string, string> }>({
                    apiVersion: 'v1',
                    kind: 'ConfigMap',
                    namespace: app,
                    name: `${app}-config-0`,
                  })
                ).data?.index === `0-${i}`,
              { timeoutMs: 60_000, intervalMs: 10 },
            );
            push.push(performance.now() - t0);
            log(`S5 sample ${i}: ${push.at(-1)!.toFixed(0)} ms`);
          }
          const fetchesAfter = await fetchTotals(fleet.port);
          const fetchMs =
            ((fetchesAfter.seconds - fetchesBefore.seconds) / (fetchesAfter.count - fetchesBefore.count)) *
            1000;
          out.push(
            {
              scenario: 'scale',
              name: 'S5 push to applied, p50',
              value: percentile(push, 50),
              unit: 'ms',
              note: `${push.length} samples, webhook to the object changed; slowest ${Math.max(...push).toFixed(0)} ms; GitRepository fetch ${fetchMs.toFixed(0)} ms on average`,
            },
            { scenario: 'scale', name: 'S5 push to applied, p95', value: percentile(push, 95), unit: 'ms' },
          );

          // S7: restart with nothing changed, once every Application has caught up with the last push.
          const head = (await git(['rev-parse', 'HEAD'], { cwd: clone })).trim();
          await waitUntil(
            'every Application to be synced at the last push',
            async () =>
              (await applications(fleet.client)).every(
                (a) => a.status?.sync?.revision === head && a.status?.sync?.status === 'Synced',
              ),
            { timeoutMs: 10 * 60_000, intervalMs: 1000 },
          );
          await new Promise((r) => setTimeout(r, 5000));
          await stopController(fleet);
          const restartAudit = await auditLines(fleet.plane.auditLog);
          const t0 = performance.now();
          startController(fleet);
          await waitUntil(
            'the restarted controller to be ready',
            async () =>
              (await fetch(`http://127.0.0.1:${fleet.port}/readyz`).catch(() => undefined))?.status === 200,
            { timeoutMs: 120_000, intervalMs: 50 },
          );
          const ready = performance.now() - t0;
          await new Promise((r) => setTimeout(r, 30_000)); // let it reconcile everything once
          const restart = await auditSince(fleet.plane.auditLog, restartAudit);
          out.push(
            {
              scenario: 'scale',
              name: `S7 restart to ready, ${count} apps`,
              value: ready / 1000,
              unit: 's',
              note: 'process start to /readyz 200 (caches synced)',
            },
            {
              scenario: 'scale',
              name: 'S7 writes after restart',
              value: restart.count.writes,
              unit: 'writes',
              note: `to managed objects or Cairn's resources in 30 s ${JSON.stringify(restart.count.byKind)}; Lease and Event writes: ${restart.count.leaseAndEventWrites}`,
            },
          );
        } finally {
          await tearDown(fleet);
        }
      }
    } finally {
      await rm(dirname(dirname(cairn)), { recursive: true, force: true });
    }
    return out;
  },
};
