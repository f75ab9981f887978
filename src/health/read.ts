// Small typed readers over untyped live objects, so rules read like the API they check.
import type { KubeObject } from '../cluster/objects.ts';
import type { Condition, Health, HealthStatus } from './types.ts';

export function field<T>(obj: unknown, ...path: string[]): T | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur as T | undefined;
}

export const spec = <T>(obj: KubeObject, ...path: string[]) => field<T>(obj, 'spec', ...path);
export const status = <T>(obj: KubeObject, ...path: string[]) => field<T>(obj, 'status', ...path);

export function conditions(obj: KubeObject): Condition[] {
  const list = status<unknown>(obj, 'conditions');
  return Array.isArray(list)
    ? (list.filter(
        (c) => c && typeof c === 'object' && typeof (c as Condition).type === 'string',
      ) as Condition[])
    : [];
}

export function condition(obj: KubeObject, type: string): Condition | undefined {
  return conditions(obj).find((c) => c.type === type);
}

/** True when the controller has not yet looked at the latest spec. */
export function generationPending(obj: KubeObject): boolean {
  const generation = obj.metadata.generation;
  const observed = status<number>(obj, 'observedGeneration');
  return generation !== undefined && observed !== undefined && observed < generation;
}

export function health(status: HealthStatus, reason?: string, message?: string): Health {
  const h: Health = { status };
  if (reason) h.reason = reason;
  if (message) h.message = message;
  return h;
}

/** A count field, 0 when absent (the API server omits zero counts). */
export function count(obj: KubeObject, ...path: string[]): number {
  const v = field<number>(obj, ...path);
  return typeof v === 'number' ? v : 0;
}
