// Status conditions as kstatus reads them: Ready, Reconciling, Stalled, with reasons from a closed
// list. One function sets them; lastTransitionTime moves only when a condition's status changes.
import type { Condition } from '../api/types.ts';

export const ConditionType = { Ready: 'Ready', Reconciling: 'Reconciling', Stalled: 'Stalled' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Every reason a Cairn object's conditions can carry. */
export const Reason = {
  Succeeded: 'Succeeded',
  Progressing: 'Progressing',
  FetchFailed: 'FetchFailed',
  InvalidSpec: 'InvalidSpec',
  SecretNotFound: 'SecretNotFound',
  SourceNotFound: 'SourceNotFound',
  SourceNotReady: 'SourceNotReady',
  BuildFailed: 'BuildFailed',
  PlanFailed: 'PlanFailed',
  SyncFailed: 'SyncFailed',
  HealthCheckFailed: 'HealthCheckFailed',
  OutOfSync: 'OutOfSync',
  DependencyNotReady: 'DependencyNotReady',
  Suspended: 'Suspended',
  Deleting: 'Deleting',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ConditionChange {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
}

/** The conditions after a change; a condition whose status did not change keeps its transition time. */
export function setCondition(
  current: readonly Condition[] | undefined,
  change: ConditionChange,
  generation: number | undefined,
  now: string,
): Condition[] {
  const list = [...(current ?? [])];
  const i = list.findIndex((c) => c.type === change.type);
  const previous = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    type: change.type,
    status: change.status,
    reason: change.reason,
    message: change.message.slice(0, 32_000),
    lastTransitionTime: previous && previous.status === change.status ? previous.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function removeCondition(current: readonly Condition[] | undefined, type: ConditionType): Condition[] {
  return (current ?? []).filter((c) => c.type !== type);
}

/**
 * The three conditions for an outcome: ready (True), still working (Reconciling), failed and
 * retrying (Ready=False), or failed until the spec changes (Stalled).
 */
export function readiness(
  current: readonly Condition[] | undefined,
  outcome: { state: 'ready' | 'reconciling' | 'failed' | 'stalled'; reason: Reason; message: string },
  generation: number | undefined,
  now: string,
): Condition[] {
  let list = [...(current ?? [])];
  const readyStatus =
    outcome.state === 'ready' ? 'True' : outcome.state === 'reconciling' ? 'Unknown' : 'False';
  list = setCondition(
    list,
    { type: ConditionType.Ready, status: readyStatus, reason: outcome.reason, message: outcome.message },
    generation,
    now,
  );
  list =
    outcome.state === 'reconciling'
      ? setCondition(
          list,
          {
            type: ConditionType.Reconciling,
            status: 'True',
            reason: Reason.Progressing,
            message: outcome.message,
          },
          generation,
          now,
        )
      : removeCondition(list, ConditionType.Reconciling);
  list =
    outcome.state === 'stalled'
      ? setCondition(
          list,
          { type: ConditionType.Stalled, status: 'True', reason: outcome.reason, message: outcome.message },
          generation,
          now,
        )
      : removeCondition(list, ConditionType.Stalled);
  return list;
}

export function isReady(conditions: readonly Condition[] | undefined, generation?: number): boolean {
  const ready = conditions?.find((c) => c.type === ConditionType.Ready);
  return (
    ready?.status === 'True' &&
    (generation === undefined ||
      ready.observedGeneration === undefined ||
      ready.observedGeneration >= generation)
  );
}
