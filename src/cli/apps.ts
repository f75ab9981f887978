// Reading and changing Applications and GitRepositories for the `cairn app` and `cairn source`
// commands. Writes name the CLI's own field manager, never the controller's, so what a person
// sets (a pin, a suspension) is not what Git or a parent Application owns.
import { setTimeout as sleep } from 'node:timers/promises';
import { API_VERSION, REQUESTED_AT_ANNOTATION, type Application, type GitRepository } from '../api/types.ts';
import type { KubeClient } from '../cluster/client.ts';
import type { KubeObject } from '../cluster/objects.ts';
import type { Command } from './command.ts';
import { ExitCode, NotFoundError, UsageError, writeLine, type CliIO } from './io.ts';
import { GLOBAL_OPTIONS, withTarget } from './kube.ts';
import { formatData, parseViewFormat, ViewFormat } from './output.ts';
import { progressLine, readyCondition, type ViewOptions } from './views.ts';

/** The field manager of people's changes through the CLI (pins, suspensions, sync requests). */
export const CLI_FIELD_MANAGER = 'cairn-cli';

export function applicationRef(namespace: string, name: string) {
  return { apiVersion: API_VERSION, kind: 'Application', namespace, name };
}

export function repositoryRef(namespace: string, name: string) {
  return { apiVersion: API_VERSION, kind: 'GitRepository', namespace, name };
}

/** The one NAME a command takes, or a usage error. */
export function oneName(positionals: string[], what = 'NAME'): string {
  if (positionals.length !== 1) throw new UsageError(`give one ${what}`);
  return positionals[0]!;
}

export async function getApplication(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<Application> {
  const app = await client.getOptional<Application & KubeObject>(applicationRef(namespace, name));
  if (!app)
    throw new NotFoundError(
      `Application "${name}" not found in namespace "${namespace}" (run "cairn app list -A" to see every Application, or pass -n NAMESPACE)`,
    );
  return app;
}

export async function getRepository(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<GitRepository> {
  const repo = await client.getOptional<GitRepository & KubeObject>(repositoryRef(namespace, name));
  if (!repo)
    throw new NotFoundError(
      `GitRepository "${name}" not found in namespace "${namespace}" (run "cairn source list -A" to see them, or pass -n NAMESPACE)`,
    );
  return repo;
}

export async function listObjects<T extends KubeObject>(
  client: KubeClient,
  kind: 'Application' | 'GitRepository',
  namespace: string | undefined,
): Promise<T[]> {
  const list = await client.list<T>(API_VERSION, kind, namespace ? { namespace } : {});
  return list.items
    .map((o) => ({ ...o, apiVersion: API_VERSION, kind }))
    .sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
}

/** A JSON merge patch of an Application, recorded under the CLI's field manager. */
export async function patchApplication(
  client: KubeClient,
  app: Application,
  patch: object,
): Promise<Application> {
  const path = await client.pathFor(applicationRef(app.metadata.namespace ?? '', app.metadata.name ?? ''));
  return client.request<Application>('PATCH', path, {
    body: patch,
    contentType: 'application/merge-patch+json',
    query: { fieldManager: CLI_FIELD_MANAGER },
    subject: `Application/${app.metadata.namespace}/${app.metadata.name}`,
  });
}

/**
 * Sets (a commit) or clears (undefined) the pin with server-side apply as `cairn-cli`. The CLI's
 * field manager then owns `spec.source.pinnedRevision` and nothing else, so whoever applies the
 * Application from Git (a parent Application, a bootstrap) leaves the pin alone, and applying
 * without it takes it away (ADR 10).
 */
export async function setPin(
  client: KubeClient,
  app: Application,
  commit: string | undefined,
): Promise<Application> {
  return client.apply<Application & KubeObject>(
    {
      apiVersion: API_VERSION,
      kind: 'Application',
      metadata: { name: app.metadata.name, namespace: app.metadata.namespace },
      ...(commit ? { spec: { source: { pinnedRevision: commit } } } : {}),
    },
    { fieldManager: CLI_FIELD_MANAGER, force: true },
  );
}

/** Asks the controller for a reconcile now; resolves to the request's token (its time). */
export async function requestReconcile(client: KubeClient, app: Application): Promise<string> {
  const at = new Date().toISOString();
  await patchApplication(client, app, { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: at } } });
  return at;
}

/** Asks the controller to fetch a GitRepository now (as a webhook would); resolves to the request's time. */
export async function requestFetch(client: KubeClient, namespace: string, name: string): Promise<string> {
  const at = new Date().toISOString();
  await client.request('PATCH', await client.pathFor(repositoryRef(namespace, name)), {
    body: { metadata: { annotations: { [REQUESTED_AT_ANNOTATION]: at } } },
    contentType: 'application/merge-patch+json',
    query: { fieldManager: CLI_FIELD_MANAGER },
    subject: `GitRepository/${namespace}/${name}`,
  });
  return at;
}

// Why a handled request did not sync: the controller retries, but this request's answer is in.
const FAILED_REASONS = new Set([
  'SyncFailed',
  'BuildFailed',
  'PlanFailed',
  'SourceNotFound',
  'SourceNotReady',
  'DependencyNotReady',
  'InvalidSpec',
]);

export interface WaitOptions {
  timeoutMs: number;
  /** Wait until the controller acted on this request (status.lastHandledReconcileAt). */
  request?: string;
  /** Also wait until Ready, Synced and Healthy. */
  healthy: boolean;
}

export type WaitOutcome =
  | { state: 'done'; app: Application }
  | { state: 'failed'; app: Application; reason: string }
  | { state: 'timeout'; app: Application | undefined; reason: string };

function reconciledAt(app: Application, request: string | undefined): boolean {
  const generation = app.metadata.generation;
  const observed = app.status?.observedGeneration;
  const seenSpec = generation === undefined || (observed !== undefined && observed >= generation);
  return seenSpec && (request === undefined || app.status?.lastHandledReconcileAt === request);
}

/**
 * Polls an Application until the controller has handled a request and (when asked) it is Ready,
 * Synced and Healthy; stops early when it is Stalled, or Ready=False after the request was handled.
 * Progress goes to stderr, only when a person watches.
 */
export async function waitForApplication(
  client: KubeClient,
  namespace: string,
  name: string,
  options: WaitOptions,
  io: CliIO,
): Promise<WaitOutcome> {
  const deadline = Date.now() + options.timeoutMs;
  let last: Application | undefined;
  let shown = '';
  for (;;) {
    last = await getApplication(client, namespace, name);
    if (last.spec.suspend)
      return {
        state: 'failed',
        app: last,
        reason: `${name} is suspended (run "cairn app resume ${name}")`,
      };
    const ready = readyCondition(last);
    if (reconciledAt(last, options.request)) {
      const stalled = last.status?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True');
      if (stalled) return { state: 'failed', app: last, reason: `stalled: ${stalled.message}` };
      // The controller acted on this request and failed: that is the answer (it retries on its own).
      if (options.request && ready?.status === 'False' && FAILED_REASONS.has(ready.reason))
        return { state: 'failed', app: last, reason: `${ready.reason}: ${ready.message}` };
      if (!options.healthy) return { state: 'done', app: last };
      if (
        ready?.status === 'True' &&
        last.status?.sync?.status === 'Synced' &&
        last.status.health?.status === 'Healthy'
      )
        return { state: 'done', app: last };
      // A failed sync the controller retries is not over until the deadline; a Degraded object is.
      if (last.status?.health?.status === 'Degraded')
        return { state: 'failed', app: last, reason: ready?.message ?? 'Degraded' };
    }
    if (io.interactive) {
      const line = progressLine(last);
      if (line !== shown) writeLine(io.err, `waiting: ${line}`);
      shown = line;
    }
    if (Date.now() >= deadline) {
      const why = reconciledAt(last, options.request)
        ? progressLine(last)
        : `the controller has not handled the request yet (is "cairn controller" running and watching namespace ${namespace}?)`;
      return { state: 'timeout', app: last, reason: why };
    }
    await sleep(500);
  }
}

/** A duration flag: 90s, 5m, 1h. */
export function durationMs(value: unknown, flag: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const m = typeof value === 'string' ? /^(\d+)(s|m|h)?$/.exec(value) : null;
  if (!m)
    throw new UsageError(`${flag} takes a duration such as 90s, 5m or 1h, got "${JSON.stringify(value)}"`);
  return Number(m[1]) * (m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : 1000);
}

/** -A lists every namespace; otherwise the one asked for. */
export function namespaceScope(values: Record<string, unknown>, namespace: string): string | undefined {
  return values['all-namespaces'] ? undefined : namespace;
}

/** Prints data for -o json|yaml, else the text a person reads. */
export function printView(
  io: CliIO,
  format: 'table' | 'wide' | 'json' | 'yaml',
  data: unknown,
  text: () => string,
): void {
  if (format === 'json' || format === 'yaml') io.out.write(formatData(data, format));
  else writeLine(io.out, text());
}

/** Prints a wait's outcome and gives its exit code. */
export function reportWait(outcome: WaitOutcome, io: CliIO, format: ViewFormat, what: string): number {
  const app = outcome.app;
  printView(
    io,
    format,
    {
      state: outcome.state,
      ...(outcome.state === 'done' ? {} : { reason: outcome.reason }),
      application: app,
    },
    () =>
      outcome.state === 'done'
        ? `${what}: ${app?.status?.sync?.status ?? 'Unknown'}, ${app?.status?.health?.status ?? 'Unknown'} at ${(app?.status?.sync?.revision ?? '').slice(0, 12)}${app?.spec.source.pinnedRevision ? ' (pinned)' : ''}`
        : `${what}: ${outcome.state === 'timeout' ? 'timed out' : 'failed'}: ${outcome.reason}`,
  );
  return outcome.state === 'done' ? 0 : 1;
}

/** `cairn <group> list`: the objects of one of Cairn's kinds in a namespace or all, as a table or a List. */
export function listCommand<T extends KubeObject>(spec: {
  kind: 'Application' | 'GitRepository';
  /** The kind's plural as a person writes it ("GitRepositories"). */
  plural: string;
  summary: string;
  usage: string;
  examples: string[];
  table: (items: readonly T[], options: ViewOptions) => string;
}): Command {
  return {
    name: 'list',
    summary: spec.summary,
    usage: spec.usage,
    examples: spec.examples,
    options: GLOBAL_OPTIONS,
    async run({ values }, io) {
      // -o name: one name a line (namespace/name with -A), as shell completion asks for them.
      const names = values.output === 'name';
      const format = names ? ViewFormat.Table : parseViewFormat(values.output);
      return withTarget(values, io, async ({ client, namespace }) => {
        const all = Boolean(values['all-namespaces']);
        const items = await listObjects<T>(client, spec.kind, namespaceScope(values, namespace));
        if (names) {
          for (const i of items)
            writeLine(io.out, all ? `${i.metadata.namespace}/${i.metadata.name}` : (i.metadata.name ?? ''));
          return ExitCode.Ok;
        }
        printView(io, format, { apiVersion: 'v1', kind: 'List', items }, () =>
          items.length === 0
            ? `No ${spec.plural} in ${all ? 'any namespace' : `namespace ${namespace}`}.`
            : spec.table(items, {
                now: new Date(),
                wide: format === 'wide',
                allNamespaces: all,
                color: io.color,
              }),
        );
        return ExitCode.Ok;
      });
    },
  };
}

/** A commit a person names: a full SHA, or the start of one the Application has seen. */
export function resolveRevision(app: Application, revision: string): string {
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  if (!/^[0-9a-f]{4,39}$/.test(revision)) throw new UsageError(`--revision ${revision}: not a commit SHA`);
  const known = new Set(
    [
      ...(app.status?.history ?? []).map((h) => h.revision),
      app.status?.sync?.revision,
      app.status?.lastAttemptedRevision,
    ].filter((r): r is string => !!r && /^[0-9a-f]{40}$/.test(r)),
  );
  const matches = [...known].filter((r) => r.startsWith(revision));
  if (matches.length !== 1)
    throw new UsageError(
      `--revision ${revision} ${matches.length === 0 ? 'matches no commit in the history' : 'is ambiguous'}: give the full commit SHA`,
    );
  return matches[0]!;
}
