// The engine: the plan's "unchanged" decision and the diff's normalise-and-compare on recorded
// responses (no cluster in the timed loop), and `cairn apply` of 1,000 objects beside
// `kubectl apply --server-side` of the same objects on a private control plane, in one run.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { ConfigMapInventoryStore } from '../src/apply/inventory-store.ts';
import { planApplication } from '../src/apply/sync.ts';
import { FIELD_MANAGER } from '../src/cluster/client.ts';
import type { KubeObject } from '../src/cluster/objects.ts';
import { describeRef } from '../src/cluster/objects.ts';
import { diffObjects } from '../src/plan/diff.ts';
import { Action, planSync } from '../src/plan/plan.ts';
import { waitUntil } from '../test/harness/processes.ts';
import { REPO_ROOT } from '../test/harness/tools.ts';
import { freshPlane, timed, throughput, type Measurement, type Scenario } from './harness.ts';
import { workload } from './workload.ts';

const run = promisify(execFile);

async function auditRequests(file: string, namespace: string, userAgentPrefix: string): Promise<number> {
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
  return lines.filter((l) => {
    const e = JSON.parse(l) as { objectRef?: { namespace?: string }; userAgent?: string };
    return e.objectRef?.namespace === namespace && (e.userAgent ?? '').startsWith(userAgentPrefix);
  }).length;
}

export const engineScenario: Scenario = {
  name: 'engine',
  summary:
    'plan "unchanged" and diff per second per core (recorded responses); cairn apply vs kubectl apply --server-side, 1,000 objects',
  async run({ quick, log }) {
    const out: Measurement[] = [];
    const plane = await freshPlane({ name: 'bench-engine', unlimited: true, nodes: 3 }, log);
    const dir = await mkdtemp(join(tmpdir(), 'cairn-bench-engine-'));
    const client = await plane.client();
    try {
      const objects = workload(50);
      await writeFile(join(dir, 'objects.yaml'), objects.map((o) => stringify(o)).join('---\n'));
      const env = {
        ...process.env,
        KUBECONFIG: plane.kubeconfig,
        PATH: `${plane.binPath}:${process.env.PATH}`,
      };
      for (const ns of ['bench-cairn', 'bench-kubectl'])
        await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

      const kubectl = await timed(() =>
        run('kubectl', ['apply', '--server-side', '-f', join(dir, 'objects.yaml'), '-n', 'bench-kubectl'], {
          env,
          maxBuffer: 64 << 20,
        }),
      );
      const cairn = await timed(() =>
        run(
          process.execPath,
          [join(REPO_ROOT, 'bin', 'cairn.js'), 'apply', dir, '-n', 'bench-cairn', '--app', 'bench'],
          { env, maxBuffer: 64 << 20 },
        ),
      );
      // Let the controllers finish rolling out what was applied, so the next figure is Cairn's alone.
      await waitUntil(
        'the benchmark Deployments to be available',
        async () => {
          const list = await client.list<KubeObject & { status?: { availableReplicas?: number } }>(
            'apps/v1',
            'Deployment',
            { namespace: 'bench-cairn' },
          );
          return list.items.length === 50 && list.items.every((d) => d.status?.availableReplicas === 2);
        },
        { timeoutMs: 300_000, intervalMs: 1000 },
      );
      const again = await timed(() =>
        run(
          process.execPath,
          [join(REPO_ROOT, 'bin', 'cairn.js'), 'apply', dir, '-n', 'bench-cairn', '--app', 'bench'],
          { env, maxBuffer: 64 << 20 },
        ),
      );
      if (!again.result.stdout.includes('0 applied, 1000 unchanged'))
        throw new Error(`second apply was not all unchanged:\n${again.result.stdout.slice(-400)}`);
      await new Promise((r) => setTimeout(r, 1000)); // let the audit log catch up
      out.push(
        {
          scenario: 'engine',
          name: 'kubectl apply --server-side, 1,000 objects',
          value: kubectl.ms / 1000,
          unit: 's',
          note: `${await auditRequests(plane.auditLog, 'bench-kubectl', 'kubectl')} requests`,
        },
        {
          scenario: 'engine',
          name: 'cairn apply, 1,000 objects',
          value: cairn.ms / 1000,
          unit: 's',
          note: `${(kubectl.ms / cairn.ms).toFixed(2)}x kubectl's speed; whole CLI process incl. render`,
        },
        {
          scenario: 'engine',
          name: 'cairn apply again, nothing changed',
          value: again.ms / 1000,
          unit: 's',
          note: 'no write, no dry-run',
        },
        {
          scenario: 'engine',
          name: 'cairn requests, both applies',
          value: await auditRequests(plane.auditLog, 'bench-cairn', 'cairn'),
          unit: 'requests',
          note: 'from the API audit log',
        },
      );
      log(
        `kubectl ${(kubectl.ms / 1000).toFixed(1)} s, cairn ${(cairn.ms / 1000).toFixed(1)} s, cairn unchanged ${(again.ms / 1000).toFixed(1)} s`,
      );

      // Record what the cluster answered, then time the pure parts on those answers.
      const desired = objects.map((object) => ({ object }));
      const options = {
        application: 'bench',
        namespace: 'bench-cairn',
        prune: false,
        ignoreDifferences: [],
        fieldManager: FIELD_MANAGER,
      };
      const store = new ConfigMapInventoryStore(client, 'bench', 'bench-cairn');
      const { plan, inventory, live } = await planApplication(client, desired, store, options);
      const unchanged = plan.stages
        .flatMap((s) => s.objects)
        .filter((o) => o.action === Action.Unchanged).length;
      if (unchanged !== objects.length)
        throw new Error(`expected ${objects.length} unchanged, planned ${unchanged}`);
      const scopes = new Map(
        plan.stages
          .flatMap((s) => s.objects)
          .map((o) => [
            `${o.ref.apiVersion}/${o.ref.kind}`,
            o.ref.namespace ? ('namespaced' as const) : ('cluster' as const),
          ]),
      );
      const budget = { minMs: quick ? 2000 : 8000, minRuns: 3, warmup: 2 };
      const cpu0 = process.cpuUsage();
      const planned = await throughput(
        () =>
          Promise.resolve(
            planSync(desired, live, inventory, { ...options, scopeOf: (a, k) => scopes.get(`${a}/${k}`) }),
          ),
        budget,
      );
      const planCpu = process.cpuUsage(cpu0);
      const planCpuSeconds = (planCpu.user + planCpu.system) / 1e6;
      out.push({
        scenario: 'engine',
        name: 'plan "unchanged" decision',
        value: (planned.runs * objects.length) / planCpuSeconds,
        unit: 'objects/s/core',
        note: `${planned.msPerRun.toFixed(1)} ms per 1,000-object plan`,
      });

      const recorded: { name: string; live: KubeObject; predicted: KubeObject }[] = [];
      for (const p of plan.stages.flatMap((s) => s.objects)) {
        const predicted = await client.apply<KubeObject>(p.object!, { dryRun: true });
        recorded.push({ name: describeRef(p.ref), live: live.get(p.key)!, predicted });
      }
      const cpu1 = process.cpuUsage();
      const diffed = await throughput(
        () => Promise.resolve(recorded.map((r) => diffObjects(r.name, r.live, r.predicted))),
        budget,
      );
      const diffCpu = process.cpuUsage(cpu1);
      out.push({
        scenario: 'engine',
        name: 'diff normalise-and-compare',
        value: (diffed.runs * recorded.length) / ((diffCpu.user + diffCpu.system) / 1e6),
        unit: 'objects/s/core',
        note: 'on recorded server-side dry-run responses',
      });
    } finally {
      client.close();
      await rm(dir, { recursive: true, force: true });
      await plane.down();
    }
    return out;
  },
};
