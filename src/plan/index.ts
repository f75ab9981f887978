// plan: desired manifests and live objects in, a Plan (create / configure / unchanged / prune)
// in apply order out. Pure: deciding "unchanged" costs no request.
export {
  Action,
  PlanError,
  compareForDelete,
  planSync,
  type DesiredObject,
  type Deployment,
  type KindScope,
  type Plan,
  type PlanOptions,
  type PlanStage,
  type PlannedHook,
  type PlannedObject,
} from './plan.ts';
export {
  HookDeletePolicy,
  HookPhase,
  KIND_ORDER,
  PREREQUISITE_KINDS,
  compareForApply,
  isPrerequisite,
  kindRank,
  syncRoleOf,
  AnnotationError,
  type SyncRole,
} from './order.ts';
export {
  emptyInventory,
  inventoryIndex,
  parseKey,
  type Inventory,
  type InventoryEntry,
} from './inventory.ts';
export { canonicalJson, desiredDigest, ownedFieldsDigest, sha256 } from './digest.ts';
export {
  keepLiveValues,
  matchingPointers,
  parsePointer,
  removePointers,
  stripFieldsV1,
  type IgnoreRule,
} from './ignore.ts';
export { groupOf, keyOf, objectKey } from './keys.ts';
export { DORA, TRACKING_ANNOTATION, TRACKING_LABEL } from './metadata.ts';
export {
  REDACTED,
  diffObjects,
  normalizeForDiff,
  redactSecretValues,
  redactSecrets,
  type ObjectDiff,
} from './diff.ts';
