// `cairn controller`: watches GitRepositories, Applications and Receivers and the objects
// Applications applied (one shared watch per kind), and reconciles them through one keyed work
// queue while it holds the leader Lease. Its listener serves /healthz, /readyz, /metrics and the
// Receivers' webhooks.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  API_VERSION,
  REQUESTED_AT_ANNOTATION,
  type Application,
  type GitRepository,
  type Receiver,
} from '../api/types.ts';
import { isNotFound, type KubeClient } from '../cluster/client.ts';
import { SharedInformers, dropLastApplied, type Informer, type InformerEvent } from '../cluster/informer.ts';
import { describeRef, type KubeObject } from '../cluster/objects.ts';
import { resolveScopes } from '../apply/live.ts';
import { parseKey } from '../plan/inventory.ts';
import { groupOf, objectKey } from '../plan/keys.ts';
import { canonicalJson, compactFieldsV1 } from '../plan/digest.ts';
import { DORA, TRACKING_LABEL } from '../plan/metadata.ts';
import type { KindScope } from '../plan/plan.ts';
import { compareForDelete } from '../plan/plan.ts';
import { Renderer } from '../render/renderer.ts';
import { GitMirrors, defaultMirrorOptions } from '../source/mirrors.ts';
import {
  ControllerMetrics,
  DriftAction,
  FetchResult,
  ReconcileResult,
} from '../record/controller-metrics.ts';
import type { Logger } from '../log.ts';
import { Listener, webhookPath } from '../server/listener.ts';
import { webhookToken } from '../notify/receivers.ts';
import {
  APPLICATION_NAMESPACE_LABEL,
  ApplicationReconciler,
  FINALIZER,
  insideFolder,
  type LiveState,
} from './application.ts';
import { Reason, readiness } from './conditions.ts';
import { KubeEventRecorder } from './events.ts';
import { reconcileGitRepository } from './git-repository.ts';
import { LeaderElector, defaultLeaderElectionOptions } from './leader.ts';
import { WorkQueue, defaultWorkQueueOptions } from './queue.ts';

export { REQUESTED_AT_ANNOTATION };
const STATUS_MANAGER = 'cairn-controller';

export interface ControllerOptions {
  /** Only objects in this namespace (tests, or one controller per tenant); all namespaces when absent. */
  watchNamespace?: string;
  concurrency: number;
  listen?: { host?: string; port: number };
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
  cacheDir?: string;
  /** Allow plain-http Git URLs (tests and labs). */
  allowHttpGit: boolean;
  fieldManager: string;
  logger: Logger;
}

export function defaultControllerOptions(logger: Logger): ControllerOptions {
  return {
    concurrency: 4,
    listen: { port: 8080 },
    leaderElection: {
      namespace: 'cairn-system',
      name: 'cairn-controller',
      identity: `${process.env.POD_NAME ?? hostname()}-${randomBytes(3).toString('hex')}`,
    },
    allowHttpGit: false,
    fieldManager: 'cairn',
    logger,
  };
}

type Key = `${'GitRepository' | 'Application' | 'Receiver'}/${string}/${string}`;

/**
 * One copy of each string value that many cached objects repeat (a namespace, a commit, an
 * Application's name): JSON parsing gives every object its own copy.
 */
export class StringPool {
  readonly #values = new Map<string, string>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  intern<T extends string | undefined>(value: T): T {
    if (value === undefined) return value;
    const known = this.#values.get(value);
    if (known !== undefined) return known as T;
    if (this.#values.size >= this.#limit) this.#values.clear(); // a bound, not an eviction policy
    this.#values.set(value, value);
    return value;
  }

  get size(): number {
    return this.#values.size;
  }
}

/** Annotations whose values many objects share (the commit of a deployment). */
const SHARED_ANNOTATIONS = new Set<string>([DORA.commitSha]);

/**
 * What the watch caches keep of an object: everything but kubectl's last-applied copy and the
 * managed-fields entries of other managers and of status writes. Cairn's own apply entry stays, its
 * field set as one JSON string: the "unchanged" decision reads it (ADR 6). Repeated values
 * (namespace, labels, the commit annotation) share one copy.
 */
export function keepWhatReconcilesNeed(
  object: KubeObject,
  fieldManager: string,
  pool: StringPool = new StringPool(),
): KubeObject {
  const trimmed = dropLastApplied(object);
  const { managedFields, ...rest } = trimmed.metadata;
  const metadata: KubeObject['metadata'] = rest;
  if (metadata.namespace !== undefined) metadata.namespace = pool.intern(metadata.namespace);
  if (metadata.labels)
    metadata.labels = Object.fromEntries(
      Object.entries(metadata.labels).map(([k, v]) => [k, pool.intern(v)]),
    );
  if (metadata.annotations)
    metadata.annotations = Object.fromEntries(
      Object.entries(metadata.annotations).map(([k, v]) => [
        k,
        SHARED_ANNOTATIONS.has(k) ? pool.intern(v) : v,
      ]),
    );
  const managed = managedFields as
    { manager?: string; subresource?: string; fieldsV1?: unknown }[] | undefined;
  // Only the entry the "unchanged" decision reads: what Cairn applied (an Application applied by
  // another Application, as in bootstrap, included). Status writes leave no entry behind.
  const own = managed?.filter((m) => m.manager === fieldManager && !m.subresource);
  if (own && own.length > 0) metadata.managedFields = own.map(compactFieldsV1);
  return { ...trimmed, metadata };
}

function keyOf(
  kind: 'GitRepository' | 'Application' | 'Receiver',
  obj: { metadata: { namespace?: string; name?: string } },
): Key {
  return `${kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

/** Whether a file among `changed` (paths from the repository root) lies under an Application's path. */
export function touches(changed: readonly string[], path: string): boolean {
  return changed.some(insideFolder(path));
}

/** `a` is a later version of the same object than `b` (resourceVersions compared as the numbers etcd gives). */
function newerThan(a: KubeObject, b: KubeObject): boolean {
  const x = a.metadata.resourceVersion ?? '';
  const y = b.metadata.resourceVersion ?? '';
  return /^\d+$/.test(x) && /^\d+$/.test(y) && BigInt(x) > BigInt(y) && a.metadata.uid === b.metadata.uid;
}

function parse(key: Key): { kind: string; namespace: string; name: string } {
  const [kind = '', namespace = '', name = ''] = key.split('/');
  return { kind, namespace, name };
}

export class Controller {
  readonly #client: KubeClient;
  readonly #options: ControllerOptions;
  readonly #log: Logger;
  readonly metrics = new ControllerMetrics();
  readonly #informers: SharedInformers;
  readonly #mirrors: GitMirrors;
  readonly #renderer = new Renderer();
  #queue: WorkQueue<Key> | undefined;
  #reconciler: ApplicationReconciler | undefined;
  #listener: Listener | undefined;
  #synced = false;
  #leader: string | undefined;
  readonly #scopes = new Map<string, KindScope | undefined>();
  readonly #managed = new Map<string, Informer>();
  readonly #written = new Map<string, KubeObject>();
  readonly #strings = new StringPool();

  constructor(client: KubeClient, options: ControllerOptions) {
    this.#client = client;
    this.#options = options;
    this.#log = options.logger;
    this.#informers = new SharedInformers(client, {
      logger: this.#log,
      transform: (o) => keepWhatReconcilesNeed(o, options.fieldManager, this.#strings),
    });
    this.metrics.registry.counterFunc(
      {
        name: 'cairn_api_requests_total',
        help: 'Requests sent to the Kubernetes API server, watches included.',
      },
      () => client.requestCount,
    );
    this.#mirrors = new GitMirrors({
      ...defaultMirrorOptions(),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
      allowHttp: options.allowHttpGit,
    });
  }

  #informer<T extends KubeObject>(kind: 'GitRepository' | 'Application' | 'Receiver'): Informer<T> {
    return this.#informers.informerFor({
      apiVersion: API_VERSION,
      kind,
      ...(this.#options.watchNamespace ? { namespace: this.#options.watchNamespace } : {}),
    }) as unknown as Informer<T>;
  }

  /** Runs until `signal` aborts, then shuts down gracefully. */
  async run(signal: AbortSignal): Promise<void> {
    const receivers = this.#informer<Receiver>('Receiver');
    if (this.#options.listen) {
      this.#listener = new Listener(
        {
          logger: this.#log,
          metrics: this.metrics,
          // Ready once the caches are synced as leader, or as a standby that sees another leader.
          ready: () =>
            this.#synced ||
            (this.#leader !== undefined && this.#leader !== this.#options.leaderElection?.identity),
          receivers: { find: (token) => this.#findReceiver(receivers, token) },
        },
        { port: this.#options.listen.port, host: this.#options.listen.host },
      );
      const address = await this.#listener.start();
      this.#log.info('listening', { address: `${address.address}:${address.port}` });
    }
    await receivers.start();

    const lead = (leaderSignal: AbortSignal) => this.#reconcileWhileLeading(leaderSignal);
    try {
      if (this.#options.leaderElection) {
        const le = this.#options.leaderElection;
        const stopped = new Promise<'stopped'>((resolve) =>
          signal.addEventListener('abort', () => resolve('stopped'), { once: true }),
        );
        // Campaign until told to stop. Losing the Lease (an API server outage longer than the
        // renew deadline, say) stops reconciling, keeps the watch caches, and campaigns again.
        while (!signal.aborted) {
          const elector = new LeaderElector(this.#client, {
            ...defaultLeaderElectionOptions(),
            namespace: le.namespace,
            name: le.name,
            identity: le.identity,
            ...(le.leaseDurationMs ? { leaseDurationMs: le.leaseDurationMs } : {}),
            ...(le.renewDeadlineMs ? { renewDeadlineMs: le.renewDeadlineMs } : {}),
            ...(le.retryPeriodMs ? { retryPeriodMs: le.retryPeriodMs } : {}),
            logger: this.#log,
            onStartedLeading: lead,
            onStoppedLeading: () => this.#log.info('stopped leading', { identity: le.identity }),
            onNewLeader: (identity) => {
              this.#leader = identity;
              this.#log.info('leader', { identity });
            },
          });
          const running = elector.run();
          const outcome = await Promise.race([running.then(() => 'lost' as const), stopped]);
          if (outcome === 'stopped') {
            await elector.release();
            await running;
          } else {
            this.#log.warn('lost the leader Lease; campaigning again', {
              lease: `${le.namespace}/${le.name}`,
            });
          }
        }
      } else {
        const inner = new AbortController();
        signal.addEventListener('abort', () => inner.abort(), { once: true });
        await lead(inner.signal);
      }
    } finally {
      await this.#informers.stop();
      await this.#listener?.stop();
      this.#client.close();
      this.#log.info('stopped');
    }
  }

  async #reconcileWhileLeading(signal: AbortSignal): Promise<void> {
    this.#log.info('started leading');
    const queue = new WorkQueue<Key>({
      ...defaultWorkQueueOptions<Key>(),
      onError: (key, error) =>
        this.#log.warn('reconcile failed; will retry', {
          key,
          error: error instanceof Error ? error.message : String(error),
        }),
      metrics: {
        depth: (depth) => this.metrics.setQueueDepth('reconcile', depth),
        processed: (key, { waitMs, durationMs }) => {
          this.metrics.recordQueueWait('reconcile', waitMs / 1000);
          this.#log.debug('handled', { key, waitMs: Math.round(waitMs), durationMs: Math.round(durationMs) });
        },
      },
    });
    this.#queue = queue;
    const events = new KubeEventRecorder(this.#client, 'cairn-controller', (e) =>
      this.#log.warn('event not recorded', { error: String(e) }),
    );
    this.#reconciler = new ApplicationReconciler({
      client: this.#client,
      mirrors: this.#mirrors,
      renderer: this.#renderer,
      live: this.#liveState(),
      events,
      readSecret: (ns, name) => this.#readSecret(ns, name),
      fieldManager: this.#options.fieldManager,
      now: () => new Date().toISOString(),
    });
    const repos = this.#informer<GitRepository>('GitRepository');
    const apps = this.#informer<Application>('Application');
    const receivers = this.#informer<Receiver>('Receiver');
    const unsubscribe = [
      repos.onEvent((e) => this.#onGitRepository(e)),
      apps.onEvent((e) => this.#onApplication(e)),
      receivers.onEvent((e) => {
        this.#caughtUp('Receiver', e);
        if (e.type !== 'DELETED') queue.add(keyOf('Receiver', e.object), { first: true });
      }),
    ];
    await Promise.all([repos.start(), apps.start()]);
    for (const r of repos.list()) queue.add(keyOf('GitRepository', r));
    for (const a of apps.list()) queue.add(keyOf('Application', a));
    for (const r of receivers.list()) queue.add(keyOf('Receiver', r));
    this.#synced = true;
    const worker = queue.run(this.#options.concurrency, (key) => this.#handle(key));
    await new Promise<void>((resolve) =>
      signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    this.#log.info('shutting down the work queue');
    await queue.shutdown({ timeoutMs: 30_000 });
    await worker.catch(() => {});
    for (const off of unsubscribe) off();
    this.#queue = undefined;
    this.#synced = false;
  }

  // Events -----------------------------------------------------------------------------------

  /** Drops what #fresh kept of an object once the cache holds that write (or a later one). */
  #caughtUp(kind: string, e: InformerEvent): void {
    const key = `${kind}/${e.object.metadata.namespace}/${e.object.metadata.name}`;
    const written = this.#written.get(key);
    if (!written) return;
    if (e.type === 'DELETED' || !newerThan(written, e.object)) this.#written.delete(key);
  }

  #onGitRepository(e: InformerEvent<GitRepository>): void {
    this.#caughtUp('GitRepository', e);
    const { object: repo, previous } = e;
    const specChanged =
      !previous ||
      previous.metadata.generation !== repo.metadata.generation ||
      previous.metadata.annotations?.[REQUESTED_AT_ANNOTATION] !==
        repo.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
    // A fetch someone asked for (a webhook, a new spec) goes ahead of routine work: every
    // Application of the repository waits on it.
    if (e.type !== 'DELETED' && specChanged) this.#queue?.add(keyOf('GitRepository', repo), { first: true });
    if (e.type === 'DELETED' || previous?.status?.artifact?.commit !== repo.status?.artifact?.commit) {
      for (const app of this.#applicationsOf(repo)) this.#queue?.add(keyOf('Application', app));
    }
  }

  #onApplication(e: InformerEvent<Application>): void {
    this.#caughtUp('Application', e);
    const { object: app, previous } = e;
    // A new Application or spec, a requested sync or a deletion: someone is waiting for it.
    const asked =
      !previous ||
      previous.metadata.generation !== app.metadata.generation ||
      !!app.metadata.deletionTimestamp ||
      canonicalJson(previous.metadata.annotations ?? {}) !== canonicalJson(app.metadata.annotations ?? {});
    // Finalizers change when this controller adds its own (it goes on in the same reconcile) or
    // someone removes it: a look in turn is enough.
    const finalizers =
      canonicalJson(previous?.metadata.finalizers ?? []) !== canonicalJson(app.metadata.finalizers ?? []);
    if (e.type === 'DELETED') {
      this.#reconciler?.forget(app);
      this.metrics.removeApplication(app.metadata.namespace ?? '', app.metadata.name ?? '');
    } else if (asked) {
      this.#queue?.add(keyOf('Application', app), { first: true });
    } else if (finalizers) {
      this.#queue?.add(keyOf('Application', app));
    }
    // Readiness moved: whoever depends on this Application may proceed (or must wait).
    const ready = (a?: Application) => a?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
    if (ready(previous) !== ready(app) || e.type === 'DELETED') {
      for (const other of this.#informer<Application>('Application').list()) {
        if (
          other.spec.dependsOn?.some(
            (d) =>
              d.name === app.metadata.name &&
              (d.namespace ?? other.metadata.namespace) === app.metadata.namespace,
          )
        )
          this.#queue?.add(keyOf('Application', other));
      }
    }
  }

  /** A change to an object an Application applied: that Application looks again (drift, health). */
  #onManagedObject(e: InformerEvent): void {
    const labels = e.object.metadata.labels ?? {};
    const name = labels[TRACKING_LABEL];
    const namespace = labels[APPLICATION_NAMESPACE_LABEL];
    if (name && namespace) this.#queue?.add(`Application/${namespace}/${name}`);
  }

  // Live state -------------------------------------------------------------------------------

  #liveState(): LiveState {
    const selector = this.#options.watchNamespace
      ? `${TRACKING_LABEL},${APPLICATION_NAMESPACE_LABEL}=${this.#options.watchNamespace}`
      : `${TRACKING_LABEL},${APPLICATION_NAMESPACE_LABEL}`;
    return {
      resolveScopes: async (kinds) => {
        const unknown = kinds.filter(
          (k) =>
            !this.#scopes.has(`${k.apiVersion}/${k.kind}`) ||
            this.#scopes.get(`${k.apiVersion}/${k.kind}`) === undefined,
        );
        if (unknown.length === 0) return;
        this.#client.discovery.invalidate();
        const scopeOf = await resolveScopes(this.#client, unknown);
        for (const k of unknown) this.#scopes.set(`${k.apiVersion}/${k.kind}`, scopeOf(k.apiVersion, k.kind));
      },
      scopeOf: (apiVersion, kind) => this.#scopes.get(`${apiVersion}/${kind}`),
      ensureKinds: async (kinds) => {
        const starting: Promise<void>[] = [];
        for (const { apiVersion, kind } of kinds) {
          // One informer per group and kind, whichever version asked first: the cache is keyed the same way.
          const id = `${groupOf(apiVersion)}/${kind}`;
          const known = this.#managed.get(id);
          if (known) {
            // Another reconcile may have just started it: wait for its first list all the same,
            // or this one would plan against an empty cache and apply everything again.
            starting.push(known.start());
            continue;
          }
          const informer = this.#informers.informerFor({ apiVersion, kind, labelSelector: selector });
          this.#managed.set(id, informer);
          informer.onEvent((e) => this.#onManagedObject(e));
          starting.push(informer.start());
        }
        await Promise.all(starting);
      },
      get: (key) => {
        const { group, kind } = parseKey(key);
        return this.#managed.get(`${group}/${kind}`)?.get(key);
      },
    };
  }

  async #readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const secret = await this.#client.getOptional<KubeObject & { data?: Record<string, string> }>({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace,
      name,
    });
    if (!secret) return undefined;
    return Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  }

  // Reconcile --------------------------------------------------------------------------------

  async #handle(key: Key): Promise<{ requeueAfterMs?: number } | void> {
    const { kind, namespace, name } = parse(key);
    const started = performance.now();
    let result: (typeof ReconcileResult)[keyof typeof ReconcileResult] = ReconcileResult.Success;
    try {
      if (kind === 'GitRepository') return await this.#reconcileRepository(namespace, name);
      if (kind === 'Application') return await this.#reconcileApplication(namespace, name);
      if (kind === 'Receiver') return await this.#reconcileReceiver(namespace, name);
    } catch (e) {
      result = ReconcileResult.Error;
      throw e;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.recordReconcile(kind, result, seconds);
      this.#log.debug('reconciled', { key, result, seconds: Number(seconds.toFixed(3)) });
    }
  }

  async #writeStatus(obj: KubeObject, kind: string, status: unknown): Promise<void> {
    if (canonicalJson(status) === canonicalJson(obj.status ?? {})) return;
    try {
      const written = await this.#client.apply(
        {
          apiVersion: API_VERSION,
          kind,
          metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace },
          status,
        },
        { fieldManager: STATUS_MANAGER, subresource: 'status' },
      );
      this.#written.set(`${kind}/${obj.metadata.namespace}/${obj.metadata.name}`, written);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /**
   * The object as the cache has it, or as this controller last wrote it when the cache has not
   * caught up yet: reconciling from a stale status would lose the history and inventory just written.
   */
  #fresh<T extends KubeObject>(kind: string, cached: T): T {
    const key = `${kind}/${cached.metadata.namespace}/${cached.metadata.name}`;
    const written = this.#written.get(key);
    if (!written) return cached;
    if (newerThan(written, cached)) return { ...cached, status: written.status };
    this.#written.delete(key); // the cache has caught up
    return cached;
  }

  async #reconcileRepository(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | void> {
    const cached = this.#informer<GitRepository>('GitRepository').get(
      objectKey({ apiVersion: API_VERSION, kind: 'GitRepository', namespace, name }),
    );
    if (!cached || cached.spec.suspend) return;
    const repo = this.#fresh('GitRepository', cached);
    const started = performance.now();
    const outcome = await reconcileGitRepository(repo, {
      mirrors: this.#mirrors,
      readSecret: (ns, n) => this.#readSecret(ns, n),
      now: () => new Date().toISOString(),
    });
    this.metrics.recordGitFetch(
      outcome.error ? FetchResult.Error : FetchResult.Success,
      (performance.now() - started) / 1000,
    );
    const previous = repo.status?.artifact?.commit;
    await this.#writeStatus(repo, 'GitRepository', outcome.status);
    if (outcome.newCommit) {
      this.#log.info('new revision', { repository: `${namespace}/${name}`, commit: outcome.newCommit });
      if (previous) await this.#prioritiseChanged(repo, previous, outcome.newCommit);
    }
    if (outcome.error && outcome.requeueAfterMs === undefined)
      throw new Error(`GitRepository/${namespace}/${name}: ${outcome.error}`);
    return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
  }

  /**
   * A new commit makes every Application of its repository look again (the status event does
   * that, in turn). Those whose folder the commit touched go first, so a push to one folder of a
   * thousand is applied in the time of one reconcile, not a thousand.
   */
  async #prioritiseChanged(repo: GitRepository, from: string, to: string): Promise<void> {
    const changed = await this.#mirrors.changedPaths(repo.spec.url, from, to);
    if (!changed || changed.length === 0) return;
    for (const app of this.#applicationsOf(repo)) {
      if (touches(changed, app.spec.source.path))
        this.#queue?.add(keyOf('Application', app), { first: true });
    }
  }

  #applicationsOf(repo: GitRepository): Application[] {
    return this.#informer<Application>('Application')
      .list()
      .filter((app) => {
        const ref = app.spec.source.repositoryRef;
        return (
          ref.name === repo.metadata.name &&
          (ref.namespace ?? app.metadata.namespace) === repo.metadata.namespace
        );
      });
  }

  async #reconcileApplication(namespace: string, name: string): Promise<{ requeueAfterMs?: number } | void> {
    const apps = this.#informer<Application>('Application');
    const cached = apps.get(objectKey({ apiVersion: API_VERSION, kind: 'Application', namespace, name }));
    if (!cached) return;
    const app = this.#fresh('Application', cached);
    const reconciler = this.#reconciler!;
    if (app.metadata.deletionTimestamp) return this.#finalize(app);
    if (!(app.metadata.finalizers as string[] | undefined)?.includes(FINALIZER)) {
      const path = await this.#client.pathFor({
        apiVersion: API_VERSION,
        kind: 'Application',
        namespace,
        name,
      });
      await this.#client.request('PATCH', path, {
        body: {
          metadata: {
            finalizers: [...((app.metadata.finalizers as string[] | undefined) ?? []), FINALIZER],
            resourceVersion: app.metadata.resourceVersion,
          },
        },
        contentType: 'application/merge-patch+json',
      });
      // Go on with this reconcile: the finalizer is in place now.
    }
    const ref = app.spec.source.repositoryRef;
    const cachedSource = this.#informer<GitRepository>('GitRepository').get(
      objectKey({
        apiVersion: API_VERSION,
        kind: 'GitRepository',
        namespace: ref.namespace ?? namespace,
        name: ref.name,
      }),
    );
    // As this controller last wrote it: an Application put first for a new commit may run before
    // the watch brings that commit, and would otherwise look at the old one and go to the back.
    const source = cachedSource && this.#fresh('GitRepository', cachedSource);
    const dependencies = (app.spec.dependsOn ?? []).map((d) => {
      const ns = d.namespace ?? namespace;
      return {
        name: d.name,
        namespace: ns,
        app: apps.get(
          objectKey({ apiVersion: API_VERSION, kind: 'Application', namespace: ns, name: d.name }),
        ),
      };
    });
    const outcome = await reconciler.reconcile(app, { source, dependencies });
    const before = app.status?.history?.at(-1)?.id;
    const last = outcome.status.history?.at(-1);
    if (last && last.id !== before) {
      this.metrics.recordSync(last.result === 'Succeeded' ? 'succeeded' : 'failed');
      if (last.initiator === 'self-heal') this.metrics.recordDrift(DriftAction.Reverted);
    } else if (outcome.status.sync?.status === 'OutOfSync' && app.status?.sync?.status !== 'OutOfSync') {
      this.metrics.recordDrift(DriftAction.Reported);
    }
    this.metrics.setApplicationInfo({
      namespace,
      name,
      syncStatus: outcome.status.sync?.status ?? 'Unknown',
      healthStatus: outcome.status.health?.status ?? 'Unknown',
      revision: outcome.status.sync?.revision ?? '',
    });
    await this.#writeStatus(app, 'Application', outcome.status);
    if (outcome.retry)
      throw new Error(
        `Application/${namespace}/${name}: ${outcome.status.conditions?.find((c) => c.type === 'Ready')?.message ?? 'failed'}`,
      );
    return outcome.requeueAfterMs !== undefined ? { requeueAfterMs: outcome.requeueAfterMs } : undefined;
  }

  /** Deleting an Application: prune what it applied (default) or leave it (Orphan), then let it go. */
  async #finalize(app: Application): Promise<void> {
    const finalizers = (app.metadata.finalizers as string[] | undefined) ?? [];
    if (!finalizers.includes(FINALIZER)) return;
    if ((app.spec.deletionPolicy ?? 'Delete') === 'Delete') {
      const entries = [...(app.status?.inventory?.entries ?? [])];
      const refs = entries.map((e) => {
        const { kind, namespace, name } = parseKey(e.key);
        return { apiVersion: e.apiVersion, kind, name, ...(namespace ? { namespace } : {}) };
      });
      // Dependents before what they depend on: the reverse of apply order.
      refs.sort((a, b) => compareForDelete({ ref: a }, { ref: b }));
      for (const ref of refs) {
        try {
          await this.#client.delete(ref, { propagationPolicy: 'Background' });
          this.#log.info('pruned on deletion', {
            application: `${app.metadata.namespace}/${app.metadata.name}`,
            object: describeRef(ref),
          });
        } catch (e) {
          if (!isNotFound(e)) throw e;
        }
      }
    }
    const path = await this.#client.pathFor({
      apiVersion: API_VERSION,
      kind: 'Application',
      namespace: app.metadata.namespace ?? '',
      name: app.metadata.name ?? '',
    });
    await this.#client.request('PATCH', path, {
      body: {
        metadata: {
          finalizers: finalizers.filter((f) => f !== FINALIZER),
          resourceVersion: app.metadata.resourceVersion,
        },
      },
      contentType: 'application/merge-patch+json',
    });
    this.#reconciler?.forget(app);
  }

  async #reconcileReceiver(namespace: string, name: string): Promise<void> {
    const receiver = this.#informer<Receiver>('Receiver').get(
      objectKey({ apiVersion: API_VERSION, kind: 'Receiver', namespace, name }),
    );
    if (!receiver) return;
    const status = { ...receiver.status };
    const now = new Date().toISOString();
    const secret = await this.#readSecret(namespace, receiver.spec.secretRef.name);
    if (!secret?.token) {
      status.conditions = readiness(
        status.conditions,
        {
          state: 'failed',
          reason: Reason.SecretNotFound,
          message: `Secret ${receiver.spec.secretRef.name} with key "token" not found`,
        },
        receiver.metadata.generation,
        now,
      );
      delete status.webhookPath;
    } else {
      status.webhookPath = webhookPath({ namespace, name }, secret.token);
      status.conditions = readiness(
        status.conditions,
        { state: 'ready', reason: Reason.Succeeded, message: `receiving on ${status.webhookPath}` },
        receiver.metadata.generation,
        now,
      );
    }
    status.observedGeneration = receiver.metadata.generation;
    await this.#writeStatus(receiver, 'Receiver', status);
    if (!secret?.token) throw new Error(`Receiver/${namespace}/${name}: secret not found`);
  }

  async #findReceiver(receivers: Informer<Receiver>, token: string) {
    for (const receiver of receivers.list()) {
      if (receiver.spec.suspend) continue;
      const namespace = receiver.metadata.namespace ?? '';
      const name = receiver.metadata.name ?? '';
      const secret = await this.#readSecret(namespace, receiver.spec.secretRef.name);
      if (!secret?.token || webhookToken({ namespace, name }, secret.token) !== token) continue;
      return {
        type: receiver.spec.type,
        secret: secret.token,
        ref: `${namespace}/${name}`,
        onAccepted: async () => {
          const at = new Date().toISOString();
          for (const r of receiver.spec.resources) {
            const path = await this.#client.pathFor({
              apiVersion: API_VERSION,
              kind: 'GitRepository',
              namespace: r.namespace ?? namespace,
              name: r.name,
            });
            await this.#client
              .request('PATCH', path, {
                body: { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: at } } },
                contentType: 'application/merge-patch+json',
              })
              .catch((e: unknown) =>
                this.#log.warn('webhook target not updated', {
                  target: `${r.namespace ?? namespace}/${r.name}`,
                  error: String(e),
                }),
              );
          }
        },
      };
    }
    return undefined;
  }
}
