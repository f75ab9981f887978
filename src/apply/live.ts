// Reading what the cluster holds for an application, in as few requests as the kinds allow.
import { isNotFound, type KubeClient } from '../cluster/client.ts';
import { UnknownKindError } from '../cluster/discovery.ts';
import type { KubeObject } from '../cluster/objects.ts';
import type { Inventory } from '../plan/inventory.ts';
import { keyOf } from '../plan/keys.ts';
import { TRACKING_LABEL } from '../plan/metadata.ts';
import type { KindScope } from '../plan/plan.ts';

/** Whether each kind exists and is namespaced, asked of discovery once per apiVersion. */
export async function resolveScopes(
  client: KubeClient,
  objects: readonly { apiVersion: string; kind: string }[],
): Promise<(apiVersion: string, kind: string) => KindScope | undefined> {
  const scopes = new Map<string, KindScope | undefined>();
  for (const { apiVersion, kind } of objects) {
    const id = `${apiVersion}/${kind}`;
    if (scopes.has(id)) continue;
    try {
      const info = await client.resourceFor(apiVersion, kind);
      scopes.set(id, info.namespaced ? 'namespaced' : 'cluster');
    } catch (e) {
      if (!(e instanceof UnknownKindError)) throw e;
      scopes.set(id, undefined);
    }
  }
  return (apiVersion, kind) => scopes.get(`${apiVersion}/${kind}`);
}

/**
 * The live objects behind the given keys: one labelled list per kind and namespace (objects this
 * application applied carry its tracking label), so the cost grows with kinds, not objects.
 */
export async function readLiveObjects(
  client: KubeClient,
  application: string,
  wanted: readonly { apiVersion: string; kind: string; namespace?: string }[],
  inventory: Inventory,
): Promise<Map<string, KubeObject>> {
  const groups = new Map<string, { apiVersion: string; kind: string; namespace?: string }>();
  const add = (apiVersion: string, kind: string, namespace: string | undefined) => {
    const id = `${apiVersion}|${kind}|${namespace ?? ''}`;
    if (!groups.has(id)) groups.set(id, { apiVersion, kind, ...(namespace ? { namespace } : {}) });
  };
  for (const w of wanted) add(w.apiVersion, w.kind, w.namespace);
  for (const e of inventory.entries) {
    const [, kind = '', namespace = ''] = e.key.split('/');
    add(e.apiVersion, kind, namespace || undefined);
  }
  const live = new Map<string, KubeObject>();
  await Promise.all(
    [...groups.values()].map(async (g) => {
      try {
        const list = await client.list(g.apiVersion, g.kind, {
          ...(g.namespace ? { namespace: g.namespace } : {}),
          labelSelector: `${TRACKING_LABEL}=${application}`,
        });
        for (const item of list.items) {
          // Lists omit apiVersion and kind on items.
          const obj = { ...item, apiVersion: g.apiVersion, kind: g.kind };
          live.set(keyOf(obj), obj);
        }
      } catch (e) {
        if (e instanceof UnknownKindError || isNotFound(e)) return; // the kind is gone: nothing of it is live
        throw e;
      }
    }),
  );
  return live;
}
