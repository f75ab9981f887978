// The list-watch loop for one collection: list (paginated), then watch from the list's
// resourceVersion, resume after a clean end, relist after 410 Gone, back off on errors and never
// give up while started. The cache and the fan-out live in informer.ts; this file is the protocol.
import type { Readable } from 'node:stream';
import { KubeApiError, type RequestOptions } from './client.ts';
import type { KubeObject } from './objects.ts';
import { silentLogger, type Logger } from '../log.ts';

/** The part of KubeClient the loop needs; tests pass a fake. */
export interface WatchApi {
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>;
  stream(path: string, options?: RequestOptions): Promise<Readable>;
}

export const WatchEventType = { Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED' } as const;
export type WatchEventType = (typeof WatchEventType)[keyof typeof WatchEventType];

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

/** Receives what the loop learns. Called synchronously, one call at a time, in stream order. */
export interface ListWatchHandler {
  /** The whole collection at `resourceVersion`: the first list, or a relist after 410 Gone. */
  onList(items: KubeObject[], resourceVersion: string, relist: boolean): void;
  onEvent(event: WatchEvent): void;
}

export interface WatchCollection {
  /** The collection's URL path, or how to find it (discovery may fail while the server is down). */
  path: string | (() => Promise<string>);
  labelSelector?: string;
  fieldSelector?: string;
  /** Names the collection in logs and errors, e.g. `ConfigMap in shop (app=cart)`. */
  subject: string;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** A failure this long after the previous one starts again from `initialMs`. */
  resetAfterMs: number;
}

export interface ListWatchOptions {
  /** Items per LIST page (`limit`); 0 lists in one request. */
  pageSize: number;
  /** Each watch asks the server to end it after a random time in this range (seconds). */
  minWatchSeconds: number;
  maxWatchSeconds: number;
  /** A watch still open this long after its `timeoutSeconds` is presumed dead and closed. */
  watchGraceMs: number;
  /** A watch that ends cleanly sooner than this, having carried nothing, counts as a failure. */
  minHealthyWatchMs: number;
  backoff: BackoffOptions;
  /** Longest line accepted from a watch stream (an object in etcd is at most about 1.5 MiB). */
  maxLineBytes: number;
  logger: Logger;
  now: () => number;
  /** Waits `ms`, resolving early when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** In [0, 1): jitter and watch timeouts. */
  random: () => number;
}

export function defaultListWatchOptions(): ListWatchOptions {
  return {
    pageSize: 500,
    minWatchSeconds: 300,
    maxWatchSeconds: 600,
    watchGraceMs: 60_000,
    minHealthyWatchMs: 1_000,
    backoff: { initialMs: 250, maxMs: 30_000, factor: 2, resetAfterMs: 60_000 },
    maxLineBytes: 16 * 1024 * 1024,
    logger: silentLogger,
    now: () => performance.now(),
    sleep: abortableSleep,
    random: Math.random,
  };
}

export interface ListWatchStats {
  /** Complete lists (all pages). */
  lists: number;
  /** LIST requests (pages) sent. */
  listRequests: number;
  /** Complete lists after the first (after 410 Gone). */
  relists: number;
  /** Watches the server accepted. */
  watches: number;
  /** ADDED / MODIFIED / DELETED events received from watches. */
  events: number;
  bookmarks: number;
  /** Times the server said our resourceVersion was too old. */
  expired: number;
  /** Errors the loop backed off after. */
  failures: number;
}

function emptyStats(): ListWatchStats {
  return {
    lists: 0,
    listRequests: 0,
    relists: 0,
    watches: 0,
    events: 0,
    bookmarks: 0,
    expired: 0,
    failures: 0,
  };
}

/** A malformed line in a newline-delimited JSON stream. */
export class NdjsonError extends Error {
  override name = 'NdjsonError';
}

/**
 * Splits a byte stream into JSON values, one per line. Chunks may break anywhere, even inside a
 * UTF-8 sequence: lines are cut on the newline byte, which never occurs inside one, and decoded
 * whole. Blank lines are skipped.
 */
export class NdjsonDecoder {
  readonly #maxLineBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(maxLineBytes = defaultListWatchOptions().maxLineBytes) {
    this.#maxLineBytes = maxLineBytes;
  }

  /**
   * The values this chunk completes, lazily: a malformed or oversized line throws NdjsonError
   * when it is reached, after the values before it were taken. Take them all before the next
   * write: the tail of the chunk is kept only once the generator has run to its end.
   */
  *write(chunk: Buffer | string): Generator<unknown, void, undefined> {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = bytes.indexOf(0x0a, start); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
      let line = bytes.subarray(start, nl);
      if (this.#pending.length > 0) {
        this.#checkLength(this.#pendingBytes + line.length);
        line = Buffer.concat([...this.#pending, line]);
        this.#pending = [];
        this.#pendingBytes = 0;
      }
      start = nl + 1;
      const value = this.#parse(line);
      if (value !== undefined) yield value;
    }
    if (start < bytes.length) {
      const rest = bytes.subarray(start);
      this.#checkLength(this.#pendingBytes + rest.length);
      this.#pending.push(rest);
      this.#pendingBytes += rest.length;
    }
  }

  /** The value of a last line without a newline, if any; throws NdjsonError if it is cut short. */
  end(): unknown[] {
    if (this.#pending.length === 0) return [];
    const line = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    const value = this.#parse(line);
    return value === undefined ? [] : [value];
  }

  #checkLength(bytes: number): void {
    if (bytes > this.#maxLineBytes) {
      throw new NdjsonError(`line longer than ${this.#maxLineBytes} bytes`);
    }
  }

  /** The line's value; undefined for a blank line (JSON has no undefined). */
  #parse(line: Buffer): unknown {
    const text = line.toString('utf8').trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (cause) {
      const excerpt = text.length > 120 ? `${text.slice(0, 120)}...` : text;
      throw new NdjsonError(`malformed line: ${excerpt}`, { cause });
    }
  }
}

/**
 * Exponential backoff with jitter: the n-th delay in a row is drawn from [c/2, c] where
 * c = min(maxMs, initialMs * factor^n). A failure long after the previous one starts over.
 */
export class Backoff {
  readonly #options: BackoffOptions;
  readonly #random: () => number;
  #attempt = 0;
  #lastFailureAt: number | undefined;

  constructor(options: BackoffOptions, random: () => number = Math.random) {
    this.#options = options;
    this.#random = random;
  }

  /** The delay before the next try, for a failure at `now`. */
  next(now: number): number {
    const { initialMs, maxMs, factor, resetAfterMs } = this.#options;
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= resetAfterMs) this.#attempt = 0;
    this.#lastFailureAt = now;
    const ceiling = Math.min(maxMs, initialMs * factor ** this.#attempt);
    if (ceiling < maxMs) this.#attempt++;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  get attempt(): number {
    return this.#attempt;
  }
}

/** True for the Status of an expired resourceVersion: 410 Gone, reason Expired or Gone. */
export function isExpiredStatus(status: { code?: number; reason?: string }): boolean {
  return status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
}

const isExpiredError = (e: unknown): boolean => e instanceof KubeApiError && isExpiredStatus(e);

interface ListPage {
  items?: KubeObject[];
  metadata?: { resourceVersion?: string; continue?: string };
}

interface RawWatchEvent {
  type: string;
  object: { metadata?: { resourceVersion?: string }; code?: number; reason?: string; message?: string };
}

function isRawWatchEvent(value: unknown): value is RawWatchEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { type, object } = value as { type?: unknown; object?: unknown };
  return typeof type === 'string' && typeof object === 'object' && object !== null;
}

type WatchOutcome =
  | { kind: 'ended'; received: number; lastedMs: number }
  | { kind: 'expired'; received: number; fromList: boolean }
  | { kind: 'stopped' };

/**
 * Keeps one collection's list-watch running from `start()` to `stop()`. Every network wait is
 * tied to the stop signal, so after `stop()` resolves no socket or timer of the loop remains.
 */
export class ListWatch {
  readonly #api: WatchApi;
  readonly #collection: WatchCollection;
  readonly #handler: ListWatchHandler;
  readonly #options: ListWatchOptions;
  readonly #backoff: Backoff;
  readonly #stats = emptyStats();
  #controller: AbortController | undefined;
  #done: Promise<void> | undefined;
  #resourceVersion: string | undefined;
  #listResourceVersion: string | undefined;

  constructor(
    api: WatchApi,
    collection: WatchCollection,
    handler: ListWatchHandler,
    options: Partial<ListWatchOptions> = {},
  ) {
    this.#api = api;
    this.#collection = collection;
    this.#handler = handler;
    this.#options = { ...defaultListWatchOptions(), ...options };
    this.#backoff = new Backoff(this.#options.backoff, this.#options.random);
  }

  /** Where the next watch starts: the last resourceVersion seen in a list, event or bookmark. */
  get resourceVersion(): string | undefined {
    return this.#resourceVersion;
  }

  get stats(): ListWatchStats {
    return { ...this.#stats };
  }

  get running(): boolean {
    return this.#controller !== undefined && !this.#controller.signal.aborted;
  }

  /** Starts the loop once; `signal` stops it like `stop()` does. */
  start(signal?: AbortSignal): void {
    if (this.#controller) return;
    const controller = new AbortController();
    this.#controller = controller;
    if (signal) {
      if (signal.aborted) controller.abort();
      else
        signal.addEventListener('abort', () => controller.abort(), { once: true, signal: controller.signal });
    }
    this.#done = this.#run(controller.signal)
      .catch((e: unknown) =>
        // Only a bug gets here: every failure of the protocol is retried inside the loop.
        this.#options.logger.error('list-watch loop crashed', {
          subject: this.#collection.subject,
          error: messageOf(e),
        }),
      )
      .finally(() => controller.abort());
  }

  /** Stops the loop and resolves once its request, stream and timers are gone. */
  async stop(): Promise<void> {
    if (!this.#controller) {
      this.#controller = new AbortController();
      this.#controller.abort();
      return;
    }
    this.#controller.abort();
    await this.#done;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { logger, now, sleep } = this.#options;
    const { subject } = this.#collection;
    let path: string | undefined;
    let needList = true;
    while (!signal.aborted) {
      let failure: unknown;
      try {
        path ??= await this.#resolvePath();
        if (needList) {
          const relist = this.#stats.lists > 0;
          const listed = await this.#list(path, signal);
          if (signal.aborted) return;
          this.#stats.lists++;
          if (relist) this.#stats.relists++;
          this.#resourceVersion = listed.resourceVersion;
          this.#listResourceVersion = listed.resourceVersion;
          needList = false;
          logger.debug('listed', {
            subject,
            items: listed.items.length,
            resourceVersion: listed.resourceVersion,
          });
          this.#call(() => this.#handler.onList(listed.items, listed.resourceVersion, relist));
        }
        const outcome = await this.#watch(path, signal);
        if (outcome.kind === 'stopped') return;
        if (outcome.kind === 'expired') {
          this.#stats.expired++;
          needList = true;
          logger.info('resourceVersion expired; relisting', { subject });
          if (outcome.fromList && outcome.received === 0) {
            failure = new Error(`${subject}: the server expired the resourceVersion of a fresh list`);
          }
        } else if (outcome.received === 0 && outcome.lastedMs < this.#options.minHealthyWatchMs) {
          failure = new Error(`${subject}: watch ended after ${Math.round(outcome.lastedMs)} ms`);
        } else {
          logger.debug('watch ended; resuming', { subject, resourceVersion: this.#resourceVersion });
        }
      } catch (e) {
        if (signal.aborted) return;
        failure = e;
      }
      if (failure !== undefined) {
        this.#stats.failures++;
        const delayMs = this.#backoff.next(now());
        logger.warn('list-watch failed; retrying', {
          subject,
          error: messageOf(failure),
          delayMs,
          attempt: this.#backoff.attempt,
        });
        await sleep(delayMs, signal);
      }
    }
  }

  async #resolvePath(): Promise<string> {
    const { path } = this.#collection;
    return typeof path === 'string' ? path : path();
  }

  /** All pages of one consistent list. An expired continue token restarts the list once. */
  async #list(path: string, signal: AbortSignal): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    try {
      return await this.#listPages(path, signal);
    } catch (e) {
      if (!isExpiredError(e) || signal.aborted) throw e;
      this.#options.logger.info('list continue token expired; listing again', {
        subject: this.#collection.subject,
      });
      return this.#listPages(path, signal);
    }
  }

  async #listPages(
    path: string,
    signal: AbortSignal,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const { labelSelector, fieldSelector, subject } = this.#collection;
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let token: string | undefined;
    do {
      const page = await this.#api.request<ListPage>('GET', path, {
        query: {
          labelSelector,
          fieldSelector,
          limit: this.#options.pageSize > 0 ? this.#options.pageSize : undefined,
          continue: token,
        },
        signal,
        subject: `${subject}: list`,
      });
      this.#stats.listRequests++;
      for (const item of page.items ?? []) items.push(item);
      // Every page of a paginated list is served from the first page's snapshot.
      resourceVersion ??= page.metadata?.resourceVersion;
      token = page.metadata?.continue || undefined;
    } while (token && !signal.aborted);
    if (!resourceVersion) throw new Error(`${subject}: list answered without a resourceVersion`);
    return { items, resourceVersion };
  }

  async #watch(path: string, signal: AbortSignal): Promise<WatchOutcome> {
    const { minWatchSeconds, maxWatchSeconds, watchGraceMs, random, now, maxLineBytes } = this.#options;
    const { labelSelector, fieldSelector, subject } = this.#collection;
    const from = this.#resourceVersion;
    const fromList = from === this.#listResourceVersion;
    const timeoutSeconds = minWatchSeconds + Math.floor(random() * (maxWatchSeconds - minWatchSeconds + 1));
    // One controller per watch: stopping the loop or passing the deadline tears down this stream.
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    const deadline = setTimeout(
      () => controller.abort(new Error(`${subject}: watch outlived its timeout; closing it`)),
      timeoutSeconds * 1000 + watchGraceMs,
    );
    let stream: Readable | undefined;
    let received = 0;
    try {
      try {
        stream = await this.#api.stream(path, {
          query: {
            watch: 'true',
            resourceVersion: from,
            allowWatchBookmarks: true,
            timeoutSeconds,
            labelSelector,
            fieldSelector,
          },
          signal: controller.signal,
          subject: `${subject}: watch`,
        });
      } catch (e) {
        if (isExpiredError(e)) return { kind: 'expired', received, fromList };
        throw e;
      }
      this.#stats.watches++;
      const opened = now();
      this.#options.logger.debug('watching', { subject, resourceVersion: from, timeoutSeconds });
      const decoder = new NdjsonDecoder(maxLineBytes);
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        for (const value of decoder.write(chunk)) {
          if (signal.aborted) return { kind: 'stopped' };
          if (this.#receive(value) === 'expired') return { kind: 'expired', received, fromList };
          received++;
        }
      }
      if (signal.aborted) return { kind: 'stopped' };
      try {
        for (const value of decoder.end()) {
          if (this.#receive(value) === 'expired') return { kind: 'expired', received, fromList };
          received++;
        }
      } catch (e) {
        // A line cut short by the server going away: its event was not applied, so the resume
        // point still precedes it.
        if (!(e instanceof NdjsonError)) throw e;
        this.#options.logger.debug('watch ended inside a line', { subject, error: e.message });
      }
      return { kind: 'ended', received, lastedMs: now() - opened };
    } catch (e) {
      if (signal.aborted) return { kind: 'stopped' };
      throw controller.signal.aborted && controller.signal.reason instanceof Error
        ? controller.signal.reason
        : e;
    } finally {
      clearTimeout(deadline);
      signal.removeEventListener('abort', abort);
      if (stream && !stream.readableEnded) stream.destroy();
    }
  }

  /** Applies one decoded watch line; says when the server expired our resourceVersion. */
  #receive(value: unknown): 'expired' | undefined {
    const { subject } = this.#collection;
    if (!isRawWatchEvent(value)) throw new Error(`${subject}: watch sent something that is not an event`);
    const { type, object } = value;
    switch (type) {
      case WatchEventType.Added:
      case WatchEventType.Modified:
      case WatchEventType.Deleted: {
        this.#stats.events++;
        const rv = object.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        this.#call(() => this.#handler.onEvent({ type, object: object as KubeObject }));
        return undefined;
      }
      case 'BOOKMARK': {
        this.#stats.bookmarks++;
        const rv = object.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
        return undefined;
      }
      case 'ERROR': {
        if (isExpiredStatus(object)) return 'expired';
        throw new KubeApiError(
          `${subject}: watch`,
          object.code ?? 500,
          object.reason ?? '',
          object.message ?? 'watch error',
        );
      }
      default:
        this.#options.logger.warn('unknown watch event type; ignored', { subject, type });
        return undefined;
    }
  }

  /** A handler's exception is logged, never allowed to stop the loop. */
  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#options.logger.error('watch handler failed', {
        subject: this.#collection.subject,
        error: messageOf(e),
      });
    }
  }
}

/** setTimeout that resolves early on abort and leaves no timer behind. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : JSON.stringify(e);
}
