import type { KubeObject } from '../../cluster/objects.ts';
import { health, spec, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function cronJobHealth(c: KubeObject): Health {
  if (spec<boolean>(c, 'suspend'))
    return health(HealthStatus.Suspended, 'Suspended', 'the schedule is suspended');
  const last = status<string>(c, 'lastScheduleTime');
  return health(
    HealthStatus.Healthy,
    'Scheduled',
    last ? `last run scheduled at ${last}` : 'no run scheduled yet',
  );
}
