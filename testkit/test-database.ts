import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createPgPool, endPool } from '../origin/pg-pool.js';
import { localStoreUrls, maintenanceUrl } from '../tools/env/local-stores.js';
import { quoteIdent, withClient } from '../tools/migrations/database.js';
import { migrateUp } from '../tools/migrations/index.js';

export interface CreateTestDatabaseOptions {
  /** Apply the repository's migrations (default true). */
  migrate?: boolean;
  /** Apply these migrations instead of the repository's. */
  migrationsDir?: string;
}

export interface TestDatabase {
  /** e.g. ce_test_9f2c4a1b7e3d */
  name: string;
  /** Connection URL of the new database. */
  url: string;
  /** A pool on this database; `close()` ends it (and waits for its sessions to leave the server) before dropping. */
  pool(config?: Omit<pg.PoolConfig, 'connectionString'>): pg.Pool;
  /** Ends the pools it handed out, then drops the database (forcing off sessions of processes the test killed). */
  close(): Promise<void>;
}

/** The server tests create databases on: `AP_POSTGRES_URL`'s host, user and password (its maintenance database). */
export function testServerUrl(): string {
  return maintenanceUrl(localStoreUrls().postgresUrl);
}

/** Creates a fresh, randomly named database (migrated unless `migrate: false`); `close()` drops it. */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const server = testServerUrl();
  const name = `ce_test_${randomBytes(6).toString('hex')}`;
  await withClient(server, (admin) => admin.query(`CREATE DATABASE ${quoteIdent(name)}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pools: pg.Pool[] = [];
  const database: TestDatabase = {
    name,
    url: url.toString(),
    pool(config = {}) {
      const pool = createPgPool({ ...config, connectionString: url.toString() }, (error) => {
        console.error(`test pool on ${name}: ${error.message}`);
      });
      pools.push(pool);
      return pool;
    },
    async close() {
      await Promise.all(pools.splice(0).map((p) => endPool(p)));
      await withClient(maintenanceUrl(server), (admin) => admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
    },
  };
  if (options.migrate ?? true) {
    try {
      await migrateUp(database.url, { migrationsDir: options.migrationsDir, createDatabase: false });
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}
