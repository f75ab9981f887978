// The application list as the UI asks for it: filters, search and a page, over plain values.
import type { Application } from '../../api/types.ts';

export interface ApplicationQuery {
  namespace?: string;
  sync?: string;
  health?: string;
  /** A label selector as kubectl's -l takes it, equality terms only: `team=a,tier!=web,env,!legacy`. */
  label?: string;
  /** Matched, case-insensitive, against namespace/name, repository and path. */
  search?: string;
  /** Zero-based. */
  page: number;
  pageSize: number;
}

export const MAX_PAGE_SIZE = 500;

/** The query a URL's parameters describe; bad numbers fall back to the first page of 50. */
export function parseApplicationQuery(params: URLSearchParams): ApplicationQuery {
  const int = (name: string, fallback: number) => {
    const n = Number(params.get(name));
    return params.has(name) && Number.isInteger(n) && n >= 0 ? n : fallback;
  };
  const text = (name: string) => params.get(name)?.trim() || undefined;
  const q: ApplicationQuery = {
    page: int('page', 0),
    pageSize: Math.min(Math.max(int('pageSize', 50), 1), MAX_PAGE_SIZE),
  };
  for (const key of ['namespace', 'sync', 'health', 'label', 'search'] as const) {
    const v = text(key);
    if (v) q[key] = v;
  }
  return q;
}

/** Whether `labels` satisfy every comma-separated term of an equality-based selector. */
export function matchesSelector(labels: Readonly<Record<string, string>>, selector: string): boolean {
  return selector
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .every((term) => {
      const not = /^(.+?)\s*!=\s*(.*)$/.exec(term);
      if (not) return labels[not[1]!] !== not[2];
      const eq = /^(.+?)\s*==?\s*(.*)$/.exec(term);
      if (eq) return labels[eq[1]!] === eq[2];
      if (term.startsWith('!')) return !(term.slice(1).trim() in labels);
      return term in labels;
    });
}

export function syncOf(app: Application): string {
  return app.status?.sync?.status ?? 'Unknown';
}

export function healthOf(app: Application): string {
  return app.status?.health?.status ?? 'Unknown';
}

export interface ApplicationPage {
  items: Application[];
  total: number;
  page: number;
  pageSize: number;
  /** Counts over everything that matched, before paging: the UI's filter chips. */
  counts: { sync: Record<string, number>; health: Record<string, number> };
  namespaces: string[];
}

/** Filters, sorts by namespace and name, and cuts one page. */
export function queryApplications(apps: readonly Application[], q: ApplicationQuery): ApplicationPage {
  const needle = q.search?.toLowerCase();
  const namespaces = new Set<string>();
  const matched = apps.filter((a) => {
    namespaces.add(a.metadata.namespace ?? '');
    if (q.namespace && a.metadata.namespace !== q.namespace) return false;
    if (q.sync && syncOf(a) !== q.sync) return false;
    if (q.health && healthOf(a) !== q.health) return false;
    if (q.label && !matchesSelector(a.metadata.labels ?? {}, q.label)) return false;
    if (needle) {
      const hay =
        `${a.metadata.namespace}/${a.metadata.name} ${a.spec.source.repositoryRef.name} ${a.spec.source.path}`.toLowerCase();
      if (!hay.includes(needle)) return false;
    }
    return true;
  });
  matched.sort(
    (a, b) =>
      (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
  const counts = { sync: {} as Record<string, number>, health: {} as Record<string, number> };
  for (const a of matched) {
    counts.sync[syncOf(a)] = (counts.sync[syncOf(a)] ?? 0) + 1;
    counts.health[healthOf(a)] = (counts.health[healthOf(a)] ?? 0) + 1;
  }
  const start = q.page * q.pageSize;
  return {
    items: matched.slice(start, start + q.pageSize),
    total: matched.length,
    page: q.page,
    pageSize: q.pageSize,
    counts,
    namespaces: [...namespaces].sort(),
  };
}
