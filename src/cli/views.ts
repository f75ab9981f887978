// What the commands about Cairn's objects print for people: pure functions of the objects and the
// time, so the same input always prints the same text (golden-tested).
import type { Application, Condition, GitRepository } from '../api/types.ts';
import type { KubeObject } from '../cluster/objects.ts';
import type { Trace, TreeNode } from '../inspect/index.ts';
import { paint } from './output.ts';
import { formatTable } from './table.ts';

export interface ViewOptions {
  now: Date;
  wide?: boolean;
  /** Show a NAMESPACE column (-A). */
  allNamespaces?: boolean;
  color?: boolean;
}

/** A person's idea of how long ago: 42s, 5m, 3h, 12d. */
export function age(since: string | undefined, now: Date): string {
  if (!since) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

export function shortRevision(revision: string | undefined): string {
  return revision ? revision.slice(0, 12) : '';
}

export function readyCondition(obj: { status?: { conditions?: Condition[] } }): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === 'Ready');
}

function syncPolicy(app: Application): string {
  const automated = app.spec.syncPolicy?.automated;
  if (!automated) return 'manual';
  const extras = [automated.prune ? 'prune' : '', automated.selfHeal ? 'self-heal' : ''].filter(Boolean);
  return extras.length > 0 ? `automated (${extras.join(', ')})` : 'automated';
}

function sourceOf(app: Application): string {
  const ref = app.spec.source.repositoryRef;
  return `${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

function revisionCell(app: Application): string {
  const revision = shortRevision(app.status?.sync?.revision);
  return app.spec.source.pinnedRevision
    ? `${shortRevision(app.spec.source.pinnedRevision)} (pinned)`
    : revision;
}

/** `cairn app list`. */
export function applicationTable(apps: readonly Application[], o: ViewOptions): string {
  const headers = [
    ...(o.allNamespaces ? ['namespace'] : []),
    'name',
    'sync',
    'health',
    'revision',
    'ready',
    'age',
    ...(o.wide ? ['source', 'path', 'destination', 'policy', 'message'] : []),
  ];
  const rows = apps.map((app) => {
    const ready = readyCondition(app);
    return [
      ...(o.allNamespaces ? [app.metadata.namespace ?? ''] : []),
      app.metadata.name ?? '',
      paint(app.spec.suspend ? 'Suspended' : (app.status?.sync?.status ?? 'Unknown'), o.color),
      paint(app.status?.health?.status ?? 'Unknown', o.color),
      revisionCell(app),
      paint(ready?.status ?? 'Unknown', o.color),
      age(app.metadata.creationTimestamp as string | undefined, o.now),
      ...(o.wide
        ? [
            sourceOf(app),
            app.spec.source.path,
            app.spec.destination.namespace,
            syncPolicy(app),
            ready?.message ?? '',
          ]
        : []),
    ];
  });
  return formatTable(headers, rows);
}

function fields(pairs: readonly (readonly [string, string | undefined])[]): string[] {
  const shown = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined && p[1] !== '');
  const width = Math.max(...shown.map(([k]) => k.length)) + 2;
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`);
}

/** `cairn app get`. */
export function applicationDetails(app: Application, o: ViewOptions): string {
  const ready = readyCondition(app);
  const last = app.status?.history?.at(-1);
  const pinned = app.spec.source.pinnedRevision;
  const lines = fields([
    ['Name', app.metadata.name],
    ['Namespace', app.metadata.namespace],
    ['Source', `GitRepository ${sourceOf(app)}, path ${app.spec.source.path}`],
    ['Destination', `namespace ${app.spec.destination.namespace}`],
    ['Sync policy', `${syncPolicy(app)}${app.spec.suspend ? ', suspended' : ''}`],
    [
      'Pinned',
      pinned
        ? `${pinned} (automated sync holds this commit; "cairn app resume ${app.metadata.name}" follows the branch again)`
        : undefined,
    ],
    ['Revision', app.status?.sync?.revision],
    ['Sync', paint(app.status?.sync?.status ?? 'Unknown', o.color)],
    [
      'Health',
      `${paint(app.status?.health?.status ?? 'Unknown', o.color)}${app.status?.health?.message ? `: ${app.status.health.message}` : ''}`,
    ],
    ['Ready', ready ? `${paint(ready.status, o.color)} ${ready.reason}: ${ready.message}` : undefined],
    [
      'Last sync',
      last
        ? `#${last.id} ${paint(last.result, o.color)} (${last.initiator}) at ${shortRevision(last.revision)}, ${age(last.finishedAt, o.now)} ago`
        : undefined,
    ],
  ]);
  const resources = app.status?.resources ?? [];
  if (resources.length > 0) {
    lines.push(
      '',
      formatTable(
        ['kind', 'namespace', 'name', 'sync', 'health', ...(o.wide ? ['message'] : [])],
        resources.map((r) => [
          r.kind,
          r.namespace ?? '',
          r.name,
          paint(r.status, o.color),
          paint(r.health?.status ?? 'Unknown', o.color),
          ...(o.wide ? [r.health?.message ?? ''] : []),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/** Characters of a commit subject in a narrow table; `-o wide` shows all of it. */
const SUBJECT_COLUMN = 50;

function cut(text: string, limit: number): string {
  const chars = Array.from(text);
  return chars.length > limit ? `${chars.slice(0, limit - 1).join('')}…` : text;
}

/** `cairn app history`: oldest first, as the ids grow. */
export function historyTable(app: Application, o: ViewOptions): string {
  const entries = app.status?.history ?? [];
  const pinned = app.spec.source.pinnedRevision;
  const table = formatTable(
    [
      'id',
      'revision',
      'initiator',
      'result',
      'finished',
      'duration',
      'subject',
      ...(o.wide ? ['message'] : []),
    ],
    entries.map((e) => [
      String(e.id),
      o.wide ? e.revision : shortRevision(e.revision),
      e.initiator,
      paint(e.result, o.color),
      `${age(e.finishedAt, o.now)} ago`,
      `${Math.max(0, Math.round((Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000))}s`,
      o.wide ? (e.subject ?? '') : cut(e.subject ?? '', SUBJECT_COLUMN),
      ...(o.wide ? [e.message ?? ''] : []),
    ]),
  );
  return pinned ? `${table}\n\npinned to ${shortRevision(pinned)}` : table;
}

function treeLines(nodes: readonly TreeNode[], prefix: string, o: ViewOptions): string[][] {
  const rows: string[][] = [];
  nodes.forEach((node, i) => {
    const lastChild = i === nodes.length - 1;
    rows.push([
      `${prefix}${lastChild ? '└─' : '├─'} ${node.kind}/${node.name}`,
      node.sync ? paint(node.sync, o.color) : '',
      paint(node.health, o.color),
      node.message ?? '',
    ]);
    rows.push(...treeLines(node.children, `${prefix}${lastChild ? '   ' : '│  '}`, o));
  });
  return rows;
}

/** `cairn app tree`: the Application, what it applied, and what those made. */
export function treeText(app: Application, nodes: readonly TreeNode[], o: ViewOptions): string {
  const root = [
    `Application/${app.metadata.name ?? ''}`,
    paint(app.status?.sync?.status ?? 'Unknown', o.color),
    paint(app.status?.health?.status ?? 'Unknown', o.color),
    '',
  ];
  return formatTable(['name', 'sync', 'health', 'message'], [root, ...treeLines(nodes, '', o)]);
}

/** `cairn source list`. */
export function sourceTable(repos: readonly GitRepository[], o: ViewOptions): string {
  const headers = [
    ...(o.allNamespaces ? ['namespace'] : []),
    'name',
    'url',
    'ref',
    'revision',
    'ready',
    'age',
    ...(o.wide ? ['interval', 'message'] : []),
  ];
  return formatTable(
    headers,
    repos.map((repo) => {
      const ready = readyCondition(repo);
      return [
        ...(o.allNamespaces ? [repo.metadata.namespace ?? ''] : []),
        repo.metadata.name ?? '',
        repo.spec.url,
        refText(repo),
        shortRevision(repo.status?.artifact?.commit),
        paint(repo.spec.suspend ? 'Suspended' : (ready?.status ?? 'Unknown'), o.color),
        age(repo.metadata.creationTimestamp as string | undefined, o.now),
        ...(o.wide ? [repo.spec.interval, ready?.message ?? ''] : []),
      ];
    }),
  );
}

function refText(repo: GitRepository): string {
  const ref = repo.spec.ref;
  if (!ref) return 'branch main';
  const [kind, value] = Object.entries(ref).find(([, v]) => v !== undefined) ?? ['branch', 'main'];
  return `${kind} ${String(value)}`;
}

/** `cairn source get`, with the Applications that use the repository. */
export function sourceDetails(repo: GitRepository, apps: readonly Application[], o: ViewOptions): string {
  const ready = readyCondition(repo);
  const artifact = repo.status?.artifact;
  const lines = fields([
    ['Name', repo.metadata.name],
    ['Namespace', repo.metadata.namespace],
    ['URL', repo.spec.url],
    ['Ref', refText(repo)],
    ['Interval', `${repo.spec.interval}${repo.spec.suspend ? ', suspended' : ''}`],
    ['Credentials', repo.spec.secretRef ? `Secret ${repo.spec.secretRef.name}` : undefined],
    ['Revision', artifact?.revision],
    ['Subject', artifact?.subject],
    ['Fetched', artifact ? `${age(artifact.lastUpdateTime, o.now)} ago` : undefined],
    ['Ready', ready ? `${paint(ready.status, o.color)} ${ready.reason}: ${ready.message}` : undefined],
  ]);
  if (apps.length > 0)
    lines.push('', 'Applications:', ...apps.map((a) => `  ${a.metadata.namespace}/${a.metadata.name}`));
  return lines.join('\n');
}

export interface EventRow {
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  lastSeen: string | undefined;
  namespace: string;
}

/** A core/v1 Event as a row. */
export function eventRow(event: KubeObject): EventRow {
  const e = event as KubeObject & {
    type?: string;
    reason?: string;
    message?: string;
    count?: number;
    lastTimestamp?: string;
    eventTime?: string;
    involvedObject?: { kind?: string; name?: string };
  };
  return {
    type: e.type ?? '',
    reason: e.reason ?? '',
    object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
    message: e.message ?? '',
    count: e.count ?? 1,
    lastSeen: e.lastTimestamp ?? e.eventTime ?? (e.metadata.creationTimestamp as string | undefined),
    namespace: e.metadata.namespace ?? '',
  };
}

/** `cairn events`: oldest first, as kubectl prints them. */
export function eventTable(rows: readonly EventRow[], o: ViewOptions): string {
  return formatTable(
    [...(o.allNamespaces ? ['namespace'] : []), 'last seen', 'type', 'reason', 'object', 'message'],
    rows.map((r) => [
      ...(o.allNamespaces ? [r.namespace] : []),
      age(r.lastSeen, o.now),
      paint(r.type, o.color),
      r.reason,
      r.object,
      r.count > 1 ? `${r.message} (x${r.count})` : r.message,
    ]),
  );
}

/** `cairn trace`. */
export function traceText(trace: Trace, o: ViewOptions): string {
  const obj = trace.object;
  const app = trace.application;
  return fields([
    ['Object', `${obj.kind}/${obj.namespace ? `${obj.namespace}/` : ''}${obj.name}`],
    [
      'Application',
      `${app.namespace}/${app.name}${app.found ? '' : ' (not found: deleted, or the object was orphaned)'}`,
    ],
    [
      'Source',
      trace.source
        ? `GitRepository ${trace.source.namespace}/${trace.source.name}${trace.source.url ? ` (${trace.source.url})` : ''}, path ${trace.source.path}`
        : undefined,
    ],
    ['Revision', trace.revision ? `${trace.revision}${trace.pinnedRevision ? ' (pinned)' : ''}` : undefined],
    ['Changed by', trace.lastChangedBy?.commit ? `commit ${trace.lastChangedBy.commit}` : undefined],
    ['Deployment', trace.lastChangedBy?.deployment],
    ['Sync', trace.sync ? paint(trace.sync, o.color) : undefined],
    ['Health', trace.health ? paint(trace.health, o.color) : undefined],
  ]).join('\n');
}

/** One line about where an Application is, for progress while waiting. */
export function progressLine(app: Application): string {
  const ready = readyCondition(app);
  return `${app.metadata.name}: ${app.status?.sync?.status ?? 'Unknown'}, ${app.status?.health?.status ?? 'Unknown'}${ready?.message ? ` (${ready.message})` : ''}`;
}
