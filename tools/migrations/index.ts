// Programmatic API of the migration runner; the CLIs (cli-*.ts) are thin wrappers around these.
export { loadMigrations, DEFAULT_MIGRATIONS_DIR } from './load-migrations.js';
export { parseMigration, type Migration } from './migration-file.js';
export { migrateUp, type MigrateUpOptions, type MigrateUpResult } from './migrate-up.js';
export { readLedger, LEDGER_TABLE, type LedgerEntry } from './ledger.js';
export { databaseUrlFromEnv, ensureDatabase } from './database.js';
export { ExitCode, LedgerConflictError, MigrationFailedError } from './errors.js';
export { CliError, UsageError } from '../cli/index.js';
export {
  buildManifest,
  parseManifest,
  loadManifest,
  serializeManifest,
  IMAGE_MANIFEST_PATH,
  type Manifest,
} from './manifest.js';
export { checkManifest, type GateResult, type CheckManifestOptions } from './check.js';
export {
  computeRollbackPlan,
  rollback,
  type RollbackPlan,
  type RollbackOptions,
  type RunRollbackOptions,
  type RollbackResult,
} from './rollback.js';
export { lintSql, lintMigrations, formatFinding, type LintRule, type LintViolation, type LintFinding } from './lint.js';
