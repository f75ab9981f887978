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

export function StatusBadge({ value, testId }: { value: string; testId?: string }) {
  return (
    <span className={`badge status-${KNOWN.has(value) ? value : 'Unknown'}`} data-testid={testId}>
      {value}
    </span>
  );
}
