// The controller's work queue: keys to reconcile, deduplicated while they wait, handled with
// bounded concurrency and never by two workers at once, retried with per-key exponential backoff.
// Time comes from an injected Clock so tests drive it, and shutdown leaves no timer behind.

/** Time and timers, passed in so tests can drive them. */
export interface Clock {
  /** Milliseconds on a monotonic scale, for durations and deadlines. */
  now(): number;
  /** Wall-clock time, for timestamps written to objects. */
  date(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's clock and timers. */
export function systemClock(): Clock {
  return {
    now: () => performance.now(),
    date: () => new Date(),
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** The delay doubles per failure up to this. */
  maxMs: number;
  /**
   * Up to this fraction (0..1) of each delay is taken off at random, so keys that failed together
   * (an API server outage) do not all retry in the same instant. It never lengthens a delay, so
   * `maxMs` stays the longest wait and each delay is at least `1 - jitter` times the nominal one.
   */
  jitter: number;
}

/** The delay before retry number `failures + 1` (`failures` counts earlier failures, from 0). */
export function backoffDelay(failures: number, options: BackoffOptions, random: () => number): number {
  const nominal = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(failures, 64));
  return nominal * (1 - options.jitter * random());
}

/** How one handling of a key ended, for metrics. */
export const WorkOutcome = {
  /** The handler succeeded; the key's backoff was reset. */
  Done: 'done',
  /** The handler succeeded and asked to be called again after a delay. */
  Requeued: 'requeued',
  /** The handler threw; the key was scheduled again with backoff. */
  Failed: 'failed',
} as const;
export type WorkOutcome = (typeof WorkOutcome)[keyof typeof WorkOutcome];

/** What a handler may return. */
export interface WorkResult {
  /** Handle the key again after this long (a periodic resync); the backoff is reset. */
  requeueAfterMs?: number;
}

/**
 * Handles one key. `signal` aborts when a shutdown's timeout runs out: finish or give up soon.
 * A thrown error goes to `onError` and the key is retried with backoff.
 */
export type WorkHandler<K extends string> = (
  key: K,
  signal: AbortSignal,
) => Promise<WorkResult | void> | WorkResult | void;

/** Hooks for metrics; every one is optional. */
export interface WorkQueueMetrics<K extends string> {
  /** Keys ready and waiting for a worker (not counting delayed keys or keys being handled). */
  depth?(depth: number): void;
  /** A key was added that was not already waiting. */
  added?(key: K): void;
  /** A key was scheduled for a retry after `delayMs`. */
  retried?(key: K, delayMs: number): void;
  /** A handling ended: how long the key waited for a worker, how long the handler took. */
  processed?(key: K, timing: { waitMs: number; durationMs: number }, outcome: WorkOutcome): void;
}

export interface WorkQueueOptions<K extends string> {
  clock: Clock;
  /** A number in [0, 1), for backoff jitter. */
  random: () => number;
  backoff: BackoffOptions;
  /** Told about every error a handler throws, before the key is retried. */
  onError: (key: K, error: unknown) => void;
  metrics: WorkQueueMetrics<K>;
}

/** Everything but `onError`, which the caller must give: errors are never dropped silently. */
export function defaultWorkQueueOptions<K extends string = string>(): Omit<WorkQueueOptions<K>, 'onError'> {
  return {
    clock: systemClock(),
    random: Math.random,
    backoff: { baseMs: 1000, maxMs: 5 * 60_000, jitter: 0.2 },
    metrics: {},
  };
}

export interface ShutdownOptions {
  /** Stop waiting for in-flight handlers after this long and abort their signal. */
  timeoutMs?: number;
}

export interface ShutdownResult {
  /** Every in-flight handler finished before the timeout. */
  drained: boolean;
  /** Keys whose handlers were still running when the timeout ran out. */
  abandoned: string[];
}

/**
 * A keyed work queue. A key waits at most once: adding a waiting key again changes nothing, and a
 * key added while it is being handled is handled once more after the current run ends. Keys are
 * served first in, first out, so a key that is added again and again goes to the back each time;
 * keys added with `first` are served before all others, first in, first out among themselves.
 */
export class WorkQueue<K extends string> {
  readonly #options: WorkQueueOptions<K>;
  /** Keys ready for a worker, in arrival order (a Set keeps insertion order and removes in O(1)). */
  readonly #ready = new Set<K>();
  /** Keys ready and asked for first: served before every key in #ready. */
  readonly #urgent = new Set<K>();
  /**
   * Keys that must be handled (again), with when they were added: in #ready, or waiting for their
   * current run to end.
   */
  readonly #dirty = new Map<K, number>();
  /** Keys being handled. */
  readonly #processing = new Set<K>();
  /** Keys being handled that were added again with `first`. */
  readonly #urgentAfterRun = new Set<K>();
  readonly #delayed = new Map<K, { at: number; timer: unknown }>();
  readonly #failures = new Map<K, number>();
  readonly #abort = new AbortController();
  #handler: WorkHandler<K> | undefined;
  #concurrency = 0;
  #stopping = false;
  #shutdown: Promise<ShutdownResult> | undefined;
  #drained: (() => void) | undefined;
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(options: WorkQueueOptions<K>) {
    this.#options = options;
    this.#stopped = new Promise((resolve) => (this.#resolveStopped = resolve));
  }

  /** Keys ready and waiting for a worker. */
  get depth(): number {
    return this.#ready.size + this.#urgent.size;
  }

  /** Keys being handled right now. */
  get inFlight(): number {
    return this.#processing.size;
  }

  /** Keys scheduled for later (addAfter, retries). */
  get delayed(): number {
    return this.#delayed.size;
  }

  /** Failures counted for a key since it last succeeded or was forgotten. */
  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /**
   * Asks for `key` to be handled. Ignored after shutdown. `first` puts it ahead of every key
   * added without it (a key already waiting moves up): a change someone is waiting for should
   * not queue behind a thousand routine looks.
   */
  add(key: K, options: { first?: boolean } = {}): void {
    if (this.#stopping) return;
    if (this.#dirty.has(key)) {
      if (options.first && this.#ready.delete(key)) {
        this.#urgent.add(key);
        this.#dispatch();
      } else if (options.first && this.#processing.has(key)) {
        this.#urgentAfterRun.add(key);
      }
      return;
    }
    this.#dirty.set(key, this.#options.clock.now());
    this.#options.metrics.added?.(key);
    if (this.#processing.has(key)) {
      // queued again when its current run ends
      if (options.first) this.#urgentAfterRun.add(key);
      return;
    }
    (options.first ? this.#urgent : this.#ready).add(key);
    this.#depthChanged();
    this.#dispatch();
  }

  /** Adds `key` after `ms`. A key has one pending time: the earliest asked for wins. */
  addAfter(key: K, ms: number): void {
    if (this.#stopping) return;
    if (ms <= 0) return this.add(key);
    const { clock } = this.#options;
    const at = clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending) {
      if (pending.at <= at) return;
      clock.clearTimeout(pending.timer);
    }
    const timer = clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /** Adds `key` after its backoff delay, which doubles with each failure until `forget`. */
  addRateLimited(key: K): void {
    if (this.#stopping) return;
    const failures = this.failures(key);
    const delay = backoffDelay(failures, this.#options.backoff, this.#options.random);
    this.#failures.set(key, failures + 1);
    this.#options.metrics.retried?.(key, delay);
    this.addAfter(key, delay);
  }

  /** Resets the backoff of `key`; `run` does this after each success. A pending retry stays. */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  /**
   * Hands keys to `handler`, at most `concurrency` at a time. Resolves once the queue has shut
   * down and its handlers have finished (or the shutdown timeout ran out).
   */
  run(concurrency: number, handler: WorkHandler<K>): Promise<void> {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RangeError(`work queue: concurrency must be a positive integer, not ${concurrency}`);
    if (this.#handler) throw new Error('work queue: run() was already called');
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#dispatch();
    return this.#stopped;
  }

  /**
   * Stops taking new work: later adds are ignored, waiting and delayed keys are dropped, and their
   * timers cleared. Resolves when the handlers in flight have finished, or when `timeoutMs` runs
   * out (their signal is then aborted and they are reported as abandoned).
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownResult> {
    this.#shutdown ??= this.#stop(options);
    return this.#shutdown;
  }

  async #stop(options: ShutdownOptions): Promise<ShutdownResult> {
    const { clock } = this.#options;
    this.#stopping = true;
    for (const { timer } of this.#delayed.values()) clock.clearTimeout(timer);
    this.#delayed.clear();
    const hadWaiting = this.depth > 0;
    this.#ready.clear();
    this.#urgent.clear();
    this.#urgentAfterRun.clear();
    this.#dirty.clear();
    if (hadWaiting) this.#depthChanged();

    let timer: unknown;
    const drained =
      this.#processing.size === 0
        ? true
        : await new Promise<boolean>((resolve) => {
            this.#drained = () => resolve(true);
            if (options.timeoutMs !== undefined)
              timer = clock.setTimeout(() => resolve(false), Math.max(0, options.timeoutMs));
          });
    this.#drained = undefined;
    if (drained) clock.clearTimeout(timer);
    const abandoned = [...this.#processing];
    if (!drained) this.#abort.abort(new Error('work queue: shutdown timed out'));
    this.#resolveStopped();
    return { drained, abandoned };
  }

  #dispatch(): void {
    if (!this.#handler || this.#stopping) return;
    while (this.#processing.size < this.#concurrency && this.depth > 0) {
      const from = this.#urgent.size > 0 ? this.#urgent : this.#ready;
      const key = from.values().next().value as K;
      from.delete(key);
      const queuedAt = this.#dirty.get(key) ?? this.#options.clock.now();
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#depthChanged();
      void this.#handle(key, this.#handler, queuedAt);
    }
  }

  async #handle(key: K, handler: WorkHandler<K>, queuedAt: number): Promise<void> {
    const { clock, metrics } = this.#options;
    const started = clock.now();
    let outcome: WorkOutcome;
    try {
      const result = await handler(key, this.#abort.signal);
      this.forget(key);
      if (result && result.requeueAfterMs !== undefined) {
        this.addAfter(key, result.requeueAfterMs);
        outcome = WorkOutcome.Requeued;
      } else {
        outcome = WorkOutcome.Done;
      }
    } catch (error) {
      outcome = WorkOutcome.Failed;
      try {
        this.#options.onError(key, error);
      } catch {
        // a failing error reporter must not stop the queue
      }
      this.addRateLimited(key);
    }
    this.#processing.delete(key);
    metrics.processed?.(key, { waitMs: started - queuedAt, durationMs: clock.now() - started }, outcome);
    if (this.#stopping) {
      if (this.#processing.size === 0) this.#drained?.();
      return;
    }
    const urgent = this.#urgentAfterRun.delete(key);
    if (this.#dirty.has(key)) {
      (urgent ? this.#urgent : this.#ready).add(key);
      this.#depthChanged();
    }
    this.#dispatch();
  }

  #depthChanged(): void {
    this.#options.metrics.depth?.(this.depth);
  }
}
