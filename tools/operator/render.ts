// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A value from the API as text a terminal shows as it is: control characters and bidirectional controls are written
 * as escapes (`\x1b`, `\u202e`), so no stored value can move the cursor, clear the screen or reorder what is shown.
 */
export function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);
  return text.replace(UNPRINTABLE, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Output for people: aligned tables, colour only on a terminal that wants it (NO_COLOR respected). */
export interface Output {
  line(text?: string): void;
  table(header: readonly string[], rows: readonly (readonly string[])[]): void;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

// eslint-disable-next-line no-control-regex -- an ANSI colour sequence starts with the ESC control character
const ANSI_PATTERN = /\x1b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ANSI_PATTERN, '').length;
}

/** An Output writing to `stream`, coloured only when it is a TTY and NO_COLOR is unset. */
export function outputFor(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Output {
  const colour = stream.isTTY === true && (env.NO_COLOR ?? '') === '';
  const paint = (code: string) => (text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const line = (text = ''): void => {
    stream.write(`${text}\n`);
  };
  return {
    line,
    table(header, rows) {
      const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
      const render = (cells: readonly string[]): string =>
        cells
          .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
          .join('  ')
          .trimEnd();
      line(paint('1')(render(header)));
      for (const row of rows) line(render(row));
    },
    green: paint('32'),
    red: paint('31'),
    yellow: paint('33'),
    dim: paint('2'),
    bold: paint('1'),
  };
}
