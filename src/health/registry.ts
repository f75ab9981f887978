import type { KubeObject } from '../cluster/objects.ts';
import { customResourceDefinitionHealth } from './rules/apiextensions.CustomResourceDefinition.ts';
import { daemonSetHealth } from './rules/apps.DaemonSet.ts';
import { deploymentHealth } from './rules/apps.Deployment.ts';
import { replicaSetHealth } from './rules/apps.ReplicaSet.ts';
import { statefulSetHealth } from './rules/apps.StatefulSet.ts';
import { horizontalPodAutoscalerHealth } from './rules/autoscaling.HorizontalPodAutoscaler.ts';
import { cronJobHealth } from './rules/batch.CronJob.ts';
import { jobHealth } from './rules/batch.Job.ts';
import { namespaceHealth } from './rules/core.Namespace.ts';
import { persistentVolumeClaimHealth } from './rules/core.PersistentVolumeClaim.ts';
import { podHealth } from './rules/core.Pod.ts';
import { serviceHealth } from './rules/core.Service.ts';
import { genericHealth } from './rules/generic.ts';
import { ingressHealth } from './rules/networking.Ingress.ts';
import { HealthStatus, type Health, type HealthRule } from './types.ts';

/** Per-kind rules, keyed `group/Kind` (core group empty). Kinds not listed fall back to genericHealth. */
export const HEALTH_RULES: ReadonlyMap<string, HealthRule> = new Map([
  ['apps/Deployment', deploymentHealth],
  ['apps/StatefulSet', statefulSetHealth],
  ['apps/DaemonSet', daemonSetHealth],
  ['apps/ReplicaSet', replicaSetHealth],
  ['/Pod', podHealth],
  ['batch/Job', jobHealth],
  ['batch/CronJob', cronJobHealth],
  ['/Service', serviceHealth],
  ['networking.k8s.io/Ingress', ingressHealth],
  ['/PersistentVolumeClaim', persistentVolumeClaimHealth],
  ['/Namespace', namespaceHealth],
  ['apiextensions.k8s.io/CustomResourceDefinition', customResourceDefinitionHealth],
  ['autoscaling/HorizontalPodAutoscaler', horizontalPodAutoscalerHealth],
]);

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The health of a live object; `undefined` (not found) is Missing. */
export function healthOf(obj: KubeObject | undefined): Health {
  if (!obj) return { status: HealthStatus.Missing, reason: 'NotFound', message: 'the object does not exist' };
  if (obj.metadata.deletionTimestamp)
    return { status: HealthStatus.Progressing, reason: 'Deleting', message: 'the object is being deleted' };
  const rule = HEALTH_RULES.get(`${groupOf(obj.apiVersion)}/${obj.kind}`) ?? genericHealth;
  return rule(obj);
}

const RANK: Record<HealthStatus, number> = {
  [HealthStatus.Healthy]: 0,
  [HealthStatus.Suspended]: 1,
  [HealthStatus.Progressing]: 2,
  [HealthStatus.Missing]: 3,
  [HealthStatus.Degraded]: 4,
  [HealthStatus.Unknown]: 5,
};

export function isWorse(a: HealthStatus, b: HealthStatus): boolean {
  return RANK[a] > RANK[b];
}

/** The health of a set of objects: the worst one wins, and its reason is kept. */
export function aggregateHealth(items: readonly { name: string; health: Health }[]): Health {
  let worst: { name: string; health: Health } | undefined;
  for (const item of items) {
    if (!worst || isWorse(item.health.status, worst.health.status)) worst = item;
  }
  if (!worst) return { status: HealthStatus.Healthy, reason: 'Empty', message: 'no objects' };
  if (worst.health.status === HealthStatus.Healthy)
    return { status: HealthStatus.Healthy, message: `${items.length} objects healthy` };
  const { status, reason } = worst.health;
  return {
    status,
    ...(reason ? { reason } : {}),
    message: `${worst.name}: ${worst.health.message ?? status}`,
  };
}
