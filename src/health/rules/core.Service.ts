import type { KubeObject } from '../../cluster/objects.ts';
import { health, spec, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function serviceHealth(s: KubeObject): Health {
  if (spec<string>(s, 'type') !== 'LoadBalancer') return health(HealthStatus.Healthy);
  const ingress = status<unknown[]>(s, 'loadBalancer', 'ingress') ?? [];
  if (ingress.length === 0)
    return health(HealthStatus.Progressing, 'PendingAddress', 'waiting for a load-balancer address');
  return health(HealthStatus.Healthy, 'AddressAssigned', 'the load balancer has an address');
}
