import type { KubeObject } from '../../cluster/objects.ts';
import { condition, conditions, generationPending, health } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

/**
 * Any kind without a rule of its own, read as kstatus reads it: an object with no status is
 * healthy (nothing reconciles it); standard conditions decide otherwise; anything else is Unknown.
 */
export function genericHealth(obj: KubeObject): Health {
  if (obj.status === undefined || obj.status === null) return health(HealthStatus.Healthy);
  if (generationPending(obj))
    return health(
      HealthStatus.Progressing,
      'ObservedGenerationPending',
      'waiting for the controller to observe the latest spec',
    );
  const stalled = condition(obj, 'Stalled');
  if (stalled?.status === 'True')
    return health(
      HealthStatus.Degraded,
      stalled.reason ?? 'Stalled',
      stalled.message ?? 'the controller reports it is stalled',
    );
  const failed = condition(obj, 'Failed');
  if (failed?.status === 'True')
    return health(
      HealthStatus.Degraded,
      failed.reason ?? 'Failed',
      failed.message ?? 'the controller reports it failed',
    );
  const reconciling = condition(obj, 'Reconciling');
  if (reconciling?.status === 'True')
    return health(
      HealthStatus.Progressing,
      reconciling.reason ?? 'Reconciling',
      reconciling.message ?? 'the controller is reconciling it',
    );
  for (const type of ['Ready', 'Available']) {
    const c = condition(obj, type);
    if (c?.status === 'True') return health(HealthStatus.Healthy, c.reason ?? type, c.message);
    if (c)
      return health(
        HealthStatus.Progressing,
        c.reason ?? `Not${type}`,
        c.message ?? `${type} is ${c.status}`,
      );
  }
  if (conditions(obj).length === 0 && Object.keys(obj.status).length === 0)
    return health(HealthStatus.Healthy);
  return health(
    HealthStatus.Unknown,
    'NoHealthRule',
    `no health rule for ${obj.kind} and no Ready or Available condition`,
  );
}
