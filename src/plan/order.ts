// Apply order: a named, exported table, and the readers of waves and hooks. Pure.
import type { KubeObject } from '../cluster/objects.ts';
import { groupOf } from './keys.ts';
import {
  HELM_HOOK_ANNOTATION,
  HELM_HOOK_DELETE_POLICY_ANNOTATION,
  HOOK_ANNOTATIONS,
  HOOK_DELETE_POLICY_ANNOTATIONS,
  SYNC_OPTIONS_ANNOTATIONS,
  WAVE_ANNOTATIONS,
} from './metadata.ts';

/**
 * Kinds applied before everything else, whatever their wave, and waited for: the API types,
 * namespaces and cluster-wide permissions the rest depends on.
 */
export const PREREQUISITE_KINDS: readonly string[] = [
  'apiextensions.k8s.io/CustomResourceDefinition',
  '/Namespace',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
];

/**
 * Order of kinds inside one wave: what others refer to comes first (the order Helm installs in).
 * Kinds not listed come after all listed ones, by name.
 */
export const KIND_ORDER: readonly string[] = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

const KIND_RANK = new Map(KIND_ORDER.map((k, i) => [k, i]));

export function kindRank(kind: string): number {
  return KIND_RANK.get(kind) ?? KIND_ORDER.length;
}

export function isPrerequisite(obj: Pick<KubeObject, 'apiVersion' | 'kind'>): boolean {
  return PREREQUISITE_KINDS.includes(`${groupOf(obj.apiVersion)}/${obj.kind}`);
}

/** Phases of a sync; hooks belong to one, ordinary objects to Sync. */
export const HookPhase = {
  PreSync: 'PreSync',
  Sync: 'Sync',
  PostSync: 'PostSync',
  SyncFail: 'SyncFail',
} as const;
export type HookPhase = (typeof HookPhase)[keyof typeof HookPhase];

export const HookDeletePolicy = {
  BeforeHookCreation: 'BeforeHookCreation',
  HookSucceeded: 'HookSucceeded',
  HookFailed: 'HookFailed',
} as const;
export type HookDeletePolicy = (typeof HookDeletePolicy)[keyof typeof HookDeletePolicy];

/** What the annotations of an object say about its place in a sync. */
export interface SyncRole {
  /** Hook phases it runs in; empty for an ordinary object. */
  hooks: HookPhase[];
  /** `Skip`: never applied. */
  skip: boolean;
  deletePolicies: HookDeletePolicy[];
  wave: number;
  /** `Prune=false`: left in place when it leaves Git. */
  noPrune: boolean;
}

export class AnnotationError extends Error {
  override name = 'AnnotationError';
}

const HELM_HOOKS: Record<string, HookPhase | undefined> = {
  'pre-install': HookPhase.PreSync,
  'pre-upgrade': HookPhase.PreSync,
  'post-install': HookPhase.PostSync,
  'post-upgrade': HookPhase.PostSync,
};

const HELM_DELETE_POLICIES: Record<string, HookDeletePolicy> = {
  'before-hook-creation': HookDeletePolicy.BeforeHookCreation,
  'hook-succeeded': HookDeletePolicy.HookSucceeded,
  'hook-failed': HookDeletePolicy.HookFailed,
};

function first(annotations: Record<string, string>, keys: readonly string[]): [string, string] | undefined {
  for (const key of keys) {
    const value = annotations[key];
    if (value !== undefined) return [key, value];
  }
  return undefined;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Reads waves, hooks, delete policies and sync options from Cairn's, Argo CD's and Helm's
 * annotations. A value it cannot read is an error naming the annotation, not a silent default.
 */
export function syncRoleOf(obj: KubeObject): SyncRole {
  const annotations = obj.metadata.annotations ?? {};
  const role: SyncRole = { hooks: [], skip: false, deletePolicies: [], wave: 0, noPrune: false };

  const wave = first(annotations, WAVE_ANNOTATIONS);
  if (wave) {
    const n = Number(wave[1].trim());
    if (!Number.isInteger(n))
      throw new AnnotationError(`annotation ${wave[0]}: "${wave[1]}" is not a whole number`);
    role.wave = n;
  }

  const hook = first(annotations, HOOK_ANNOTATIONS);
  if (hook) {
    for (const name of list(hook[1])) {
      if (name === 'Skip') role.skip = true;
      else if (Object.values(HookPhase).includes(name as HookPhase)) role.hooks.push(name as HookPhase);
      else
        throw new AnnotationError(
          `annotation ${hook[0]}: unknown hook "${name}" (PreSync, Sync, PostSync, SyncFail or Skip)`,
        );
    }
  } else if (annotations[HELM_HOOK_ANNOTATION] !== undefined) {
    // Helm hooks Cairn has no phase for (test, delete, rollback) are not applied at all.
    const phases = list(annotations[HELM_HOOK_ANNOTATION]).map((h) => HELM_HOOKS[h]);
    for (const p of phases) if (p && !role.hooks.includes(p)) role.hooks.push(p);
    if (role.hooks.length === 0) role.skip = true;
  }

  if (role.hooks.length > 0) {
    const policy = first(annotations, HOOK_DELETE_POLICY_ANNOTATIONS);
    if (policy) {
      for (const name of list(policy[1])) {
        if (!Object.values(HookDeletePolicy).includes(name as HookDeletePolicy)) {
          throw new AnnotationError(`annotation ${policy[0]}: unknown delete policy "${name}"`);
        }
        role.deletePolicies.push(name as HookDeletePolicy);
      }
    } else if (annotations[HELM_HOOK_DELETE_POLICY_ANNOTATION] !== undefined) {
      for (const name of list(annotations[HELM_HOOK_DELETE_POLICY_ANNOTATION])) {
        const p = HELM_DELETE_POLICIES[name];
        if (p) role.deletePolicies.push(p);
      }
    }
    if (role.deletePolicies.length === 0) role.deletePolicies.push(HookDeletePolicy.BeforeHookCreation);
  }

  const options = first(annotations, SYNC_OPTIONS_ANNOTATIONS);
  if (options) role.noPrune = list(options[1]).includes('Prune=false');
  return role;
}

/** Sort key of an ordinary object: prerequisites first, then wave, kind, namespace, name. */
export function compareForApply(
  a: { obj: KubeObject; wave: number },
  b: { obj: KubeObject; wave: number },
): number {
  const pa = isPrerequisite(a.obj) ? 0 : 1;
  const pb = isPrerequisite(b.obj) ? 0 : 1;
  if (pa !== pb) return pa - pb;
  if (a.wave !== b.wave) return a.wave - b.wave;
  const ka = kindRank(a.obj.kind);
  const kb = kindRank(b.obj.kind);
  if (ka !== kb) return ka - kb;
  if (a.obj.kind !== b.obj.kind) return a.obj.kind < b.obj.kind ? -1 : 1;
  const na = `${a.obj.metadata.namespace ?? ''}/${a.obj.metadata.name ?? a.obj.metadata.generateName ?? ''}`;
  const nb = `${b.obj.metadata.namespace ?? ''}/${b.obj.metadata.name ?? b.obj.metadata.generateName ?? ''}`;
  return na < nb ? -1 : na > nb ? 1 : 0;
}
