import type { KubeObject } from '../../cluster/objects.ts';
import { count, generationPending, health, spec, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function statefulSetHealth(s: KubeObject): Health {
  if (generationPending(s))
    return health(
      HealthStatus.Progressing,
      'ObservedGenerationPending',
      'waiting for the controller to observe the latest spec',
    );
  const wanted = spec<number>(s, 'replicas') ?? 1;
  const ready = count(s, 'status', 'readyReplicas');
  if (ready < wanted)
    return health(HealthStatus.Progressing, 'RollingOut', `${ready} of ${wanted} replicas are ready`);
  if (spec<string>(s, 'updateStrategy', 'type') === 'OnDelete') {
    return health(
      HealthStatus.Healthy,
      'OnDelete',
      'update strategy OnDelete: pods are replaced only when deleted',
    );
  }
  const partition = spec<number>(s, 'updateStrategy', 'rollingUpdate', 'partition') ?? 0;
  const updated = count(s, 'status', 'updatedReplicas');
  if (partition > 0) {
    const expected = Math.max(0, wanted - partition);
    if (updated < expected)
      return health(
        HealthStatus.Progressing,
        'RollingOut',
        `${updated} of ${expected} replicas above the partition are updated`,
      );
    return health(
      HealthStatus.Healthy,
      'PartitionedRollout',
      `partitioned rollout: ${updated} replicas updated`,
    );
  }
  if (updated < wanted)
    return health(
      HealthStatus.Progressing,
      'RollingOut',
      `${updated} of ${wanted} replicas run the new revision`,
    );
  const current = status<string>(s, 'currentRevision');
  const update = status<string>(s, 'updateRevision');
  if (current && update && current !== update)
    return health(HealthStatus.Progressing, 'RollingOut', `waiting for revision ${update} to become current`);
  return health(HealthStatus.Healthy, 'Ready', `${ready} of ${wanted} replicas ready`);
}
