import type { KubeObject } from '../cluster/objects.ts';

/** Closed vocabulary of health, from best to worst as the aggregate ranks them. */
export const HealthStatus = {
  Healthy: 'Healthy',
  Suspended: 'Suspended',
  Progressing: 'Progressing',
  Missing: 'Missing',
  Degraded: 'Degraded',
  Unknown: 'Unknown',
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

/** The health of one object and, for people, why. */
export interface Health {
  status: HealthStatus;
  /** A short CamelCase cause, e.g. `ProgressDeadlineExceeded`. */
  reason?: string;
  message?: string;
}

/** Health of one kind of object; pure: it reads the object and nothing else. */
export type HealthRule = (obj: KubeObject) => Health;

export interface Condition {
  type: string;
  /** 'True', 'False' or 'Unknown'. */
  status: string;
  reason?: string;
  message?: string;
}
