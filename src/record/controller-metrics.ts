// Cairn's metrics: what the controller records, named after the Prometheus conventions (prefix
// `cairn_`, base units, `_total` for counters) and shaped after Argo CD's `argocd_app_info` and
// Flux's `gotk_reconcile_duration_seconds`. Label values come from closed vocabularies so a label
// cannot grow without bound; the one per-Application series is the info gauge, kept at one series
// per Application by replacing it when its labels change.
import { MetricsRegistry, type Counter, type Gauge, type Histogram, type LabelValues } from './metrics.ts';

export const ReconcileResult = { Success: 'success', Error: 'error', Stalled: 'stalled' } as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

export const SyncResult = { Succeeded: 'succeeded', Failed: 'failed' } as const;
export type SyncResult = (typeof SyncResult)[keyof typeof SyncResult];

export const FetchResult = { Success: 'success', Error: 'error' } as const;
export type FetchResult = (typeof FetchResult)[keyof typeof FetchResult];

/** What was done about drift: reported only, or reverted by self-heal. */
export const DriftAction = { Reported: 'reported', Reverted: 'reverted' } as const;
export type DriftAction = (typeof DriftAction)[keyof typeof DriftAction];

/** Reconciles run from milliseconds (nothing changed) to minutes (waves waiting for health). */
export const RECONCILE_BUCKETS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];
/** A fetch that finds nothing new is one `git ls-remote`; a first clone of a big repository is long. */
export const GIT_FETCH_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export interface ApplicationInfo {
  namespace: string;
  name: string;
  /** `Synced`, `OutOfSync`, `Unknown`. */
  syncStatus: string;
  /** `Healthy`, `Progressing`, `Degraded`, ... */
  healthStatus: string;
  /** The revision last synced, e.g. `main@sha1:0a1b2c...`. */
  revision: string;
}

/** Where process figures come from; injected so that tests see fixed numbers. */
export interface ProcessProbe {
  cpuSeconds(): number;
  residentMemoryBytes(): number;
  startTimeSeconds(): number;
  heapUsedBytes(): number;
  heapTotalBytes(): number;
}

export function nodeProcessProbe(): ProcessProbe {
  const start = Math.round(performance.timeOrigin) / 1000;
  return {
    cpuSeconds: () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1e6;
    },
    residentMemoryBytes: () => process.memoryUsage.rss(),
    startTimeSeconds: () => start,
    heapUsedBytes: () => process.memoryUsage().heapUsed,
    heapTotalBytes: () => process.memoryUsage().heapTotal,
  };
}

type InfoLabel = 'namespace' | 'name' | 'sync_status' | 'health_status' | 'revision';

/** The controller's metrics over one registry; the listener serves `render()` at `/metrics`. */
export class ControllerMetrics {
  readonly registry: MetricsRegistry;
  readonly #reconcileDuration: Histogram<'kind' | 'result'>;
  readonly #syncs: Counter<'result'>;
  readonly #drift: Counter<'action'>;
  readonly #gitFetchDuration: Histogram<'result'>;
  readonly #queueDepth: Gauge<'queue'>;
  readonly #queueWait: Histogram<'queue'>;
  readonly #applicationInfo: Gauge<InfoLabel>;
  /** The info series of each Application, by `namespace/name`, so a change replaces it. */
  readonly #infoSeries = new Map<string, LabelValues<InfoLabel>>();

  constructor(probe: ProcessProbe = nodeProcessProbe(), registry = new MetricsRegistry()) {
    this.registry = registry;
    this.#reconcileDuration = registry.histogram({
      name: 'cairn_reconcile_duration_seconds',
      help: 'Time one reconcile took, by object kind and result.',
      labelNames: ['kind', 'result'],
      buckets: RECONCILE_BUCKETS,
    });
    this.#syncs = registry.counter({
      name: 'cairn_syncs_total',
      help: 'Syncs that applied changes to a cluster, by result.',
      labelNames: ['result'],
    });
    this.#drift = registry.counter({
      name: 'cairn_drift_detections_total',
      help: 'Changes to managed objects made by someone else, by what Cairn did about them.',
      labelNames: ['action'],
    });
    this.#gitFetchDuration = registry.histogram({
      name: 'cairn_git_fetch_duration_seconds',
      help: 'Time to resolve and fetch a Git repository, by result.',
      labelNames: ['result'],
      buckets: GIT_FETCH_BUCKETS,
    });
    this.#queueDepth = registry.gauge({
      name: 'cairn_workqueue_depth',
      help: 'Objects waiting in a work queue.',
      labelNames: ['queue'],
    });
    this.#queueWait = registry.histogram({
      name: 'cairn_workqueue_queue_duration_seconds',
      help: 'How long a key waited in a work queue before a worker took it.',
      labelNames: ['queue'],
      buckets: RECONCILE_BUCKETS,
    });
    this.#applicationInfo = registry.gauge({
      name: 'cairn_application_info',
      help: 'Sync and health status and revision of each Application; the value is always 1.',
      labelNames: ['namespace', 'name', 'sync_status', 'health_status', 'revision'],
    });
    registry.counterFunc(
      { name: 'process_cpu_seconds_total', help: 'Total user and system CPU time spent in seconds.' },
      () => probe.cpuSeconds(),
    );
    registry.gaugeFunc(
      { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.' },
      () => probe.residentMemoryBytes(),
    );
    registry.gaugeFunc(
      { name: 'process_start_time_seconds', help: 'Start time of the process since unix epoch in seconds.' },
      () => probe.startTimeSeconds(),
    );
    registry.gaugeFunc({ name: 'nodejs_heap_size_used_bytes', help: 'V8 heap in use in bytes.' }, () =>
      probe.heapUsedBytes(),
    );
    registry.gaugeFunc({ name: 'nodejs_heap_size_total_bytes', help: 'V8 heap allocated in bytes.' }, () =>
      probe.heapTotalBytes(),
    );
  }

  recordReconcile(kind: string, result: ReconcileResult, seconds: number): void {
    this.#reconcileDuration.observe({ kind, result }, seconds);
  }

  recordSync(result: SyncResult): void {
    this.#syncs.inc({ result });
  }

  recordDrift(action: DriftAction, count = 1): void {
    this.#drift.inc({ action }, count);
  }

  recordGitFetch(result: FetchResult, seconds: number): void {
    this.#gitFetchDuration.observe({ result }, seconds);
  }

  setQueueDepth(queue: string, depth: number): void {
    this.#queueDepth.set({ queue }, depth);
  }

  recordQueueWait(queue: string, seconds: number): void {
    this.#queueWait.observe({ queue }, seconds);
  }

  /** Sets the Application's info series, replacing the one with its previous status. */
  setApplicationInfo(info: ApplicationInfo): void {
    const key = `${info.namespace}/${info.name}`;
    const labels: LabelValues<InfoLabel> = {
      namespace: info.namespace,
      name: info.name,
      sync_status: info.syncStatus,
      health_status: info.healthStatus,
      revision: info.revision,
    };
    const previous = this.#infoSeries.get(key);
    if (previous) this.#applicationInfo.remove(previous);
    this.#applicationInfo.set(labels, 1);
    this.#infoSeries.set(key, labels);
  }

  /** Forgets a deleted Application. */
  removeApplication(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const previous = this.#infoSeries.get(key);
    if (!previous) return;
    this.#applicationInfo.remove(previous);
    this.#infoSeries.delete(key);
  }

  render(): string {
    return this.registry.render();
  }
}
