import type { KubeObject } from '../../cluster/objects.ts';
import { condition, health } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

export function horizontalPodAutoscalerHealth(h: KubeObject): Health {
  const able = condition(h, 'AbleToScale');
  if (able?.status === 'False')
    return health(
      HealthStatus.Degraded,
      able.reason ?? 'UnableToScale',
      able.message ?? 'the autoscaler cannot scale its target',
    );
  const active = condition(h, 'ScalingActive');
  if (active?.status === 'False' && active.reason !== 'ScalingDisabled') {
    return health(
      HealthStatus.Degraded,
      active.reason ?? 'ScalingInactive',
      active.message ?? 'the autoscaler cannot compute a scale',
    );
  }
  if (!able && !active)
    return health(HealthStatus.Progressing, 'Initializing', 'waiting for the autoscaler to report');
  return health(HealthStatus.Healthy, 'ScalingActive', active?.message);
}
