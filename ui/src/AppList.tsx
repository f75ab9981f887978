import { useCallback, useEffect, useRef, useState } from 'react';
import { api, healthOf, subscribe, syncOf, type AppList as List } from './api.ts';
import { StatusBadge } from './Badges.tsx';
import { Link } from './Link.tsx';
import { appHref, navigate } from './route.ts';
import { StatusBars } from './StatusBars.tsx';

const SYNC = ['Synced', 'OutOfSync', 'Unknown'];
const HEALTH = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'];
const PAGE_SIZE = 50;

function withParam(query: URLSearchParams, key: string, value: string): string {
  const next = new URLSearchParams(query);
  if (value) next.set(key, value);
  else next.delete(key);
  if (key !== 'page') next.delete('page');
  const text = next.toString();
  return text ? `/?${text}` : '/';
}

export function AppList({ query }: { query: URLSearchParams }) {
  const [list, setList] = useState<List | undefined>();
  const [error, setError] = useState('');
  const [search, setSearch] = useState(query.get('search') ?? '');
  const [label, setLabel] = useState(query.get('label') ?? '');
  const view = query.get('view') === 'tiles' ? 'tiles' : 'table';
  const page = Number(query.get('page') ?? '0') || 0;
  const key = query.toString();

  const load = useCallback(() => {
    const asked = new URLSearchParams(key);
    const q = new URLSearchParams();
    for (const k of ['namespace', 'sync', 'health', 'label', 'search'])
      if (asked.get(k)) q.set(k, asked.get(k)!);
    q.set('page', String(Number(asked.get('page') ?? '0') || 0));
    q.set('pageSize', String(PAGE_SIZE));
    api
      .list(q)
      .then((l) => {
        setList(l);
        setError('');
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [key]);

  useEffect(load, [load]);

  // Live: any change the person may see reloads this page of the list, at most every 300 ms.
  const pending = useRef<number | undefined>(undefined);
  useEffect(() => {
    const unsubscribe = subscribe(() => {
      if (pending.current !== undefined) return;
      pending.current = window.setTimeout(() => {
        pending.current = undefined;
        load();
      }, 300);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, [load]);

  const set = (k: string, v: string) => navigate(withParam(query, k, v), true);
  const pages = list ? Math.max(1, Math.ceil(list.metadata.total / PAGE_SIZE)) : 1;

  return (
    <section>
      <div className="toolbar">
        <h1>Applications</h1>
        <span className="muted" data-testid="total">
          {list ? `${list.metadata.total} shown` : ''}
        </span>
        <span className="spacer" />
        <div className="tabs">
          <button type="button" className={view === 'table' ? 'active' : ''} onClick={() => set('view', '')}>
            Table
          </button>
          <button
            type="button"
            className={view === 'tiles' ? 'active' : ''}
            onClick={() => set('view', 'tiles')}
          >
            Tiles
          </button>
        </div>
      </div>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const next = new URLSearchParams(withParam(query, 'search', search).replace(/^\/\??/, ''));
          navigate(withParam(next, 'label', label), true);
        }}
      >
        <input
          type="search"
          name="search"
          placeholder="Search name, repository, path"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <input
          type="search"
          name="label"
          placeholder="Labels, e.g. team=a"
          value={label}
          onChange={(e) => setLabel(e.target.value)}
        />
        {/* With two text fields, Enter submits only through a submit button. */}
        <button type="submit">Filter</button>
        <select
          name="namespace"
          value={query.get('namespace') ?? ''}
          onChange={(e) => set('namespace', e.target.value)}
        >
          <option value="">All namespaces</option>
          {(list?.namespaces ?? []).map((ns) => (
            <option key={ns} value={ns}>
              {ns}
            </option>
          ))}
        </select>
        <select name="sync" value={query.get('sync') ?? ''} onChange={(e) => set('sync', e.target.value)}>
          <option value="">Any sync</option>
          {SYNC.map((s) => (
            <option key={s} value={s}>
              {s} {list?.counts.sync[s] !== undefined ? `(${list.counts.sync[s]})` : ''}
            </option>
          ))}
        </select>
        <select
          name="health"
          value={query.get('health') ?? ''}
          onChange={(e) => set('health', e.target.value)}
        >
          <option value="">Any health</option>
          {HEALTH.map((h) => (
            <option key={h} value={h}>
              {h} {list?.counts.health[h] !== undefined ? `(${list.counts.health[h]})` : ''}
            </option>
          ))}
        </select>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {list && <StatusBars list={list} sync={SYNC} health={HEALTH} href={(k, v) => withParam(query, k, v)} />}
      {list && list.items.length === 0 && <p className="muted">No Applications match.</p>}
      {list && view === 'table' && list.items.length > 0 && (
        <table className="apps" data-testid="app-table">
          <thead>
            <tr>
              <th>Namespace</th>
              <th>Name</th>
              <th>Sync</th>
              <th>Health</th>
              <th>Revision</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((a) => (
              <tr
                key={a.metadata.uid ?? `${a.metadata.namespace}/${a.metadata.name}`}
                data-app={`${a.metadata.namespace}/${a.metadata.name}`}
              >
                <td>{a.metadata.namespace}</td>
                <td>
                  <Link href={appHref(a.metadata.namespace ?? '', a.metadata.name ?? '')}>
                    {a.metadata.name}
                  </Link>
                  {a.spec.suspend && <span className="badge status-Suspended">suspended</span>}
                </td>
                <td>
                  <StatusBadge value={syncOf(a)} testId="sync" />
                </td>
                <td>
                  <StatusBadge value={healthOf(a)} testId="health" />
                </td>
                <td className="mono">{(a.status?.sync?.revision ?? '').slice(0, 8)}</td>
                <td className="muted">
                  {a.spec.source.repositoryRef.name}:{a.spec.source.path}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list && view === 'tiles' && (
        <div className="tiles" data-testid="app-tiles">
          {list.items.map((a) => (
            <Link
              key={a.metadata.uid ?? `${a.metadata.namespace}/${a.metadata.name}`}
              className={`tile card health-${healthOf(a)}`}
              href={appHref(a.metadata.namespace ?? '', a.metadata.name ?? '')}
            >
              <strong>{a.metadata.name}</strong>
              <span className="muted">{a.metadata.namespace}</span>
              <span>
                <StatusBadge value={syncOf(a)} /> <StatusBadge value={healthOf(a)} />
              </span>
            </Link>
          ))}
        </div>
      )}
      {list && pages > 1 && (
        <nav className="pager">
          <button type="button" disabled={page === 0} onClick={() => set('page', String(page - 1))}>
            Previous
          </button>
          <span>
            Page {page + 1} of {pages}
          </span>
          <button type="button" disabled={page + 1 >= pages} onClick={() => set('page', String(page + 1))}>
            Next
          </button>
        </nav>
      )}
    </section>
  );
}
