import type { Redis } from 'ioredis';
import { isNoScriptError, scriptSha, storeCall } from '../../core/membership/index.js';
import type { LuaScript, ScriptRunner } from '../../core/membership/index.js';

/** Runs membership scripts over ioredis: EVALSHA, falling back to EVAL when Redis lacks the script. */
export function createIoredisScriptRunner(redis: Redis): ScriptRunner {
  return {
    run: (script: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown> => storeCall('redis', async () => {
      const sha = await scriptSha(script);
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!isNoScriptError(error)) throw error;
        return await redis.eval(script.source, keys.length, ...keys, ...args);
      }
    }),
  };
}
