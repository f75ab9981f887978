import { useState } from 'react';
import type { Application } from './api.ts';

/** The subject of a commit as the newest history entry at it recorded it. */
export function subjectAt(app: Application, revision: string | undefined): string | undefined {
  if (!revision) return undefined;
  return app.status?.history?.findLast((h) => h.revision === revision && h.subject !== undefined)?.subject;
}

export function History({
  app,
  busy,
  onRollback,
}: {
  app: Application;
  busy: boolean;
  onRollback: (id: number) => void;
}) {
  const [asking, setAsking] = useState<number | undefined>();
  const history = [...(app.status?.history ?? [])].reverse();
  const current = app.status?.sync?.revision;
  // The newest entry at the applied revision is what runs now; older ones at it are not.
  const currentId = history.find((h) => h.revision === current)?.id;
  if (history.length === 0) return <p className="muted">No syncs yet.</p>;
  return (
    <table className="apps" data-testid="history">
      <thead>
        <tr>
          <th>#</th>
          <th>Revision</th>
          <th>Commit</th>
          <th>Result</th>
          <th>By</th>
          <th>Finished</th>
          <th>Message</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {history.map((h) => (
          <tr key={h.id} data-history-id={h.id}>
            <td>{h.id}</td>
            <td className="mono">
              {h.revision.slice(0, 12)}
              {h.id === currentId && <span className="badge status-Synced">current</span>}
            </td>
            <td className="message subject">{h.subject ?? ''}</td>
            <td>{h.result}</td>
            <td>{h.initiator}</td>
            <td>{new Date(h.finishedAt).toLocaleString()}</td>
            <td className="message">{h.message ?? ''}</td>
            <td>
              {h.revision !== current &&
                (asking === h.id ? (
                  <>
                    <button
                      type="button"
                      className="danger"
                      disabled={busy}
                      onClick={() => {
                        setAsking(undefined);
                        onRollback(h.id);
                      }}
                    >
                      Roll back to #{h.id}
                    </button>{' '}
                    <button type="button" onClick={() => setAsking(undefined)}>
                      Cancel
                    </button>
                  </>
                ) : (
                  <button type="button" disabled={busy} onClick={() => setAsking(h.id)}>
                    Rollback
                  </button>
                ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
