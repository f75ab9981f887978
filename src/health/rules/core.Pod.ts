import type { KubeObject } from '../../cluster/objects.ts';
import { condition, field, health, spec, status } from '../read.ts';
import { HealthStatus, type Health } from '../types.ts';

interface ContainerStatus {
  name: string;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode?: number; reason?: string };
  };
}

/** Waiting reasons that will not resolve by themselves. */
const STUCK = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export function podHealth(p: KubeObject): Health {
  const containers = [
    ...(status<ContainerStatus[]>(p, 'initContainerStatuses') ?? []),
    ...(status<ContainerStatus[]>(p, 'containerStatuses') ?? []),
  ];
  for (const c of containers) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && STUCK.has(waiting.reason)) {
      return health(
        HealthStatus.Degraded,
        waiting.reason,
        `container ${c.name}: ${waiting.message ?? waiting.reason}`,
      );
    }
  }
  switch (status<string>(p, 'phase')) {
    case 'Succeeded':
      return health(HealthStatus.Healthy, 'Succeeded', 'the pod ran to completion');
    case 'Failed': {
      const failed = containers.find((c) => (c.state?.terminated?.exitCode ?? 0) !== 0);
      const why = failed
        ? `container ${failed.name} exited with code ${failed.state?.terminated?.exitCode}`
        : (status<string>(p, 'message') ?? 'the pod failed');
      return health(HealthStatus.Degraded, status<string>(p, 'reason') ?? 'Failed', why);
    }
    case 'Running': {
      // A pod that is meant to finish (Never / OnFailure) counts as healthy while it runs.
      if (spec<string>(p, 'restartPolicy') !== 'Always' && spec<string>(p, 'restartPolicy') !== undefined) {
        return health(HealthStatus.Progressing, 'Running', 'the pod is running to completion');
      }
      const ready = condition(p, 'Ready');
      if (ready?.status === 'True') return health(HealthStatus.Healthy, 'Ready', 'all containers are ready');
      return health(
        HealthStatus.Progressing,
        ready?.reason ?? 'NotReady',
        ready?.message ?? 'containers are not ready',
      );
    }
    case 'Pending': {
      const scheduled = condition(p, 'PodScheduled');
      if (scheduled?.status === 'False')
        return health(
          HealthStatus.Progressing,
          scheduled.reason ?? 'Unschedulable',
          scheduled.message ?? 'the pod cannot be scheduled yet',
        );
      return health(HealthStatus.Progressing, 'Pending', 'the pod is starting');
    }
    default:
      return health(
        HealthStatus.Unknown,
        'UnknownPhase',
        `phase ${field<string>(p, 'status', 'phase') ?? 'not reported'}`,
      );
  }
}
