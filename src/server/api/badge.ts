// A status badge for an Application: an SVG made of escaped text, nothing from Git unescaped.

const COLOURS: Record<string, string> = {
  Healthy: '#2e9e5b',
  Synced: '#2e9e5b',
  Progressing: '#2f74c0',
  OutOfSync: '#d08a16',
  Degraded: '#c83737',
  Missing: '#8a5cc0',
  Suspended: '#6b7280',
};

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** Two boxes: the sync status and the health, each in its colour. */
export function statusBadge(sync: string, health: string): string {
  const width = (s: string) => 12 + s.length * 7;
  const [a, b] = [width(sync), width(health)];
  const box = (x: number, w: number, label: string) =>
    `<rect x="${x}" width="${w}" height="20" fill="${COLOURS[label] ?? '#6b7280'}"/>` +
    `<text x="${x + w / 2}" y="14" text-anchor="middle">${escapeXml(label)}</text>`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${a + b}" height="20" role="img" aria-label="${escapeXml(`${sync} ${health}`)}">` +
    `<g font-family="Verdana,sans-serif" font-size="11" fill="#fff">${box(0, a, sync)}${box(a, b, health)}</g></svg>`
  );
}
