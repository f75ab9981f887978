// A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, and KWOK playing the kubelets of simulated nodes. One instance per folder;
// its state (ports, pids, command lines) is kept in state.json so any process can find it,
// stop one component and start it again, or take it all down.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient } from '../../src/cluster/client.ts';
import { loadKubeconfig } from '../../src/cluster/kubeconfig.ts';
import type { KubeObject } from '../../src/cluster/objects.ts';
import { ADMIN, RESTRICTED, makePki, writeKubeconfig } from './pki.ts';
import {
  assertPortFree,
  freePort,
  isRunning,
  startDaemon,
  stopProcess,
  tail,
  waitUntil,
} from './processes.ts';
import { REPO_ROOT, binPath, ensureTools, type Tool } from './tools.ts';

export const COMPONENTS = ['etcd', 'apiserver', 'controller-manager', 'scheduler', 'kwok'] as const;
export type Component = (typeof COMPONENTS)[number];

export interface ControlPlaneOptions {
  /** Instance name; each has its own folder and ports. `default` is the shared test cluster. */
  name: string;
  /** Folder that holds one folder per instance. */
  root: string;
  nodes: number;
  podsPerNode: number;
  controllerManagerQps: number;
  schedulerQps: number;
  /** A fixed API server port; a free one is chosen when absent. */
  apiserverPort?: number;
  /** Lift the API server's request limits (max in-flight, priority and fairness) for load tests. */
  unlimited: boolean;
  /** How long each component may take to become ready. */
  startTimeoutMs: number;
}

export function defaultControlPlaneOptions(): ControlPlaneOptions {
  return {
    name: 'default',
    root: process.env.CAIRN_CLUSTER_ROOT ?? join(homedir(), '.cache', 'cairn', 'clusters'),
    nodes: 3,
    podsPerNode: 1000,
    controllerManagerQps: 100,
    schedulerQps: 100,
    unlimited: false,
    startTimeoutMs: 90_000,
  };
}

interface ComponentState {
  bin: string;
  args: string[];
  log: string;
  pid?: number;
}

interface InstanceState {
  name: string;
  dir: string;
  options: ControlPlaneOptions;
  ports: Record<'etcd' | 'etcdPeer' | 'apiserver' | 'controllerManager' | 'scheduler', number>;
  components: Partial<Record<Component, ComponentState>>;
  binPath: string;
  startedAt: string;
}

export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

export interface ControlPlaneStatus {
  name: string;
  dir: string;
  server: string;
  components: Record<Component, 'running' | 'stopped'>;
  apiserverReady: boolean;
  readyNodes: number;
}

// Room for tens of thousands of Services (benchmarks create one per Application).
const SERVICE_CIDR = '10.96.0.0/16';
const POD_CIDR = '10.244.0.0/16';

export class ControlPlane {
  readonly #state: InstanceState;

  private constructor(state: InstanceState) {
    this.#state = state;
  }

  static dirOf(options: Pick<ControlPlaneOptions, 'root' | 'name'>): string {
    return join(options.root, options.name);
  }

  /** The instance recorded in that folder, whether or not its processes still run. */
  static async open(options: Pick<ControlPlaneOptions, 'root' | 'name'>): Promise<ControlPlane | undefined> {
    const file = join(ControlPlane.dirOf(options), 'state.json');
    if (!existsSync(file)) return undefined;
    return new ControlPlane(JSON.parse(await readFile(file, 'utf8')) as InstanceState);
  }

  /**
   * Starts an instance, or returns the running one of that name. A recorded instance whose
   * processes died is cleaned away first.
   */
  static async up(
    partial: Partial<ControlPlaneOptions> = {},
    progress: (line: string) => void = () => {},
  ): Promise<ControlPlane> {
    const options = { ...defaultControlPlaneOptions(), ...partial };
    const existing = await ControlPlane.open(options);
    if (existing) {
      if (existing.#allRunning() && (await existing.#apiserverReady())) {
        progress(`cluster ${options.name} is already up`);
        return existing;
      }
      progress(`cluster ${options.name}: cleaning up a stopped instance`);
      await existing.down();
    }
    if (options.apiserverPort !== undefined) await assertPortFree(options.apiserverPort, 'kube-apiserver');
    const tools = await ensureTools(['k8s', 'etcd', 'kwok', 'helm', 'kustomize'], progress);

    const dir = ControlPlane.dirOf(options);
    await mkdir(join(dir, 'logs'), { recursive: true });
    const state: InstanceState = {
      name: options.name,
      dir,
      options,
      ports: {
        etcd: await freePort(),
        etcdPeer: await freePort(),
        apiserver: options.apiserverPort ?? (await freePort()),
        controllerManager: await freePort(),
        scheduler: await freePort(),
      },
      components: {},
      binPath: binPath(tools),
      startedAt: new Date().toISOString(),
    };
    const plane = new ControlPlane(state);
    await plane.#save();
    try {
      await plane.#configure(tools);
      await plane.start('etcd');
      await plane.start('apiserver');
      await Promise.all([plane.start('controller-manager'), plane.start('scheduler')]);
      progress(`cluster ${options.name}: control plane up, registering ${options.nodes} nodes`);
      // Nodes report their own capacity and versions before KWOK, their kubelet, takes over.
      await plane.#registerNodes();
      await plane.start('kwok');
      await plane.#waitForWorkloadReadiness();
      progress(`cluster ${options.name}: ready at ${plane.server}`);
      return plane;
    } catch (e) {
      // Leave nothing half-started behind; the logs stay for a post-mortem until the next up.
      await plane.#stopAll();
      throw e;
    }
  }

  get name(): string {
    return this.#state.name;
  }
  get dir(): string {
    return this.#state.dir;
  }
  get server(): string {
    return `https://127.0.0.1:${this.#state.ports.apiserver}`;
  }
  /** cluster-admin (system:masters). */
  get kubeconfig(): string {
    return join(this.#state.dir, 'admin.kubeconfig');
  }
  /** A user with no permissions beyond what tests grant it. */
  get restrictedKubeconfig(): string {
    return join(this.#state.dir, 'restricted.kubeconfig');
  }
  /** One JSON line per API request (Metadata level). */
  get auditLog(): string {
    return join(this.#state.dir, 'audit.log');
  }
  /** Folders holding kubectl, helm and kustomize, PATH-style. */
  get binPath(): string {
    return this.#state.binPath;
  }
  get options(): ControlPlaneOptions {
    return this.#state.options;
  }

  /** Shell lines that point kubectl (and helm) at this instance. */
  env(): string {
    return `export KUBECONFIG=${this.kubeconfig}\nexport PATH=${this.binPath}:$PATH`;
  }

  async client(kubeconfig = this.kubeconfig): Promise<KubeClient> {
    return new KubeClient((await loadKubeconfig(kubeconfig)).connection);
  }

  /** Starts one component with the command line recorded at `up`, and waits until it serves. */
  async start(component: Component): Promise<void> {
    const c = this.#state.components[component];
    if (!c) throw new ControlPlaneError(`${component}: not configured`);
    if (isRunning(c.pid, c.bin)) return;
    if (component === 'apiserver') await assertPortFree(this.#state.ports.apiserver, 'kube-apiserver');
    if (component === 'etcd') await assertPortFree(this.#state.ports.etcd, 'etcd');
    c.pid = await startDaemon({ bin: c.bin, args: c.args, log: c.log });
    await this.#save();
    const failIf = () =>
      isRunning(c.pid, c.bin)
        ? undefined
        : `${component} exited during start-up; last lines of ${c.log}:\n${tail(c.log)}`;
    try {
      const timeoutMs = this.#state.options.startTimeoutMs;
      switch (component) {
        case 'etcd':
          await waitUntil('etcd to report healthy', () => this.#etcdHealthy(), { timeoutMs, failIf });
          break;
        case 'apiserver':
          await waitUntil('kube-apiserver to be ready', () => this.#apiserverReady(), { timeoutMs, failIf });
          break;
        case 'controller-manager':
          await waitUntil(
            'kube-controller-manager to be healthy',
            () => healthz(this.#state.ports.controllerManager),
            { timeoutMs, failIf },
          );
          break;
        case 'scheduler':
          await waitUntil('kube-scheduler to be healthy', () => healthz(this.#state.ports.scheduler), {
            timeoutMs,
            failIf,
          });
          break;
        case 'kwok':
          // KWOK serves no port; give it a moment to fail on bad stages before calling it started.
          await new Promise((r) => setTimeout(r, 500));
          if (failIf()) throw new ControlPlaneError(failIf());
          break;
      }
    } catch (e) {
      await this.stop(component); // a component that did not come up is not left running
      throw e;
    }
  }

  /** Stops one component (SIGTERM, then SIGKILL) and records it as stopped. */
  async stop(component: Component): Promise<void> {
    const c = this.#state.components[component];
    if (!c?.pid) return;
    await stopProcess(c.pid, c.bin);
    delete c.pid;
    await this.#save();
  }

  /** Stops every process of the instance and deletes its folder. */
  async down(): Promise<void> {
    await this.#stopAll();
    await rm(this.#state.dir, { recursive: true, force: true });
  }

  async status(): Promise<ControlPlaneStatus> {
    const components = {} as Record<Component, 'running' | 'stopped'>;
    for (const name of COMPONENTS) {
      const c = this.#state.components[name];
      components[name] = c && isRunning(c.pid, c.bin) ? 'running' : 'stopped';
    }
    const apiserverReady = components.apiserver === 'running' && (await this.#apiserverReady());
    let readyNodes = 0;
    if (apiserverReady) {
      const client = await this.client();
      try {
        const nodes = await client.list('v1', 'Node');
        readyNodes = nodes.items.filter(isNodeReady).length;
      } finally {
        client.close();
      }
    }
    return { name: this.name, dir: this.dir, server: this.server, components, apiserverReady, readyNodes };
  }

  /** Pids of the instance's processes that are still alive. */
  runningPids(): number[] {
    return COMPONENTS.flatMap((name) => {
      const c = this.#state.components[name];
      return c?.pid && isRunning(c.pid, c.bin) ? [c.pid] : [];
    });
  }

  #allRunning(): boolean {
    return COMPONENTS.every((name) => {
      const c = this.#state.components[name];
      return c && isRunning(c.pid, c.bin);
    });
  }

  async #stopAll(): Promise<void> {
    for (const name of [...COMPONENTS].reverse()) {
      const c = this.#state.components[name];
      if (c?.pid) await stopProcess(c.pid, c.bin);
    }
  }

  async #save(): Promise<void> {
    await writeFile(join(this.#state.dir, 'state.json'), JSON.stringify(this.#state, null, 2));
  }

  async #etcdHealthy(): Promise<boolean> {
    const res = await fetch(`http://127.0.0.1:${this.#state.ports.etcd}/health`);
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  }

  async #apiserverReady(): Promise<boolean> {
    const client = new KubeClient({
      server: this.server,
      ca: readFileSync(join(this.#state.dir, 'pki', 'ca.crt'), 'utf8'),
      origin: `cluster ${this.name}`,
    });
    try {
      await client.request('GET', '/readyz');
      return true;
    } catch {
      return false;
    } finally {
      client.close();
    }
  }

  /** Writes certificates, kubeconfigs and component configuration, and records each command line. */
  async #configure(tools: Record<Tool, string>): Promise<void> {
    const { dir, ports, options } = this.#state;
    const pki = join(dir, 'pki');
    await makePki(pki, [ADMIN, RESTRICTED]);
    await writeKubeconfig(pki, this.server, ADMIN, this.kubeconfig);
    await writeKubeconfig(pki, this.server, RESTRICTED, this.restrictedKubeconfig);
    const schedulerConfig = join(dir, 'scheduler.yaml');
    await writeFile(
      schedulerConfig,
      [
        'apiVersion: kubescheduler.config.k8s.io/v1',
        'kind: KubeSchedulerConfiguration',
        `clientConnection: {kubeconfig: ${JSON.stringify(this.kubeconfig)}, qps: ${options.schedulerQps}, burst: ${options.schedulerQps * 2}}`,
        'leaderElection: {leaderElect: false}',
        '',
      ].join('\n'),
    );
    const log = (name: string) => join(dir, 'logs', `${name}.log`);
    const c = this.#state.components;
    c.etcd = {
      bin: join(tools.etcd, 'etcd'),
      log: log('etcd'),
      args: [
        '--name=cairn-test',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=cairn-test=http://127.0.0.1:${ports.etcdPeer}`,
        '--listen-metrics-urls=',
        '--unsafe-no-fsync=true',
        '--quota-backend-bytes=8589934592',
        '--log-level=warn',
      ],
    };
    c.apiserver = {
      bin: join(tools.k8s, 'kube-apiserver'),
      log: log('apiserver'),
      args: [
        `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.apiserver}`,
        `--cert-dir=${pki}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${join(pki, 'ca.crt')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        `--audit-policy-file=${join(REPO_ROOT, 'test', 'harness', 'audit-policy.yaml')}`,
        `--audit-log-path=${this.auditLog}`,
        '--audit-log-maxsize=500',
        '--audit-log-maxbackup=2',
        ...(hasDefaultRoute() ? [] : ['--endpoint-reconciler-type=none', '--advertise-address=192.0.2.10']),
        ...(options.unlimited
          ? [
              '--max-requests-inflight=0',
              '--max-mutating-requests-inflight=0',
              '--enable-priority-and-fairness=false',
            ]
          : []),
      ],
    };
    c['controller-manager'] = {
      bin: join(tools.k8s, 'kube-controller-manager'),
      log: log('controller-manager'),
      args: [
        `--kubeconfig=${this.kubeconfig}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${ports.controllerManager}`,
        '--controllers=*',
        `--service-account-private-key-file=${join(pki, 'sa.key')}`,
        `--root-ca-file=${join(pki, 'ca.crt')}`,
        `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
        `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
        `--kube-api-qps=${options.controllerManagerQps}`,
        `--kube-api-burst=${options.controllerManagerQps * 2}`,
      ],
    };
    c.scheduler = {
      bin: join(tools.k8s, 'kube-scheduler'),
      log: log('scheduler'),
      args: [`--config=${schedulerConfig}`, '--bind-address=127.0.0.1', `--secure-port=${ports.scheduler}`],
    };
    c.kwok = {
      bin: join(tools.kwok, 'kwok'),
      log: log('kwok'),
      args: [
        `--kubeconfig=${this.kubeconfig}`,
        `--config=${join(REPO_ROOT, 'test', 'harness', 'kwok', 'stages.yaml')}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-lease-duration-seconds=40',
        `--cidr=${POD_CIDR}`,
        '--node-ip=127.0.0.1',
      ],
    };
    await this.#save();
  }

  async #registerNodes(): Promise<void> {
    const client = await this.client();
    const { nodes, podsPerNode } = this.#state.options;
    try {
      for (let i = 0; i < nodes; i++) {
        const name = `kwok-node-${i}`;
        const capacity = { cpu: '64', memory: '256Gi', pods: String(podsPerNode) };
        await client.apply({
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name,
            labels: {
              'kubernetes.io/hostname': name,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
              'node.kubernetes.io/instance-type': 'kwok',
              type: 'kwok',
            },
            annotations: { 'kwok.x-k8s.io/node': 'fake' },
          },
        } satisfies KubeObject);
        // Node status is the kubelet's to report; here that is us, before KWOK takes over.
        await client.apply(
          {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name },
            status: {
              capacity,
              allocatable: capacity,
              nodeInfo: { kubeletVersion: 'v1.36.3', architecture: 'amd64', operatingSystem: 'linux' },
            },
          },
          { fieldManager: 'cairn-test-kubelet', subresource: 'status' },
        );
      }
    } finally {
      client.close();
    }
  }

  /** Nodes Ready and untainted, and the default ServiceAccount made: pods can now be scheduled. */
  async #waitForWorkloadReadiness(): Promise<void> {
    const client = await this.client();
    const timeoutMs = this.#state.options.startTimeoutMs;
    const kwok = this.#state.components.kwok!;
    const failIf = () =>
      isRunning(kwok.pid, kwok.bin)
        ? undefined
        : `kwok exited; last lines of ${kwok.log}:\n${tail(kwok.log)}`;
    try {
      await waitUntil(
        `${this.#state.options.nodes} nodes to be Ready without the not-ready taint`,
        async () => {
          const nodes = await client.list('v1', 'Node');
          const usable = nodes.items.filter(
            (n) =>
              isNodeReady(n) &&
              !((n.spec as { taints?: { key: string }[] } | undefined)?.taints ?? []).some((t) =>
                t.key.startsWith('node.kubernetes.io/not-ready'),
              ),
          );
          return usable.length >= this.#state.options.nodes;
        },
        { timeoutMs, failIf },
      );
      await waitUntil(
        'the default ServiceAccount',
        () =>
          client.getOptional({
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            namespace: 'default',
            name: 'default',
          }),
        { timeoutMs },
      );
    } finally {
      client.close();
    }
  }
}

export function isNodeReady(node: KubeObject): boolean {
  const conditions =
    (node.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Components other than the API server serve /healthz with a self-signed certificate. */
async function healthz(port: number): Promise<boolean> {
  const { request } = await import('node:https');
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false, timeout: 2000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Without a default route the API server cannot pick an advertise address by itself. */
function hasDefaultRoute(): boolean {
  try {
    return readFileSync('/proc/net/route', 'utf8')
      .split('\n')
      .slice(1)
      .some((line) => line.split(/\s+/)[1] === '00000000');
  } catch {
    return true;
  }
}
