import type { KubeObject } from '../../cluster/objects.ts';
import { health, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function persistentVolumeClaimHealth(c: KubeObject): Health {
  switch (status<string>(c, 'phase')) {
    case 'Bound':
      return health(HealthStatus.Healthy, 'Bound', 'the claim is bound to a volume');
    case 'Lost':
      return health(HealthStatus.Degraded, 'Lost', 'the bound volume no longer exists');
    default:
      return health(HealthStatus.Progressing, 'Pending', 'waiting for a volume');
  }
}
