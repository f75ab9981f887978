// `cairn uninstall`: remove what `cairn install` (or bootstrap) created, in reverse install order.
// Applications decide whether that is safe: the plan is pure, the deletes are here.
import { SELF_MANAGED_LABEL } from '../api/bootstrap.ts';
import { installManifests, serverManifests } from '../api/install.ts';
import { API_VERSION, type Application } from '../api/types.ts';
import { isNotFound, type KubeClient } from '../cluster/client.ts';
import { UnknownKindError } from '../cluster/discovery.ts';
import { refOf, type KubeObject, type ObjectRef } from '../cluster/objects.ts';
import { FINALIZER } from '../controller/application.ts';

export interface UninstallOptions {
  namespace: string;
  /** Keep the CRDs, and with them every Application and GitRepository outside Cairn's namespace. */
  keepCrds: boolean;
  /** Remove Applications too; the objects they applied stay in the cluster. */
  force: boolean;
  dryRun: boolean;
}

export function defaultUninstallOptions(): UninstallOptions {
  return { namespace: 'cairn-system', keepCrds: false, force: false, dryRun: false };
}

export interface UninstallPlan {
  /** Applications that would go with Cairn and that only --force lets go. */
  blocking: ObjectRef[];
  /** Applications to remove (orphaning what they applied) before the install objects. */
  applications: ObjectRef[];
  /** Install objects, in delete order. */
  deletes: ObjectRef[];
  /** The optional server part (`--with-ui`), deleted first where it is installed, in delete order. */
  optional: ObjectRef[];
}

const isSelfManaged = (app: KubeObject) => app.metadata.labels?.[SELF_MANAGED_LABEL] === 'true';

/** Which Applications go, which of them block, and what to delete in which order. */
export function planUninstall(applications: readonly KubeObject[], options: UninstallOptions): UninstallPlan {
  const goes = (app: KubeObject) =>
    !options.keepCrds || app.metadata.namespace === options.namespace || isSelfManaged(app);
  const leaving = applications.filter(goes);
  const blocking = leaving.filter((a) => !isSelfManaged(a)).map(refOf);
  const deletes = installManifests({ namespace: options.namespace })
    .filter((o) => !(options.keepCrds && o.kind === 'CustomResourceDefinition'))
    .map(refOf)
    .reverse();
  const optional = serverManifests({ namespace: options.namespace }).map(refOf).reverse();
  return { blocking, applications: leaving.map(refOf), deletes, optional };
}

export const DeleteResult = {
  Deleted: 'deleted',
  NotFound: 'not found',
  WouldDelete: 'would delete',
} as const;
export type DeleteResult = (typeof DeleteResult)[keyof typeof DeleteResult];

export interface UninstallResult {
  plan: UninstallPlan;
  /** False when Applications blocked and nothing was done. */
  done: boolean;
  results: { ref: ObjectRef; result: DeleteResult }[];
}

async function listApplications(client: KubeClient): Promise<KubeObject[]> {
  try {
    return (await client.list<Application & KubeObject>(API_VERSION, 'Application')).items;
  } catch (e) {
    // No CRD: nothing Cairn manages is left.
    if (isNotFound(e) || e instanceof UnknownKindError) return [];
    throw e;
  }
}

async function deleteRef(client: KubeClient, ref: ObjectRef): Promise<DeleteResult> {
  try {
    await client.delete(ref);
    return DeleteResult.Deleted;
  } catch (e) {
    if (isNotFound(e) || e instanceof UnknownKindError) return DeleteResult.NotFound;
    throw e;
  }
}

/**
 * Removes Cairn. Applications that go are first told to orphan what they applied, then deleted
 * with their finalizer released, so nothing they applied is pruned and nothing hangs.
 */
export async function uninstall(
  client: KubeClient,
  options: UninstallOptions,
  progress: (ref: ObjectRef, result: DeleteResult) => void = () => {},
): Promise<UninstallResult> {
  const plan = planUninstall(await listApplications(client), options);
  const results: UninstallResult['results'] = [];
  if (plan.blocking.length > 0 && !options.force) return { plan, done: false, results };
  const note = (ref: ObjectRef, result: DeleteResult) => {
    results.push({ ref, result });
    progress(ref, result);
  };
  // What was never installed is not worth a line.
  const installed = async (ref: ObjectRef) =>
    (await client.getOptional(ref).catch(() => undefined)) !== undefined;
  if (options.dryRun) {
    for (const ref of plan.applications) note(ref, DeleteResult.WouldDelete);
    for (const ref of plan.optional) if (await installed(ref)) note(ref, DeleteResult.WouldDelete);
    for (const ref of plan.deletes) note(ref, DeleteResult.WouldDelete);
    return { plan, done: true, results };
  }
  for (const ref of plan.applications) {
    const path = await client.pathFor(ref);
    const patch = (body: unknown) =>
      client.request('PATCH', path, {
        body,
        contentType: 'application/merge-patch+json',
        subject: `${ref.kind}/${ref.namespace}/${ref.name}`,
      });
    // Each step may find the object gone already: the controller releases it as soon as it may.
    const gone = (e: unknown) => {
      if (!isNotFound(e)) throw e;
    };
    let found = true;
    await patch({ spec: { deletionPolicy: 'Orphan', suspend: true } }).catch((e: unknown) => {
      gone(e);
      found = false;
    });
    const result = found ? await deleteRef(client, ref) : DeleteResult.NotFound;
    const live = await client.getOptional(ref);
    if (live?.metadata.finalizers)
      await patch({
        metadata: { finalizers: (live.metadata.finalizers as string[]).filter((f) => f !== FINALIZER) },
      }).catch(gone);
    note(ref, result);
  }
  for (const ref of plan.optional) {
    const result = await deleteRef(client, ref);
    if (result !== DeleteResult.NotFound) note(ref, result);
  }
  for (const ref of plan.deletes) note(ref, await deleteRef(client, ref));
  return { plan, done: true, results };
}
