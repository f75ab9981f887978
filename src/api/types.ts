// The objects of cairn.dev/v1alpha1. Each schema is the CRD's OpenAPI schema and, through Infer,
// the TypeScript type the controller reads and writes.
import type { ObjectMeta } from '../cluster/objects.ts';
import { NAME_PATTERN, s, type Infer } from './schema.ts';

export const GROUP = 'cairn.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Annotation a Receiver or a person (`cairn app sync`) sets to ask for a reconcile now, as Flux's requestedAt. */
export const REQUESTED_AT_ANNOTATION = 'reconcile.cairn.dev/requestedAt';

const condition = s.object({
  type: s.string({ maxLength: 316 }),
  status: s.enumOf(['True', 'False', 'Unknown'] as const),
  observedGeneration: s.optional(s.int({ minimum: 0 })),
  lastTransitionTime: s.dateTime(),
  reason: s.string({ maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: s.string({ maxLength: 32768 }),
});
export type Condition = Infer<typeof condition>;

const conditions = s.array(condition, {
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});
const namespacedRef = s.object({
  name: s.string({ pattern: NAME_PATTERN, maxLength: 253 }),
  namespace: s.optional(
    s.string({
      pattern: NAME_PATTERN,
      maxLength: 63,
      description: 'Defaults to the namespace of the referring object.',
    }),
  ),
});

// GitRepository ------------------------------------------------------------------------------

export const gitRepositorySpec = s.object({
  url: s.string({ description: 'https://, ssh:// or user@host:path URL of the repository.', minLength: 1 }),
  ref: s.optional(
    s.object(
      {
        branch: s.optional(s.string()),
        tag: s.optional(s.string()),
        semver: s.optional(
          s.string({ description: 'A semver range; the highest matching tag is followed.' }),
        ),
        commit: s.optional(s.string({ pattern: '^[0-9a-f]{40}$' })),
        name: s.optional(s.string({ description: 'A full ref, e.g. refs/pull/7/head.' })),
      },
      {
        description: 'What to follow; the default branch "main" when absent.',
        validations: [
          {
            rule: '[has(self.branch), has(self.tag), has(self.semver), has(self.commit), has(self.name)].filter(x, x).size() == 1',
            message: 'set exactly one of branch, tag, semver, commit, name',
          },
        ],
      },
    ),
  ),
  interval: s.duration({
    default: '5m',
    description: 'How often to look for new commits when no webhook says so.',
  }),
  timeout: s.optional(s.duration({ description: 'Limit for one fetch (default 60s).' })),
  secretRef: s.optional(
    s.object(
      { name: s.string({ pattern: NAME_PATTERN }) },
      {
        description:
          'Secret in the same namespace with username and password (HTTPS) or identity and known_hosts (SSH).',
      },
    ),
  ),
  suspend: s.optional(s.bool()),
});

export const gitRepositoryStatus = s.object({
  observedGeneration: s.optional(s.int()),
  conditions: s.optional(conditions),
  artifact: s.optional(
    s.object({
      ref: s.string({ description: 'The full ref followed, or the commit asked for.' }),
      commit: s.string(),
      revision: s.string({ description: 'ref@sha1:commit, as Flux writes it.' }),
      subject: s.optional(
        s.string({ description: "The commit message's subject line, cut at 200 characters." }),
      ),
      lastUpdateTime: s.dateTime(),
    }),
  ),
});

export type GitRepositorySpec = Infer<typeof gitRepositorySpec>;
export type GitRepositoryStatus = Infer<typeof gitRepositoryStatus>;
export interface GitRepository {
  apiVersion: typeof API_VERSION;
  kind: 'GitRepository';
  metadata: ObjectMeta;
  spec: GitRepositorySpec;
  status?: GitRepositoryStatus;
  [field: string]: unknown;
}

// Application --------------------------------------------------------------------------------

const ignoreRule = s.object({
  group: s.optional(s.string()),
  kind: s.string(),
  name: s.optional(s.string()),
  namespace: s.optional(s.string()),
  jsonPointers: s.array(s.string({ pattern: '^(/[^/]*)*$' })),
});

export const applicationSpec = s.object({
  source: s.object({
    repositoryRef: namespacedRef,
    path: s.string({ default: '.', description: 'Folder of the application inside the repository.' }),
    renderer: s.optional(s.enumOf(['auto', 'plain', 'kustomize', 'helm'] as const, { default: 'auto' })),
    helm: s.optional(
      s.object({
        releaseName: s.optional(s.string({ description: "Defaults to the Application's name." })),
        valueFiles: s.optional(s.array(s.string(), { description: 'Relative to the chart folder.' })),
        values: s.optional(s.freeform({ description: 'Inline values; they win over every values file.' })),
      }),
    ),
    pinnedRevision: s.optional(
      s.string({
        pattern: '^[0-9a-f]{40}$',
        description:
          'Apply this commit instead of the repository head (set by `cairn app rollback`, cleared by `cairn app resume`; not for Git).',
      }),
    ),
  }),
  destination: s.object({
    namespace: s.string({
      pattern: NAME_PATTERN,
      maxLength: 63,
      description: 'Namespace for namespaced objects that name none.',
    }),
  }),
  syncPolicy: s.optional(
    s.object({
      automated: s.optional(
        s.object(
          {
            prune: s.optional(s.bool({ description: 'Delete objects that left Git.' })),
            selfHeal: s.optional(s.bool({ description: 'Revert changes made in the cluster.' })),
          },
          { description: 'Apply new commits without a person.' },
        ),
      ),
      createNamespace: s.optional(s.bool()),
    }),
  ),
  interval: s.duration({
    default: '10m',
    description: 'Full reconcile interval; changes are seen from watches and webhooks sooner.',
  }),
  dependsOn: s.optional(s.array(namespacedRef, { description: 'Applications that must be Ready first.' })),
  suspend: s.optional(s.bool()),
  ignoreDifferences: s.optional(s.array(ignoreRule)),
  deletionPolicy: s.optional(
    s.enumOf(['Delete', 'Orphan'] as const, {
      default: 'Delete',
      description: 'What happens to the objects when the Application is deleted.',
    }),
  ),
});

const resourceStatus = s.object({
  group: s.string(),
  version: s.string(),
  kind: s.string(),
  namespace: s.optional(s.string()),
  name: s.string(),
  status: s.enumOf(['Synced', 'OutOfSync'] as const),
  health: s.optional(s.object({ status: s.string(), message: s.optional(s.string()) })),
});

const inventoryEntry = s.object({
  key: s.string(),
  apiVersion: s.string(),
  digest: s.string(),
  fields: s.optional(s.string()),
});

const historyEntry = s.object({
  id: s.int({ minimum: 1 }),
  revision: s.string(),
  startedAt: s.dateTime(),
  finishedAt: s.dateTime(),
  result: s.enumOf(['Succeeded', 'Failed'] as const),
  initiator: s.enumOf(['automated', 'self-heal', 'manual'] as const),
  subject: s.optional(
    s.string({ description: "The subject line of the revision's commit message, when known." }),
  ),
  message: s.optional(s.string()),
});

export const applicationStatus = s.object({
  observedGeneration: s.optional(s.int()),
  conditions: s.optional(conditions),
  sync: s.optional(
    s.object({
      status: s.enumOf(['Synced', 'OutOfSync', 'Unknown'] as const),
      revision: s.optional(s.string()),
    }),
  ),
  health: s.optional(s.object({ status: s.string(), message: s.optional(s.string()) })),
  lastAttemptedRevision: s.optional(s.string()),
  pinnedRevision: s.optional(
    s.string({ description: 'The commit spec.source.pinnedRevision held when last reconciled.' }),
  ),
  lastHandledReconcileAt: s.optional(
    s.string({ description: 'The value of the reconcile.cairn.dev/requestedAt annotation last acted on.' }),
  ),
  resources: s.optional(s.array(resourceStatus)),
  inventory: s.optional(s.object({ revision: s.optional(s.string()), entries: s.array(inventoryEntry) })),
  history: s.optional(s.array(historyEntry, { maxItems: 10 })),
});

export type ApplicationSpec = Infer<typeof applicationSpec>;
export type ApplicationStatus = Infer<typeof applicationStatus>;
export type HistoryEntry = Infer<typeof historyEntry>;
export type ResourceStatus = Infer<typeof resourceStatus>;
export interface Application {
  apiVersion: typeof API_VERSION;
  kind: 'Application';
  metadata: ObjectMeta;
  spec: ApplicationSpec;
  status?: ApplicationStatus;
  [field: string]: unknown;
}

// Receiver -----------------------------------------------------------------------------------

export const receiverSpec = s.object({
  type: s.enumOf(['github', 'gitlab', 'generic-hmac'] as const),
  secretRef: s.object(
    { name: s.string({ pattern: NAME_PATTERN }) },
    { description: 'Secret in the same namespace whose key "token" holds the token or HMAC key.' },
  ),
  resources: s.array(
    s.object({
      kind: s.enumOf(['GitRepository'] as const),
      name: s.string({ pattern: NAME_PATTERN }),
      namespace: s.optional(s.string({ pattern: NAME_PATTERN })),
    }),
    { description: 'What to fetch again when a valid request arrives.' },
  ),
  suspend: s.optional(s.bool()),
});

export const receiverStatus = s.object({
  observedGeneration: s.optional(s.int()),
  conditions: s.optional(conditions),
  webhookPath: s.optional(
    s.string({ description: 'POST here (on the controller listener) to trigger a fetch.' }),
  ),
});

export type ReceiverSpec = Infer<typeof receiverSpec>;
export type ReceiverStatus = Infer<typeof receiverStatus>;
export interface Receiver {
  apiVersion: typeof API_VERSION;
  kind: 'Receiver';
  metadata: ObjectMeta;
  spec: ReceiverSpec;
  status?: ReceiverStatus;
  [field: string]: unknown;
}
