import type { Application, GitRepository } from '../api/types.ts';
import type { KubeObject } from '../cluster/objects.ts';
import { APPLICATION_NAMESPACE_LABEL } from '../controller/application.ts';
import { DORA, TRACKING_LABEL } from '../plan/metadata.ts';

/** Which Application an object's tracking labels name, if any. */
export function trackingOf(obj: KubeObject): { name: string; namespace: string } | undefined {
  const labels = obj.metadata.labels ?? {};
  const name = labels[TRACKING_LABEL];
  if (!name) return undefined;
  // Objects applied by `cairn apply` name no Application namespace: theirs is the object's own.
  return { name, namespace: labels[APPLICATION_NAMESPACE_LABEL] ?? obj.metadata.namespace ?? 'default' };
}

export interface Trace {
  object: { apiVersion: string; kind: string; namespace?: string; name: string };
  application: { namespace: string; name: string; found: boolean };
  source?: { kind: 'GitRepository'; namespace: string; name: string; url?: string; path: string };
  /** The commit the Application is synced to now. */
  revision?: string;
  pinnedRevision?: string;
  /** The commit and deployment that last changed this object (its deployment-tracking annotations). */
  lastChangedBy?: { commit?: string; deployment?: string; timestamp?: string };
  sync?: string;
  health?: string;
}

/** What manages a live object: its Application, that Application's source, and the commits. */
export function traceObject(
  obj: KubeObject,
  app: Application | undefined,
  repo: GitRepository | undefined,
): Trace | undefined {
  const owner = trackingOf(obj);
  if (!owner) return undefined;
  const annotations = obj.metadata.annotations ?? {};
  const object = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name ?? '',
  };
  const changed = {
    ...(annotations[DORA.commitSha] ? { commit: annotations[DORA.commitSha] } : {}),
    ...(annotations[DORA.deploymentId] ? { deployment: annotations[DORA.deploymentId] } : {}),
    ...(annotations[DORA.timestamp] ? { timestamp: annotations[DORA.timestamp] } : {}),
  };
  const trace: Trace = {
    object,
    application: { ...owner, found: app !== undefined },
    ...(Object.keys(changed).length > 0 ? { lastChangedBy: changed } : {}),
  };
  if (!app) return trace;
  const ref = app.spec.source.repositoryRef;
  trace.source = {
    kind: 'GitRepository',
    namespace: ref.namespace ?? owner.namespace,
    name: ref.name,
    ...(repo ? { url: repo.spec.url } : {}),
    path: app.spec.source.path,
  };
  if (app.status?.sync?.revision) trace.revision = app.status.sync.revision;
  if (app.spec.source.pinnedRevision) trace.pinnedRevision = app.spec.source.pinnedRevision;
  const resource = app.status?.resources?.find(
    (r) => r.kind === obj.kind && r.name === object.name && (r.namespace ?? '') === (object.namespace ?? ''),
  );
  if (resource) {
    trace.sync = resource.status;
    if (resource.health) trace.health = resource.health.status;
  }
  return trace;
}
