// Leader election on a coordination.k8s.io/v1 Lease, with the semantics of client-go's
// leaderelection package: whoever writes the Lease (optimistic concurrency on resourceVersion)
// leads; a Lease counts as expired only after its duration has passed on *our* clock since we saw
// its record change, so clock skew between machines does not matter; a leader that cannot renew
// within its renew deadline stops leading before any candidate may take over.
import { isConflict, isNotFound, type KubeClient } from '../cluster/client.ts';
import { describeRef, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { systemClock, type Clock } from './queue.ts';
import { silentLogger, type Logger } from '../log.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime: RFC 3339 with exactly six fractional digits. */
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  [field: string]: unknown;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** A candidate waits between one and 2.2 retry periods between attempts, as client-go does. */
const CANDIDATE_JITTER = 1.2;

export interface LeaderElectionOptions {
  /** The Lease: `namespace/name`. */
  namespace: string;
  name: string;
  /** Unique per process (pod name plus a random suffix): two processes with one identity both lead. */
  identity: string;
  /** How long a Lease stays valid after its last renewal; whole seconds, as the Lease stores it. */
  leaseDurationMs: number;
  /** A leader that has not renewed for this long stops leading; less than `leaseDurationMs`. */
  renewDeadlineMs: number;
  /** A leader renews, and a candidate tries to acquire, this often; less than `renewDeadlineMs`. */
  retryPeriodMs: number;
  /**
   * Called once when this process starts leading. `signal` aborts when leadership is lost or
   * `release()` is called. Return a promise that settles once the work has stopped: `release()`
   * keeps renewing the Lease until then, so no successor starts while this one still writes.
   * A rejected promise is logged.
   */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called once after `onStartedLeading` when leadership ends, whatever the reason. */
  onStoppedLeading: () => void;
  /** Called whenever the observed holder changes (including to this process). */
  onNewLeader: (identity: string) => void;
  clock: Clock;
  logger: Logger;
  /** A number in [0, 1), for the candidates' jitter. */
  random: () => number;
}

type RequiredElectionOptions = 'namespace' | 'name' | 'identity' | 'onStartedLeading' | 'onStoppedLeading';

/** client-go's timings (15 s / 10 s / 2 s); the Lease, identity and the two callbacks are the caller's. */
export function defaultLeaderElectionOptions(): Omit<LeaderElectionOptions, RequiredElectionOptions> {
  return {
    leaseDurationMs: DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: DEFAULT_RETRY_PERIOD_MS,
    onNewLeader: () => {},
    clock: systemClock(),
    logger: silentLogger,
    random: Math.random,
  };
}

/** What the elector needs of the client; every request takes a signal so none outlives its deadline. */
export type LeaseClient = Pick<KubeClient, 'request' | 'pathFor'>;

/** The Lease's time format (metav1.MicroTime): the API server wants exactly six fractional digits. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The spec `identity` writes to take or renew a Lease, or undefined when another holder's Lease
 * is still valid. `expired` is the caller's judgement, from its own clock. The transitions count
 * rises whenever the holder changes (a released Lease has no holder, so taking it counts too).
 */
export function claimLease(
  current: LeaseSpec | undefined,
  claim: { identity: string; now: Date; leaseDurationSeconds: number; expired: boolean },
): LeaseSpec | undefined {
  const holder = current?.holderIdentity ?? '';
  const renewing = holder === claim.identity;
  if (holder !== '' && !renewing && !claim.expired) return undefined;
  const now = microTime(claim.now);
  return {
    ...current, // fields this elector does not manage (strategy, preferredHolder) stay as they are
    holderIdentity: claim.identity,
    leaseDurationSeconds: claim.leaseDurationSeconds,
    acquireTime: renewing ? (current?.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: (current?.leaseTransitions ?? 0) + (renewing ? 0 : 1),
  };
}

/** The spec a leader writes when it steps down: no holder, so a candidate may take it at once. */
export function releasedLease(current: LeaseSpec | undefined, now: Date): LeaseSpec {
  const { holderIdentity: _holder, acquireTime: _acquired, ...others } = current ?? {};
  return {
    ...others,
    leaseDurationSeconds: 1,
    renewTime: microTime(now),
    leaseTransitions: current?.leaseTransitions ?? 0,
  };
}

/** Refuses timings under which two processes could lead at once. */
export function checkElectionTimings(
  options: Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>,
): string | undefined {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = options;
  if (!Number.isInteger(leaseDurationMs / 1000) || leaseDurationMs < 1000)
    return `leaseDurationMs must be a whole number of seconds, not ${leaseDurationMs}`;
  if (!(renewDeadlineMs < leaseDurationMs))
    return `renewDeadlineMs (${renewDeadlineMs}) must be less than leaseDurationMs (${leaseDurationMs})`;
  if (!(retryPeriodMs > 0 && retryPeriodMs < renewDeadlineMs))
    return `retryPeriodMs (${retryPeriodMs}) must be positive and less than renewDeadlineMs (${renewDeadlineMs})`;
  return undefined;
}

interface Observed {
  lease: Lease;
  /** The record's fields, to tell a renewal from no change. */
  record: string;
  /** When (on our clock) we first saw this record. */
  at: number;
}

interface Attempt {
  leading: boolean;
  /** Another holder whose Lease is valid. */
  heldBy?: string;
}

/**
 * Campaigns for one Lease. `run()` resolves when the elector is done: after `release()`, or after
 * leadership is lost (a lost leader does not campaign again; its work was cancelled, and starting
 * afresh is the caller's decision, usually a process restart).
 */
export class LeaderElector {
  readonly options: LeaderElectionOptions;
  readonly #client: LeaseClient;
  readonly #ref: ObjectRef;
  readonly #subject: string;
  #paths: Promise<{ object: string; collection: string }> | undefined;
  #observed: Observed | undefined;
  #lastHolder = '';
  /** Present while leading; its signal is the one onStartedLeading got. */
  #leading: AbortController | undefined;
  /** The leader's work, from onStartedLeading; settled once it stopped. */
  #work: Promise<void> = Promise.resolve();
  #deadline: unknown;
  #attempt: AbortController | undefined;
  #sleeping: { timer: unknown; wake: () => void } | undefined;
  #stopping = false;
  #run: Promise<void> | undefined;

  constructor(client: LeaseClient, options: LeaderElectionOptions) {
    this.#ref = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: options.namespace,
      name: options.name,
    };
    this.#subject = describeRef(this.#ref);
    const problem = checkElectionTimings(options);
    if (problem) throw new RangeError(`${this.#subject}: ${problem}`);
    if (!options.identity) throw new RangeError(`${this.#subject}: identity must not be empty`);
    this.#client = client;
    this.options = options;
  }

  get isLeader(): boolean {
    return this.#leading !== undefined;
  }

  /** The holder last seen on the Lease ('' when none). */
  get leader(): string {
    return this.#lastHolder;
  }

  /** Campaigns, leads, renews; resolves when done (see the class comment). Call once. */
  run(): Promise<void> {
    if (this.#run) throw new Error(`${this.#subject}: run() was already called`);
    this.#run = this.#loop();
    return this.#run;
  }

  /**
   * Stops campaigning. A leader aborts its signal, keeps renewing until the promise its
   * onStartedLeading returned has settled, calls onStoppedLeading, and clears the holder so a
   * successor takes over at once. Failures are logged; the Lease then expires by itself.
   */
  async release(): Promise<void> {
    const leading = this.#leading;
    if (leading) {
      leading.abort(new Error(`${this.#subject}: released`));
      await this.#work;
    }
    this.#stopping = true;
    this.#attempt?.abort(new Error('released'));
    this.#wake();
    this.#stopLeading('released');
    await this.#run;
    // Also when an acquisition landed just as we stopped: the Lease names us, free it.
    if (this.#observed?.lease.spec?.holderIdentity === this.options.identity) await this.#writeRelease();
  }

  async #loop(): Promise<void> {
    const { clock, retryPeriodMs } = this.options;
    while (!this.#stopping) {
      const started = clock.now();
      const attempt = await this.#tryAcquireOrRenew();
      if (this.#stopping) break;
      if (this.#leading) {
        if (attempt.leading) this.#renewed(started);
        else if (attempt.heldBy) this.#stopLeading(`the Lease is now held by ${attempt.heldBy}`);
        // Otherwise retry until the renew deadline (its timer) ends leadership.
      } else if (attempt.leading) {
        this.#startLeading(started);
      }
      if (this.#stopping) break;
      const jitter = this.#leading ? 0 : CANDIDATE_JITTER * this.options.random();
      await this.#sleep(retryPeriodMs * (1 + jitter));
    }
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    const { clock, renewDeadlineMs } = this.options;
    const attempt = new AbortController();
    this.#attempt = attempt;
    const timer = clock.setTimeout(
      () => attempt.abort(new Error(`no answer within ${renewDeadlineMs} ms`)),
      renewDeadlineMs,
    );
    try {
      return await this.#acquireOrRenew(attempt.signal);
    } catch (e) {
      if (!this.#stopping) {
        const what = this.#leading ? 'renewing' : 'acquiring';
        this.options.logger.warn(`${this.#subject}: ${what} failed`, { error: errorMessage(e) });
      }
      return { leading: false };
    } finally {
      clock.clearTimeout(timer);
      if (this.#attempt === attempt) this.#attempt = undefined;
    }
  }

  async #acquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { identity, leaseDurationMs, clock, logger } = this.options;
    const paths = await this.#leasePaths();
    const leaseDurationSeconds = leaseDurationMs / 1000;
    const now = clock.date();

    // A leader first renews the version it last wrote: one request when nobody else wrote since.
    const mine = this.#observed?.lease;
    if (this.#leading && mine?.spec?.holderIdentity === identity) {
      const spec = claimLease(mine.spec, { identity, now, leaseDurationSeconds, expired: false });
      try {
        this.#observe(await this.#put(paths.object, { ...mine, spec }, signal));
        return { leading: true };
      } catch (e) {
        if (!isConflict(e)) throw e;
        logger.debug(`${this.#subject}: the Lease changed since our last renewal; reading it again`);
      }
    }

    let current: Lease;
    try {
      current = await this.#client.request<Lease>('GET', paths.object, { subject: this.#subject, signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      return this.#create(paths.collection, now, leaseDurationSeconds, signal);
    }
    this.#observe(current);
    const holder = current.spec?.holderIdentity ?? '';
    // Someone else wrote the Lease while we led: we lost it, however stale their record looks.
    if (this.#leading && holder !== '' && holder !== identity) return { leading: false, heldBy: holder };
    const spec = claimLease(current.spec, {
      identity,
      now,
      leaseDurationSeconds,
      expired: this.#expired(),
    });
    if (!spec) return { leading: false, heldBy: holder };
    try {
      this.#observe(await this.#put(paths.object, { ...current, spec }, signal));
      return { leading: true };
    } catch (e) {
      if (!isConflict(e)) throw e;
      logger.debug(`${this.#subject}: another writer updated the Lease first`);
      return { leading: false };
    }
  }

  async #create(collection: string, now: Date, leaseDurationSeconds: number, signal: AbortSignal) {
    const spec: LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    const lease: Lease = {
      apiVersion: this.#ref.apiVersion,
      kind: 'Lease',
      metadata: { name: this.#ref.name, namespace: this.#ref.namespace },
      spec,
    };
    try {
      const created = await this.#client.request<Lease>('POST', collection, {
        body: lease,
        subject: this.#subject,
        signal,
      });
      this.#observe(created);
      return { leading: true };
    } catch (e) {
      if (!isConflict(e)) throw e;
      this.options.logger.debug(`${this.#subject}: another writer created the Lease first`);
      return { leading: false };
    }
  }

  #put(path: string, lease: Lease, signal: AbortSignal): Promise<Lease> {
    // The body carries metadata.resourceVersion: the API server refuses it if anyone wrote since.
    return this.#client.request<Lease>('PUT', path, { body: lease, subject: this.#subject, signal });
  }

  #leasePaths(): Promise<{ object: string; collection: string }> {
    if (!this.#paths) {
      const { name: _name, ...collection } = this.#ref;
      const paths = (async () => ({
        object: await this.#client.pathFor(this.#ref),
        collection: await this.#client.pathFor(collection),
      }))();
      // A failed discovery is tried again on the next attempt.
      paths.catch(() => {
        if (this.#paths === paths) this.#paths = undefined;
      });
      this.#paths = paths;
    }
    return this.#paths;
  }

  #observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = JSON.stringify([
      holder,
      spec.leaseDurationSeconds,
      spec.acquireTime,
      spec.renewTime,
      spec.leaseTransitions,
    ]);
    const at =
      this.#observed && this.#observed.record === record ? this.#observed.at : this.options.clock.now();
    this.#observed = { lease, record, at };
    if (holder !== this.#lastHolder) {
      this.#lastHolder = holder;
      if (holder) {
        this.options.logger.info(`${this.#subject}: new leader`, { identity: holder });
        void this.#callback('onNewLeader', () => this.options.onNewLeader(holder));
      }
    }
  }

  /** Expired by our clock: its duration has passed since we first saw its current record. */
  #expired(): boolean {
    if (!this.#observed) return true;
    const seconds = this.#observed.lease.spec?.leaseDurationSeconds ?? this.options.leaseDurationMs / 1000;
    return this.options.clock.now() >= this.#observed.at + seconds * 1000;
  }

  #startLeading(renewStarted: number): void {
    const leading = new AbortController();
    this.#leading = leading;
    this.#renewed(renewStarted);
    this.options.logger.info(`${this.#subject}: started leading`, { identity: this.options.identity });
    this.#work = this.#callback('onStartedLeading', () => this.options.onStartedLeading(leading.signal));
  }

  /**
   * Leadership lasts `renewDeadlineMs` from the *start* of the last successful write: the write
   * landed after that, and candidates count the Lease duration from when they saw it.
   */
  #renewed(started: number): void {
    const { clock, renewDeadlineMs } = this.options;
    clock.clearTimeout(this.#deadline);
    const remaining = started + renewDeadlineMs - clock.now();
    this.#deadline = clock.setTimeout(
      () => this.#stopLeading(`could not renew the Lease within ${renewDeadlineMs} ms`),
      Math.max(0, remaining),
    );
  }

  #stopLeading(reason: string): void {
    const leading = this.#leading;
    if (!leading) return;
    this.#leading = undefined;
    this.#stopping = true;
    this.options.clock.clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#attempt?.abort(new Error(reason));
    this.#wake();
    const fields = { identity: this.options.identity, reason };
    if (reason === 'released') this.options.logger.info(`${this.#subject}: stopped leading`, fields);
    else this.options.logger.warn(`${this.#subject}: stopped leading`, fields);
    leading.abort(new Error(`${this.#subject}: leadership ended: ${reason}`));
    void this.#callback('onStoppedLeading', () => this.options.onStoppedLeading());
  }

  async #writeRelease(): Promise<void> {
    const { clock, identity, renewDeadlineMs, logger } = this.options;
    const attempt = new AbortController();
    const timer = clock.setTimeout(() => attempt.abort(new Error('timed out')), renewDeadlineMs);
    try {
      const paths = await this.#leasePaths();
      let lease = this.#observed?.lease;
      for (let tries = 0; tries < 2 && lease; tries++) {
        if (lease.spec?.holderIdentity !== identity) return; // someone else holds it now
        try {
          const spec = releasedLease(lease.spec, clock.date());
          this.#observe(await this.#put(paths.object, { ...lease, spec }, attempt.signal));
          logger.info(`${this.#subject}: released`);
          return;
        } catch (e) {
          if (!isConflict(e)) throw e;
          // A renewal we aborted may have landed after all; read the version we hold.
          lease = await this.#client.request<Lease>('GET', paths.object, {
            subject: this.#subject,
            signal: attempt.signal,
          });
        }
      }
    } catch (e) {
      logger.warn(`${this.#subject}: release failed; the Lease will expire by itself`, {
        error: errorMessage(e),
      });
    } finally {
      clock.clearTimeout(timer);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.options.clock.clearTimeout(timer);
        this.#sleeping = undefined;
        resolve();
      };
      const timer = this.options.clock.setTimeout(wake, ms);
      this.#sleeping = { timer, wake };
    });
  }

  #wake(): void {
    this.#sleeping?.wake();
  }

  /** Calls back into the caller; what it throws or rejects with is logged, never thrown here. */
  async #callback(name: string, call: () => void | Promise<void>): Promise<void> {
    try {
      await call();
    } catch (e) {
      this.options.logger.error(`${this.#subject}: ${name} failed`, { error: errorMessage(e) });
    }
  }
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
