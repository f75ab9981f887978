import type { KubeObject, ObjectRef } from '../cluster/objects.ts';

export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Identity of an object independent of its API version: `group/Kind/namespace/name`
 * (`apps/Deployment/shop/cart`, `/Namespace//shop`). Inventories and plans key by it.
 */
export function objectKey(ref: ObjectRef): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey({
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name ?? '',
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
  });
}
