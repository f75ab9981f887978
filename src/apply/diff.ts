// What a sync would change, as people read it: a server-side apply dry run per object that the
// plan would write, compared with the live object. Objects the plan finds unchanged cost nothing.
import type { KubeClient } from '../cluster/client.ts';
import { describeRef, type KubeObject } from '../cluster/objects.ts';
import { diffObjects, type ObjectDiff } from '../plan/diff.ts';
import { Action, type DesiredObject, type Plan } from '../plan/plan.ts';
import type { InventoryStore } from './inventory-store.ts';
import { planApplication, type PlanOptions } from './sync.ts';

export interface ApplicationDiff {
  plan: Plan;
  objects: ObjectDiff[];
  /** Any object would change. */
  changed: boolean;
}

export async function diffApplication(
  client: KubeClient,
  desired: readonly DesiredObject[],
  store: InventoryStore,
  options: PlanOptions,
): Promise<ApplicationDiff> {
  const { plan, live } = await planApplication(client, desired, store, options);
  const objects: ObjectDiff[] = [];
  for (const stage of plan.stages) {
    for (const p of stage.objects) {
      const name = describeRef(p.ref);
      if (p.action === Action.Unchanged) {
        objects.push({ name, change: 'none', patch: '', added: 0, removed: 0 });
        continue;
      }
      const predicted = await client.apply<KubeObject>(p.object!, {
        fieldManager: options.fieldManager,
        dryRun: true,
      });
      objects.push(diffObjects(name, live.get(p.key), predicted));
    }
  }
  for (const p of plan.prune) objects.push(diffObjects(describeRef(p.ref), live.get(p.key), undefined));
  return { plan, objects, changed: objects.some((o) => o.change !== 'none') };
}
