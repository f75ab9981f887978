// Watch caches: an Informer keeps one collection (kind, namespace, selectors) in memory from a
// ListWatch and fans its changes out; SharedInformers holds one per distinct collection so every
// Application watching the same thing shares one list-watch.
import { objectKey } from '../plan/keys.ts';
import type { KubeObject } from './objects.ts';
import {
  ListWatch,
  WatchEventType,
  defaultListWatchOptions,
  type ListWatchOptions,
  type ListWatchStats,
  type WatchApi,
  type WatchEvent,
} from './watch.ts';

/** One collection to watch: a kind, optionally narrowed to a namespace and selectors. */
export interface InformerTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
  /** The cached object this event replaces or removes (MODIFIED and DELETED). */
  previous?: T;
}

export type InformerHandler<T extends KubeObject = KubeObject> = (event: InformerEvent<T>) => void;

/** What an informer needs of KubeClient: the list-watch calls and the path of a collection. */
export interface InformerClient extends WatchApi {
  pathFor(ref: { apiVersion: string; kind: string; namespace?: string }): Promise<string>;
}

export interface InformerOptions<T extends KubeObject = KubeObject> extends ListWatchOptions {
  /**
   * Applied to every object before it is cached and delivered, to keep only what is needed. It
   * must keep `metadata.name`, `namespace`, `uid` and `resourceVersion`: keys and relist diffs
   * use them.
   */
  transform: (object: KubeObject) => T;
}

export function defaultInformerOptions(): InformerOptions {
  return { ...defaultListWatchOptions(), transform: (object) => object };
}

export interface InformerStats extends ListWatchStats {
  /** Events handed to subscribers, those synthesised by relists included (once per event). */
  delivered: number;
}

export class InformerStoppedError extends Error {
  override name = 'InformerStoppedError';
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A transform that drops kubectl's last-applied annotation: a copy of the whole object, unused. */
export function dropLastApplied<T extends KubeObject>(object: T): T {
  const annotations = object.metadata.annotations;
  if (!annotations || !(LAST_APPLIED in annotations)) return object;
  const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
  return { ...object, metadata: { ...object.metadata, annotations: rest } };
}

/** `Kind in namespace (selectors)`: how logs and errors name a target. */
export function describeTarget(target: InformerTarget): string {
  const where = target.namespace ? ` in ${target.namespace}` : '';
  const selectors = [target.labelSelector, target.fieldSelector].filter(Boolean).join('; ');
  return `${target.kind}${where}${selectors ? ` (${selectors})` : ''}`;
}

/** Equal for targets that name the same collection with the same selectors. */
export function targetKey(target: InformerTarget): string {
  return JSON.stringify([
    target.apiVersion,
    target.kind,
    target.namespace ?? '',
    target.labelSelector?.trim() ?? '',
    target.fieldSelector?.trim() ?? '',
  ]);
}

/**
 * The events that take a cache from `cached` to `fresh` (a relist): DELETED for what is gone
 * (with its last known state), then, in list order, ADDED for what is new and MODIFIED for what
 * has another resourceVersion. An object recreated under the same name (another uid) is
 * DELETED then ADDED. Pure.
 */
export function diffRelist<T extends KubeObject>(
  cached: ReadonlyMap<string, T>,
  fresh: ReadonlyMap<string, T>,
): InformerEvent<T>[] {
  const events: InformerEvent<T>[] = [];
  for (const [key, previous] of cached) {
    if (!fresh.has(key)) events.push({ type: WatchEventType.Deleted, object: previous, previous });
  }
  for (const [key, object] of fresh) {
    const previous = cached.get(key);
    if (!previous) {
      events.push({ type: WatchEventType.Added, object });
    } else if (
      previous.metadata.uid &&
      object.metadata.uid &&
      previous.metadata.uid !== object.metadata.uid
    ) {
      events.push({ type: WatchEventType.Deleted, object: previous, previous });
      events.push({ type: WatchEventType.Added, object });
    } else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) {
      events.push({ type: WatchEventType.Modified, object, previous });
    }
  }
  return events;
}

/**
 * The cache and event fan-out of one collection. `start()` resolves once the first list is
 * cached; from then on the cache follows the watch, and after a 410 Gone the relist is delivered
 * as the ADDED / MODIFIED / DELETED events that bring subscribers to the same state.
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly target: InformerTarget;
  readonly #listWatch: ListWatch;
  readonly #transform: (object: KubeObject) => T;
  readonly #logger: ListWatchOptions['logger'];
  readonly #cache = new Map<string, T>();
  readonly #handlers = new Set<InformerHandler<T>>();
  readonly #synced = Promise.withResolvers<void>();
  #hasSynced = false;
  #started = false;
  #stopped = false;
  #delivered = 0;

  constructor(client: InformerClient, target: InformerTarget, options: Partial<InformerOptions<T>> = {}) {
    this.target = { ...target };
    const { transform, ...watchOptions } = options;
    this.#transform = transform ?? ((object) => object as T);
    this.#logger = watchOptions.logger ?? defaultListWatchOptions().logger;
    const namespace = target.namespace;
    this.#listWatch = new ListWatch(
      client,
      {
        path: () =>
          client.pathFor({
            apiVersion: target.apiVersion,
            kind: target.kind,
            ...(namespace ? { namespace } : {}),
          }),
        ...(target.labelSelector ? { labelSelector: target.labelSelector } : {}),
        ...(target.fieldSelector ? { fieldSelector: target.fieldSelector } : {}),
        subject: describeTarget(target),
      },
      {
        onList: (items) => this.#replace(items),
        onEvent: (event) => this.#apply(event),
      },
      watchOptions,
    );
    // Nobody may be waiting on start() when stop() rejects it.
    this.#synced.promise.catch(() => {});
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** The resume point of the watch (for tests and diagnostics). */
  get resourceVersion(): string | undefined {
    return this.#listWatch.resourceVersion;
  }

  get stats(): InformerStats {
    return { ...this.#listWatch.stats, delivered: this.#delivered };
  }

  /** Starts the list-watch (once); resolves when the first list is cached. */
  start(): Promise<void> {
    if (this.#stopped) {
      return Promise.reject(new InformerStoppedError(`${describeTarget(this.target)}: informer stopped`));
    }
    if (!this.#started) {
      this.#started = true;
      this.#listWatch.start();
    }
    return this.#synced.promise;
  }

  /** Stops for good; resolves when no request, socket or timer of the informer remains. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#handlers.clear();
    await this.#listWatch.stop();
    if (!this.#hasSynced) {
      this.#synced.reject(new InformerStoppedError(`${describeTarget(this.target)}: stopped before sync`));
    }
  }

  /** A cached object by `objectKey` (`group/Kind/namespace/name`). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onEvent(handler: InformerHandler<T>): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  #keyOf(object: KubeObject): string {
    return objectKey({
      apiVersion: this.target.apiVersion,
      kind: this.target.kind,
      name: object.metadata.name ?? '',
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
    });
  }

  /** List items carry no apiVersion and kind; set them from the target, then transform. */
  #prepare(raw: KubeObject): T {
    raw.apiVersion = this.target.apiVersion;
    raw.kind = this.target.kind;
    return this.#transform(raw);
  }

  #replace(items: KubeObject[]): void {
    const fresh = new Map<string, T>();
    for (const item of items) {
      const object = this.#prepare(item);
      fresh.set(this.#keyOf(object), object);
    }
    const events = diffRelist(this.#cache, fresh);
    if (this.#hasSynced) {
      this.#logger.info('relisted', { subject: describeTarget(this.target), changes: events.length });
    }
    // Apply one event at a time so a subscriber reading the cache sees the state after its event.
    for (const event of events) {
      const key = this.#keyOf(event.object);
      if (event.type === WatchEventType.Deleted) this.#cache.delete(key);
      else this.#cache.set(key, event.object);
      this.#deliver(event);
    }
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#synced.resolve();
    }
  }

  #apply(event: WatchEvent): void {
    const object = this.#prepare(event.object);
    const key = this.#keyOf(object);
    const previous = this.#cache.get(key);
    if (event.type === WatchEventType.Deleted) {
      if (!previous) return; // never cached, so subscribers never saw it
      this.#cache.delete(key);
      this.#deliver({ type: WatchEventType.Deleted, object, previous });
      return;
    }
    if (previous?.metadata.resourceVersion === object.metadata.resourceVersion) return;
    this.#cache.set(key, object);
    this.#deliver(
      previous ? { type: WatchEventType.Modified, object, previous } : { type: WatchEventType.Added, object },
    );
  }

  #deliver(event: InformerEvent<T>): void {
    this.#delivered++;
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (e) {
        this.#logger.error('informer subscriber failed', {
          subject: describeTarget(this.target),
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }
}

export interface SharedInformersOptions extends ListWatchOptions {
  /** Applied by every informer of the factory before caching; drops kubectl's last-applied copy by default. */
  transform: (object: KubeObject) => KubeObject;
}

export function defaultSharedInformersOptions(): SharedInformersOptions {
  return { ...defaultListWatchOptions(), transform: dropLastApplied };
}

/**
 * One informer per distinct target on one cluster: every caller asking for the same kind,
 * namespace and selectors gets the same instance, hence one list-watch and one cache.
 */
export class SharedInformers {
  readonly #client: InformerClient;
  readonly #options: SharedInformersOptions;
  readonly #informers = new Map<string, Informer>();
  #stopped = false;

  constructor(client: InformerClient, options: Partial<SharedInformersOptions> = {}) {
    this.#client = client;
    this.#options = { ...defaultSharedInformersOptions(), ...options };
  }

  /**
   * The informer of this target, made on first use (not started: call `start()`, which is
   * idempotent). `T` is the caller's type for objects of that kind, as they come out of the
   * factory's transform; it is not checked.
   */
  informerFor<T extends KubeObject = KubeObject>(target: InformerTarget): Informer<T> {
    if (this.#stopped) throw new InformerStoppedError(`${describeTarget(target)}: shared informers stopped`);
    const key = targetKey(target);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer(this.#client, target, this.#options);
      this.#informers.set(key, informer);
    }
    return informer as unknown as Informer<T>;
  }

  informers(): Informer[] {
    return [...this.#informers.values()];
  }

  get size(): number {
    return this.#informers.size;
  }

  /** Stops every informer; the factory makes no new ones afterwards. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#informers.values()];
    this.#informers.clear();
    await Promise.all(all.map((informer) => informer.stop()));
  }
}
