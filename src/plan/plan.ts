// planSync: desired objects + live objects + inventory -> a Plan (create / configure / unchanged
// / prune per object) in apply order, with hooks by phase. Pure: no request is made here.
import type { KubeObject, ObjectRef } from '../cluster/objects.ts';
import { describeRef } from '../cluster/objects.ts';
import { desiredDigest, ownedFieldsDigest } from './digest.ts';
import { keepLiveValues, matchingPointers, removePointers, type IgnoreRule } from './ignore.ts';
import { inventoryIndex, parseKey, type Inventory, type InventoryEntry } from './inventory.ts';
import { groupOf, keyOf } from './keys.ts';
import { DORA, TRACKING_ANNOTATION, TRACKING_LABEL } from './metadata.ts';
import {
  AnnotationError,
  HookPhase,
  compareForApply,
  isPrerequisite,
  syncRoleOf,
  type HookDeletePolicy,
} from './order.ts';

export const Action = {
  Create: 'create',
  Configure: 'configure',
  Unchanged: 'unchanged',
  Prune: 'prune',
  /** Left alone: annotated Skip, or `Prune=false` when it left Git. */
  Skip: 'skip',
} as const;
export type Action = (typeof Action)[keyof typeof Action];

/** A desired object and the file it came from (render's Manifest fits). */
export interface DesiredObject {
  object: KubeObject;
  source?: { file: string };
}

export interface PlannedObject {
  key: string;
  ref: ObjectRef;
  action: Action;
  /** Why this action, for people. */
  reason: string;
  /** What to send (tracking metadata added, ignored fields removed); absent for prune and skip. */
  object?: KubeObject;
  /** desiredDigest of the object without ignored fields and deployment annotations. */
  digest?: string;
  /** ignoreDifferences pointers that apply to this object. */
  ignored?: string[];
  wave: number;
  prerequisite: boolean;
  source?: string;
}

export interface PlannedHook {
  phase: HookPhase;
  ref: ObjectRef;
  object: KubeObject;
  deletePolicies: HookDeletePolicy[];
  wave: number;
  source?: string;
}

/** Objects applied together, then waited for before the next stage. */
export interface PlanStage {
  name: string;
  objects: PlannedObject[];
}

export interface Plan {
  application: string;
  revision?: string;
  stages: PlanStage[];
  hooks: Record<HookPhase, PlannedHook[]>;
  /** Objects that left Git, in delete order (reverse of apply order). */
  prune: PlannedObject[];
  /** Objects left alone, with the reason. */
  skipped: PlannedObject[];
  /** Something is created, configured or pruned. */
  changed: boolean;
}

/** The deployment a sync belongs to, written on the objects it changes. */
export interface Deployment {
  id: string;
  commit: string;
  timestamp: string;
}

export type KindScope = 'namespaced' | 'cluster';

export interface PlanOptions {
  application: string;
  revision?: string;
  /** Namespace for namespaced objects that name none. */
  namespace: string;
  prune: boolean;
  ignoreDifferences: IgnoreRule[];
  fieldManager: string;
  deployment?: Deployment;
  /** Labels added to every applied object beside the tracking label (the controller names the Application's namespace). */
  labels?: Record<string, string>;
  /** Whether a kind exists and is namespaced, from discovery; undefined when the API server does not serve it. */
  scopeOf: (apiVersion: string, kind: string) => KindScope | undefined;
}

export class PlanError extends Error {
  override name = 'PlanError';
  readonly problems: string[];
  constructor(application: string, problems: string[]) {
    super(`${application}: cannot plan: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** Kinds the desired CRDs will add: known before the API server serves them. */
function kindsFromCrds(desired: readonly DesiredObject[]): Map<string, KindScope> {
  const kinds = new Map<string, KindScope>();
  for (const { object } of desired) {
    if (object.kind !== 'CustomResourceDefinition' || groupOf(object.apiVersion) !== 'apiextensions.k8s.io')
      continue;
    const spec = object.spec as
      | { group?: string; names?: { kind?: string }; scope?: string; versions?: { name: string }[] }
      | undefined;
    if (!spec?.group || !spec.names?.kind) continue;
    for (const v of spec.versions ?? []) {
      kinds.set(
        `${spec.group}/${v.name}/${spec.names.kind}`,
        spec.scope === 'Cluster' ? 'cluster' : 'namespaced',
      );
    }
  }
  return kinds;
}

/** The object in its namespace: the default one when namespaced and unset, none when cluster-scoped. */
export function placeObject(obj: KubeObject, scope: KindScope, defaultNamespace: string): KubeObject {
  const metadata = { ...obj.metadata };
  if (scope === 'namespaced') metadata.namespace = metadata.namespace || defaultNamespace;
  else delete metadata.namespace;
  return { ...obj, metadata };
}

function refOfObject(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name ?? obj.metadata.generateName ?? '',
  };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

function withTracking(obj: KubeObject, application: string, labels: Record<string, string> = {}): KubeObject {
  const ref = refOfObject(obj);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      labels: { ...obj.metadata.labels, ...labels, [TRACKING_LABEL]: application },
      annotations: {
        ...obj.metadata.annotations,
        [TRACKING_ANNOTATION]: `${application}:${groupOf(ref.apiVersion)}/${ref.kind}:${ref.namespace ?? ''}/${ref.name}`,
      },
    },
  };
}

function withDora(obj: KubeObject, values: Record<string, string> | undefined): KubeObject {
  if (!values || Object.keys(values).length === 0) return obj;
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, ...values } } };
}

function doraOf(live: KubeObject | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.values(DORA)) {
    const v = live?.metadata.annotations?.[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

function doraFor(deployment: Deployment | undefined): Record<string, string> | undefined {
  if (!deployment) return undefined;
  return {
    [DORA.deploymentId]: deployment.id,
    [DORA.commitSha]: deployment.commit,
    [DORA.timestamp]: deployment.timestamp,
  };
}

/** Decides, per object, what a sync must do. Throws PlanError naming every object it cannot place. */
export function planSync(
  desired: readonly DesiredObject[],
  live: ReadonlyMap<string, KubeObject | undefined>,
  inventory: Inventory,
  options: PlanOptions,
): Plan {
  const problems: string[] = [];
  const crdKinds = kindsFromCrds(desired);
  const previous = inventoryIndex(inventory);
  const hooks: Record<HookPhase, PlannedHook[]> = { PreSync: [], Sync: [], PostSync: [], SyncFail: [] };
  const ordinary: { obj: KubeObject; wave: number; planned: PlannedObject }[] = [];
  const skipped: PlannedObject[] = [];
  const seen = new Set<string>();

  for (const { object: raw, source } of desired) {
    const scope = crdKinds.get(`${raw.apiVersion}/${raw.kind}`) ?? options.scopeOf(raw.apiVersion, raw.kind);
    const where = source ? `${source.file}: ` : '';
    if (!scope) {
      problems.push(
        `${where}${raw.kind}/${raw.metadata.name ?? ''}: kind ${raw.kind} (${raw.apiVersion}) is not served by the cluster; install its CustomResourceDefinition first`,
      );
      continue;
    }
    const obj = placeObject(raw, scope, options.namespace);

    let role;
    try {
      role = syncRoleOf(obj);
    } catch (e) {
      if (!(e instanceof AnnotationError)) throw e;
      problems.push(`${where}${describeRef(refOfObject(obj))}: ${e.message}`);
      continue;
    }
    const ref = refOfObject(obj);
    const file = source?.file;

    if (role.hooks.length > 0) {
      // Hooks are created fresh each time they run and are not part of the inventory.
      for (const phase of role.hooks) {
        hooks[phase].push({
          phase,
          ref,
          object: withTracking(obj, options.application, options.labels),
          deletePolicies: role.deletePolicies,
          wave: role.wave,
          ...(file ? { source: file } : {}),
        });
      }
      continue;
    }
    const key = keyOf(obj);
    if (role.skip) {
      skipped.push({
        key,
        ref,
        action: Action.Skip,
        reason: 'annotated to skip',
        wave: role.wave,
        prerequisite: false,
        ...(file ? { source: file } : {}),
      });
      continue;
    }
    if (!obj.metadata.name) {
      problems.push(`${where}${obj.kind}: metadata.name is required for objects that are not hooks`);
      continue;
    }
    seen.add(key);
    const current = live.get(key);
    const pointers = matchingPointers(obj, options.ignoreDifferences);
    const digest = desiredDigest(
      withTracking(removePointers(obj, pointers), options.application, options.labels),
    );
    const intended = withTracking(
      current ? keepLiveValues(obj, current, pointers) : obj,
      options.application,
      options.labels,
    );
    const entry = previous.get(key);
    const planned = decide(key, ref, intended, digest, current, entry, pointers, options);
    if (pointers.length > 0) planned.ignored = pointers;
    planned.wave = role.wave;
    planned.prerequisite = isPrerequisite(obj);
    if (file) planned.source = file;
    ordinary.push({ obj, wave: role.wave, planned });
  }

  if (problems.length > 0) throw new PlanError(options.application, problems);

  ordinary.sort(compareForApply);
  const stages: PlanStage[] = [];
  for (const { planned } of ordinary) {
    const name = planned.prerequisite ? 'prerequisites' : `wave ${planned.wave}`;
    const last = stages.at(-1);
    if (last?.name === name) last.objects.push(planned);
    else stages.push({ name, objects: [planned] });
  }
  for (const phase of Object.values(HookPhase)) {
    hooks[phase].sort((a, b) =>
      compareForApply({ obj: a.object, wave: a.wave }, { obj: b.object, wave: b.wave }),
    );
  }

  const prune: PlannedObject[] = [];
  for (const entry of inventory.entries) {
    if (seen.has(entry.key)) continue;
    const { kind, namespace, name } = parseKey(entry.key);
    const ref: ObjectRef = { apiVersion: entry.apiVersion, kind, name, ...(namespace ? { namespace } : {}) };
    const current = live.get(entry.key);
    const base = { key: entry.key, ref, wave: 0, prerequisite: isPrerequisite(ref) };
    if (!current) continue; // already gone
    if (syncRoleOfLive(current).noPrune) {
      skipped.push({ ...base, action: Action.Skip, reason: 'left Git; kept because of Prune=false' });
    } else if (!options.prune) {
      skipped.push({ ...base, action: Action.Skip, reason: 'left Git; kept because pruning is off' });
    } else {
      prune.push({ ...base, action: Action.Prune, reason: 'left Git' });
    }
  }
  // Delete in reverse apply order: dependents before what they depend on.
  prune.sort((a, b) => compareForDelete(a, b));

  const changed =
    ordinary.some(({ planned }) => planned.action === Action.Create || planned.action === Action.Configure) ||
    prune.length > 0;
  return {
    application: options.application,
    ...(options.revision ? { revision: options.revision } : {}),
    stages,
    hooks,
    prune,
    skipped,
    changed,
  };
}

function syncRoleOfLive(obj: KubeObject): { noPrune: boolean } {
  try {
    return syncRoleOf(obj);
  } catch {
    return { noPrune: false };
  }
}

/** Delete order: the reverse of apply order (dependents before what they depend on). */
export function compareForDelete(
  a: { ref: ObjectRef; wave?: number },
  b: { ref: ObjectRef; wave?: number },
): number {
  const stub = (ref: ObjectRef): KubeObject => ({
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  });
  return -compareForApply({ obj: stub(a.ref), wave: a.wave ?? 0 }, { obj: stub(b.ref), wave: b.wave ?? 0 });
}

function decide(
  key: string,
  ref: ObjectRef,
  intended: KubeObject,
  digest: string,
  current: KubeObject | undefined,
  entry: InventoryEntry | undefined,
  pointers: readonly string[],
  options: PlanOptions,
): PlannedObject {
  const base = { key, ref, digest, wave: 0, prerequisite: false };
  const fresh = doraFor(options.deployment);
  if (!current) {
    return {
      ...base,
      action: Action.Create,
      reason: 'not in the cluster',
      object: withDora(intended, fresh),
    };
  }
  if (!entry) {
    return {
      ...base,
      action: Action.Configure,
      reason: 'not applied by this application before',
      object: withDora(intended, fresh),
    };
  }
  if (entry.digest !== digest) {
    return { ...base, action: Action.Configure, reason: 'changed in Git', object: withDora(intended, fresh) };
  }
  const owned = ownedFieldsDigest(current, options.fieldManager, pointers);
  if (entry.fields === undefined || owned !== entry.fields) {
    // Drift: re-send the deployment annotations already there, so a revert is not a deployment.
    return {
      ...base,
      action: Action.Configure,
      reason: 'drifted: fields Cairn applied were changed or removed in the cluster',
      object: withDora(intended, doraOf(current)),
    };
  }
  return {
    ...base,
    action: Action.Unchanged,
    reason: 'unchanged',
    object: withDora(intended, doraOf(current)),
  };
}
