// The names Cairn writes on the objects it applies, and reads from the ones people write.

/** Label on every applied object: the Application that owns it (used to filter watches). */
export const TRACKING_LABEL = 'app.cairn.dev/application';
/** Annotation naming owner and identity, `<app>:<group>/<kind>:<namespace>/<name>`, to spot copies. */
export const TRACKING_ANNOTATION = 'app.cairn.dev/tracking-id';

/** Deployment tracking: the deployment and commit that last changed the object. */
export const DORA = {
  deploymentId: 'dora.metrics/deployment-id',
  commitSha: 'dora.metrics/commit-sha',
  timestamp: 'dora.metrics/timestamp',
} as const;

/** Sync waves, first match wins (Argo CD reads helm.sh/hook-weight as a wave too). */
export const WAVE_ANNOTATIONS = [
  'cairn.dev/sync-wave',
  'argocd.argoproj.io/sync-wave',
  'helm.sh/hook-weight',
] as const;
export const HOOK_ANNOTATIONS = ['cairn.dev/hook', 'argocd.argoproj.io/hook'] as const;
export const HELM_HOOK_ANNOTATION = 'helm.sh/hook';
export const HOOK_DELETE_POLICY_ANNOTATIONS = [
  'cairn.dev/hook-delete-policy',
  'argocd.argoproj.io/hook-delete-policy',
] as const;
export const HELM_HOOK_DELETE_POLICY_ANNOTATION = 'helm.sh/hook-delete-policy';
/** `Prune=false` keeps an object when it leaves Git; other sync options may follow. */
export const SYNC_OPTIONS_ANNOTATIONS = [
  'cairn.dev/sync-options',
  'argocd.argoproj.io/sync-options',
] as const;
