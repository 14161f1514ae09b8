import { withClient } from '../../../tools/migrations/database.js';

/**
 * A normalized description of the `public` schema plus the migration ledger: relations, columns (type, nullability,
 * default), constraints, indexes, triggers and functions, each sorted by name, so two databases with the same schema dump equal whatever
 * order things were created or dropped in. Volatile ledger fields (applied_at) are left out.
 */
export async function dumpSchema(databaseUrl: string): Promise<Record<string, unknown[]>> {
  return withClient(databaseUrl, async (client) => {
    const query = async (sql: string): Promise<unknown[]> => (await client.query(sql)).rows;
    return {
      relations: await query(`
        SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' ORDER BY c.relname`),
      columns: await query(`
        SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`),
      constraints: await query(`
        SELECT t.relname AS table_name, c.conname, c.contype, pg_get_constraintdef(c.oid) AS definition
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' ORDER BY t.relname, c.conname`),
      indexes: await query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY tablename, indexname`),
      triggers: await query(`
        SELECT c.relname AS table_name, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal ORDER BY 1, 2`),
      functions: await query(`
        SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS arguments FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1, 2`),
      ledger: (await client.query(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`)).rows[0]?.present
        ? await query('SELECT name, ordinal, release, breaking, checksum, down_sql FROM schema_migrations ORDER BY ordinal')
        : [],
    };
  });
}
