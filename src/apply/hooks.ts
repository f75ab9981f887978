// Hooks: objects created (not applied) at a phase of a sync, waited for, and deleted by policy.
import { isNotFound, type KubeClient } from '../cluster/client.ts';
import { describeRef, refOf, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { HookDeletePolicy, type HookPhase } from '../plan/order.ts';
import type { PlannedHook } from '../plan/plan.ts';
import { waitForHealthy, type WaitOptions } from './wait.ts';

export interface HookResult {
  phase: HookPhase;
  ref: ObjectRef;
  /** The name the API server gave (differs from ref.name with generateName). */
  name: string;
  ok: boolean;
  message: string;
}

export class HookError extends Error {
  override name = 'HookError';
  readonly results: HookResult[];
  constructor(phase: HookPhase, results: HookResult[]) {
    const failed = results.filter((r) => !r.ok);
    super(
      `${phase} hook ${failed.map((r) => `${describeRef({ ...r.ref, name: r.name })}: ${r.message}`).join('; ')}`,
    );
    this.results = results;
  }
}

async function deleteAndWait(client: KubeClient, ref: ObjectRef, options: WaitOptions): Promise<void> {
  try {
    await client.delete(ref, { propagationPolicy: 'Foreground' });
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  const deadline = Date.now() + options.timeoutMs;
  while ((await client.getOptional(ref)) !== undefined) {
    if (Date.now() > deadline)
      throw new Error(`${describeRef(ref)}: the previous hook object was not deleted in time`);
    await new Promise((r) => setTimeout(r, options.intervalMs / 2));
  }
}

/**
 * Runs the hooks of one phase in order of their waves: creates each wave's hooks, waits for them
 * to succeed (Jobs complete, Pods succeed, anything else healthy), then the next wave.
 */
export async function runHooks(
  client: KubeClient,
  phase: HookPhase,
  hooks: readonly PlannedHook[],
  options: WaitOptions & { onHook?: (result: HookResult) => void },
): Promise<HookResult[]> {
  const results: HookResult[] = [];
  const waves = [...new Set(hooks.map((h) => h.wave))].sort((a, b) => a - b);
  for (const wave of waves) {
    const created: { hook: PlannedHook; obj: KubeObject }[] = [];
    for (const hook of hooks.filter((h) => h.wave === wave)) {
      if (hook.object.metadata.name && hook.deletePolicies.includes(HookDeletePolicy.BeforeHookCreation)) {
        await deleteAndWait(client, hook.ref, options);
      }
      created.push({ hook, obj: await client.create(hook.object) });
    }
    const outcomes = await Promise.all(
      created.map(async ({ hook, obj }): Promise<HookResult> => {
        const ref = refOf(obj);
        try {
          await waitForHealthy(client, [ref], options);
          return { phase, ref: hook.ref, name: ref.name, ok: true, message: 'succeeded' };
        } catch (e) {
          return {
            phase,
            ref: hook.ref,
            name: ref.name,
            ok: false,
            message: e instanceof Error ? e.message.replace(`${describeRef(ref)}: `, '') : String(e),
          };
        }
      }),
    );
    for (const [i, result] of outcomes.entries()) {
      const { hook, obj } = created[i]!;
      options.onHook?.(result);
      results.push(result);
      const policy = result.ok ? HookDeletePolicy.HookSucceeded : HookDeletePolicy.HookFailed;
      if (hook.deletePolicies.includes(policy)) {
        await client.delete(refOf(obj), { propagationPolicy: 'Background' }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    if (outcomes.some((r) => !r.ok)) throw new HookError(phase, results);
  }
  return results;
}
