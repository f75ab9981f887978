// Reconciling a GitRepository: fetch (one fetch per repository, however many Applications use it)
// and publish the commit in status.artifact.
import type { GitRepository, GitRepositoryStatus } from '../api/types.ts';
import type { GitCredentials } from '../source/credentials.ts';
import { SourceError, SourceErrorReason } from '../source/errors.ts';
import type { GitMirrors } from '../source/mirrors.ts';
import type { GitRef } from '../source/refs.ts';
import { Reason, readiness } from './conditions.ts';
import { parseDuration } from './durations.ts';

export interface GitRepositoryDeps {
  mirrors: GitMirrors;
  /** The data of a Secret (decoded), or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  now(): string;
}

export interface GitRepositoryOutcome {
  status: GitRepositoryStatus;
  /** When to look again (the interval), or undefined to retry with backoff (an error). */
  requeueAfterMs?: number;
  /** The commit, when it differs from the one in the previous status. */
  newCommit?: string;
  error?: string;
}

export function credentialsFrom(data: Record<string, string>): GitCredentials | undefined {
  if (data.identity) return { kind: 'ssh', privateKey: data.identity, knownHosts: data.known_hosts ?? '' };
  if (data.password !== undefined || data.username !== undefined)
    return { kind: 'basic', username: data.username ?? 'git', password: data.password ?? '' };
  return undefined;
}

export async function reconcileGitRepository(
  repo: GitRepository,
  deps: GitRepositoryDeps,
): Promise<GitRepositoryOutcome> {
  const generation = repo.metadata.generation;
  const status: GitRepositoryStatus = { ...repo.status };
  const now = deps.now();
  let interval: number;
  try {
    interval = parseDuration(repo.spec.interval);
  } catch (e) {
    status.conditions = readiness(
      status.conditions,
      { state: 'stalled', reason: Reason.InvalidSpec, message: `spec.interval: ${(e as Error).message}` },
      generation,
      now,
    );
    status.observedGeneration = generation;
    return { status };
  }
  let credentials: GitCredentials | undefined;
  if (repo.spec.secretRef) {
    const data = await deps.readSecret(repo.metadata.namespace ?? 'default', repo.spec.secretRef.name);
    if (!data) {
      status.conditions = readiness(
        status.conditions,
        {
          state: 'failed',
          reason: Reason.SecretNotFound,
          message: `Secret ${repo.spec.secretRef.name} not found`,
        },
        generation,
        now,
      );
      status.observedGeneration = generation;
      return { status, error: 'secret not found' };
    }
    credentials = credentialsFrom(data);
  }
  const ref = (repo.spec.ref ?? { branch: 'main' }) as GitRef;
  try {
    const artifact = await deps.mirrors.fetch({
      url: repo.spec.url,
      ref,
      ...(credentials ? { credentials } : {}),
    });
    const previous = status.artifact?.commit;
    const changed = previous !== artifact.commit;
    status.artifact =
      changed || !status.artifact
        ? {
            ref: artifact.ref,
            commit: artifact.commit,
            revision: `${artifact.ref.replace(/^refs\/(heads|tags)\//, '')}@sha1:${artifact.commit}`,
            subject: artifact.subject,
            lastUpdateTime: now,
          }
        : // A status written before subjects were recorded gets one without moving lastUpdateTime.
          { ...status.artifact, subject: artifact.subject };
    status.conditions = readiness(
      status.conditions,
      { state: 'ready', reason: Reason.Succeeded, message: `stored revision ${status.artifact.revision}` },
      generation,
      now,
    );
    status.observedGeneration = generation;
    return { status, requeueAfterMs: interval, ...(changed ? { newCommit: artifact.commit } : {}) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // Only a spec that can never work stalls; anything else (auth, network, a missing ref) is retried.
    const stalled =
      e instanceof SourceError &&
      (e.reason === SourceErrorReason.InvalidUrl || e.reason === SourceErrorReason.InvalidRef);
    status.conditions = readiness(
      status.conditions,
      {
        state: stalled ? 'stalled' : 'failed',
        reason: stalled ? Reason.InvalidSpec : Reason.FetchFailed,
        message,
      },
      generation,
      now,
    );
    status.observedGeneration = generation;
    return stalled ? { status, error: message, requeueAfterMs: interval } : { status, error: message };
  }
}
