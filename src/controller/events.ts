// Kubernetes Events about Cairn's objects: sync, failed sync, drift, prune.
import type { KubeClient } from '../cluster/client.ts';
import type { KubeObject } from '../cluster/objects.ts';

export const EventReason = {
  Synced: 'Synced',
  SyncFailed: 'SyncFailed',
  Drifted: 'Drifted',
  Pruned: 'Pruned',
  BuildFailed: 'BuildFailed',
  FetchFailed: 'FetchFailed',
  NewRevision: 'NewRevision',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface EventRecorder {
  record(about: KubeObject, type: 'Normal' | 'Warning', reason: EventReason, message: string): void;
}

/** Writes core/v1 Events; failures to record are logged, never fatal to a reconcile. */
export class KubeEventRecorder implements EventRecorder {
  readonly #client: KubeClient;
  readonly #component: string;
  readonly #onError: (e: unknown) => void;

  constructor(client: KubeClient, component: string, onError: (e: unknown) => void) {
    this.#client = client;
    this.#component = component;
    this.#onError = onError;
  }

  record(about: KubeObject, type: 'Normal' | 'Warning', reason: EventReason, message: string): void {
    const now = new Date().toISOString();
    const namespace = about.metadata.namespace ?? 'default';
    this.#client
      .create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${about.metadata.name ?? 'cairn'}.`, namespace },
        involvedObject: {
          apiVersion: about.apiVersion,
          kind: about.kind,
          name: about.metadata.name,
          namespace,
          uid: about.metadata.uid,
          resourceVersion: about.metadata.resourceVersion,
        },
        reason,
        message: message.slice(0, 1024),
        type,
        source: { component: this.#component },
        reportingComponent: this.#component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch(this.#onError);
  }
}
