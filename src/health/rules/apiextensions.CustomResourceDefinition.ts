import type { KubeObject } from '../../cluster/objects.ts';
import { condition, health } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function customResourceDefinitionHealth(c: KubeObject): Health {
  const names = condition(c, 'NamesAccepted');
  if (names?.status === 'False')
    return health(
      HealthStatus.Degraded,
      names.reason ?? 'NamesNotAccepted',
      names.message ?? 'the API server did not accept its names',
    );
  const established = condition(c, 'Established');
  if (established?.status === 'True') return health(HealthStatus.Healthy, 'Established', 'the API is served');
  return health(
    HealthStatus.Progressing,
    'NotEstablished',
    'waiting for the API server to serve the new kind',
  );
}
