import type { Pool } from 'pg';
import { storeCall } from '../../core/membership/index.js';
import type { SqlClient } from '../../core/membership/index.js';

/** The membership core's SQL port over a node-postgres pool. */
export function createPgSqlClient(pool: Pool): SqlClient {
  return {
    async query<Row extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<Row[]> {
      const result = await storeCall('postgres', () => pool.query<Row>(text, [...params]));
      return result.rows;
    },
  };
}
