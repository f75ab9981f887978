import type { KubeObject } from '../../cluster/objects.ts';
import { count, generationPending, health, spec } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function daemonSetHealth(d: KubeObject): Health {
  if (generationPending(d))
    return health(
      HealthStatus.Progressing,
      'ObservedGenerationPending',
      'waiting for the controller to observe the latest spec',
    );
  const desired = count(d, 'status', 'desiredNumberScheduled');
  const updated = count(d, 'status', 'updatedNumberScheduled');
  const available = count(d, 'status', 'numberAvailable');
  if (spec<string>(d, 'updateStrategy', 'type') === 'OnDelete') {
    return health(
      HealthStatus.Healthy,
      'OnDelete',
      'update strategy OnDelete: pods are replaced only when deleted',
    );
  }
  if (updated < desired)
    return health(
      HealthStatus.Progressing,
      'RollingOut',
      `${updated} of ${desired} nodes run the new template`,
    );
  if (available < desired)
    return health(HealthStatus.Progressing, 'RollingOut', `${available} of ${desired} pods are available`);
  return health(HealthStatus.Healthy, 'Available', `${available} of ${desired} pods available`);
}
