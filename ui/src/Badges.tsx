// Sync and health as coloured labels; the colour is a class per closed status value.
const KNOWN = new Set([
  'Synced',
  'OutOfSync',
  'Healthy',
  'Progressing',
  'Degraded',
  'Missing',
  'Suspended',
  'Unknown',
]);

/** The colour class of a sync or health value (badges, the list's bars). */
export const statusClass = (value: string) => `status-${KNOWN.has(value) ? value : 'Unknown'}`;

export function StatusBadge({ value, testId }: { value: string; testId?: string }) {
  return (
    <span className={`badge ${statusClass(value)}`} data-testid={testId}>
      {value}
    </span>
  );
}
