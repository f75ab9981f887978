import type { KubeObject } from '../../cluster/objects.ts';
import { condition, count, generationPending, health, spec } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function replicaSetHealth(r: KubeObject): Health {
  if (generationPending(r))
    return health(
      HealthStatus.Progressing,
      'ObservedGenerationPending',
      'waiting for the controller to observe the latest spec',
    );
  const failure = condition(r, 'ReplicaFailure');
  if (failure?.status === 'True')
    return health(
      HealthStatus.Degraded,
      failure.reason ?? 'ReplicaFailure',
      failure.message ?? 'the controller cannot create replicas',
    );
  const wanted = spec<number>(r, 'replicas') ?? 1;
  const available = count(r, 'status', 'availableReplicas');
  if (available < wanted)
    return health(HealthStatus.Progressing, 'Scaling', `${available} of ${wanted} replicas are available`);
  return health(HealthStatus.Healthy, 'Available', `${available} of ${wanted} replicas available`);
}
