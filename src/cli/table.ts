// eslint-disable-next-line no-control-regex -- colour codes start with ESC
const ANSI_COLOUR = /\x1b\[[0-9;]*m/g;

/** Columns padded to their widest cell; the header in capitals, as kubectl prints. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  // Colour codes take no room on the screen: widths count what is visible.
  const visible = (cell: string) => cell.replace(ANSI_COLOUR, '').length;
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - visible(c))),
      )
      .join('   ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)].join('\n');
}
