/**
 * Splits SQL into statements, dropping comments, while respecting quoted strings, quoted identifiers and
 * dollar-quoted bodies, so a `;` or `--` inside a string or function body is never mistaken for structure.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      current += ' ';
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      current += ' ';
      continue;
    }
    if (ch === "'" || ch === '"') {
      const end = closingQuote(sql, i, ch);
      current += sql.slice(i, end);
      i = end;
      continue;
    }
    if (ch === '$') {
      const tag = /^\$[A-Za-z_]?[A-Za-z0-9_]*\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? sql.length : close + tag[0].length;
        current += sql.slice(i, end);
        i = end;
        continue;
      }
    }
    if (ch === ';') {
      pushStatement(statements, current);
      current = '';
      i++;
      continue;
    }
    current += ch;
    i++;
  }
  pushStatement(statements, current);
  return statements;
}

function closingQuote(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      // A doubled quote is an escaped quote inside the literal.
      if (sql[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return sql.length;
}

function pushStatement(statements: string[], text: string): void {
  const normalized = text.replace(/\s+/g, ' ').trim();
  if (normalized.length > 0) statements.push(normalized);
}

/** True when the SQL holds at least one statement (not just whitespace and comments). */
export function hasStatements(sql: string): boolean {
  return splitStatements(sql).length > 0;
}
