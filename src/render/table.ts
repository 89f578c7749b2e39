/**
 * Plain column layout: pads every column to its widest cell. Deterministic, so outputs can be
 * compared in tests byte for byte. Width is measured in code points (tree glyphs are one column).
 * @module
 */

const width = (s: string) => [...s].length;

export function formatTable(header: string[], rows: string[][], gap = '  '): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => width(r[i] ?? ''))));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell))))
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}
