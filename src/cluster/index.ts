// cluster: talking to Kubernetes API servers: kubeconfig, a small JSON client with keep-alive,
// discovery, and (later) the shared watch caches.
export {
  loadKubeconfig,
  KubeconfigError,
  type ClusterConnection,
  type LoadedKubeconfig,
} from './kubeconfig.ts';
export {
  KubeClient,
  KubeApiError,
  FIELD_MANAGER,
  defaultKubeClientOptions,
  defaultApplyOptions,
  isConflict,
  isForbidden,
  isInvalid,
  isNotFound,
  type ApplyOptions,
  type KubeClientOptions,
} from './client.ts';
export { ApiDiscovery, UnknownKindError, type ResourceInfo } from './discovery.ts';
export { describeRef, refOf, type KubeObject, type ObjectMeta, type ObjectRef } from './objects.ts';
