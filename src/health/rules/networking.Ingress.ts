import type { KubeObject } from '../../cluster/objects.ts';
import { health, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function ingressHealth(i: KubeObject): Health {
  const ingress = status<unknown[]>(i, 'loadBalancer', 'ingress') ?? [];
  if (ingress.length === 0)
    return health(
      HealthStatus.Progressing,
      'PendingAddress',
      'waiting for the ingress controller to publish an address',
    );
  return health(HealthStatus.Healthy, 'AddressAssigned', 'the ingress has an address');
}
