import type { KubeObject } from '../../cluster/objects.ts';
import { condition, count, generationPending, health, spec } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

/** A Deployment is healthy once every wanted replica runs the newest template and is available. */
export function deploymentHealth(d: KubeObject): Health {
  if (spec<boolean>(d, 'paused')) return health(HealthStatus.Suspended, 'Paused', 'the rollout is paused');
  if (generationPending(d))
    return health(
      HealthStatus.Progressing,
      'ObservedGenerationPending',
      'waiting for the controller to observe the latest spec',
    );
  const progressing = condition(d, 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return health(
      HealthStatus.Degraded,
      'ProgressDeadlineExceeded',
      progressing.message ?? 'the rollout exceeded its progress deadline',
    );
  }
  const wanted = spec<number>(d, 'replicas') ?? 1;
  const updated = count(d, 'status', 'updatedReplicas');
  const total = count(d, 'status', 'replicas');
  const available = count(d, 'status', 'availableReplicas');
  if (updated < wanted) {
    return health(
      HealthStatus.Progressing,
      'RollingOut',
      `${updated} of ${wanted} replicas run the new template`,
    );
  }
  if (total > updated) {
    return health(
      HealthStatus.Progressing,
      'RollingOut',
      `${total - updated} old replicas are pending termination`,
    );
  }
  if (available < updated) {
    return health(
      HealthStatus.Progressing,
      'RollingOut',
      `${available} of ${updated} updated replicas are available`,
    );
  }
  return health(HealthStatus.Healthy, 'Available', `${available} of ${wanted} replicas available`);
}
