import type { ResourceStatus } from '../api/types.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { healthOf } from '../health/registry.ts';

/** Kinds whose objects make others, and the kinds they make: where `cairn app tree` looks for children. */
export const CHILD_KINDS: ReadonlyMap<string, readonly { apiVersion: string; kind: string }[]> = new Map([
  ['apps/Deployment', [{ apiVersion: 'apps/v1', kind: 'ReplicaSet' }]],
  ['apps/ReplicaSet', [{ apiVersion: 'v1', kind: 'Pod' }]],
  ['apps/StatefulSet', [{ apiVersion: 'v1', kind: 'Pod' }]],
  ['apps/DaemonSet', [{ apiVersion: 'v1', kind: 'Pod' }]],
  ['batch/CronJob', [{ apiVersion: 'batch/v1', kind: 'Job' }]],
  ['batch/Job', [{ apiVersion: 'v1', kind: 'Pod' }]],
]);

/** The children kinds of a kind (by group and kind), none for most. */
export function childKindsOf(group: string, kind: string): readonly { apiVersion: string; kind: string }[] {
  return CHILD_KINDS.get(`${group}/${kind}`) ?? [];
}

export interface TreeNode {
  kind: string;
  namespace?: string;
  name: string;
  /** Only for objects the Application applied: owned children have no sync status of their own. */
  sync?: string;
  health: string;
  message?: string;
  children: TreeNode[];
}

function groupOfApiVersion(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/**
 * The resource tree of an Application: what it applied (from status.resources) and, under each,
 * the live objects whose ownerReferences name it, found among `live` (the applied objects and
 * their possible children). Children are sorted by kind and name; a cycle cannot loop.
 */
export function resourceTree(resources: readonly ResourceStatus[], live: readonly KubeObject[]): TreeNode[] {
  const byUid = new Map<string, KubeObject[]>();
  for (const obj of live) {
    for (const owner of (obj.metadata.ownerReferences as { uid: string }[] | undefined) ?? []) {
      const list = byUid.get(owner.uid) ?? [];
      list.push(obj);
      byUid.set(owner.uid, list);
    }
  }
  const liveOf = (r: ResourceStatus) =>
    live.find(
      (o) =>
        o.kind === r.kind &&
        o.metadata.name === r.name &&
        (o.metadata.namespace ?? '') === (r.namespace ?? '') &&
        groupOfApiVersion(o.apiVersion) === r.group,
    );
  const seen = new Set<string>();
  const childrenOf = (obj: KubeObject | undefined): TreeNode[] => {
    const uid = obj?.metadata.uid;
    if (!uid || seen.has(uid)) return [];
    seen.add(uid);
    return (byUid.get(uid) ?? [])
      .map((child) => {
        const health = healthOf(child);
        return {
          kind: child.kind,
          ...(child.metadata.namespace ? { namespace: child.metadata.namespace } : {}),
          name: child.metadata.name ?? '',
          health: health.status,
          ...(health.message ? { message: health.message } : {}),
          children: childrenOf(child),
        };
      })
      .sort(byKindAndName);
  };
  return resources.map((r) => ({
    kind: r.kind,
    ...(r.namespace ? { namespace: r.namespace } : {}),
    name: r.name,
    sync: r.status,
    health: r.health?.status ?? 'Unknown',
    ...(r.health?.message ? { message: r.health.message } : {}),
    children: childrenOf(liveOf(r)),
  }));
}

function byKindAndName(a: TreeNode, b: TreeNode): number {
  return a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name);
}
