import type { KubeObject } from '../../cluster/objects.ts';
import { condition, count, health, spec } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function jobHealth(j: KubeObject): Health {
  const failed = condition(j, 'Failed');
  if (failed?.status === 'True')
    return health(HealthStatus.Degraded, failed.reason ?? 'Failed', failed.message ?? 'the job failed');
  const complete = condition(j, 'Complete');
  if (complete?.status === 'True')
    return health(HealthStatus.Healthy, 'Complete', `${count(j, 'status', 'succeeded')} pods succeeded`);
  if (spec<boolean>(j, 'suspend')) return health(HealthStatus.Suspended, 'Suspended', 'the job is suspended');
  return health(
    HealthStatus.Progressing,
    'Running',
    `${count(j, 'status', 'active')} pods active, ${count(j, 'status', 'succeeded')} succeeded`,
  );
}
