/** Number formatting shared by the bench and soak reports. */

export function int(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

export function ms(n: number | null): string {
  if (n === null || Number.isNaN(n)) return '—';
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

export function ratio(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${n.toFixed(2)}×`;
}

export function fixed(n: number | null, digits: number): string {
  return n === null || Number.isNaN(n) ? '—' : n.toFixed(digits);
}

export function percent(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${(n * 100).toFixed(0)}%`;
}

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
