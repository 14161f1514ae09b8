// Programmatic API of the migration runner; the CLIs (cli-*.ts) are thin wrappers around these.
export { loadMigrations, DEFAULT_MIGRATIONS_DIR } from './load-migrations.js';
export { parseMigration, type Migration } from './migration-file.js';
export { migrateUp, type MigrateUpOptions, type MigrateUpResult } from './migrate-up.js';
export { readLedger, LEDGER_TABLE, type LedgerEntry } from './ledger.js';
export { DEFAULT_DATABASE_URL, databaseUrlFromEnv, ensureDatabase } from './database.js';
export { ExitCode, MigrationToolError, UsageError, LedgerConflictError, MigrationFailedError } from './errors.js';
