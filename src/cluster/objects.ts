/** The parts of a Kubernetes object every stage relies on; the rest stays opaque. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  deletionTimestamp?: string;
  [field: string]: unknown;
}

/** Identifies one object: what error messages, inventories and plans name. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function refOf(obj: KubeObject): ObjectRef {
  const name = obj.metadata?.name ?? '';
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name };
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects: the subject of every message. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}
