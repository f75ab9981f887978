// syncObjects: the apply stage. Plans against the live state and the inventory, then runs the
// plan: PreSync hooks, stages (prerequisites, then waves) with health waits between them, prune,
// PostSync hooks; SyncFail hooks when anything fails. Never prunes after a failed plan.
import { FIELD_MANAGER, type KubeClient } from '../cluster/client.ts';
import { describeRef, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { aggregateHealth, healthOf } from '../health/registry.ts';
import { HealthStatus, type Health } from '../health/types.ts';
import { mapLimit } from '../limit.ts';
import { canonicalJson, ownedFieldsDigest } from '../plan/digest.ts';
import { redactSecretValues } from '../plan/diff.ts';
import type { IgnoreRule } from '../plan/ignore.ts';
import type { Inventory, InventoryEntry } from '../plan/inventory.ts';
import { HookPhase } from '../plan/order.ts';
import {
  Action,
  placeObject,
  planSync,
  type DesiredObject,
  type Deployment,
  type Plan,
  type PlannedObject,
} from '../plan/plan.ts';
import { runHooks, HookError, type HookResult } from './hooks.ts';
import type { InventoryStore } from './inventory-store.ts';
import { readLiveObjects, resolveScopes } from './live.ts';
import { defaultWaitOptions, waitForHealthy, type WaitOptions } from './wait.ts';

export const ObjectOutcome = {
  Applied: 'applied',
  Unchanged: 'unchanged',
  Pruned: 'pruned',
  Skipped: 'skipped',
  Failed: 'failed',
  /** Accepted by a server-side dry run; nothing changed. */
  DryRun: 'dry-run',
  /** Not reached: an earlier stage failed. */
  NotRun: 'not-run',
} as const;
export type ObjectOutcome = (typeof ObjectOutcome)[keyof typeof ObjectOutcome];

/** One row of the change set: what was planned for an object and what happened. */
export interface ObjectResult {
  key: string;
  ref: ObjectRef;
  action: Action;
  outcome: ObjectOutcome;
  reason: string;
  source?: string;
  error?: string;
}

export const SyncPhase = {
  Plan: 'plan',
  PreSync: 'PreSync',
  Apply: 'apply',
  Prune: 'prune',
  PostSync: 'PostSync',
  Done: 'done',
} as const;
export type SyncPhase = (typeof SyncPhase)[keyof typeof SyncPhase];

export interface SyncResult {
  application: string;
  revision?: string;
  ok: boolean;
  /** Where it stopped when not ok. */
  failedAt?: SyncPhase;
  error?: string;
  /** Something was created, configured or pruned (or would be, in a dry run). */
  changed: boolean;
  dryRun: boolean;
  objects: ObjectResult[];
  hooks: HookResult[];
  health: Health;
}

export interface SyncOptions {
  application: string;
  /** Namespace for namespaced objects that name none. */
  namespace: string;
  revision?: string;
  deployment?: Deployment;
  prune: boolean;
  dryRun: boolean;
  /** Wait for every object to be healthy at the end (waves always wait for the one before). */
  wait: boolean;
  /** `auto`: only when the plan changes something. */
  hooks: 'auto' | 'always' | 'never';
  createNamespace: boolean;
  ignoreDifferences: IgnoreRule[];
  fieldManager: string;
  /** Labels beside the tracking label on every object (the controller names the Application's namespace). */
  labels?: Record<string, string>;
  /** Requests in flight at once while applying one stage. */
  concurrency: number;
  health: WaitOptions;
}

export function defaultSyncOptions(application: string, namespace: string): SyncOptions {
  return {
    application,
    namespace,
    prune: false,
    dryRun: false,
    wait: false,
    hooks: 'auto',
    createNamespace: false,
    ignoreDifferences: [],
    fieldManager: FIELD_MANAGER,
    concurrency: 16,
    health: defaultWaitOptions(),
  };
}

/** Progress, for CLI lines and controller events. */
export type SyncEvent =
  | { type: 'planned'; plan: Plan }
  | { type: 'stage'; name: string; count: number }
  | { type: 'object'; result: ObjectResult }
  | { type: 'health'; ref: ObjectRef; health: Health }
  | { type: 'hook'; result: HookResult };

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Syncs desired objects into the cluster as one application. Failures are in the result, not thrown. */
export async function syncObjects(
  client: KubeClient,
  desired: readonly DesiredObject[],
  store: InventoryStore,
  options: SyncOptions,
  onEvent: (event: SyncEvent) => void = () => {},
): Promise<SyncResult> {
  // Plan: nothing is written until this succeeds.
  let planned: PlannedApplication;
  try {
    planned = await planApplication(client, desired, store, options);
  } catch (e) {
    return {
      application: options.application,
      ...(options.revision ? { revision: options.revision } : {}),
      ok: false,
      failedAt: SyncPhase.Plan,
      error: message(e),
      changed: false,
      dryRun: options.dryRun,
      objects: [],
      hooks: [],
      health: { status: HealthStatus.Unknown },
    };
  }
  return executePlan(client, planned.plan, planned.inventory, store, options, onEvent);
}

/**
 * Runs a plan made from the live state (by planApplication, or by the controller from its watch
 * caches): hooks, stages with health waits, prune; saves the inventory when its entries change.
 */
export async function executePlan(
  client: KubeClient,
  plan: Plan,
  inventory: Inventory,
  store: InventoryStore,
  options: SyncOptions,
  onEvent: (event: SyncEvent) => void = () => {},
): Promise<SyncResult> {
  const result: SyncResult = {
    application: options.application,
    ...(options.revision ? { revision: options.revision } : {}),
    ok: false,
    changed: false,
    dryRun: options.dryRun,
    objects: [],
    hooks: [],
    health: { status: HealthStatus.Unknown },
  };
  const fail = (phase: SyncPhase, e: unknown): SyncResult => {
    result.failedAt = phase;
    result.error = message(e);
    return result;
  };
  onEvent({ type: 'planned', plan });
  result.changed = plan.changed;
  const planned = plan.stages.flatMap((s) => s.objects);
  const outcomes = new Map<string, ObjectResult>();
  const record = (p: PlannedObject, outcome: ObjectOutcome, error?: string) => {
    const row: ObjectResult = {
      key: p.key,
      ref: p.ref,
      action: p.action,
      outcome,
      reason: p.reason,
      ...(p.source ? { source: p.source } : {}),
      ...(error ? { error } : {}),
    };
    outcomes.set(p.key, row);
    onEvent({ type: 'object', result: row });
  };
  for (const p of plan.skipped) record(p, ObjectOutcome.Skipped);

  if (options.dryRun) {
    for (const p of planned) {
      if (p.action === Action.Unchanged) {
        record(p, ObjectOutcome.Unchanged);
        continue;
      }
      try {
        await client.apply(p.object!, { fieldManager: options.fieldManager, dryRun: true });
        record(p, ObjectOutcome.DryRun);
      } catch (e) {
        record(p, ObjectOutcome.Failed, redactSecretValues(message(e), p.object));
      }
    }
    for (const p of plan.prune) record(p, ObjectOutcome.DryRun);
    result.objects = inPlanOrder(plan, outcomes);
    result.ok = result.objects.every((o) => o.outcome !== ObjectOutcome.Failed);
    if (!result.ok) result.failedAt = SyncPhase.Apply;
    return result;
  }

  const runHooksNow = options.hooks === 'always' || (options.hooks === 'auto' && plan.changed);
  const entries = new Map<string, InventoryEntry>(inventory.entries.map((e) => [e.key, e]));
  const hookOptions = {
    ...options.health,
    onHook: (r: HookResult) => onEvent({ type: 'hook', result: r }),
    onHealth: (ref: ObjectRef, health: Health) => onEvent({ type: 'health', ref, health }),
  };
  let phase: SyncPhase = SyncPhase.PreSync;
  try {
    if (options.createNamespace) await ensureNamespace(client, options.namespace, options.fieldManager);
    if (runHooksNow)
      result.hooks.push(...(await runHooks(client, HookPhase.PreSync, plan.hooks.PreSync, hookOptions)));

    phase = SyncPhase.Apply;
    const syncHooksByWave = new Map<number, typeof plan.hooks.Sync>();
    for (const h of runHooksNow ? plan.hooks.Sync : [])
      syncHooksByWave.set(h.wave, [...(syncHooksByWave.get(h.wave) ?? []), h]);
    for (const [index, stage] of plan.stages.entries()) {
      onEvent({ type: 'stage', name: stage.name, count: stage.objects.length });
      const failures: string[] = [];
      await mapLimit(stage.objects, options.concurrency, async (p) => {
        if (p.action === Action.Unchanged) {
          record(p, ObjectOutcome.Unchanged);
          return;
        }
        try {
          const applied = await client.apply<KubeObject>(p.object!, { fieldManager: options.fieldManager });
          const fields = ownedFieldsDigest(applied, options.fieldManager, p.ignored ?? []);
          entries.set(p.key, {
            key: p.key,
            apiVersion: p.ref.apiVersion,
            digest: p.digest!,
            ...(fields ? { fields } : {}),
          });
          record(p, ObjectOutcome.Applied);
        } catch (e) {
          const why = redactSecretValues(message(e), p.object);
          failures.push(why);
          record(p, ObjectOutcome.Failed, why);
        }
      });
      if (failures.length > 0) throw new Error(failures.join('; '));
      if (stage.name === 'prerequisites') client.discovery.invalidate(); // new CRDs are served now
      const wave = stage.objects[0]?.wave;
      const stageHooks =
        !stage.objects[0]?.prerequisite && wave !== undefined ? (syncHooksByWave.get(wave) ?? []) : [];
      syncHooksByWave.delete(wave ?? NaN);
      if (stageHooks.length > 0)
        result.hooks.push(...(await runHooks(client, HookPhase.Sync, stageHooks, hookOptions)));
      const more = index < plan.stages.length - 1;
      if (more || options.wait || (runHooksNow && plan.hooks.PostSync.length > 0)) {
        await waitForHealthy(
          client,
          stage.objects.map((o) => o.ref),
          hookOptions,
        );
      }
    }
    for (const rest of syncHooksByWave.values())
      result.hooks.push(...(await runHooks(client, HookPhase.Sync, rest, hookOptions)));

    phase = SyncPhase.Prune;
    for (const p of plan.prune) {
      try {
        await client.delete(p.ref, { propagationPolicy: 'Background' });
        entries.delete(p.key);
        record(p, ObjectOutcome.Pruned);
      } catch (e) {
        if ((e as { code?: number }).code === 404) {
          entries.delete(p.key);
          record(p, ObjectOutcome.Pruned);
        } else {
          record(p, ObjectOutcome.Failed, message(e));
          throw e;
        }
      }
    }
    // Objects that left Git and were kept on purpose are no longer this application's.
    for (const s of plan.skipped) if (s.reason.includes('Prune=false')) entries.delete(s.key);

    phase = SyncPhase.PostSync;
    if (runHooksNow)
      result.hooks.push(...(await runHooks(client, HookPhase.PostSync, plan.hooks.PostSync, hookOptions)));
    result.ok = true;
  } catch (e) {
    fail(phase, e);
    if (runHooksNow && plan.hooks.SyncFail.length > 0) {
      try {
        result.hooks.push(...(await runHooks(client, HookPhase.SyncFail, plan.hooks.SyncFail, hookOptions)));
      } catch (hookError) {
        if (hookError instanceof HookError)
          result.hooks.push(...hookError.results.filter((r) => !result.hooks.includes(r)));
      }
    }
    if (e instanceof HookError) {
      for (const r of e.results) if (!result.hooks.includes(r)) result.hooks.push(r);
    }
  } finally {
    for (const p of planned) if (!outcomes.has(p.key)) record(p, ObjectOutcome.NotRun);
    // Keep every entry that may still be in the cluster, so a later sync can prune it.
    const revision = result.ok && options.revision ? options.revision : inventory.revision;
    const next: Inventory = {
      ...(revision ? { revision } : {}),
      entries: [...entries.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
    };
    // A sync that changed no entry writes nothing, not even the new revision: a commit that
    // touched only other applications costs this one no write.
    if (canonicalJson(next.entries) !== canonicalJson(inventory.entries)) await store.save(next);
  }
  result.objects = inPlanOrder(plan, outcomes);
  if (options.wait && result.ok)
    result.health = await currentHealth(
      client,
      planned.map((p) => p.ref),
    );
  return result;
}

/** Results in the order of the plan: skipped, then stages, then prunes. */
function inPlanOrder(plan: Plan, outcomes: Map<string, ObjectResult>): ObjectResult[] {
  const keys = [...plan.skipped, ...plan.stages.flatMap((s) => s.objects), ...plan.prune].map((p) => p.key);
  return [...new Set(keys)].flatMap((k) => {
    const r = outcomes.get(k);
    return r ? [r] : [];
  });
}

export interface PlannedApplication {
  plan: Plan;
  inventory: Inventory;
  /** Live objects of the application, by object key. */
  live: Map<string, KubeObject>;
}

/** What planning needs of the sync options (a diff plans and writes nothing). */
export type PlanOptions = Pick<
  SyncOptions,
  | 'application'
  | 'namespace'
  | 'prune'
  | 'ignoreDifferences'
  | 'fieldManager'
  | 'revision'
  | 'deployment'
  | 'labels'
>;

/** Reads the inventory and the live objects and plans a sync: the read-only half of syncObjects. */
export async function planApplication(
  client: KubeClient,
  desired: readonly DesiredObject[],
  store: InventoryStore,
  options: PlanOptions,
): Promise<PlannedApplication> {
  const inventory = await store.load();
  const scopeOf = await resolveScopes(
    client,
    desired.map((d) => d.object),
  );
  const placed = desired.flatMap((d) => {
    const scope = scopeOf(d.object.apiVersion, d.object.kind);
    return scope ? [placeObject(d.object, scope, options.namespace)] : [];
  });
  const live = await readLiveObjects(
    client,
    options.application,
    placed.map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    })),
    inventory,
  );
  const plan = planSync(desired, live, inventory, {
    application: options.application,
    namespace: options.namespace,
    prune: options.prune,
    ignoreDifferences: options.ignoreDifferences,
    fieldManager: options.fieldManager,
    scopeOf,
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.deployment ? { deployment: options.deployment } : {}),
    ...(options.labels ? { labels: options.labels } : {}),
  });
  return { plan, inventory, live };
}

async function ensureNamespace(client: KubeClient, name: string, fieldManager: string): Promise<void> {
  const ref = { apiVersion: 'v1', kind: 'Namespace', name };
  if (await client.getOptional(ref)) return;
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager });
}

/** The health of the application's objects as they are now. */
export async function currentHealth(client: KubeClient, refs: readonly ObjectRef[]): Promise<Health> {
  const items = await Promise.all(
    refs.map(async (ref) => ({ name: describeRef(ref), health: healthOf(await client.getOptional(ref)) })),
  );
  return aggregateHealth(items);
}
