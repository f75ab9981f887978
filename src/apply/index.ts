// apply: a plan in, the cluster changed: server-side apply, prune, hooks, waves, health waits.
export {
  ObjectOutcome,
  SyncPhase,
  currentHealth,
  defaultSyncOptions,
  executePlan,
  planApplication,
  type PlannedApplication,
  syncObjects,
  type ObjectResult,
  type SyncEvent,
  type SyncOptions,
  type SyncResult,
} from './sync.ts';
export {
  ConfigMapInventoryStore,
  MemoryInventoryStore,
  inventoryConfigMapName,
  type InventoryStore,
} from './inventory-store.ts';
export { readLiveObjects, resolveScopes } from './live.ts';
export { HookError, runHooks, type HookResult } from './hooks.ts';
export { HealthWaitError, defaultWaitOptions, waitForHealthy, type WaitOptions } from './wait.ts';
export { diffApplication, type ApplicationDiff } from './diff.ts';
