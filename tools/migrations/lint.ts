import { loadMigrations } from './load-migrations.js';
import type { Migration } from './migration-file.js';
import { splitStatements } from './sql-text.js';

/** Kinds of statement that break a build still running against the old schema. */
export type LintRule =
  | 'drop-table'
  | 'drop-column'
  | 'rename'
  | 'alter-column-type'
  | 'set-not-null'
  | 'add-not-null-column'
  | 'drop-default'
  | 'drop-constraint'
  | 'drop-index'
  | 'drop-object'
  | 'truncate'
  | 'delete-without-where';

/** One destructive statement found in SQL. */
export interface LintViolation {
  rule: LintRule;
  statement: string;
  message: string;
}

/** A destructive statement in the `up` part of a migration that is not declared `breaking: true`. */
export interface LintFinding extends LintViolation {
  migration: string;
  file: string;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const ALTER_TABLE = /^ALTER\s+TABLE\b/i;

interface StatementRule {
  rule: LintRule;
  message: string;
  test: (statement: string, context: MigrationContext) => boolean;
}

interface MigrationContext {
  /** Columns given a default anywhere in the same SQL, so a following SET NOT NULL is safe for old inserts. */
  defaulted: Set<string>;
}

const RULES: StatementRule[] = [
  { rule: 'drop-table', message: 'drops a table the running build may still use', test: (s) => /\bDROP\s+TABLE\b/i.test(s) },
  {
    rule: 'drop-column',
    message: 'drops a column the running build may still read or write',
    test: (s) => ALTER_TABLE.test(s) && alterActions(s).some((a) => /^DROP\s+(?!CONSTRAINT\b|DEFAULT\b|NOT\s+NULL\b|IDENTITY\b|EXPRESSION\b)/i.test(a)),
  },
  { rule: 'rename', message: 'renames an object the running build refers to by its old name', test: (s) => /^ALTER\b/i.test(s) && /\bRENAME\b/i.test(s) },
  {
    rule: 'alter-column-type',
    message: 'changes a column type under the running build',
    test: (s) => ALTER_TABLE.test(s) && alterActions(s).some((a) => new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?${IDENT}\s+(?:SET\s+DATA\s+)?TYPE\b`, 'i').test(a)),
  },
  {
    rule: 'set-not-null',
    message: 'makes a column NOT NULL without a default, so inserts from the running build that omit it fail',
    test: (s, context) =>
      ALTER_TABLE.test(s) &&
      alterActions(s).some((a) => {
        const match = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+SET\s+NOT\s+NULL\b`, 'i').exec(a);
        return match?.[1] !== undefined && !context.defaulted.has(normalizeIdent(match[1]));
      }),
  },
  {
    rule: 'add-not-null-column',
    message: 'adds a NOT NULL column without a default, so inserts from the running build fail',
    test: (s) =>
      ALTER_TABLE.test(s) &&
      alterActions(s).some((a) => /^ADD\s+(?!CONSTRAINT\b|PRIMARY\b|UNIQUE\b|CHECK\b|FOREIGN\b|EXCLUDE\b)/i.test(a) && /\bNOT\s+NULL\b/i.test(a) && !/\bDEFAULT\b/i.test(a) && !/\bGENERATED\b/i.test(a)),
  },
  {
    rule: 'drop-default',
    message: 'drops a default the running build may rely on when it omits the column',
    test: (s) => ALTER_TABLE.test(s) && alterActions(s).some((a) => new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?${IDENT}\s+DROP\s+DEFAULT\b`, 'i').test(a)),
  },
  { rule: 'drop-constraint', message: 'drops a constraint the running build may rely on', test: (s) => /\bDROP\s+CONSTRAINT\b/i.test(s) },
  { rule: 'drop-index', message: 'drops an index the running build may rely on (uniqueness, ON CONFLICT, speed)', test: (s) => /\bDROP\s+INDEX\b/i.test(s) },
  {
    rule: 'drop-object',
    message: 'drops a schema object the running build may use',
    test: (s) => /\bDROP\s+(?:SCHEMA|VIEW|MATERIALIZED\s+VIEW|FUNCTION|PROCEDURE|TYPE|SEQUENCE|TRIGGER|DOMAIN|EXTENSION)\b/i.test(s),
  },
  { rule: 'truncate', message: 'deletes every row of a table', test: (s) => /\bTRUNCATE\b/i.test(s) },
  {
    rule: 'delete-without-where',
    message: 'deletes every row of a table (DELETE without WHERE)',
    test: (s) => /\bDELETE\s+FROM\b/i.test(s) && !/\bWHERE\b/i.test(s),
  },
];

/** Every destructive statement in `sql`, one violation per statement and rule. */
export function lintSql(sql: string): LintViolation[] {
  const statements = splitStatements(sql).map(maskStringLiterals);
  const context: MigrationContext = { defaulted: defaultedColumns(statements) };
  const violations: LintViolation[] = [];
  for (const statement of statements) {
    for (const rule of RULES) {
      if (rule.test(statement, context)) violations.push({ rule: rule.rule, statement, message: rule.message });
    }
  }
  return violations;
}

/**
 * Destructive statements in the `up` part of migrations not declared `breaking: true`. Takes parsed migrations or a
 * migrations directory (default: the repository's).
 */
export function lintMigrations(input?: string | readonly Migration[]): LintFinding[] {
  const migrations = typeof input === 'string' || input === undefined ? loadMigrations(input) : input;
  return migrations
    .filter((migration) => !migration.breaking)
    .flatMap((migration) => lintSql(migration.up).map((v) => ({ ...v, migration: migration.name, file: migration.file })));
}

/** One line per finding, naming the migration, the rule, the statement and the fix. */
export function formatFinding(finding: LintFinding): string {
  return `${finding.file}: ${finding.rule}: ${finding.message}\n    ${finding.statement}\n    fix: declare "-- breaking: true" in ${finding.migration}, or make the change additive (expand now, contract in a later release)`;
}

// String contents can look like SQL ('DROP TABLE' in a comment column); only the structure matters here.
function maskStringLiterals(statement: string): string {
  return statement.replace(/'(?:[^']|'')*'/g, "''");
}

// The comma-separated actions of an ALTER TABLE, e.g. ["ADD COLUMN a int", "DROP COLUMN b"].
function alterActions(statement: string): string[] {
  const body = statement.replace(new RegExp(String.raw`^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?${IDENT}(?:\.${IDENT})?\s*\*?\s*`, 'i'), '');
  const actions: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of body) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      actions.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  actions.push(current.trim());
  return actions.filter((a) => a.length > 0);
}

function defaultedColumns(statements: string[]): Set<string> {
  const columns = new Set<string>();
  for (const statement of statements) {
    if (!ALTER_TABLE.test(statement)) continue;
    for (const action of alterActions(statement)) {
      const match = new RegExp(String.raw`^ALTER\s+(?:COLUMN\s+)?(${IDENT})\s+SET\s+DEFAULT\b`, 'i').exec(action);
      if (match?.[1]) columns.add(normalizeIdent(match[1]));
    }
  }
  return columns;
}

function normalizeIdent(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replace(/""/g, '"') : ident.toLowerCase();
}
