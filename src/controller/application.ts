// Reconciling an Application: the pipeline source -> render -> plan -> apply -> report, with the
// live state read from the controller's watch caches, so a reconcile that finds nothing to do
// makes no request at all.
import {
  REQUESTED_AT_ANNOTATION,
  type Application,
  type ApplicationStatus,
  type GitRepository,
  type HistoryEntry,
  type ResourceStatus,
} from '../api/types.ts';
import { MemoryInventoryStore } from '../apply/inventory-store.ts';
import { defaultSyncOptions, executePlan, type SyncResult } from '../apply/sync.ts';
import type { KubeClient } from '../cluster/client.ts';
import { describeRef, type KubeObject } from '../cluster/objects.ts';
import { aggregateHealth, healthOf } from '../health/registry.ts';
import { HealthStatus } from '../health/types.ts';
import { canonicalJson } from '../plan/digest.ts';
import { emptyInventory, type Inventory } from '../plan/inventory.ts';
import { groupOf } from '../plan/keys.ts';
import { Action, PlanError, planSync, type KindScope, type Plan, type PlannedObject } from '../plan/plan.ts';
import { RenderError } from '../render/errors.ts';
import type { Renderer } from '../render/renderer.ts';
import { defaultRenderOptions, type Manifest, type RenderRequest } from '../render/types.ts';
import type { GitMirrors } from '../source/mirrors.ts';
import { Reason, isReady, readiness, type Reason as ReasonT } from './conditions.ts';
import { parseDuration } from './durations.ts';
import { EventReason, type EventRecorder } from './events.ts';
import { credentialsFrom } from './git-repository.ts';

/** Label naming the namespace of the Application that applied an object (the tracking label names the Application). */
export const APPLICATION_NAMESPACE_LABEL = 'app.cairn.dev/application-namespace';
export const FINALIZER = 'cairn.dev/finalizer';
const HISTORY_LIMIT = 10;

/** The live objects the controller's watch caches hold. */
export interface LiveState {
  /** Starts watching these kinds (if not yet) and resolves once their caches are filled. */
  ensureKinds(kinds: readonly { apiVersion: string; kind: string }[]): Promise<void>;
  get(key: string): KubeObject | undefined;
  scopeOf(apiVersion: string, kind: string): KindScope | undefined;
  /** Resolves scopes of kinds through discovery (once per apiVersion). */
  resolveScopes(kinds: readonly { apiVersion: string; kind: string }[]): Promise<void>;
}

export interface ApplicationDeps {
  client: KubeClient;
  mirrors: GitMirrors;
  renderer: Renderer;
  live: LiveState;
  events: EventRecorder;
  readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  fieldManager: string;
  now(): string;
}

export interface ApplicationContext {
  source: GitRepository | undefined;
  dependencies: { name: string; namespace: string; app: Application | undefined }[];
}

export interface ApplicationOutcome {
  status: ApplicationStatus;
  requeueAfterMs?: number;
  /** Retry with backoff: something failed that may pass. */
  retry?: boolean;
}

interface RenderMemo {
  /** The render options (path, renderer, Helm values), as canonical JSON. */
  options: string;
  commit: string;
  manifests: readonly Manifest[];
  /** Repository-relative files the render read. */
  files: ReadonlySet<string>;
  /** The manifests depend on `files` alone (no remote base or chart). */
  cacheable: boolean;
}

/**
 * Whether a commit that changed `changed` can leave an earlier render as it is: none of the files
 * it read changed, and nothing changed inside the Application's folder (a new file there would be
 * read).
 */
export function renderStillValid(memo: RenderMemo, changed: readonly string[], path: string): boolean {
  if (!memo.cacheable) return false;
  const inside = insideFolder(path);
  return !changed.some((file) => memo.files.has(file) || inside(file));
}

/** Whether a repository-relative file lies under an Application's path (`.`, `./x/` and `x` alike). */
export function insideFolder(path: string): (file: string) => boolean {
  const folder = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  return (file) => folder === '' || folder === '.' || file.startsWith(`${folder}/`);
}

function appKey(app: Application): string {
  return `${app.metadata.namespace}/${app.metadata.name}`;
}

/**
 * What renders an Application's source, given the folder its commit is checked out in: the same
 * request for the controller and for `cairn app diff`.
 */
export function applicationRenderRequest(app: Application, root: string): RenderRequest {
  const defaults = defaultRenderOptions();
  const helm = app.spec.source.helm;
  const path = app.spec.source.path;
  return {
    ...defaults,
    root,
    path,
    renderer: app.spec.source.renderer ?? 'auto',
    helm: {
      ...defaults.helm,
      releaseName: helm?.releaseName ?? app.metadata.name ?? 'release',
      namespace: app.spec.destination.namespace,
      values: helm?.values ?? {},
      valueFiles: (helm?.valueFiles ?? []).map((f) =>
        path === '.' || path === '' ? f : `${path.replace(/\/$/, '')}/${f}`,
      ),
    },
  };
}

/** The labels the controller adds to every object an Application applies, beside the tracking label. */
export function applicationLabels(app: Application): Record<string, string> {
  return { [APPLICATION_NAMESPACE_LABEL]: app.metadata.namespace ?? 'default' };
}

function isDrift(p: PlannedObject, inventory: Map<string, { digest: string }>): boolean {
  if (p.action === Action.Configure) return p.reason.startsWith('drifted');
  // Recreating something that was applied with the same content and then deleted is drift too.
  if (p.action === Action.Create) return inventory.get(p.key)?.digest === p.digest;
  return false;
}

/**
 * The commit subject for a history entry: the repository's, when the entry is at its commit, or
 * an earlier entry's at the same commit (a rollback to it).
 */
export function subjectOf(
  commit: string,
  artifact: NonNullable<GitRepository['status']>['artifact'],
  history: readonly HistoryEntry[],
): { subject?: string } {
  const subject =
    artifact?.commit === commit
      ? artifact.subject
      : history.findLast((h) => h.revision === commit && h.subject !== undefined)?.subject;
  return subject === undefined ? {} : { subject };
}

export class ApplicationReconciler {
  readonly #deps: ApplicationDeps;
  readonly #renders = new Map<string, RenderMemo>();

  constructor(deps: ApplicationDeps) {
    this.#deps = deps;
  }

  forget(app: { metadata: { namespace?: string; name?: string } }): void {
    this.#renders.delete(`${app.metadata.namespace}/${app.metadata.name}`);
  }

  async reconcile(app: Application, ctx: ApplicationContext): Promise<ApplicationOutcome> {
    const generation = app.metadata.generation;
    const status: ApplicationStatus = structuredClone(app.status ?? {});
    const now = this.#deps.now();
    const settle = (
      state: 'ready' | 'reconciling' | 'failed' | 'stalled',
      reason: ReasonT,
      message: string,
    ): void => {
      status.conditions = readiness(status.conditions, { state, reason, message }, generation, now);
      status.observedGeneration = generation;
    };
    // A reconcile a person asked for (`cairn app sync`) or a new pin (`rollback`) applies even
    // without automation.
    const requested = app.metadata.annotations?.[REQUESTED_AT_ANNOTATION];
    const pinned = app.spec.source.pinnedRevision;
    const manual =
      (requested !== undefined && requested !== status.lastHandledReconcileAt) ||
      (pinned !== undefined && pinned !== app.status?.pinnedRevision);
    if (requested !== undefined && !app.spec.suspend) status.lastHandledReconcileAt = requested;
    let interval: number;
    try {
      interval = parseDuration(app.spec.interval);
    } catch (e) {
      settle('stalled', Reason.InvalidSpec, `spec.interval: ${(e as Error).message}`);
      return { status };
    }
    if (app.spec.suspend) return { status };

    for (const dep of ctx.dependencies) {
      if (!dep.app || !isReady(dep.app.status?.conditions, dep.app.metadata.generation)) {
        settle('failed', Reason.DependencyNotReady, `dependency ${dep.namespace}/${dep.name} is not Ready`);
        return { status, requeueAfterMs: Math.min(interval, 30_000) };
      }
    }

    const repo = ctx.source;
    const repoName = `${app.spec.source.repositoryRef.namespace ?? app.metadata.namespace}/${app.spec.source.repositoryRef.name}`;
    if (!repo) {
      settle('failed', Reason.SourceNotFound, `GitRepository ${repoName} not found`);
      return { status, requeueAfterMs: interval };
    }
    // A pinned commit (a rollback) is applied instead of the repository's head until it is cleared.
    const artifact = repo.status?.artifact;
    if (!artifact && !pinned) {
      settle('failed', Reason.SourceNotReady, `GitRepository ${repoName} has no revision yet`);
      return { status, requeueAfterMs: interval };
    }
    const commit = pinned ?? artifact!.commit;
    const revision = pinned ? `pinned@sha1:${pinned}` : artifact!.revision;
    if (pinned) status.pinnedRevision = pinned;
    else delete status.pinnedRevision;
    status.lastAttemptedRevision = commit;

    // Render once per commit, path and options; a commit that left every file this render read
    // alone keeps the manifests it made.
    let manifests: readonly Manifest[];
    try {
      manifests = await this.#render(app, repo, commit);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const before = status.conditions?.find((c) => c.type === 'Ready');
      if (before?.reason !== Reason.BuildFailed || before.message !== message)
        this.#deps.events.record(app, 'Warning', EventReason.BuildFailed, message);
      settle('failed', Reason.BuildFailed, message);
      return { status, retry: !(e instanceof RenderError) };
    }

    // Plan against the watch caches.
    const inventory: Inventory = status.inventory
      ? {
          ...(status.inventory.revision ? { revision: status.inventory.revision } : {}),
          entries: status.inventory.entries,
        }
      : emptyInventory();
    const kinds = [
      ...manifests.map((m) => ({ apiVersion: m.object.apiVersion, kind: m.object.kind })),
      ...inventory.entries.map((e) => ({ apiVersion: e.apiVersion, kind: e.key.split('/')[1] ?? '' })),
    ];
    await this.#deps.live.resolveScopes(kinds);
    await this.#deps.live.ensureKinds(
      kinds.filter((k) => this.#deps.live.scopeOf(k.apiVersion, k.kind) !== undefined),
    );
    const history = status.history ?? [];
    const nextId = (history.at(-1)?.id ?? 0) + 1;
    const live = { get: (key: string) => this.#deps.live.get(key) } as ReadonlyMap<
      string,
      KubeObject | undefined
    >;
    const automated = app.spec.syncPolicy?.automated;
    let plan: Plan;
    try {
      plan = planSync(manifests, live, inventory, {
        application: app.metadata.name ?? '',
        labels: applicationLabels(app),
        revision: commit,
        namespace: app.spec.destination.namespace,
        prune: automated?.prune ?? false,
        ignoreDifferences: app.spec.ignoreDifferences ?? [],
        fieldManager: this.#deps.fieldManager,
        deployment: {
          id: `${app.metadata.namespace}/${app.metadata.name}#${nextId}`,
          commit,
          timestamp: now,
        },
        scopeOf: (a, k) => this.#deps.live.scopeOf(a, k),
      });
    } catch (e) {
      if (!(e instanceof PlanError)) throw e;
      settle('failed', Reason.PlanFailed, e.message);
      return { status, requeueAfterMs: interval };
    }

    const planned = plan.stages.flatMap((s) => s.objects);
    // An object still being deleted cannot be applied again until it is gone: wait for it.
    const terminating = planned.find((p) => this.#deps.live.get(p.key)?.metadata.deletionTimestamp);
    if (terminating) {
      settle(
        'reconciling',
        Reason.Progressing,
        `waiting for ${describeRef(terminating.ref)} to finish deleting`,
      );
      return { status, requeueAfterMs: 2000 };
    }
    const entries = new Map(inventory.entries.map((e) => [e.key, e]));
    const pending = planned.filter((p) => p.action !== Action.Unchanged);
    const drift = pending.filter((p) => isDrift(p, entries));
    const fromGit = pending.filter((p) => !isDrift(p, entries));
    const wantsApply =
      (!!automated || manual) &&
      (fromGit.length > 0 ||
        plan.prune.length > 0 ||
        (drift.length > 0 && (manual || !!automated?.selfHeal)));
    let result: SyncResult | undefined;
    if (wantsApply) {
      const startedAt = now;
      const store = new MemoryInventoryStore(inventory);
      const options = defaultSyncOptions(app.metadata.name ?? '', app.spec.destination.namespace);
      result = await executePlan(this.#deps.client, plan, inventory, store, {
        ...options,
        revision: commit,
        prune: automated?.prune ?? false,
        createNamespace: app.spec.syncPolicy?.createNamespace ?? false,
        ignoreDifferences: app.spec.ignoreDifferences ?? [],
        fieldManager: this.#deps.fieldManager,
      });
      const saved = store.inventory;
      status.inventory = { ...(saved.revision ? { revision: saved.revision } : {}), entries: saved.entries };
      const initiator = manual
        ? 'manual'
        : fromGit.length > 0 || plan.prune.length > 0
          ? 'automated'
          : 'self-heal';
      const entry: HistoryEntry = {
        id: nextId,
        revision: commit,
        startedAt,
        finishedAt: this.#deps.now(),
        result: result.ok ? 'Succeeded' : 'Failed',
        initiator,
        ...subjectOf(commit, artifact, history),
        ...(result.error ? { message: result.error.slice(0, 1000) } : {}),
      };
      status.history = [...history, entry].slice(-HISTORY_LIMIT);
      const applied = result.objects.filter((o) => o.outcome === 'applied').length;
      const pruned = result.objects.filter((o) => o.outcome === 'pruned').map((o) => describeRef(o.ref));
      if (result.ok) {
        this.#deps.events.record(
          app,
          'Normal',
          EventReason.Synced,
          `${initiator === 'self-heal' ? 'reverted drift in' : 'applied'} ${applied} objects at ${commit.slice(0, 12)}${pinned ? ' (pinned)' : ''}`,
        );
        if (pruned.length > 0)
          this.#deps.events.record(
            app,
            'Normal',
            EventReason.Pruned,
            `pruned ${pruned.join(', ')}`.slice(0, 1000),
          );
      } else {
        this.#deps.events.record(app, 'Warning', EventReason.SyncFailed, result.error ?? 'sync failed');
      }
    } else if (drift.length > 0 && status.sync?.status !== 'OutOfSync') {
      this.#deps.events.record(
        app,
        'Warning',
        EventReason.Drifted,
        `changed in the cluster: ${drift.map((p) => describeRef(p.ref)).join(', ')}`.slice(0, 1000),
      );
    }

    // Report: sync and health per object from the caches (they already hold our writes' effects, or will shortly).
    const outOfSync = result ? !result.ok : pending.length > 0 || plan.prune.length > 0;
    status.sync = {
      status: outOfSync ? 'OutOfSync' : 'Synced',
      revision: outOfSync && !result?.ok ? (status.sync?.revision ?? commit) : commit,
    };
    if (!result?.ok && !outOfSync) status.sync.revision = commit;
    const resources: ResourceStatus[] = planned.map((p) => {
      const obj = this.#deps.live.get(p.key);
      // An Application that applies itself (bootstrap) would otherwise wait on its own Ready condition.
      const itself =
        p.ref.kind === 'Application' &&
        groupOf(p.ref.apiVersion) === groupOf(app.apiVersion) &&
        p.ref.namespace === app.metadata.namespace &&
        p.ref.name === app.metadata.name;
      const h = itself
        ? { status: HealthStatus.Healthy }
        : result?.ok
          ? healthOf(obj ?? p.object)
          : healthOf(obj);
      const [group, version] = p.ref.apiVersion.includes('/')
        ? p.ref.apiVersion.split('/')
        : ['', p.ref.apiVersion];
      return {
        group: group ?? groupOf(p.ref.apiVersion),
        version: version ?? '',
        kind: p.ref.kind,
        ...(p.ref.namespace ? { namespace: p.ref.namespace } : {}),
        name: p.ref.name,
        status: result?.ok || p.action === Action.Unchanged ? 'Synced' : 'OutOfSync',
        health: { status: h.status, ...(h.message ? { message: h.message.slice(0, 300) } : {}) },
      };
    });
    status.resources = resources;
    const health = aggregateHealth(
      resources.map((r) => ({
        name: `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`,
        health: {
          status: r.health?.status as HealthStatus,
          ...(r.health?.message ? { message: r.health.message } : {}),
        },
      })),
    );
    status.health = {
      status: health.status,
      ...(health.message && health.status !== HealthStatus.Healthy
        ? { message: health.message.slice(0, 1000) }
        : {}),
    };
    if (!status.inventory) status.inventory = { entries: inventory.entries };

    if (result && !result.ok) {
      settle('failed', Reason.SyncFailed, result.error ?? 'sync failed');
      return { status, retry: true };
    }
    if (outOfSync) {
      settle(
        'failed',
        Reason.OutOfSync,
        automated
          ? `drift in ${drift.map((p) => describeRef(p.ref)).join(', ')}`
          : `${pending.length + plan.prune.length} objects differ from Git; sync is manual`,
      );
      return { status, requeueAfterMs: interval };
    }
    if (health.status === HealthStatus.Healthy || health.status === HealthStatus.Suspended) {
      settle('ready', Reason.Succeeded, `synced to ${revision}`);
    } else if (health.status === HealthStatus.Degraded || health.status === HealthStatus.Unknown) {
      settle('failed', Reason.HealthCheckFailed, health.message ?? health.status);
    } else {
      settle('reconciling', Reason.Progressing, health.message ?? 'waiting for objects to become healthy');
    }
    return { status, requeueAfterMs: interval };
  }

  async #render(app: Application, repo: GitRepository, commit: string): Promise<readonly Manifest[]> {
    const options = {
      path: app.spec.source.path,
      renderer: app.spec.source.renderer ?? 'auto',
      helm: app.spec.source.helm,
      namespace: app.spec.destination.namespace,
    };
    const key = canonicalJson(options);
    const memo = this.#renders.get(appKey(app));
    if (memo?.options === key) {
      if (memo.commit === commit) return memo.manifests;
      // A push to one folder of many: the others need no render, only the new revision.
      const changed = await this.#deps.mirrors.changedPaths(repo.spec.url, memo.commit, commit);
      if (changed && renderStillValid(memo, changed, options.path)) {
        memo.commit = commit;
        return memo.manifests;
      }
    }
    let root = await this.#deps.mirrors.localTree(commit);
    if (!root) {
      const secret = repo.spec.secretRef
        ? await this.#deps.readSecret(repo.metadata.namespace ?? 'default', repo.spec.secretRef.name)
        : undefined;
      const credentials = secret ? credentialsFrom(secret) : undefined;
      root = (
        await this.#deps.mirrors.fetch({
          url: repo.spec.url,
          ref: { commit },
          ...(credentials ? { credentials } : {}),
        })
      ).dir;
    }
    const result = await this.#deps.renderer.render(applicationRenderRequest(app, root));
    this.#renders.set(appKey(app), {
      options: key,
      commit,
      manifests: result.manifests,
      files: new Set(result.files),
      cacheable: result.cacheable,
    });
    return result.manifests;
  }
}
