// Plain-text table output for the bench (fixed-width columns, no dependencies).

/** One column: its title and whether values are right-aligned (numbers). */
export interface Column {
  readonly title: string;
  readonly right?: boolean;
}

/** Formats rows under the column titles, padded to the widest cell, with a rule under the header. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? '';
        const last = i === columns.length - 1;
        return c.right === true ? cell.padStart(widths[i]!) : last ? cell : cell.padEnd(widths[i]!);
      })
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(r));
  return `${out.join('\n')}\n`;
}
