// Number formatting shared by the bench and soak reports; '—' stands for not measured.

/** A whole number with thousands separators. */
export function int(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds: two decimals below 10 ms, one above. */
export function ms(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '—';
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

/** A ratio such as `1.23×`. */
export function ratio(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${n.toFixed(2)}×`;
}

/** A number with `digits` decimals. */
export function fixed(n: number | null, digits: number): string {
  return n === null || Number.isNaN(n) ? '—' : n.toFixed(digits);
}

/** A share (0..1) as a whole percentage. */
export function percent(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${(n * 100).toFixed(0)}%`;
}

/** A byte count in B, KiB or MiB. */
export function bytes(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '—';
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(2)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

/** A markdown table. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
