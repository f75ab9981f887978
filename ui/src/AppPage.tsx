import { useCallback, useEffect, useRef, useState } from 'react';
import { api, healthOf, subscribe, syncOf, type Application, type DiffView, type TreeView } from './api.ts';
import { StatusBadge } from './Badges.tsx';
import { Diff } from './Diff.tsx';
import { History, subjectAt } from './History.tsx';
import { appHref, navigate } from './route.ts';
import { Tree } from './Tree.tsx';

const TABS = ['tree', 'diff', 'history', 'details'] as const;

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function AppPage({ namespace, name, tab }: { namespace: string; name: string; tab: string }) {
  const [app, setApp] = useState<Application | undefined>();
  const [tree, setTree] = useState<TreeView | undefined>();
  const [diff, setDiff] = useState<DiffView | undefined>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  const loadDetail = useCallback(() => {
    if (tab === 'tree')
      api
        .tree(namespace, name)
        .then(setTree)
        .catch((e: unknown) => setError(message(e)));
    if (tab === 'diff')
      api
        .diff(namespace, name)
        .then(setDiff)
        .catch((e: unknown) => setError(message(e)));
  }, [namespace, name, tab]);

  useEffect(() => {
    setError('');
    api
      .get(namespace, name)
      .then(setApp)
      .catch((e: unknown) => setError(message(e)));
    loadDetail();
  }, [namespace, name, loadDetail]);

  // Live: this Application's changes replace it at once; the tree or diff follow within a second.
  const pending = useRef<number | undefined>(undefined);
  useEffect(() => {
    const unsubscribe = subscribe((type, changed) => {
      if (changed.metadata.namespace !== namespace || changed.metadata.name !== name) return;
      if (type === 'DELETED') {
        setError(`${namespace}/${name} was deleted`);
        return;
      }
      setApp(changed);
      if (pending.current !== undefined) return;
      pending.current = window.setTimeout(() => {
        pending.current = undefined;
        loadDetail();
      }, 700);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(pending.current);
      pending.current = undefined;
    };
  }, [namespace, name, loadDetail]);

  const act = (action: string, body?: unknown) => {
    setBusy(true);
    setError('');
    api
      .act(namespace, name, action, body)
      .then((a) => {
        setApp(a);
        setNotice(
          action === 'rollback'
            ? 'Rollback requested: the revision is pinned until you resume.'
            : `${action} requested`,
        );
      })
      .catch((e: unknown) => setError(message(e)))
      .finally(() => setBusy(false));
  };

  if (!app)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );

  const ready = app.status?.conditions?.find((c) => c.type === 'Ready');
  const subject = subjectAt(app, app.status?.sync?.revision);
  return (
    <section>
      <div className="toolbar">
        <h1>
          <span className="muted">{namespace} / </span>
          <span data-testid="app-name">{name}</span>
        </h1>
        <StatusBadge value={syncOf(app)} testId="app-sync" />
        <StatusBadge value={healthOf(app)} testId="app-health" />
        {app.spec.suspend && <span className="badge status-Suspended">suspended</span>}
        {app.spec.source.pinnedRevision && (
          <span className="badge status-OutOfSync" data-testid="pinned">
            pinned {app.spec.source.pinnedRevision.slice(0, 8)}
          </span>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="primary"
          disabled={busy || !!app.spec.suspend}
          onClick={() => act('sync')}
        >
          Sync
        </button>
        <button type="button" disabled={busy} onClick={() => act('refresh')}>
          Refresh
        </button>
        {app.spec.suspend || app.spec.source.pinnedRevision ? (
          <button type="button" disabled={busy} onClick={() => act('resume')}>
            Resume
          </button>
        ) : (
          <button type="button" disabled={busy} onClick={() => act('suspend')}>
            Suspend
          </button>
        )}
      </div>
      <p className="muted summary">
        {app.spec.source.repositoryRef.name}:{app.spec.source.path} → {app.spec.destination.namespace}
        {app.status?.sync?.revision ? ` at ${app.status.sync.revision.slice(0, 12)}` : ''}
        {subject !== undefined && (
          <>
            {' '}
            <q data-testid="app-subject">{subject}</q>
          </>
        )}
        {ready ? ` · ${ready.reason}: ${ready.message}` : ''}
      </p>
      {notice && <p className="notice">{notice}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <nav className="tabs">
        {TABS.map((t) => (
          <a
            key={t}
            href={appHref(namespace, name, t)}
            className={t === tab ? 'active' : ''}
            onClick={(e) => {
              e.preventDefault();
              navigate(appHref(namespace, name, t));
            }}
          >
            {t[0]!.toUpperCase() + t.slice(1)}
          </a>
        ))}
      </nav>
      {tab === 'tree' && (tree ? <Tree view={tree} /> : <p className="muted">Loading the tree…</p>)}
      {tab === 'diff' && (diff ? <Diff view={diff} /> : <p className="muted">Rendering and comparing…</p>)}
      {tab === 'history' && <History app={app} busy={busy} onRollback={(id) => act('rollback', { id })} />}
      {tab === 'details' && <Details app={app} />}
    </section>
  );
}

function Details({ app }: { app: Application }) {
  const rows = (title: string, map: Record<string, string> | undefined) => (
    <>
      <h2>{title}</h2>
      {Object.keys(map ?? {}).length === 0 ? (
        <p className="muted">None.</p>
      ) : (
        <table className="kv">
          <tbody>
            {Object.entries(map ?? {}).map(([k, v]) => (
              <tr key={k}>
                <th>{k}</th>
                <td className="mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
  return (
    <div data-testid="details">
      {rows('Labels', app.metadata.labels)}
      {rows('Annotations', app.metadata.annotations)}
      <h2>Conditions</h2>
      <table className="kv">
        <tbody>
          {(app.status?.conditions ?? []).map((c) => (
            <tr key={c.type}>
              <th>{c.type}</th>
              <td>
                {c.status} {c.reason}: {c.message}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
