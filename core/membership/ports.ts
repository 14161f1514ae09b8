/** A Lua script with its SHA-1, so hosts can run it with EVALSHA and fall back to EVAL. */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
}

/**
 * The one Redis capability the membership core needs: run a Lua script in a single round trip.
 * The edge implements it over Upstash REST, the origin over ioredis.
 */
export interface ScriptRunner {
  run(script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
}

/** A parameterised SQL query returning row objects. Neon HTTP at the edge, node-postgres at the origin. */
export interface SqlClient {
  query<Row extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<Row[]>;
}
