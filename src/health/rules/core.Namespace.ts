import type { KubeObject } from '../../cluster/objects.ts';
import { health, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function namespaceHealth(n: KubeObject): Health {
  if (status<string>(n, 'phase') === 'Terminating')
    return health(HealthStatus.Progressing, 'Terminating', 'the namespace is being deleted');
  return health(HealthStatus.Healthy, 'Active');
}
