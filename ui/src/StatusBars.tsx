import type { AppList } from './api.ts';
import { statusClass } from './Badges.tsx';
import { Link } from './Link.tsx';

/** One bar of how many Applications are in each state; a state is a link that filters by it. */
function Bar({
  title,
  param,
  counts,
  order,
  href,
}: {
  title: string;
  param: 'sync' | 'health';
  counts: Record<string, number>;
  order: readonly string[];
  href: (param: string, value: string) => string;
}) {
  const states = [
    ...order.filter((s) => counts[s]),
    ...Object.keys(counts).filter((s) => !order.includes(s) && counts[s]),
  ];
  const total = states.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  if (total === 0) return null;
  let x = 0;
  return (
    <div className="status-bar" data-testid={`${param}-bar`}>
      <span className="status-bar-title">{title}</span>
      <svg
        viewBox="0 0 1000 12"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${title}: ${states.map((s) => `${counts[s]} ${s}`).join(', ')}`}
      >
        {states.map((s) => {
          const width = ((counts[s] ?? 0) / total) * 1000;
          const rect = (
            <rect key={s} x={x} y={0} width={width} height={12} className={statusClass(s)} data-status={s} />
          );
          x += width;
          return rect;
        })}
      </svg>
      <span className="status-bar-legend">
        {states.map((s) => (
          <Link key={s} href={href(param, s)} replace data-status={s}>
            <span className={`swatch ${statusClass(s)}`} aria-hidden="true" /> {s} {counts[s]}
          </Link>
        ))}
      </span>
    </div>
  );
}

/** Health and sync of what the filters matched, as two bars: a glance before the table. */
export function StatusBars({
  list,
  sync,
  health,
  href,
}: {
  list: AppList;
  sync: readonly string[];
  health: readonly string[];
  href: (param: string, value: string) => string;
}) {
  return (
    <div className="status-bars">
      <Bar title="Health" param="health" counts={list.counts.health} order={health} href={href} />
      <Bar title="Sync" param="sync" counts={list.counts.sync} order={sync} href={href} />
    </div>
  );
}
