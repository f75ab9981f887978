// Live against desired, one object per block, lines coloured by what they add or remove. The
// server has already redacted Secret values.
import type { DiffView } from './api.ts';

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---')) return 'meta';
  if (line.startsWith('@@')) return 'hunk';
  if (line.startsWith('+')) return 'add';
  if (line.startsWith('-')) return 'del';
  return '';
}

export function Diff({ view }: { view: DiffView }) {
  const changed = view.objects.filter((o) => o.change !== 'none');
  return (
    <div data-testid="diff">
      <p className="muted">
        {changed.length === 0
          ? `No differences at ${view.revision.slice(0, 12)}.`
          : `${changed.length} of ${view.objects.length} objects differ from ${view.revision.slice(0, 12)}.`}
      </p>
      {changed.map((o) => (
        <div key={o.name} className="diff card">
          <div className="diff-title">
            <strong>{o.name}</strong> <span className={`badge change-${o.change}`}>{o.change}</span>{' '}
            <span className="add">+{o.added}</span> <span className="del">-{o.removed}</span>
          </div>
          <pre>
            {o.patch.split('\n').map((line, i) => (
              <div key={i} className={`line ${lineClass(line)}`}>
                {line || ' '}
              </div>
            ))}
          </pre>
        </div>
      ))}
    </div>
  );
}
