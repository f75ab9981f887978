// Waiting for objects to become healthy: between waves, for hooks, and at the end of a sync.
import type { KubeClient } from '../cluster/client.ts';
import { describeRef, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { healthOf } from '../health/registry.ts';
import { HealthStatus, type Health } from '../health/types.ts';

export class HealthWaitError extends Error {
  override name = 'HealthWaitError';
  readonly ref: ObjectRef;
  readonly health: Health;
  constructor(ref: ObjectRef, health: Health, message: string) {
    super(`${describeRef(ref)}: ${message}`);
    this.ref = ref;
    this.health = health;
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Called when an object's health changes, for progress lines. */
  onHealth?: (ref: ObjectRef, health: Health) => void;
  sleep?: (ms: number) => Promise<void>;
}

export function defaultWaitOptions(): WaitOptions {
  return { timeoutMs: 5 * 60_000, intervalMs: 500 };
}

/**
 * Resolves with each object's last state once all are Healthy. A Degraded object fails at once,
 * with its health reason; Suspended counts as done (a paused rollout will not progress by itself).
 */
export async function waitForHealthy(
  client: KubeClient,
  refs: readonly ObjectRef[],
  options: WaitOptions,
): Promise<Map<ObjectRef, KubeObject>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pending = new Set(refs);
  const last = new Map<ObjectRef, Health>();
  const done = new Map<ObjectRef, KubeObject>();
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    await Promise.all(
      [...pending].map(async (ref) => {
        const obj = await client.getOptional(ref);
        const health = healthOf(obj);
        const before = last.get(ref);
        if (!before || before.status !== health.status || before.message !== health.message)
          options.onHealth?.(ref, health);
        last.set(ref, health);
        if (health.status === HealthStatus.Degraded) {
          throw new HealthWaitError(
            ref,
            health,
            `${health.status}${health.reason ? ` (${health.reason})` : ''}: ${health.message ?? ''}`,
          );
        }
        if (obj && (health.status === HealthStatus.Healthy || health.status === HealthStatus.Suspended)) {
          pending.delete(ref);
          done.set(ref, obj);
        }
      }),
    );
    if (pending.size === 0) return done;
    if (Date.now() > deadline) {
      const [ref] = pending;
      const h = last.get(ref!)!;
      throw new HealthWaitError(
        ref!,
        h,
        `not healthy after ${Math.round(options.timeoutMs / 1000)} s: ${h.status}: ${h.message ?? ''}`,
      );
    }
    await sleep(options.intervalMs);
  }
}
